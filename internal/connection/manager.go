package connection

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/sync/singleflight"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/spelling"
	"github.com/cardflow/cardflow/internal/store"
)

// Manager creates, authorizes, refreshes, checks and deletes connections.
// Set the exported fields before first use and do not change them after;
// a Manager must not be copied after first use. It is safe for concurrent
// use, and several Managers (in one process or many) may share a Store.
type Manager struct {
	// Store persists connections, authorization requests, leases and
	// audit events.
	Store store.Store
	// Keyring seals every secret before it reaches the Store.
	Keyring *keyring.Keyring
	// Connectors gives each connector's default scopes and catalogue.
	Connectors Catalog
	// PublicURL is cardflow's external base URL; the OAuth redirect URI is
	// PublicURL + "/oauth/callback".
	PublicURL string
	// Policy decides which org domains are accepted.
	Policy DomainPolicy
	// HTTP makes every call to an org; nil means NewHTTPClient with the
	// policy's trusted origins.
	HTTP *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives operational logs (never secrets); nil discards.
	Logger *slog.Logger
	// Owner names this process in refresh leases shared through the Store
	// (e.g. host name and pid); each Manager adds a random suffix, so two
	// Managers never share a lease. Empty means "cardflow".
	Owner string
	// RefreshRetryWindow is how old an interrupted refresh may be and still
	// be retried with the same refresh token (see Recover); zero means 20 s,
	// negative means never retry.
	RefreshRetryWindow time.Duration
	// FreshWait bounds how long ResolveFresh waits for the refresh it
	// starts (the refresh itself goes on); zero means 5 s.
	FreshWait time.Duration
	// RefreshLeaseTTL is how long the refresh lease of a connection lasts
	// without renewal (renewed every third of it while held); zero means
	// 6 s, short so that a process that died mid-refresh frees it well
	// inside the retry window.
	RefreshLeaseTTL time.Duration
	// Sleep waits between retries of a token refresh that failed for a
	// passing reason; nil means a timer. It returns early with ctx's error.
	Sleep func(ctx context.Context, d time.Duration) error
	// NeedsReauthorizationNotice, when set, returns the outbox messages
	// that report a connection stored as needs_reauthorization after being
	// in another status (the app's connection.needs_reauthorization
	// notification); they are committed in the transaction that stores the
	// status, so a crash cannot keep one without the other. OnNotified,
	// when set, is called after such a commit (to wake the sender); it must
	// not block.
	NeedsReauthorizationNotice func(c *store.Connection) ([]*store.Notification, error)
	OnNotified                 func()
	// ServiceStatusNotice, when set, returns the outbox messages that
	// report a service connection stored in error from another status
	// (the org stopped accepting it), stored in error from error for
	// another kind of failure (its StatusReasonCode changed: the admin
	// has something else to do; see failsOtherwise), or stored active from
	// error (it works again); prev is the connection as it was before. They are
	// committed in the transaction that stores the status, as
	// NeedsReauthorizationNotice's are, and OnNotified is called after.
	ServiceStatusNotice func(prev, c *store.Connection) ([]*store.Notification, error)
	// OnActive, when set, is called with a connection's id after it is
	// stored active from another status (a reauthorization, a service
	// connection the org accepts again) or authorized anew (the app
	// wakes its System Log poll). It must not block.
	OnActive func(connectionID string)
	// OnTestPassed, when set, is called with a connection's id after a
	// Test of it passed: a person fixed something at the org (granted a
	// scope, say) and checks it, so the app looks at the connection's
	// event hook and System Log now rather than at its next interval. It
	// must not block.
	OnTestPassed func(connectionID string)
	// ExpiryWarning is how long before a user connection's refresh token
	// expires it is reported as expiring soon (and notified); zero means
	// DefaultExpiryWarning (336h).
	ExpiryWarning time.Duration
	// Notifier receives connection.expiring notifications; nil means they
	// are only logged and audited.
	Notifier Notifier
	// BeforeDelete, when set, is called by Delete with the connection's
	// id while the connection still exists and its credentials still work
	// (the app deletes the connection's Okta event hook there); a
	// non-empty answer is a warning that Delete reports with its result.
	BeforeDelete func(ctx context.Context, connectionID string) string
	// FlowsUsing, when set, lists by name the enabled flows whose trigger
	// or steps name the connection of that id, which run on their own and,
	// once it is gone, fail (a schedule's runs) or start nothing (an event
	// trigger's) with nobody watching. It is asked while the connection
	// still exists: DeleteWithResult names them apart from its Warning
	// (DeleteResult.InUse), and DeleteIfUnused refuses to delete a
	// connection they use. nil: no flow uses a connection.
	FlowsUsing func(ctx context.Context, connectionID string) ([]UsingFlow, error)
	// KeyringBehind, when set, is asked by ResolveClient about an error
	// of the keyring met getting a connection's access token (a value
	// sealed with a key the keyring lacks, or sealing stopped): true means
	// this server's keyring is behind the database's (a key rotation
	// passed it; the app checks the database's key at once) though other
	// servers can go on, so the card run is refused before it starts
	// rather than failed. nil: never.
	KeyringBehind func(ctx context.Context, err error) bool

	initOnce   sync.Once
	client     *http.Client
	leaseOwner string
	log        *slog.Logger
	flights    singleflight.Group
	semMu      sync.Mutex
	sems       map[string]*connSem
	nonces     sync.Map // org origin -> its authorization server's latest DPoP nonce
	rsNonces   sync.Map // org origin -> its resource server's latest DPoP nonce
	unstoredMu sync.Mutex
	unstored   map[string]*unstoredTokens // by connection id; see keepUnstored
	// forbiddenAt is when CardForbidden last checked each connection.
	forbiddenMu sync.Mutex
	forbiddenAt map[string]time.Time
	// expiryRetry is, by connection id, when the refresh token's expiry,
	// which the org did not tell, may be asked again (see learnExpiry).
	expiryMu    sync.Mutex
	expiryRetry map[string]expiryRetry
	// orgClockWrote is, by connection id, the org's clock offset this
	// server last stored (see noteOrgClock).
	orgClockMu    sync.Mutex
	orgClockWrote map[string]orgClockWrite
}

func (m *Manager) init() {
	m.initOnce.Do(func() {
		m.client = m.HTTP
		if m.client == nil {
			m.client = NewHTTPClient(GuardOptions{TrustedOrigins: m.Policy.TrustedOrigins})
		}
		owner := m.Owner
		if owner == "" {
			owner = "cardflow"
		}
		m.leaseOwner = owner + "#" + randomID(8)
		m.log = m.Logger
		if m.log == nil {
			m.log = slog.New(slog.DiscardHandler)
		}
		m.sems = map[string]*connSem{}
	})
}

func (m *Manager) now() time.Time {
	if m.Now != nil {
		return m.Now().UTC()
	}
	return time.Now().UTC()
}

func (m *Manager) httpClient() *http.Client { m.init(); return m.client }

// View is what may be shown of a connection: the API serves it converted
// to api.Connection, the console renders it. It never holds a
// secret.
type View struct {
	ID        string
	Connector string
	Nickname  string
	Domain    string
	// ClientID is the org app's client ID (the OAuth app, or a service
	// connection's API Services app). Not a secret.
	ClientID     string
	Status       string
	StatusReason string
	Remedy       string
	// StatusReasonCode is the stable code of why the connection is not
	// active (a store.Reason*: key_refused, scope_not_granted ...); empty
	// while active, and for one stored in another status by a cardflow
	// that kept no codes.
	StatusReasonCode string
	ScopeMode        string
	RequestedScopes  []string
	GrantedScopes    []string
	MissingScopes    []string
	// MissingScopeCards names, for each missing scope, the cards that fail
	// without it.
	MissingScopeCards map[string][]string
	AuthorizedBy      *AuthorizedBy
	AuthorizedAt      *time.Time
	// Auth is "user" (a person signed in; refresh tokens) or "service"
	// (an API Services app with private_key_jwt).
	Auth string
	// RefreshTokenExpiresAt is when a user connection's refresh token
	// expires (Okta: 90 days after the sign-in); nil when unknown or for a
	// service connection.
	RefreshTokenExpiresAt *time.Time
	// ExpiresSoon is true within the expiry warning of that time, by
	// the org's clock (see store.Connection.OrgClockOffset).
	ExpiresSoon bool
	// RefreshTokenExpired is true once that time has passed, by the org's
	// clock: a new sign-in is needed, whether or not a card found it yet.
	RefreshTokenExpired bool
	// DPoP is true when the connection sends DPoP proofs.
	DPoP bool
	// PublicJWK is the public half of a service connection's key, to add
	// to the org's API Services app; NextPublicJWK that of a key being
	// rotated in (used once the org accepts it). Absent for a user
	// connection.
	PublicJWK     json.RawMessage
	NextPublicJWK json.RawMessage
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Org names the Okta org the connection reaches: its domain, lower-cased,
// without a trailing slash. Connections to one org share its events.
func (v *View) Org() string { return strings.ToLower(strings.TrimRight(v.Domain, "/")) }

// SameOrg returns the ids of the connections of vs that reach v's org, in
// the order of vs; v's id is always among them.
func SameOrg(vs []*View, v *View) []string {
	ids := []string{v.ID}
	for _, o := range vs {
		if o.ID != v.ID && o.Org() == v.Org() {
			ids = append(ids, o.ID)
		}
	}
	return ids
}

// AuthorizedBy is the Okta account a connection acts as: a
// person (Type "user") or, for a service connection, the API Services app
// (Type "service" and its ClientID).
type AuthorizedBy struct {
	Type     string
	UserID   string
	Login    string
	Name     string
	ClientID string
}

// views are the views of cs, in their order.
func (m *Manager) views(cs []*store.Connection) []*View {
	out := make([]*View, 0, len(cs))
	for _, c := range cs {
		out = append(out, m.view(c))
	}
	return out
}

func (m *Manager) view(c *store.Connection) *View {
	v := &View{
		ID: c.ID, Connector: c.Connector, Nickname: c.Nickname, Domain: c.Domain, ClientID: c.ClientID,
		Status: c.Status, StatusReason: c.StatusReason, Remedy: c.Remedy, StatusReasonCode: c.StatusReasonCode, ScopeMode: c.ScopeMode,
		RequestedScopes:     nonNil(c.RequestedScopes),
		GrantedScopes:       nonNil(c.GrantedScopes),
		MissingScopes:       []string{},
		MissingScopeCards:   map[string][]string{},
		CreatedAt:           c.CreatedAt.UTC(),
		UpdatedAt:           c.UpdatedAt.UTC(),
		Auth:                store.AuthUser,
		ExpiresSoon:         m.expiresSoon(c),
		RefreshTokenExpired: m.refreshExpired(c),
		DPoP:                c.DPoP,
	}
	if c.Auth == store.AuthService {
		v.Auth = store.AuthService
		v.PublicJWK = m.publicJWKOf(c, c.SealedPrivateKey, fieldPrivateKey)
		v.NextPublicJWK = m.publicJWKOf(c, c.SealedNextPrivateKey, fieldNextPrivateKey)
	} else if !c.RefreshTokenExpiresAt.IsZero() {
		exp := c.RefreshTokenExpiresAt.UTC()
		v.RefreshTokenExpiresAt = &exp
	}
	if !c.AuthorizedAt.IsZero() {
		at := c.AuthorizedAt.UTC()
		v.AuthorizedAt = &at
		v.AuthorizedBy = &AuthorizedBy{Type: store.AuthUser, UserID: c.AuthorizedUserID, Login: c.AuthorizedLogin, Name: c.AuthorizedName}
		if c.Auth == store.AuthService {
			v.AuthorizedBy = &AuthorizedBy{Type: store.AuthService, ClientID: c.ClientID, Login: c.AuthorizedLogin}
		}
		v.MissingScopes = nonNil(missingScopes(c.RequestedScopes, c.GrantedScopes))
		for _, s := range v.MissingScopes {
			v.MissingScopeCards[s] = nonNil(m.Connectors.CardsNeeding(c.Connector, s))
		}
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return append([]string(nil), s...)
}

// CreateInput is what an administrator enters to create a connection.
type CreateInput struct {
	Connector    string
	Nickname     string
	Domain       string
	ClientID     string
	ClientSecret keyring.Secret
	// Scopes nil means the default scopes; otherwise the custom Okta API
	// scopes to request (auto-granted scopes are always requested).
	Scopes *[]string
}

// Create validates in, stores a pending connection with its sealed client
// secret and starts the authorization; it returns the connection and the
// URL of the org's sign-in page to send the administrator to.
func (m *Manager) Create(ctx context.Context, in CreateInput, actor store.Actor) (*View, string, error) {
	m.init()
	v, u, err := m.create(ctx, in, actor)
	if err != nil {
		m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionCreate,
			InputSummary: "nickname " + truncate(in.Nickname, 100) + m.orgAsked(in.Domain, in.ClientID)}, err)
	}
	return v, u, err
}

// checkClientSecret refuses a client secret that no OAuth app has: none,
// one of over 1024 characters or one holding a control character (a paste
// of more than the secret). what names it ("client secret", "the new client
// secret"); the message gives the secret's length, never the secret.
func checkClientSecret(secret, what string) *problem.Error {
	switch {
	case secret == "":
		return problem.New(problem.InvalidInput, "%s is required", what)
	case len(secret) > 1024:
		return problem.New(problem.InvalidInput, "%s is %d characters long; an OAuth app's client secret has at most 1024", what, len(secret))
	case strings.IndexFunc(secret, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0:
		return problem.New(problem.InvalidInput, "%s contains a control character (a line break, a tab or another), which no OAuth app's client secret has", what)
	}
	return nil
}

func (m *Manager) create(ctx context.Context, in CreateInput, actor store.Actor) (*View, string, error) {
	nickname, err := validNickname(in.Nickname)
	if err != nil {
		return nil, "", err
	}
	domain, err := ParseDomain(in.Domain, m.Policy)
	if err != nil {
		return nil, "", err
	}
	clientID := strings.TrimSpace(in.ClientID)
	if fault := clientIDFault(clientID); fault != "" {
		return nil, "", problem.New(problem.InvalidInput, "%s", fault).
			WithRemedy("copy the client ID from the OAuth app's General tab in the Okta Admin Console").WithDetail("field", "clientId")
	}
	secret := strings.TrimSpace(in.ClientSecret.Reveal())
	if p := checkClientSecret(secret, "client secret"); p != nil {
		return nil, "", p.WithRemedy("copy the client secret from the OAuth app's General tab in the Okta Admin Console").WithDetail("field", "clientSecret")
	}
	mode, scopes, err := m.selectScopes(in.Connector, in.Scopes)
	if err != nil {
		return nil, "", err
	}
	if taken, err := m.Store.GetConnectionByNickname(ctx, in.Connector, nickname); err == nil {
		return nil, "", m.nicknameTaken(in.Connector, taken.Nickname)
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, "", internal("look up nickname", err)
	}
	if p := m.refusedCredentials(ctx, domain, clientID, secret, ""); p != nil {
		return nil, "", p
	}
	now := m.now()
	c := &store.Connection{
		ID: idPrefix + randomID(16), Connector: in.Connector, Nickname: nickname, Domain: domain,
		Status: store.StatusPending, StatusReason: pendingReason, Remedy: pendingRemedy(nickname), StatusReasonCode: store.ReasonAwaitingSignIn,
		ScopeMode: mode, RequestedScopes: scopes, ClientID: clientID, CreatedAt: now, UpdatedAt: now,
	}
	if c.SealedClientSecret, err = m.Keyring.Seal([]byte(secret), sealedAAD(c.ID, fieldClientSecret)); err != nil {
		return nil, "", internal("seal client secret", err)
	}
	if err := m.Store.CreateConnection(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, "", m.nicknameTaken(in.Connector, nickname)
		}
		return nil, "", internal("store connection", err)
	}
	authURL, err := m.startAuthorization(ctx, c, mode, scopes, false, actor)
	if err != nil {
		return nil, "", err
	}
	m.log.InfoContext(ctx, "connection created", "connection", c.ID, "connector", c.Connector, "domain", c.Domain, "scopeMode", mode)
	m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionCreate, ConnectionID: c.ID,
		InputSummary: fmt.Sprintf("nickname %q, domain %s, %s scopes %s", nickname, domain, mode, strings.Join(apiScopes(scopes), " "))}, nil)
	return m.view(c), authURL, nil
}

// ScopeSelection is an explicit scope choice when reauthorizing.
type ScopeSelection struct {
	// Mode is ScopeModeDefault (the connector's default scopes; Scopes must
	// be empty) or ScopeModeCustom (exactly Scopes).
	Mode string
	// Scopes are the custom Okta API scopes to request; auto-granted scopes
	// are always requested.
	Scopes []string
}

// DefaultScopeSelection selects the connector's default scopes.
func DefaultScopeSelection() *ScopeSelection { return &ScopeSelection{Mode: ScopeModeDefault} }

// CustomScopeSelection selects exactly the given custom Okta API scopes.
func CustomScopeSelection(scopes ...string) *ScopeSelection {
	return &ScopeSelection{Mode: ScopeModeCustom, Scopes: scopes}
}

// Reauthorize starts a new authorization of an existing connection.
// sel nil inherits the previous selection (the connector's current
// default scopes in default mode, the same custom scopes in custom mode);
// otherwise sel becomes the connection's selection. The connection keeps
// serving with its current tokens until the callback stores new ones.
func (m *Manager) Reauthorize(ctx context.Context, idOrNickname string, sel *ScopeSelection, actor store.Actor) (string, error) {
	m.init()
	c, err := m.lookup(ctx, "", idOrNickname)
	if err != nil {
		m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionReauthorize, InputSummary: "connection " + truncate(idOrNickname, 100)}, err)
		return "", err
	}
	if c.Auth == store.AuthService {
		err := problem.New(problem.InvalidInput, "connection %q is a service connection: nobody signs in, so there is nothing to reauthorize", c.Nickname).
			WithRemedy("test the connection to get a new token with its key (also after granting scopes or assigning roles to the API Services app); to change its key use rotate-key")
		m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionReauthorize, ConnectionID: c.ID, ActingAs: serviceActor(c.ClientID)}, err)
		return "", err
	}
	var mode string
	var req []string
	switch {
	case sel == nil && c.ScopeMode == ScopeModeCustom:
		mode, req = ScopeModeCustom, c.RequestedScopes
	case sel == nil:
		mode, req, err = m.selectScopes(c.Connector, nil)
	case sel.Mode == ScopeModeDefault && len(sel.Scopes) > 0:
		err = problem.New(problem.InvalidInput, "default scopes were chosen together with a list of scopes").
			WithRemedy("choose either the default scopes or a list of custom scopes, not both").WithDetail("field", "scopes")
	case sel.Mode == ScopeModeDefault:
		mode, req, err = m.selectScopes(c.Connector, nil)
	case sel.Mode == ScopeModeCustom:
		sc := sel.Scopes
		if sc == nil {
			sc = []string{}
		}
		mode, req, err = m.selectScopes(c.Connector, &sc)
	default:
		err = problem.New(problem.InvalidInput, "unknown scope mode %q", truncate(sel.Mode, 40)).
			WithRemedy("use %q or %q", ScopeModeDefault, ScopeModeCustom).WithDetail("field", "scopeMode")
	}
	if err == nil {
		err = m.storedSecretRefused(ctx, c)
	}
	if err == nil {
		var authURL string
		authURL, err = m.startAuthorization(ctx, c, mode, req, true, actor)
		if err == nil {
			m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionReauthorize, ConnectionID: c.ID, ActingAs: c.AuthorizedLogin,
				InputSummary: fmt.Sprintf("%s scopes %s", mode, strings.Join(apiScopes(req), " "))}, nil)
			return authURL, nil
		}
	}
	m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionReauthorize, ConnectionID: c.ID, ActingAs: c.AuthorizedLogin,
		InputSummary: selectionAsked(sel)}, err)
	return "", err
}

// selectionAsked is how a refused reauthorization's audit event names the
// scopes asked for, as they were given (a misspelt one among them).
func selectionAsked(sel *ScopeSelection) string {
	switch {
	case sel == nil:
		return "the previous scopes"
	case sel.Mode == ScopeModeCustom || len(sel.Scopes) > 0:
		return truncate(fmt.Sprintf("%s scopes %s", truncate(sel.Mode, 40), strings.Join(sel.Scopes, " ")), 300)
	}
	return truncate(sel.Mode, 40) + " scopes"
}

// Get returns one connection by id or nickname.
func (m *Manager) Get(ctx context.Context, idOrNickname string) (*View, error) {
	m.init()
	c, err := m.lookup(ctx, "", idOrNickname)
	if err != nil {
		return nil, err
	}
	return m.view(c), nil
}

// List returns every connection, in the store's order.
func (m *Manager) List(ctx context.Context) ([]*View, error) {
	m.init()
	cs, err := m.Store.ListConnections(ctx)
	if err != nil {
		return nil, internal("list connections", err)
	}
	return m.views(cs), nil
}

// ListPage returns one page of the connections by nickname ignoring case,
// then id (store.NamePage).
func (m *Manager) ListPage(ctx context.Context, p store.NamePage) ([]*View, error) {
	m.init()
	cs, err := m.Store.ListConnectionsPage(ctx, p)
	if err != nil {
		return nil, internal("list connections", err)
	}
	return m.views(cs), nil
}

// Nicknames maps the ids of vs to their nicknames: what the audit log,
// which records connections by id, shows a person instead.
func Nicknames(vs []*View) map[string]string {
	out := make(map[string]string, len(vs))
	for _, v := range vs {
		out[v.ID] = v.Nickname
	}
	return out
}

// Resolve returns the connector's connection with that id or nickname
// (nicknames compare case-insensitively).
func (m *Manager) Resolve(ctx context.Context, connector, idOrNickname string) (*View, error) {
	m.init()
	c, err := m.lookup(ctx, connector, idOrNickname)
	if err != nil {
		return nil, err
	}
	return m.view(c), nil
}

// ResolveClient is ResolveFresh and HTTPClient in one: the connection,
// and a client for calls to its org whose first request uses the access
// token of the record just read instead of reading it again (when that
// token is fresh; otherwise, and for every later request, it reads the
// connection as HTTPClient's client does).
//
// On a server whose keyring is behind the database's (KeyringBehind), a
// connection whose access token this server cannot open, or cannot get a
// fresh one of, is refused with the keyring's error (ErrSealingStopped,
// naming the key it lacks and the fix): the caller (a card run) can be
// tried again on a server that has the key, and fails nothing here.
func (m *Manager) ResolveClient(ctx context.Context, connector, idOrNickname string) (*View, *http.Client, error) {
	c, tokenErr, err := m.lookupFresh(ctx, connector, idOrNickname)
	if err != nil {
		return nil, nil, err
	}
	if err := m.keyringBehind(ctx, c, tokenErr); err != nil {
		return nil, nil, err
	}
	return m.view(c), m.httpClientFor(c.ID, c), nil
}

// keyringBehind returns the error of a connection c that this server
// cannot use now because its keyring is behind the database's, or nil:
// its fresh access token (and DPoP key) is sealed with a key the keyring
// lacks, or getting a fresh one failed on the keyring (tokenErr), and
// KeyringBehind says that this server, not the connection, is at fault.
func (m *Manager) keyringBehind(ctx context.Context, c *store.Connection, tokenErr error) error {
	if m.KeyringBehind == nil || c.Status != store.StatusActive {
		return nil
	}
	err := tokenErr
	if err == nil && m.accessTokenFresh(c) {
		// Only whether this keyring has the keys that sealed them: the
		// card's transport opens them (a second decryption here would
		// be on every card run's path).
		if oerr := m.Keyring.CanOpen(c.SealedAccessToken, sealedAAD(c.ID, fieldAccessToken)); oerr != nil {
			err = unreadable("access token", c.SealedAccessToken, oerr)
		} else if strings.EqualFold(c.AccessTokenType, "DPoP") {
			if kerr := m.Keyring.CanOpen(c.SealedDPoPKey, sealedAAD(c.ID, fieldDPoPKey)); kerr != nil {
				err = unreadable("private key", c.SealedDPoPKey, kerr)
			}
		}
	}
	return m.behindProblem(ctx, c, err)
}

// sealedBehind is keyringBehind for a health check, which opens c's
// secrets and seals new ones whatever its access token's age (a service
// connection's whatever its status, as a test activates one): any of c's
// sealed secrets sealed with a key this keyring lacks, or sealing stopped,
// is this server's fault when KeyringBehind says so. Refreshing then
// would at best fail the check on a connection that needs nothing.
func (m *Manager) sealedBehind(ctx context.Context, c *store.Connection) error {
	if m.KeyringBehind == nil || c.Auth != store.AuthService && c.Status != store.StatusActive && !awaitsRole(c) {
		return nil
	}
	err := m.Keyring.SealErr()
	for _, s := range []struct {
		what, field string
		sealed      []byte
	}{
		{"client secret", fieldClientSecret, c.SealedClientSecret}, {"refresh token", fieldRefreshToken, c.SealedRefreshToken},
		{"access token", fieldAccessToken, c.SealedAccessToken}, {"private key", fieldPrivateKey, c.SealedPrivateKey},
		{"private key", fieldDPoPKey, c.SealedDPoPKey},
	} {
		if err != nil {
			break
		}
		if len(s.sealed) > 0 {
			if oerr := m.Keyring.CanOpen(s.sealed, sealedAAD(c.ID, s.field)); oerr != nil {
				err = unreadable(s.what, s.sealed, oerr)
			}
		}
	}
	return m.behindProblem(ctx, c, err)
}

// behindProblem is the error of connection c on this server when err, met
// with one of c's secrets, comes of the server's keyring being behind the
// database's (KeyringBehind), or nil.
func (m *Manager) behindProblem(ctx context.Context, c *store.Connection, err error) error {
	if err == nil || !errors.Is(err, keyring.ErrUnknownKey) && !errors.Is(err, keyring.ErrSealingStopped) || !m.KeyringBehind(ctx, err) {
		return nil
	}
	stopped := m.Keyring.SealErr()
	if stopped == nil {
		stopped = err
	}
	id := keyring.MissingKey(stopped)
	return problem.New(problem.Internal, "this server cannot use connection %q now: its keyring lacks key %s, which the database's secrets are sealed with since a key rotation", c.Nickname, id).
		WithRemedy("try again: a server with the key answers; the operator restarts this server with the current keyring (CARDFLOW_KEY listing key %s, or the keyring file the rotation wrote)", id).
		Wrap(fmt.Errorf("%w (%w)", stopped, err))
}

// ResolveFresh is Resolve for a caller about to check the granted scopes
// before calling the org (a card's or a flow's scope preflight): an active
// connection whose access token is due for a refresh is refreshed (a
// service connection's: minted) first, and the view is of the refreshed
// connection. The granted scopes are then those of the token the calls
// will carry; a scope grant revoked on the app is left out of the
// refreshed token, so the preflight fails before anything runs. A refresh
// that fails leaves the view as read (a refresh that needs
// reauthorization: as it left the connection); the first call meets the
// failure again and reports it.
func (m *Manager) ResolveFresh(ctx context.Context, connector, idOrNickname string) (*View, error) {
	c, _, err := m.lookupFresh(ctx, connector, idOrNickname)
	if err != nil {
		return nil, err
	}
	return m.view(c), nil
}

// defaultFreshWait: see Manager.FreshWait.
const defaultFreshWait = 5 * time.Second

// lookupFresh is ResolveFresh's read of the connection; tokenErr is why
// the refresh it waited for failed, if it did.
func (m *Manager) lookupFresh(ctx context.Context, connector, idOrNickname string) (_ *store.Connection, tokenErr, _ error) {
	m.init()
	c, err := m.lookup(ctx, connector, idOrNickname)
	// Wait for a refresh only briefly: an org that is slow or down must
	// not hold up a flow's validation. The refresh goes on (and commits)
	// without this caller, whose first call to the org then joins it.
	wait := m.FreshWait
	if wait <= 0 {
		wait = defaultFreshWait
	}
	if err == nil && awaitsRole(c) && m.claimForbiddenCheck(roleCheckKey+c.ID) {
		// Its account may have its admin role back (checked at most once
		// per forbiddenCheckEvery on each server).
		wctx, cancel := context.WithTimeout(ctx, wait)
		back, rerr := m.roleBack(wctx, c.ID, false, store.ServerActor)
		cancel()
		if rerr == nil {
			return back, nil, nil
		}
		if cur, err := m.Store.GetConnection(ctx, c.ID); err == nil {
			c = cur
		}
	}
	if err != nil || c.Status != store.StatusActive || usable(c) != nil || m.refreshExpired(c) {
		return c, nil, err
	}
	if m.accessTokenFresh(c) {
		return c, nil, nil
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	_, tokenErr = m.Token(wctx, c.ID)
	cancel()
	if tokenErr != nil && !isNeedsReauth(tokenErr) {
		return c, tokenErr, nil
	}
	if cur, err := m.Store.GetConnection(ctx, c.ID); err == nil {
		c = cur
	}
	return c, tokenErr, nil
}

// isNeedsReauth reports whether err is a needs_reauthorization problem.
func isNeedsReauth(err error) bool {
	p, ok := problem.As(err)
	return ok && p.Code == problem.NeedsReauthorization
}

// lookup finds a connection by id, then by nickname (within connector, or
// across connectors when connector is empty and the nickname is unique).
func (m *Manager) lookup(ctx context.Context, connector, idOrNickname string) (*store.Connection, error) {
	key := strings.TrimSpace(idOrNickname)
	if key == "" {
		return nil, problem.New(problem.InvalidInput, "a connection id or nickname is required").
			WithRemedy("name the connection by its id or nickname").WithDetail("field", "connection")
	}
	// Ids start with idPrefix and nicknames may not, so a key without it
	// is looked up as a nickname first: one read where two were needed.
	// The id lookup stays the fallback for ids of another form.
	byNickname := connector != "" && !hasIDPrefix(key)
	if byNickname {
		c, err := m.Store.GetConnectionByNickname(ctx, connector, key)
		if err == nil {
			return c, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, internal("read connection", err)
		}
	}
	c, err := m.Store.GetConnection(ctx, key)
	switch {
	case err == nil && (connector == "" || c.Connector == connector):
		return c, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, internal("read connection", err)
	}
	if connector != "" {
		if !byNickname {
			c, err := m.Store.GetConnectionByNickname(ctx, connector, key)
			if err == nil {
				return c, nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return nil, internal("read connection", err)
			}
		}
		return nil, m.nearestOrNotFound(ctx, connector, key, nil)
	}
	all, err := m.Store.ListConnections(ctx)
	if err != nil {
		return nil, internal("list connections", err)
	}
	var found []*store.Connection
	for _, c := range all {
		if strings.EqualFold(c.Nickname, key) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil, m.nearestOrNotFound(ctx, "", key, all)
	case 1:
		return found[0], nil
	}
	return nil, problem.New(problem.Conflict, "several connectors have a connection named %q", key).
		WithRemedy("name the connection by its id")
}

func validNickname(s string) (string, error) {
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	bad := !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0
	if n == 0 || n > 100 || bad {
		return "", problem.New(problem.InvalidInput, "nickname must be 1 to 100 printable characters").
			WithRemedy("enter a short name for the connection, e.g. \"Prod devices\"").WithDetail("field", "nickname")
	}
	// Cards, flows and the API take "an id or a nickname" and try the id
	// first, so a nickname in the form of an id could never be used (or
	// would name another connection).
	if hasIDPrefix(s) {
		return "", problem.New(problem.InvalidInput, "nickname %q may not start with %s: connection ids do, and a connection is named by its id or its nickname", s, idPrefix).
			WithRemedy("choose a nickname that does not start with "+idPrefix+", e.g. \"Prod devices\"").WithDetail("field", "nickname")
	}
	// A nickname is a path segment of the API and the console (and an
	// argument of the CLI, which puts it there): "..", "a/b" or "a\\b" would
	// name another path.
	if strings.Trim(s, ".") == "" || strings.ContainsAny(s, `/\`) {
		return "", problem.New(problem.InvalidInput, "nickname %q looks like a path: it may not contain / or \\ nor be made of dots only", s).
			WithRemedy("choose a nickname of words, e.g. \"Prod devices\"").WithDetail("field", "nickname")
	}
	return s, nil
}

// idPrefix starts every connection id.
const idPrefix = "conn_"

// hasIDPrefix reports whether s starts with idPrefix, in any case.
func hasIDPrefix(s string) bool {
	return len(s) >= len(idPrefix) && strings.EqualFold(s[:len(idPrefix)], idPrefix)
}

// nicknameTaken is the conflict of a nickname that is taken; existing is
// the taken connection's nickname, which may differ from the one asked for
// in case or width (nicknames compare without either).
func (m *Manager) nicknameTaken(connector, existing string) *problem.Error {
	return problem.New(problem.Conflict, "the %s connection %q already has that nickname (nicknames are unique per connector, ignoring case)", m.Connectors.Name(connector), existing).
		WithRemedy("choose another nickname, or reauthorize the existing connection").WithDetail("field", "nickname")
}

// nearestOrNotFound is notFound for key, whose remedy names the
// connections (of connector, when set) whose nicknames are nearest to it,
// if any is near: a misspelt nickname. all are the connections when the
// caller has read them already (nil: they are read here; when they cannot
// be, nothing is suggested).
func (m *Manager) nearestOrNotFound(ctx context.Context, connector, key string, all []*store.Connection) *problem.Error {
	p := notFound(connector, key)
	if all == nil {
		var err error
		if all, err = m.Store.ListConnections(ctx); err != nil {
			return p
		}
	}
	var names []string
	for _, c := range all {
		if connector == "" || c.Connector == connector {
			names = append(names, c.Nickname)
		}
	}
	near := spelling.Closest(key, names)
	if len(near) == 0 {
		return p
	}
	for i, n := range near {
		near[i] = strconv.Quote(n)
	}
	return p.WithRemedy("did you mean %s?", strings.Join(near, " or "))
}

func notFound(connector, key string) *problem.Error {
	if connector != "" {
		return problem.New(problem.NotFound, "no %s connection has the id or nickname %q", connector, truncate(key, 100)).
			WithRemedy("check the name, or list them all (cardflow connections list; GET /api/v1/connections)")
	}
	return problem.New(problem.NotFound, "no connection has the id or nickname %q", truncate(key, 100)).
		WithRemedy("check the name, or list them all (cardflow connections list; GET /api/v1/connections)")
}

// unreadable explains a stored secret the keyring cannot open. A value
// sealed with a key the keyring lacks is the server's keyring falling
// behind (`cardflow keys rotate` ran with another keyring), not damaged
// data: nothing about the connection needs doing.
func unreadable(what string, sealed []byte, err error) *problem.Error {
	if errors.Is(err, keyring.ErrUnknownKey) {
		id, _ := keyring.KeyIDOf(sealed)
		return problem.New(problem.Internal, "the connection's stored %s was sealed with key %q, which this server's keyring does not have", what, id).
			WithRemedy("give this server the keyring the other servers use (CARDFLOW_KEY listing key %q, or their keyring file) and restart it; the connection itself needs nothing", id).Wrap(err)
	}
	// A key id is derived from the key's bytes, so the key that opens no
	// more is the right one: the stored value itself was changed.
	return problem.New(problem.Internal, "the connection's stored %s cannot be decrypted: it was tampered with or copied from another connection", what).
		WithRemedy("reauthorize the connection or create it again").Wrap(err)
}

func internal(what string, err error) *problem.Error {
	return problem.New(problem.Internal, "internal error (%s)", what).Wrap(err)
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomID returns n random bytes encoded as lower-case base32.
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return idEncoding.EncodeToString(b)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
