// Package store defines cardflow's persistent records, the Store interface
// every backend implements, and the sentinel errors backends return. The
// backends (sqlite, postgres) live in sub-packages and pass the conformance
// suite in storetest.
package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Sentinel errors. Backends wrap them; callers test with errors.Is.
var (
	// ErrNotFound means the record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness rule or an optimistic version check failed.
	ErrConflict = errors.New("store: conflict")
	// ErrUnavailable means the database could not be reached or dropped
	// the connection (restarted, failed over, the session terminated):
	// the write may not have happened, and the same call may work later.
	ErrUnavailable = errors.New("store: the database is unavailable")
	// ErrFull means the database could not write because its disk (or
	// its size limit) is full: nothing was written, and the same call
	// works once space is freed.
	ErrFull = errors.New("store: the database's disk is full")
	// ErrReadOnly means the database refuses to write: a file or mount
	// made read-only, or a PostgreSQL server that is a standby or set
	// read-only (after a failover to a replica): nothing was written, and
	// the same call works once the database takes writes again.
	ErrReadOnly = errors.New("store: the database is read-only")
	// ErrRevoked means a console session, personal API token or flow run
	// was not created because what it was created on the strength of
	// ended meanwhile: its sign-in in flight, or its creator's console
	// session or personal API token (a person's access revoked,
	// DeletePersonAccess).
	ErrRevoked = errors.New("store: revoked meanwhile")
	// ErrSubjectTaken means a console session or personal API token of a
	// sign-in was not created because its login is bound to another
	// account at the identity provider (Session.Subject, APIToken.Subject):
	// another subject claims the login, or the sign-in comes from another
	// issuer than the one the login was bound at (an *IssuerChangedError,
	// which wraps it). Nothing was written.
	ErrSubjectTaken = errors.New("store: the login is bound to another subject")
	// ErrLeaseLost means a write made for the server holding a lease (a
	// flow run's, a connection's System Log poll's, PollLease) was
	// refused because that server holds it no longer: its lease lapsed
	// (it was paused past it) and another server took it. Nothing was
	// written. It is also ErrConflict.
	ErrLeaseLost = fmt.Errorf("%w: another server holds the lease now", ErrConflict)
	// ErrFlowChanged means a run built from a flow as it was read was not
	// started because the flow changed since: it was disabled or deleted,
	// or a newer version was stored. Nothing was written; read the flow
	// again. It is also ErrConflict.
	ErrFlowChanged = fmt.Errorf("%w: the flow changed since it was read", ErrConflict)
)

// SchemaBehindError is the refusal of a backend opened without migrating
// (sqlite.OpenCurrent, postgres.OpenCurrent) to use a database whose schema
// lacks migrations the binary has.
type SchemaBehindError struct {
	Have int64 // the newest migration the database has; 0 for none
	Want int64 // the newest migration the binary has
}

func (e *SchemaBehindError) Error() string {
	return fmt.Sprintf("store: the database schema is at version %d, older than this cardflow's (%d)", e.Have, e.Want)
}

// Migration is what opening a database applied: the schema versions it
// found (0 for a new database) and left, and the names of the migrations
// applied, in order; none when the schema was current.
type Migration struct {
	From, To int64
	Applied  []string
}

// SchemaAheadError is the refusal of every backend to open a database
// whose schema a newer cardflow has migrated past the migrations the
// binary has: it would read and write tables it does not know.
type SchemaAheadError struct {
	Have  int64 // the newest migration the database has
	Knows int64 // the newest migration the binary has
}

func (e *SchemaAheadError) Error() string {
	return fmt.Sprintf("store: the database schema is at version %d, newer than this cardflow knows (%d)", e.Have, e.Knows)
}

// Connection statuses.
const (
	StatusPending              = "pending"
	StatusActive               = "active"
	StatusNeedsReauthorization = "needs_reauthorization"
	StatusError                = "error"
)

// Why a connection is not active (Connection.StatusReasonCode): one code
// per kind of failure, each with its own remedy. The API shows them as
// statusReasonCode.
const (
	// Waiting for the first success (status pending).
	ReasonAwaitingSignIn = "awaiting_sign_in" // a user connection's administrator has not finished signing in
	ReasonAwaitingKey    = "awaiting_key"     // a new service connection's first token request got neither a token nor a refusal of its key or scopes

	// The org refuses what the connection is or holds.
	ReasonKeyRefused          = "key_refused"           // invalid_client for a service app's key (not added, removed, the app deactivated or not an API Services app)
	ReasonClientSecretRefused = "client_secret_refused" // invalid_client for a user connection's client ID and secret (changed, or the app deactivated)
	ReasonScopeNotGranted     = "scope_not_granted"     // the app does not grant the scopes asked for (invalid_scope, consent_required, an always-requested scope missing, a device read refused for lack of scope)
	ReasonNoAdminRole         = "no_admin_role"         // the account or service app has no admin role that may read devices (E0000006)
	ReasonTokenRefused        = "token_refused"         // the org rejected a token it had just issued (HTTP 401 on a device read)
	ReasonClockSkew           = "clock_skew"            // the org refused a service connection's client assertion or DPoP proof for its time, signed with this host's clock

	// A user connection's sign-in or its tokens.
	ReasonSignInExpired          = "sign_in_expired"          // the sign-in took longer than its request lives
	ReasonAccountNotAssigned     = "account_not_assigned"     // the account signed in with is not assigned to the OAuth app
	ReasonAccessDenied           = "access_denied"            // the org or the person denied the authorization
	ReasonAuthorizationRefused   = "authorization_refused"    // the org refused the authorization or the code exchange for another reason it named
	ReasonCodeRefused            = "code_refused"             // the authorization code expired, was used or is another request's (invalid_grant)
	ReasonOrgAnswerUnusable      = "org_answer_unusable"      // no code nor error, an unusable token response, no ID token
	ReasonIDTokenUnverified      = "id_token_unverified"      // the org's ID token could not be verified
	ReasonOrgUnreachable         = "org_unreachable"          // the org did not answer the code exchange or the permission check
	ReasonPermissionCheckFailed  = "permission_check_failed"  // the read-only device call after a sign-in got another error
	ReasonStoredSecretUnreadable = "stored_secret_unreadable" // a sealed secret of the connection cannot be opened by this server's keyring
	ReasonInternalError          = "internal_error"           // the authorization could not be stored
	ReasonRefreshTokenRefused    = "refresh_token_refused"    // invalid_grant on a refresh: revoked, expired or reused
	ReasonRefreshTokenExpired    = "refresh_token_expired"    // the refresh token reached its end (90 days after the sign-in)
	ReasonRefreshInterrupted     = "refresh_interrupted"      // a refresh got no answer and was not retried in time
	ReasonCredentialsChanged     = "credentials_changed"      // the client secret (and ID) were replaced, the tokens discarded
	ReasonOrgRestarted           = "org_restarted"            // the demo's emulated org restarted and forgot the connection
)

// Connection kinds (Connection.Auth).
const (
	AuthUser    = "user"
	AuthService = "service"
)

// Actor types: who did something.
const (
	ActorUser      = "user"      // a person signed in with single sign-on
	ActorToken     = "token"     // a personal API token
	ActorBootstrap = "bootstrap" // the server's API token (the bootstrap admin)
	// ActorServer is cardflow acting on its own, asked by no one: a
	// service app's token first accepted, a new key taking effect, a
	// refresh token's end nearing or passing.
	ActorServer = "server"
)

// ServerActor is the Actor of what cardflow does on its own.
var ServerActor = Actor{Type: ActorServer}

// Actor is who did something: a person (Login), a personal API token
// (TokenName, owned by Login; Login is empty for the bootstrap admin's
// tokens), the bootstrap admin or the server itself. The zero Actor is
// nobody known: a record made before actors were kept.
type Actor struct {
	Type      string // ActorUser, ActorToken, ActorBootstrap, ActorServer, or ""
	Login     string
	TokenName string
}

// String names the actor for logs and plain-text lists: "admin@example.com",
// "token deploy-bot of admin@example.com", "bootstrap admin", "cardflow".
func (a Actor) String() string {
	switch a.Type {
	case ActorUser:
		return a.Login
	case ActorToken:
		owner := a.Login
		if owner == "" {
			owner = "the bootstrap admin"
		}
		return "token " + a.TokenName + " of " + owner
	case ActorBootstrap:
		return "bootstrap admin"
	case ActorServer:
		return "cardflow"
	}
	return ""
}

// FoldCase is the key under which logins (and flow names) compare
// ignoring case: each letter folded to the least rune of its Unicode case
// orbit (unicode.SimpleFold), so that two strings have one key exactly
// when strings.EqualFold finds them equal. It is computed by cardflow, the
// same for every backend and every caller, rather than by SQL lower(),
// which folds only ASCII letters on SQLite (and on PostgreSQL follows the
// database's collation).
func FoldCase(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for o := unicode.SimpleFold(r); o != r; o = unicode.SimpleFold(o) {
			least = min(least, o)
		}
		return least
	}, s)
}

// Connection is one authorized (or being authorized) connection to an Okta
// org. Fields named Sealed* hold keyring ciphertexts, never plaintext.
type Connection struct {
	ID        string
	Connector string
	Nickname  string // unique per connector, case-insensitive
	Domain    string // normalised host, or a trusted origin such as http://127.0.0.1:9090

	Status       string
	StatusReason string
	Remedy       string
	// StatusReasonCode is the stable code of why the connection is not
	// active (one of the Reason* constants), kept with its status:
	// StatusReason and Remedy are words for a person, which may differ
	// from one failure of the same kind to the next and from one cardflow
	// version to the next. Empty while active, and for a connection stored
	// in another status before the codes were kept (migration 0040) or
	// updated since by a cardflow that keeps none (a rolling upgrade: the
	// store reads a code as empty unless the update that wrote it is the
	// row's latest).
	StatusReasonCode string

	ScopeMode       string // "default" or "custom"
	RequestedScopes []string
	GrantedScopes   []string

	ClientID           string
	SealedClientSecret []byte
	SealedRefreshToken []byte
	SealedAccessToken  []byte
	SealedIDToken      []byte
	AccessTokenExpiry  time.Time // zero when there is no access token

	// RefreshStartedAt is set (and committed) just before a refresh token is
	// presented to the org and cleared when the outcome is committed. A value
	// found at start-up means a process died mid-refresh (crash safety).
	RefreshStartedAt time.Time

	AuthorizedUserID string
	AuthorizedLogin  string
	AuthorizedName   string
	AuthorizedAt     time.Time
	LastUsedAt       time.Time

	// Auth is AuthUser (authorization code flow, refresh tokens) or
	// AuthService (an API Services app: client credentials with
	// private_key_jwt); empty means AuthUser.
	Auth string
	// RefreshTokenExpiresAt is when the refresh token expires (from the
	// org's introspection after each token exchange); zero when unknown.
	RefreshTokenExpiresAt time.Time
	// ExpiryNotifiedAt is when the connection.expiring notification for
	// the current refresh token went out; zero when it has not.
	ExpiryNotifiedAt time.Time
	// SealedPrivateKey is a service connection's client-auth private key
	// (a JWK); SealedNextPrivateKey a new key being rotated in, used once
	// the org accepts it; SealedDPoPKey the key DPoP proofs are signed with.
	SealedPrivateKey     []byte
	SealedNextPrivateKey []byte
	SealedDPoPKey        []byte
	// DPoP says the connection sends DPoP proofs (RFC 9449).
	DPoP bool
	// AccessTokenType is the stored access token's type, "Bearer" or
	// "DPoP"; empty means Bearer.
	AccessTokenType string
	// ServiceRetries is how many background tests a service connection
	// in error or pending has had since it was last active, and
	// ServiceRetryAt when the next is due (zero: none scheduled yet); the
	// backoff between them is shared by every server and kept across
	// restarts.
	ServiceRetries int
	ServiceRetryAt time.Time
	// OrgClockOffset is how far the clock of the connection's org is
	// ahead of cardflow's (negative: behind), as the Date of the org's
	// latest answer to the connection told it; zero when the clocks agree
	// or no answer told it. A user connection's refresh token expiry is
	// an org time, and is judged by this clock.
	OrgClockOffset time.Duration

	CreatedAt time.Time
	UpdatedAt time.Time

	// Version is incremented by every successful UpdateConnection: a
	// reader can tell whether the connection changed since it read it.
	Version int64
}

// AuthRequest is one pending OAuth authorization (the one-time state).
type AuthRequest struct {
	State           string // the state value sent to the org (random, 256 bits)
	ConnectionID    string
	Reauthorize     bool
	ScopeMode       string
	RequestedScopes []string
	SealedVerifier  []byte // PKCE code_verifier, sealed
	Nonce           string
	Actor           Actor // who started the authorization
	CreatedAt       time.Time
	ExpiresAt       time.Time
}

// Run is one card run, alone or as an item of a flow run.
type Run struct {
	ID                 string
	Card               string // "okta-devices/suspend-device"
	ConnectionID       string
	ConnectionNickname string
	Actor              Actor  // who started the run
	ActingAs           string // the Okta login the connection acts as
	Status             string // RunRunning, "succeeded", "failed", RunInterrupted
	Input              json.RawMessage
	Output             json.RawMessage
	ErrorCode          string
	ErrorMessage       string
	Remedy             string
	OktaRequestIDs     []string
	FlowRunID          string // empty for a direct run
	StepID             string
	ItemIndex          int
	StartedAt          time.Time
	FinishedAt         time.Time
	// Owner is the server executing the run and LeaseUntil when its lease
	// on it ends unless renewed (RenewRunLeases); CreateRun stores them,
	// UpdateRun and FinishRun leave them as they are.
	Owner      string
	LeaseUntil time.Time
	// DeviceName is the display name of the device the run is about,
	// when the run knew it without asking Okta (its flow's search or
	// read output, or the card's own output); "" when unknown.
	DeviceName string
	// Plan names the flow plan the run was made for (a read step of
	// `cardflow flows plan`, run for real); zero for every other run.
	Plan PlanRef
}

// PlanRef names the flow a plan was of, on the card runs its read steps
// made and their audit events: a plan runs read cards for real (as its
// actor, who asked for the plan) and changes nothing. Zero for a run or
// event of no plan.
type PlanRef struct {
	FlowID   string // the stored flow's id; "" for a document planned without being stored
	FlowName string // the document's name
}

// IsZero reports whether p names no plan.
func (p PlanRef) IsZero() bool { return p == PlanRef{} }

// PlanFilter selects runs and audit events by whether a flow's plan made
// them (PlanRef): PlansAll (the zero value) does not filter, PlansExclude
// leaves them out, PlansOnly keeps only them.
type PlanFilter string

// The plan filters.
const (
	PlansAll     PlanFilter = ""
	PlansExclude PlanFilter = "exclude"
	PlansOnly    PlanFilter = "only"
)

// Card run statuses the store itself sets.
const (
	RunRunning     = "running"
	RunInterrupted = "interrupted"
)

// InterruptedCode is the error code of a card run marked RunInterrupted:
// its server failed, neither the request nor Okta (the API's "internal").
const InterruptedCode = "internal"

// InterruptedMessage is the error message of a card run of a flow run
// marked RunInterrupted. It is marked when the flow run is claimed again,
// before it is known whether the run resumes or ends canceled.
const InterruptedMessage = "the server running this card stopped before it finished; whether the call reached Okta is unknown " +
	"(a resumed flow run runs the item again; a canceled one does not: for a step that changes devices, read the device to see whether the change took effect)"

// InterruptedDirectMessage and InterruptedDirectRemedy are the error
// message and remedy of a direct card run (of no flow run) marked
// RunInterrupted: nobody runs it again. The runs of every card are marked
// at once, so the remedy covers both kinds; a run cancelled while its
// server runs it gets the remedy of its own kind (InterruptedReadRemedy
// for a card that reads).
const (
	InterruptedDirectMessage = "the server running this card stopped before it finished; whether the call reached Okta is unknown"
	InterruptedDirectRemedy  = "a card that changes devices: read the device (okta-devices/read-device) to see whether the change took effect, " +
		"and run the card again if it did not; a card that reads changed nothing: run it again"
	InterruptedChangeRemedy = "read the device (okta-devices/read-device) to see whether the change took effect, and run the card again if it did not"
	InterruptedReadRemedy   = "the card only reads, so it changed nothing: run it again"
)

// RunFilter selects runs; zero fields do not filter. Runs come newest first.
type RunFilter struct {
	ConnectionID string
	Card         string
	FlowRunID    string
	Plans        PlanFilter
	Limit        int // 0 means 100
	// Before keeps runs started strictly before it; with BeforeID it is a
	// cursor (the last run of the previous page): runs that come after
	// (Before, BeforeID) in the order StartedAt, then ID, newest first.
	Before   time.Time
	BeforeID string
}

// StreakFilter selects the failed runs of FlowID created before
// CreatedBefore, not counting ExcludeID (the run being decided about),
// that were created after the flow's last run that ran well. With
// SameFailure nil, a run that ran well is one that succeeded; with
// SameFailure set, it is also one that failed another way (its Failure
// differs), and only failures whose Failure is *SameFailure count.
// Canceled runs and unfinished ones are not looked at.
type StreakFilter struct {
	FlowID        string
	ExcludeID     string
	CreatedBefore time.Time
	SameFailure   *string
}

// Streak is what FailureStreak found: how many runs, and when the first
// and the last of them finished (zero when Runs is 0).
type Streak struct {
	Runs        int
	First, Last time.Time
}

// FlowRunFilter selects flow runs; zero fields do not filter. Flow runs
// come newest first (CreatedAt, then ID).
type FlowRunFilter struct {
	FlowID string
	// FlowName, when set, selects the runs of flows of this exact name
	// when they ran (a flow's runs keep the name it had then).
	FlowName string
	// Unfinished, when set, selects only the runs that have not ended:
	// queued or running.
	Unfinished bool
	// Status, when set, selects only the runs of that status.
	Status string
	Limit  int // 0 means 100
	// Before and BeforeID, when Before is set, are a cursor: the
	// CreatedAt and ID of the last run of the previous page.
	Before   time.Time
	BeforeID string
}

// NamePage selects a page of a list ordered by name ignoring case, then
// ID: at most Limit records (0 means 100) after the record named After
// with ID AfterID, or from the first when AfterID is empty. The cursor is
// the last record's own name and ID, not a position, so records stored or
// deleted between pages neither shift the next page nor repeat one. Case
// is folded by the database (lower(): ASCII letters on SQLite, every
// letter on PostgreSQL), the same way for the cursor as for the rows.
type NamePage struct {
	After   string
	AfterID string
	Limit   int
}

// ReadNamePage reads with list the page of at most p.Limit records after
// p's cursor, asking for one more to learn whether another page follows:
// then more is true and the page's last record is the next cursor.
func ReadNamePage[T any](p NamePage, list func(NamePage) ([]T, error)) (page []T, more bool, err error) {
	n := p.Limit
	p.Limit = n + 1
	page, err = list(p)
	if err != nil || len(page) <= n {
		return page, false, err
	}
	return page[:n], true, nil
}

// AuditEvent is one audited action. Events are append-only.
type AuditEvent struct {
	ID            int64 // assigned by the store
	Time          time.Time
	Actor         Actor
	Action        string // "connection.create", "connection.authorize", "connection.reauthorize", "connection.delete", "connection.test", "card.run", "flow.run", ...
	ConnectionID  string
	ActingAs      string
	Card          string
	InputSummary  string
	Outcome       string // "success" or "failure"
	Error         string // public message, never a secret
	OktaRequestID string
	// Plan, on a card.run event, names the flow plan the card ran for
	// (Run.Plan) and, on a flow.plan event, the flow planned; zero
	// otherwise.
	Plan PlanRef
	// DeletedNickname, on a successful connection.delete, is the deleted
	// connection's nickname: the store keys the event by it (FoldCase), so
	// that AuditFilter.DeletedNickname finds it. It is not read back.
	DeletedNickname string
}

// The audit actions: what an AuditEvent's Action names.
const (
	ActionCardRun             = "card.run"
	ActionConnectionAuthorize = "connection.authorize"
	ActionConnectionCreate    = "connection.create"
	ActionConnectionDelete    = "connection.delete"
	// ActionConnectionEventHook is cardflow registering, changing or
	// deleting the connection's event hook at the org.
	ActionConnectionEventHook = "connection.event-hook"
	// ActionConnectionEventMalformed is cardflow leaving out an Okta event
	// that reached it (by hook or System Log poll) but that it cannot use
	// (not a LogEvent, or without its uuid, eventType or published time):
	// the event starts no run; the others of its delivery or page do.
	ActionConnectionEventMalformed = "connection.event-malformed"

	// ActionConnectionEventPoll is cardflow reading the connection's
	// System Log anew from a point in time rather than from its cursor
	// (refused by Okta, or older than Okta keeps events).
	ActionConnectionEventPoll   = "connection.event-poll"
	ActionConnectionExpired     = "connection.expired"
	ActionConnectionExpiring    = "connection.expiring"
	ActionConnectionKeyRotated  = "connection.key-rotated"
	ActionConnectionReauthorize = "connection.reauthorize"
	ActionConnectionRotateKey   = "connection.rotate-key"
	ActionConnectionTest        = "connection.test"
	ActionConnectionUpdate      = "connection.update"
	ActionFlowCancel            = "flow.cancel"
	ActionFlowDelete            = "flow.delete"
	ActionFlowDisable           = "flow.disable"
	ActionFlowEnable            = "flow.enable"
	// ActionFlowPlan is a flow's dry run (cardflow flows plan), one event
	// per connection its steps use: it runs read cards and reads devices
	// at Okta to predict changes with that connection's token.
	ActionFlowPlan  = "flow.plan"
	ActionFlowRerun = "flow.rerun"
	ActionFlowRun   = "flow.run"
	ActionFlowStore = "flow.store"
	// ActionNotificationTest is a test message posted to every
	// notification receiver (cardflow notifications test).
	ActionNotificationTest = "notification.test"
	// ActionPersonRevoke is an admin ending everything one person holds:
	// their console sessions and personal API tokens.
	ActionPersonRevoke  = "person.revoke"
	ActionPersonSignIn  = "person.signin"
	ActionPersonSignOut = "person.signout"
	ActionTokenCreate   = "token.create"
	ActionTokenRevoke   = "token.revoke"
)

// AuditActions lists every audit action, sorted.
var AuditActions = []string{ActionCardRun, ActionConnectionAuthorize, ActionConnectionCreate, ActionConnectionDelete, ActionConnectionEventHook, ActionConnectionEventMalformed, ActionConnectionEventPoll, ActionConnectionExpired, ActionConnectionExpiring, ActionConnectionKeyRotated, ActionConnectionReauthorize, ActionConnectionRotateKey, ActionConnectionTest, ActionConnectionUpdate, ActionFlowCancel, ActionFlowDelete, ActionFlowDisable, ActionFlowEnable, ActionFlowPlan, ActionFlowRerun, ActionFlowRun, ActionFlowStore, ActionNotificationTest, ActionPersonRevoke, ActionPersonSignIn, ActionPersonSignOut, ActionTokenCreate, ActionTokenRevoke}

// AuditFilter selects audit events; zero fields do not filter. Newest first.
type AuditFilter struct {
	ConnectionID string
	Action       string
	ActorLogin   string // events whose actor is, or whose token belongs to, this login (ignoring case, FoldCase)
	// Bootstrap keeps the events of the bootstrap admin (the server's API
	// token, recorded with no login) and of its tokens: no login selects
	// them. ActorLogin is then not to be set.
	Bootstrap bool
	// Server keeps the events of what cardflow did on its own (ActorServer:
	// an expiry found, an event run rerun by itself). ActorLogin is then
	// not to be set.
	Server   bool
	Plans    PlanFilter
	Limit    int // 0 means 100
	BeforeID int64
	// DeletedNickname keeps the connection.delete events that deleted a
	// connection of that nickname (ignoring case, FoldCase), recorded
	// with AuditEvent.DeletedNickname.
	DeletedNickname string
}

// Flow is a stored flow document: its latest version, and the state that
// belongs to the flow rather than to a version (its trigger's enabled
// state and next tick).
type Flow struct {
	ID     string
	Name   string // unique, ignoring case
	Source []byte // the YAML document of the latest version
	// Version is the latest version's number: versions count from 1, so
	// it is also how many versions the flow has.
	Version int
	// StoredBy is who stored the latest version (zero for a flow stored
	// before versions were kept).
	StoredBy Actor
	// Trigger is the canonical JSON of the document's trigger (on:), nil
	// for a flow only people start. A new version keeps Enabled and NextRunAt
	// of the previous one only when the two Triggers are equal
	// byte for byte; otherwise the flow is stored disabled.
	Trigger []byte
	Enabled bool
	// NextRunAt is the next schedule tick of an enabled scheduled flow;
	// zero otherwise.
	NextRunAt time.Time
	// EnabledBy is who last enabled or disabled the flow; its triggered
	// runs are attributed to who enabled it.
	EnabledBy Actor
	CreatedAt time.Time
	UpdatedAt time.Time
}

// FlowVersion is one stored version of a flow's document.
type FlowVersion struct {
	FlowID  string
	Version int
	Source  []byte // GetFlowVersion fills it; ListFlowVersions does not
	SHA256  string // hex SHA-256 of Source
	Size    int    // bytes of Source
	// StoredAt and StoredBy say when and by whom the version was stored
	// (StoredBy is zero for a version stored before versions were kept).
	StoredAt time.Time
	StoredBy Actor
}

// FlowRun is one run (or plan) of a flow. The runner owns its lifecycle; the
// store only persists it and hands out leases so that exactly one server
// works on a run at a time.
type FlowRun struct {
	ID       string
	FlowID   string
	FlowName string
	Source   []byte // the document as it was when the run started
	// FlowVersion is the flow's version whose Source the run runs; 0 for
	// runs stored before versions were kept.
	FlowVersion int
	// RerunOf is the id of the run this run repeats (a rerun keeps its
	// version, inputs and trigger); empty for other runs.
	RerunOf    string
	Inputs     json.RawMessage // the run's inputs
	Status     string          // "queued", "running", "succeeded", "failed", FlowRunCanceled
	Actor      Actor           // who started the run (of a triggered run: who enabled the flow)
	Error      string
	Owner      string    // the server holding the lease, empty when none
	LeaseUntil time.Time // the owner's lease expiry
	CreatedAt  time.Time
	StartedAt  time.Time
	FinishedAt time.Time
	// Trigger is what started the run, as JSON ({kind, time, eventUuid,
	// event}); nil for runs stored before triggers existed.
	Trigger json.RawMessage
	// TriggerKey, when set, is unique among the runs of FlowID: the
	// schedule tick or the event that started the run. CreateFlowRun
	// returns ErrConflict for a key already used.
	TriggerKey string
	// CancelRequestedAt is when someone asked the run to stop
	// (CancelFlowRun); zero when nobody did. Only CancelFlowRun sets it,
	// with CancelRequestedBy and CancelReason, each of the first request.
	CancelRequestedAt time.Time
	// CancelRequestedBy is who asked the run to stop; zero when nobody
	// did, and for runs asked to stop before it was recorded (migration
	// 0039).
	CancelRequestedBy Actor
	// CancelReason says why the run was asked to stop when the asker did
	// not decide it on their own ("its starter LOGIN's access was
	// revoked"); empty otherwise.
	CancelReason string
	// Failure, of a failed run, is a key that is the same for runs that
	// failed the same way (FailureStreak compares it); empty otherwise.
	Failure string
	// RerunWhenActive, of a failed run an Okta event started whose
	// connection could not run its cards (it needs reauthorization, or the
	// org refuses the service connection), is that connection's id: the
	// run is rerun, its failed items only, once the connection is active
	// again (ClaimRerun). Empty for other runs. UpdateFlowRun writes it,
	// and RerunConnection, the connection's nickname then.
	RerunWhenActive, RerunConnection string
	// RerunBy is the id of the run that reran a run waiting for its
	// connection (RerunWhenActive): the automatic rerun, or a rerun asked
	// for by hand first. Only ClaimRerun and CreateFlowRunFrom set it,
	// once.
	RerunBy string
	// RerunSkipped says why a run waiting for its connection was not
	// rerun ("flow NAME was disabled"); only SkipRerun sets it.
	RerunSkipped string
	// SessionID and TokenID, not stored, are the console session or the
	// personal API token a person starts the run with by hand: when set,
	// CreateFlowRun and CreateFlowRunFrom store the run only while it
	// still exists (ErrRevoked otherwise), as a token is created only
	// while its creator's session or token exists. A revoke of the
	// person (DeletePersonAccess, then the cancel of their runs) thus
	// comes before the run, which is refused, or after it, and finds it.
	SessionID, TokenID string
}

// FlowRunCanceled is the status of a flow run stopped on request.
const FlowRunCanceled = "canceled"

// Purged counts what one Purge deleted.
type Purged struct {
	FlowRuns      int // flow runs, each with its steps and items
	CardRuns      int // card runs: of the purged flow runs, and direct ones
	Events        int // inbox events, each with its links to the runs it started
	Notifications int // notifications (one per message and receiver)
	// Undelivered counts the notifications among Notifications that were
	// never delivered: their receiver failed or was removed for the whole
	// retention period.
	Undelivered int
}

// Empty reports whether p deleted nothing.
func (p Purged) Empty() bool { return p == Purged{} }

// Notification is one message of the outbox to one receiver: the pair
// (ID, Receiver) is unique, and ID is the same for every receiver of a
// message.
// NotificationBacklog is what waits in the outbox for one receiver: Waiting
// messages not delivered yet, the oldest made at Since; LastError is why
// the latest failed attempt at one of them failed ("" when none was tried).
type NotificationBacklog struct {
	Receiver  string
	Waiting   int
	Since     time.Time
	LastError string
}

type Notification struct {
	ID string
	// Receiver names the receiver by ReceiverDigest of its URL: the URL
	// of an incoming webhook is its key, and the outbox (and every backup
	// of the database) must not hold it. Servers map digests back to the
	// URLs they are configured with.
	Receiver      string
	Type          string          // "flow_run.failed", "connection.needs_reauthorization", ...
	Body          json.RawMessage // the JSON posted
	Attempts      int
	NextAttemptAt time.Time // when the next attempt is due
	DeliveredAt   time.Time // zero until a 2xx answer
	LastError     string    // why the last attempt failed
	Owner         string    // the server sending it now, empty when none
	LeaseUntil    time.Time
	CreatedAt     time.Time
	// Thread, when set, orders the messages of one matter (a
	// connection's System Log polls, its event hook): a message is not
	// claimed while an older one of its thread (CreatedAt, then ID) to
	// the same receiver is undelivered, so that a receiver never gets a
	// recovery before the failure it ends. A message given up (purged)
	// no longer holds the next.
	Thread string
}

// ReceiverDigest is how the outbox names a notification receiver: the
// SHA-256 of its URL, in lower-case hex.
func ReceiverDigest(url string) string {
	sum := sha256.Sum256([]byte(url))
	return hex.EncodeToString(sum[:])
}

// FlowStep is the persisted state of one step of a flow run.
type FlowStep struct {
	RunID     string
	StepID    string
	Status    string // "pending", "running", "succeeded", "failed", "skipped"
	Items     int
	Succeeded int
	Failed    int
	Skipped   int
	// Changed counts the items whose card changed their device; nil when
	// unknown (flow.StepState.Changed).
	Changed    *int
	Output     json.RawMessage // not written by the runner (the items hold the outputs); runs stored by earlier versions have it
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// NotRun is how many of a finished step's items did not run: those a
// canceled run never started or stopped before their card sent its call,
// and those a failed run never reached (none are recorded). 0 while the
// step is pending or running.
func (s *FlowStep) NotRun() int {
	if s.Status == "pending" || s.Status == "running" {
		return 0
	}
	return max(s.Items-s.Succeeded-s.Failed-s.Skipped, 0)
}

// FlowItem is one completed item of a step (a step without for_each has one
// item, index 0). An item is written once, when it finishes; its presence is
// what makes a resumed run skip it. An Output equal byte for byte to the
// output of its card run (RunRef) is stored once, in the run, and read
// from there.
type FlowItem struct {
	RunID      string
	StepID     string
	Index      int
	Status     string // "succeeded", "failed", "skipped"
	Input      json.RawMessage
	Output     json.RawMessage
	ErrorCode  string
	Error      string
	RunRef     string // the Run id of the card run, if any
	StartedAt  time.Time
	FinishedAt time.Time
	// DeviceName is the display name of the device the item is about,
	// when the flow knew it (a search or read output); "" otherwise.
	DeviceName string
}

// RateBudget is the shared state of one rate budget (one org's bucket of
// Okta's API limits) as every server on the store sees it. The store only
// keeps it and serializes its updates; the pacing rules belong to its user.
type RateBudget struct {
	Key       string
	Limit     int       // calls allowed per window; 0 while unknown
	Used      int       // calls counted in the current window
	WindowEnd time.Time // the end of the current window; zero while unknown
	Estimated bool      // WindowEnd is a guess no response has confirmed yet
	LastGrant time.Time // when the last call was let through
	UpdatedAt time.Time // when UpdateRateBudget last stored it (the caller's now)
}

// Event is one Okta event in the inbox, stored once per UUID
// however often and however it arrived.
type Event struct {
	UUID         string
	ConnectionID string
	EventType    string
	Published    time.Time
	Raw          json.RawMessage // Okta's LogEvent
	ReceivedVia  []string        // "hook", "poll", in that order
	ReceivedAt   time.Time       // when it was first stored
	DispatchedAt time.Time       // when the flows it triggers were started; zero until then
	FlowRuns     []string        // ids of the flow runs it started (ListEvents fills it)
}

// Ways an event arrives.
const (
	ViaHook = "hook"
	ViaPoll = "poll"
)

// EventFilter selects events; zero fields do not filter.
type EventFilter struct {
	// ConnectionIDs, when set, keeps the events stored under any of
	// these connections.
	ConnectionIDs []string
	// UUID, when set, keeps the event with that uuid.
	UUID string
	// Waiting, when set, keeps the events not dispatched yet.
	Waiting bool
	Limit   int // 0 means 100
	// Before and BeforeUUID, when Before is set, are a cursor: the
	// Published and UUID of the last event of the previous page; events
	// after it in the order Published, then UUID, newest first.
	Before     time.Time
	BeforeUUID string
}

// PollStatus is how a connection's System Log polls fare. The zero value
// is a poll that worked.
type PollStatus struct {
	// Error and Remedy say why the last poll failed, in words fit for
	// the API and the console (no secrets, no internal detail).
	Error  string
	Remedy string
	// FailingSince is when the polls began to fail; zero while they work.
	FailingSince time.Time
	// AlertedAt is when the events.poll_failing notification of this
	// failure was enqueued; zero before.
	AlertedAt time.Time
	// ReadTo is how far the polls have read: every event Okta stored
	// before it was read (the time of the last poll that read to the end
	// of the log, by the org's clock when its answer has a Date, stored at
	// most hourly, or the publication of the last event a catch-up read);
	// zero before the first poll.
	ReadTo time.Time
}

// EventSource is what a connection's event intake keeps: its System Log
// cursor and its Okta event hook.
type EventSource struct {
	ConnectionID string
	// PollNext is the System Log next link to read; empty before the
	// first poll. PolledAt is when it was stored.
	PollNext string
	PolledAt time.Time
	// Poll is how the System Log polls fare: the last one's error, and
	// since when they fail.
	Poll PollStatus
	// HookPath is the opaque last segment of the hook's URL
	// (PUBLIC_URL/hooks/okta/<HookPath>); empty when there is none.
	HookPath     string
	HookID       string   // Okta's event hook id; empty until created
	SealedSecret []byte   // the Authorization header Okta sends, sealed
	HookTypes    []string // the event types the hook subscribes to
	HookStatus   string   // HookActive, HookPending, HookError or HookDeactivated; empty when there is none
	HookReason   string
	HookRemedy   string
	// HookFailures counts the attempts in a row to bring the hook in line
	// that failed other than by an outage at Okta (a verification or a
	// registration Okta refused), for HookRetryKey (what they were for:
	// the flows and the connection); HookOutages those since that failed
	// by an outage at Okta (no answer, or a 5xx); HookRetryAt is when the
	// next is due. Zero while the hook works.
	HookFailures int
	HookOutages  int
	HookRetryAt  time.Time
	HookRetryKey string
	UpdatedAt    time.Time
}

// The statuses of a connection's event hook (EventSource.HookStatus).
const (
	HookActive  = "active"  // registered, verified and active at Okta
	HookPending = "pending" // being registered
	HookError   = "error"   // see the reason and the remedy
	// HookDeactivated: someone (or Okta) deactivated the hook at Okta.
	// cardflow leaves it so until the event types its flows need change
	// (a flow disabled and enabled again), see the remedy.
	HookDeactivated = "deactivated"
)

// PollLease is the name of the lease (TryLease, RenewLease) under which
// one server at a time polls the System Log of the connection
// connectionID; it fences that server's SetPollCursor and SetPollStatus.
func PollLease(connectionID string) string { return "events-poll/" + connectionID }

// APIToken is a personal API token. Only the SHA-256 of the
// token is kept; the token itself is shown once, when it is created.
type APIToken struct {
	ID         string
	Name       string
	Hash       string // hex SHA-256 of the token; unique
	Role       string // "viewer", "operator" or "admin"
	OwnerType  string // ActorUser or ActorBootstrap
	OwnerLogin string // the owner's login; empty for the bootstrap admin
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero when never used
	// ParentID is the personal API token that created this one; empty
	// when a person signed in or the bootstrap admin did.
	ParentID string
	// SessionID is the console session that creates the token, and
	// SignIn the sign-in in flight (StartSignIn) it is the outcome of;
	// either may be empty. Not stored: CreateAPIToken refuses with
	// ErrRevoked when the session, the sign-in or the ParentID token no
	// longer exists or a revoke of OwnerLogin marked the sign-in, and
	// ends the sign-in.
	SessionID, SignIn string
	// Subject is the identity provider's subject (the ID token's sub) of
	// the sign-in SignIn; empty for none. Not stored on the token: with
	// SignIn, CreateAPIToken binds OwnerLogin to it (PersonSubject) when
	// the login is bound to none, and refuses with ErrSubjectTaken when it
	// is bound to another.
	Subject string
	// Issuer is the identity provider (the ID token's iss) of the sign-in
	// SignIn, bound with Subject (PersonBinding.Issuer): a login bound at
	// another issuer is refused with an *IssuerChangedError. Not stored on
	// the token.
	Issuer string
	// Lowered is set by CreateAPIToken with SignIn: the owner's other
	// live sessions and tokens it lowered to Role (RoleLowered).
	Lowered RoleLowered
}

// RoleLowered is what a sign-in lowered (CreateSession or CreateAPIToken
// with SignIn, in the transaction that stores it): the person's live
// console sessions and tokens whose role was above the one the sign-in
// gives, which now have that role. A role comes from the person's groups
// at sign-in; one taken out of a group and signing in again holds no more
// than the groups give now anywhere. A role is never raised.
type RoleLowered struct {
	Sessions int
	Tokens   []string // the lowered tokens' names
}

// Any says that something was lowered.
func (l RoleLowered) Any() bool { return l.Sessions > 0 || len(l.Tokens) > 0 }

// Session is a signed-in console browser. Only the SHA-256 of the cookie
// value is kept, so the table holds nothing that signs anybody in.
type Session struct {
	ID    string // hex SHA-256 of the cookie value
	Actor Actor  // ActorUser or ActorBootstrap
	Name  string // the person's name, for the page header
	Role  string
	CSRF  string
	// Flashes is how many one-time messages wait for the next page
	// (AddSessionFlash, TakeSessionFlashes); not written by CreateSession.
	Flashes   int
	CreatedAt time.Time
	ExpiresAt time.Time // absolute end
	LastSeen  time.Time // for the idle timeout
	// SignIn is the sign-in in flight (StartSignIn) the session is the
	// outcome of; empty for a sign-in with the server's API token. Not
	// stored: CreateSession ends it, and refuses with ErrRevoked when it
	// no longer exists or a revoke of the Actor's login marked it.
	SignIn string
	// Subject is the identity provider's subject of the sign-in SignIn,
	// bound to the Actor's login as APIToken.Subject is to its owner's
	// (ErrSubjectTaken), with its Issuer as APIToken.Issuer. Not stored on
	// the session.
	Subject, Issuer string
	// Lowered is set by CreateSession with SignIn: the person's other
	// live sessions and tokens it lowered to Role (RoleLowered).
	Lowered RoleLowered
}

// PersonBinding is the account at an identity provider a login is bound
// to: the subject (the ID token's sub) and issuer (its iss) of the
// login's first sign-in since its access was last revoked.
type PersonBinding struct {
	Login   string // as the binding sign-in spelt it
	Subject string
	// Issuer is empty for a login bound before cardflow kept issuers
	// (migration 0038) and not signed in to since: the next sign-in with
	// the login's subject fills it in.
	Issuer  string
	BoundAt time.Time
}

// IssuerChangedError is the ErrSubjectTaken of a sign-in from another
// identity provider than the one its login was bound at: a subject is
// unique only within its issuer, so whatever the subject, it is not the
// account the login is bound to. Typically the server's -oidc-issuer
// moved to another provider.
type IssuerChangedError struct {
	Login string
	// Bound is the issuer the login was bound at, Issuer the sign-in's.
	Bound, Issuer string
}

func (e *IssuerChangedError) Error() string {
	return fmt.Sprintf("%s is bound at the issuer %s, and the sign-in comes from %s", e.Login, e.Bound, e.Issuer)
}

func (e *IssuerChangedError) Unwrap() error { return ErrSubjectTaken }

// SignInRequest is one pending single sign-on (the one-time state of an
// OpenID Connect authorization code flow started by the console).
type SignInRequest struct {
	State          string // random, 256 bits; also kept in the browser's cookie
	SealedVerifier []byte // PKCE code_verifier, sealed
	Nonce          string
	Next           string // the console path to go on to
	CreatedAt      time.Time
	ExpiresAt      time.Time
}

// Store is the persistence boundary. Implementations are safe for concurrent
// use by many goroutines and, for the shared backends, many processes.
//
// Common rules: Get*, Update*, Delete* and Consume* return ErrNotFound for
// an unknown key; Create* returns ErrConflict for an existing id and fills
// in an empty ID with a random one; times keep their instant to the
// nanosecond and come back in UTC; nil and empty lists stay distinct; a
// list with Limit 0 returns at most 100 records.
type Store interface {
	// Connections. CreateConnection and UpdateConnection return ErrConflict
	// when the nickname is taken (same connector, case-insensitive).
	// UpdateConnection reads the stored connection, lets fn change it and
	// writes it back, in one transaction that holds the connection's lock
	// (concurrent updates in any process wait, so none is lost); an error
	// of fn comes back as it is, with nothing written.
	// UpdateConnectionNotify is UpdateConnection whose fn also returns
	// outbox messages (as EnqueueNotifications stores them), committed in
	// the same transaction as the change they report. CreateConnection
	// sets Version to 1 and each update increments it. ListConnections
	// orders by connector, then nickname ignoring case.
	CreateConnection(ctx context.Context, c *Connection) error
	GetConnection(ctx context.Context, id string) (*Connection, error)
	GetConnectionByNickname(ctx context.Context, connector, nickname string) (*Connection, error)
	ListConnections(ctx context.Context) ([]*Connection, error)
	// ListConnectionsPage returns one page of every connector's
	// connections by nickname ignoring case, then ID (see NamePage).
	ListConnectionsPage(ctx context.Context, p NamePage) ([]*Connection, error)
	UpdateConnection(ctx context.Context, id string, fn func(c *Connection) error) error
	UpdateConnectionNotify(ctx context.Context, id string, fn func(c *Connection) ([]*Notification, error)) error
	DeleteConnection(ctx context.Context, id string) error

	// OAuth state. ConsumeAuthRequest deletes and returns the request in one
	// step (single use); it returns ErrNotFound for an unknown or used state.
	// Expiry is the caller's to check.
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	ConsumeAuthRequest(ctx context.Context, state string) (*AuthRequest, error)
	DeleteExpiredAuthRequests(ctx context.Context, now time.Time) error
	// RecordAuthCompletion remembers until expiresAt that the authorization
	// whose state hashes to stateHash succeeded (recording it again moves
	// expiresAt); AuthCompleted reports whether that is remembered at now.
	// DeleteExpiredAuthRequests forgets the expired ones too.
	RecordAuthCompletion(ctx context.Context, stateHash string, expiresAt time.Time) error
	AuthCompleted(ctx context.Context, stateHash string, now time.Time) (bool, error)

	// Leases: named, expiring locks shared by every process on the store.
	// TryLease takes or renews the lease when it is free, expired or already
	// the owner's, and reports whether the owner holds it. A lease expires
	// at now+ttl of its last successful TryLease. ReleaseLease does nothing
	// unless owner holds the lease.
	TryLease(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (bool, error)
	// RenewLease extends owner's lease to now+ttl only while owner still
	// holds it (even past its expiry, as long as nobody took it since), and
	// reports whether it did: unlike TryLease it never takes the lease
	// again once another owner took it, even if that one's has lapsed too,
	// nor once it was released.
	RenewLease(ctx context.Context, name, owner string, ttl time.Duration, now time.Time) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error

	// Runs. ListRuns returns newest first (StartedAt, then ID); Before
	// keeps runs started strictly before it. FinishRun stores what a run's
	// end sets (Status, Output, ErrorCode, ErrorMessage, Remedy,
	// OktaRequestIDs, FinishedAt, DeviceName; the rest stays as CreateRun
	// stored it) and appends the audit event in one atomic step: both are
	// stored or neither is. CreateRun of a flow run's card run (FlowRunID
	// and Owner set) stores it only while Owner holds the flow run
	// (ErrLeaseLost otherwise): a server that lost the run records no
	// card run of it, and so calls no card.
	CreateRun(ctx context.Context, r *Run) error
	UpdateRun(ctx context.Context, r *Run) error
	FinishRun(ctx context.Context, r *Run, e *AuditEvent) error
	GetRun(ctx context.Context, id string) (*Run, error)
	ListRuns(ctx context.Context, f RunFilter) ([]*Run, error)
	// InterruptRuns marks the card runs of flow run flowRunID that are
	// still RunRunning as RunInterrupted (finished at at, with
	// InterruptedMessage) and returns how many it marked. The flow run's
	// new owner calls it when it resumes the run; when owner is set, only
	// while owner holds the flow run (ErrLeaseLost otherwise, marking
	// none): a server that lost the run does not end the card runs its
	// new owner is running.
	InterruptRuns(ctx context.Context, flowRunID, owner string, at time.Time) (int, error)
	// RenewRunLeases sets the lease of the card runs ids of owner still
	// RunRunning to end at until and returns how many it renewed: those
	// its server still executes, not a run it gave up on.
	// InterruptLapsedRuns marks the direct card runs (of no flow run)
	// still RunRunning whose lease ended before now as RunInterrupted
	// (finished at now, with InterruptedDirectMessage and
	// InterruptedDirectRemedy), as InterruptRuns does for a flow run's,
	// and returns their ids. It reads an index of running runs.
	RenewRunLeases(ctx context.Context, owner string, ids []string, until time.Time) (int, error)
	InterruptLapsedRuns(ctx context.Context, now time.Time) ([]string, error)
	// ListItemRuns returns the card runs of one item (step and index) of a
	// flow run, oldest first (StartedAt, then ID). It reads an index.
	ListItemRuns(ctx context.Context, flowRunID, stepID string, index int) ([]*Run, error)

	// Audit. AppendAudit sets e.ID, larger than every id assigned before;
	// ListAudit returns highest id first, BeforeID keeps smaller ids.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEvent, error)

	// Flows. PutFlow stores f.Source as version 1 of a new flow or, for a
	// name already stored, as its next version, recording f.StoredBy and
	// f.UpdatedAt with it, and reports true; when the latest version's
	// source is byte for byte f.Source it stores nothing and reports
	// false. Either way f is filled with the flow as stored (ID,
	// CreatedAt, UpdatedAt, Version, StoredBy, enabled state). Names are
	// unique ignoring case (strings.EqualFold): a new flow whose name is
	// another's in other capitals is ErrConflict, also when the two are
	// stored at once. GetFlow looks up by id first, then by name, and returns the
	// latest version. ListFlows orders by name. Deleting a flow deletes its
	// versions and keeps its runs.
	PutFlow(ctx context.Context, f *Flow) (bool, error)
	GetFlow(ctx context.Context, idOrName string) (*Flow, error)
	ListFlows(ctx context.Context) ([]*Flow, error)
	// ListFlowsPage returns one page of the flows by name ignoring case,
	// then ID (see NamePage).
	ListFlowsPage(ctx context.Context, p NamePage) ([]*Flow, error)
	DeleteFlow(ctx context.Context, id string) error
	// GetFlowVersion returns one version of flow flowID with its Source;
	// ListFlowVersions returns every version, newest first, without.
	// Both return ErrNotFound for an unknown flow or version.
	GetFlowVersion(ctx context.Context, flowID string, version int) (*FlowVersion, error)
	ListFlowVersions(ctx context.Context, flowID string) ([]*FlowVersion, error)
	// SetFlowEnabled turns a flow on or off, sets its next tick (zero when
	// off or not scheduled) and records who did it (Flow.EnabledBy);
	// ErrConflict when the stored Trigger is no longer trigger (the flow
	// was replaced meanwhile).
	SetFlowEnabled(ctx context.Context, id string, trigger []byte, enabled bool, nextRunAt time.Time, by Actor) error
	// ListDueFlows returns enabled flows whose NextRunAt is set and not
	// after now, earliest first, at most limit (0 means 100). It reads an
	// index: its cost grows with the due flows, not with every flow or
	// past run.
	ListDueFlows(ctx context.Context, now time.Time, limit int) ([]*Flow, error)
	// NextDueAt is the earliest NextRunAt of the enabled flows; zero when
	// no flow is scheduled.
	NextDueAt(ctx context.Context) (time.Time, error)
	// AdvanceSchedule fires one tick of flow id in one transaction: it
	// moves NextRunAt from due to next and, when run is not nil, creates
	// it (its TriggerKey naming the tick). ErrConflict when NextRunAt is
	// no longer due (another server fired it, or the flow was disabled or
	// replaced), when run is not of the flow's latest version (one stored
	// since run was built) or the run's key is taken; then nothing changes.
	AdvanceSchedule(ctx context.Context, id string, due, next time.Time, run *FlowRun) error

	// Flow runs. UpdateFlowRun writes every field except Owner and
	// LeaseUntil, which only ClaimFlowRun and RenewFlowRunLease change.
	// ListFlowRuns lists newest first (CreatedAt, then ID), of every flow
	// when flowID is empty.
	//
	// The writes of a run's executor are fenced by its owner: an owner
	// that is set (r.Owner; the owner argument of PutFlowStep,
	// PutFlowItem and PutFlowItems; the card run's Owner for
	// FinishFlowItem) must hold the run when the write commits, or the
	// write stores nothing and returns ErrLeaseLost. An empty owner
	// writes unfenced.
	CreateFlowRun(ctx context.Context, r *FlowRun) error
	UpdateFlowRun(ctx context.Context, r *FlowRun) error
	// FinishFlowRun stores an ended run's outcome (as UpdateFlowRun),
	// ends its lease (LeaseUntil zero), appends its audit event and
	// enqueues the notifications ns (as EnqueueNotifications) in one
	// transaction: whoever sees the run
	// ended finds its audit event, a crash keeps all or none, and a
	// server that lost the run (ErrLeaseLost) stores none of them. The
	// audit event is event's, called in the transaction with r once its
	// CancelRequestedAt, CancelRequestedBy and CancelReason are the
	// request as stored: one made before the outcome is in them, and one
	// made after is refused as made of an ended run, so that the event can
	// say whether the run was asked to stop.
	FinishFlowRun(ctx context.Context, r *FlowRun, event func(*FlowRun) *AuditEvent, ns []*Notification) error
	GetFlowRun(ctx context.Context, id string) (*FlowRun, error)
	ListFlowRuns(ctx context.Context, flowID string, limit int) ([]*FlowRun, error)
	// ListFlowRunsPage is ListFlowRuns with a cursor (FlowRunFilter); it
	// reads an index.
	ListFlowRunsPage(ctx context.Context, f FlowRunFilter) ([]*FlowRun, error)
	// ClaimFlowRun atomically gives owner the lease of one run that is
	// "queued", or "running" with an expired lease, and returns it;
	// ErrNotFound when there is none. The oldest run (CreatedAt) goes
	// first; a queued run whose lease someone holds is not claimable. The
	// status is left to the caller.
	ClaimFlowRun(ctx context.Context, owner string, ttl time.Duration, now time.Time) (*FlowRun, error)
	// RenewFlowRunLease extends owner's lease, even past its expiry while
	// nobody else has claimed the run; ErrConflict if owner lost it,
	// ErrNotFound for an unknown run.
	RenewFlowRunLease(ctx context.Context, runID, owner string, ttl time.Duration, now time.Time) error
	// CreateFlowRunFrom is CreateFlowRun and, in the same transaction, a
	// copy into r of the items of run fromRunID whose Status is in keep
	// (a run resumed with them does not run them); it returns how many it
	// copied. Copied items keep their RunRef and their Output.
	// A rerun of a run waiting for its connection (RerunWhenActive) sets
	// that run's RerunBy to r.ID in the same transaction, ending its
	// wait: the automatic rerun does not follow one asked for by hand.
	CreateFlowRunFrom(ctx context.Context, r *FlowRun, fromRunID string, keep []string) (int, error)
	// ListRerunsWaiting returns the failed runs of flow flowID ("": of
	// every flow) waiting for their connection (RerunWhenActive set,
	// RerunBy and RerunSkipped empty), oldest first (CreatedAt, then ID),
	// after the run after (nil: from the oldest), at most limit (0: 100);
	// it reads an index of those runs only.
	ListRerunsWaiting(ctx context.Context, flowID string, after *FlowRun, limit int) ([]*FlowRun, error)
	// ClaimRerun is CreateFlowRunFrom of r, the automatic rerun of run
	// fromRunID, with its audit event, in one transaction that first sets
	// fromRunID's RerunBy to r.ID while it waits for its connection: of
	// the servers that rerun it at once, one creates r (the audit event is
	// event's, called with r once its ID is set), the others get
	// ErrConflict, as does a run reran by hand or skipped already. It
	// creates r only while r's flow is enabled (on PostgreSQL its row is
	// kept until the commit, as StartEventRun keeps it): ErrFlowChanged,
	// nothing changed, when it was disabled or deleted.
	ClaimRerun(ctx context.Context, r *FlowRun, fromRunID string, keep []string, event func(*FlowRun) *AuditEvent) (int, error)
	// SkipRerun sets RerunSkipped of run id to why while it waits for its
	// connection (ErrConflict otherwise): it is not rerun automatically.
	SkipRerun(ctx context.Context, id, why string) error
	// PendingReruns returns, by flow id, a run of the flow that is to run
	// again by itself: one waiting for its connection (RerunWhenActive,
	// neither rerun nor skipped) or an automatic rerun (RerunOf set, by
	// ActorServer) that is queued or running. It reads the index of the
	// waiting runs and the runs queued or running only.
	PendingReruns(ctx context.Context) (map[string]string, error)
	// CancelFlowRun asks run id to stop on behalf of by, saying why when
	// reason is not empty: a queued run whose lease nobody holds becomes
	// FlowRunCanceled at once (FinishedAt now); otherwise
	// CancelRequestedAt is set to now, CancelRequestedBy to by and
	// CancelReason to reason (all three kept when a request was made
	// before), and the run's owner, or whichever server claims it next,
	// ends it. It returns the run as stored after the change; a run
	// already canceled comes back unchanged; a run that ended otherwise
	// comes back with ErrConflict; ErrNotFound for an unknown run.
	// UpdateFlowRun leaves the request as it is. The request's own audit
	// event, asked's (nil: none), given the run as it returns it, is
	// appended in the transaction that makes the request, for every
	// request that finds the run queued, running or canceled: one per
	// request, stored if and only if the request is. A run it ends at once
	// is held by no owner any more (a claimant whose lease lapsed before
	// it marked the run running gets ErrLeaseLost for its writes), and its
	// audit event, ended's (nil: none), is appended after asked's in the
	// same transaction: only the request that ended the run stores one.
	CancelFlowRun(ctx context.Context, id string, by Actor, reason string, now time.Time, asked, ended func(*FlowRun) *AuditEvent) (*FlowRun, error)
	// PutFlowStep creates or replaces a step; ListFlowSteps returns steps
	// in the order they were first put. PutFlowStep and PutFlowItem return
	// ErrNotFound when the run does not exist. Both are fenced by owner.
	PutFlowStep(ctx context.Context, owner string, s *FlowStep) error
	// PutFlowItems records several items in one transaction: all of them
	// or none (ErrConflict when one of them was recorded before).
	PutFlowItems(ctx context.Context, owner string, items []*FlowItem) error
	ListFlowSteps(ctx context.Context, runID string) ([]*FlowStep, error)
	// PutFlowItem records a finished item; recording the same (run, step,
	// index) twice returns ErrConflict.
	PutFlowItem(ctx context.Context, owner string, it *FlowItem) error
	// FinishFlowItem stores the item's finished card run r with its audit
	// event e (FinishRun) and the item (PutFlowItem, fenced by r.Owner) in
	// one transaction: all of them or, on any error (ErrConflict for an
	// item recorded before, ErrLeaseLost), none.
	FinishFlowItem(ctx context.Context, it *FlowItem, r *Run, e *AuditEvent) error
	// ListFlowItems returns the step's items ordered by Index.
	ListFlowItems(ctx context.Context, runID, stepID string) ([]*FlowItem, error)
	// ListFlowItemsPage returns at most limit (0 means 100) of the step's
	// items whose Index is greater than after, ordered by Index: pass -1
	// for the first page and the last Index seen for the next.
	ListFlowItemsPage(ctx context.Context, runID, stepID string, after, limit int) ([]*FlowItem, error)
	// CountFlowItems counts the step's recorded items by Status.
	CountFlowItems(ctx context.Context, runID, stepID string) (map[string]int, error)
	// FindFlowRun returns the run of flowID with the given TriggerKey.
	FindFlowRun(ctx context.Context, flowID, triggerKey string) (*FlowRun, error)
	// LatestScheduleRun returns the run of flowID that its schedule
	// started last (the newest whose TriggerKey starts with "schedule:");
	// ErrNotFound when its schedule started none. It walks the flow's
	// runs from the newest back: its cost grows with the runs started
	// otherwise since then, not with the flow's history.
	LatestScheduleRun(ctx context.Context, flowID string) (*FlowRun, error)
	// FailureStreak describes the failed runs a flow has had since it last
	// ran well (see StreakFilter).
	FailureStreak(ctx context.Context, f StreakFilter) (Streak, error)

	// Purge deletes what is older than before, oldest first, up to limit
	// (0 means 100) of each kind: flow runs that succeeded, failed or were
	// canceled before it, with their steps, items and card runs; card runs
	// of no flow run that finished before it; inbox events dispatched,
	// received before it and published before eventsBefore (an event is
	// its own duplicate check: one gone while Okta still has it would be
	// new to a System Log poll that reads it again), with their links to
	// the runs they started; the records of NoteMalformedEvents made before
	// both (not counted); notifications created before it, delivered to their
	// receiver or not (a receiver that failed or was dropped from the
	// configuration for that long is given up on), but not one a sender
	// holds the lease of. Queued and running runs, failed runs waiting for
	// their connection (RerunWhenActive) and events not yet dispatched
	// stay, whatever their age. Call it again until it purges
	// nothing.
	Purge(ctx context.Context, before, eventsBefore time.Time, limit int) (Purged, error)
	// PurgeAudit deletes up to limit (0 means 100) audit events whose Time
	// is before before, oldest (lowest ID) first, and returns how many. It
	// stops at the first event in ID order that is not older: IDs follow
	// the order events were appended, which is their times' order but for
	// the clocks of several servers. Call it again until it purges nothing.
	PurgeAudit(ctx context.Context, before time.Time, limit int) (int, error)

	// Notifications. EnqueueNotifications stores messages in the outbox;
	// an (ID, Receiver) pair already there is left as it is, so enqueueing
	// a message again is harmless. ClaimNotification leases to owner one
	// undelivered message whose NextAttemptAt has come and whose lease is
	// free or expired, to one of receivers (digests) when there are any,
	// and that no older message of its Thread to its receiver waits for
	// (ErrNotFound when none); UpdateNotification stores
	// the outcome of an attempt (Attempts, NextAttemptAt, DeliveredAt,
	// LastError) and frees the lease, if the claim's Owner still holds it:
	// ErrConflict, changing nothing, when another owner claimed the
	// message after the lease ran out (its outcome is the one kept).
	// ListNotifications returns the newest first.
	EnqueueNotifications(ctx context.Context, ns []*Notification) error
	ClaimNotification(ctx context.Context, owner string, receivers []string, ttl time.Duration, now time.Time) (*Notification, error)
	UpdateNotification(ctx context.Context, n *Notification) error
	ListNotifications(ctx context.Context, limit int) ([]*Notification, error)
	// NotificationBacklogs says, of each receiver (by digest) that has
	// messages not delivered yet, how many, since when, and the last
	// error of its latest failed attempt; receivers with none are left
	// out. It reads the undelivered messages only.
	NotificationBacklogs(ctx context.Context) ([]NotificationBacklog, error)

	// Rate budgets. UpdateRateBudget calls fn with the budget named key
	// (Key set and every other field zero when none is stored) and stores
	// what fn leaves in it, in one atomic step: concurrent updates of a key,
	// from any process on the store, run one after the other and each sees
	// the previous one's result. fn runs while the budget is locked, so it
	// must be quick and must not use the store; it must not change Key. An
	// error from fn leaves the budget as it was and is returned unwrapped.
	// GetRateBudget reads a budget without locking it.
	UpdateRateBudget(ctx context.Context, key string, fn func(b *RateBudget) error) error
	GetRateBudget(ctx context.Context, key string) (*RateBudget, error)

	// Event inbox. PutEvents stores each event unless its UUID is stored
	// and records that it arrived via via either way, all in one
	// transaction; it returns how many were new. ListEvents returns the
	// newest published first with their FlowRuns. UndispatchedEvents
	// returns a connection's events not yet dispatched, oldest published
	// first (then UUID). StartEventRun creates run and records it as the
	// run event started for flowID in one transaction; when the event
	// already started a run of that flow it creates nothing and returns
	// ErrConflict. A run with a FlowVersion is started only while the flow
	// is enabled and that version is its latest: otherwise nothing is
	// created and the error is ErrFlowChanged.
	PutEvents(ctx context.Context, events []*Event, via string) (int, error)
	ListEvents(ctx context.Context, f EventFilter) ([]*Event, error)
	// UndispatchedEvents returns up to limit of the connection's events
	// not yet dispatched, oldest published first (by uuid among equals),
	// those after the event after when it is not nil.
	UndispatchedEvents(ctx context.Context, connectionID string, after *Event, limit int) ([]*Event, error)
	MarkEventDispatched(ctx context.Context, uuid string, at time.Time) error
	StartEventRun(ctx context.Context, eventUUID, flowID string, run *FlowRun) error
	// NoteMalformedEvents records the keys of a connection's events that
	// cardflow cannot use (their uuids) and, in the same transaction,
	// appends the audit event that audit makes of the keys not recorded
	// before (fresh, each once; nothing is appended when it returns nil),
	// so that an event that arrives again is audited once. audit may be
	// called more than once and must only build the event. Purge removes
	// the keys recorded before its events cutoff.
	NoteMalformedEvents(ctx context.Context, connectionID string, keys []string, at time.Time, audit func(fresh []string) *AuditEvent) error

	// Event sources. GetEventSource returns ErrNotFound when the connection
	// has none; GetEventSourceByHookPath looks one up by its hook path.
	// SetPollCursor writes only the poll fields; PutEventHook writes only
	// the hook fields (HookPath must stay unique: ErrConflict otherwise),
	// and enqueues ns in the same transaction.
	// Both create the source when missing. SetPollCursor and
	// SetPollStatus made for an owner store only while owner holds the
	// connection's lease PollLease (ErrLeaseLost otherwise, writing and
	// enqueueing nothing), checked in the write's own statement: a poller
	// paused past its lease, whose polls another server took over, moves
	// no cursor back and writes no stale status. An empty owner is not
	// fenced.
	GetEventSource(ctx context.Context, connectionID string) (*EventSource, error)
	// ListEventSources returns every connection's event source, by
	// connection id.
	ListEventSources(ctx context.Context) ([]*EventSource, error)
	GetEventSourceByHookPath(ctx context.Context, hookPath string) (*EventSource, error)
	SetPollCursor(ctx context.Context, connectionID, owner, next string, at time.Time) error
	// SetPollStatus stores how the last System Log poll fared (only the
	// Poll fields) and enqueues ns in the same transaction.
	SetPollStatus(ctx context.Context, connectionID, owner string, st PollStatus, at time.Time, ns []*Notification) error
	PutEventHook(ctx context.Context, src *EventSource, ns ...*Notification) error
	DeleteEventSource(ctx context.Context, connectionID string) error
	// ReplaceEventSecret swaps a source's sealed hook secret for the same
	// secret sealed again (keys rotate), only if it is still old:
	// ErrConflict when it changed meanwhile, ErrNotFound without a source.
	ReplaceEventSecret(ctx context.Context, connectionID string, old, resealed []byte) error

	// API tokens. CreateAPIToken returns ErrConflict for a taken hash,
	// ErrRevoked when its creator's session, token or sign-in ended
	// (APIToken.SessionID, ParentID, SignIn), or a revoke of its owner's
	// access marked the sign-in;
	// ListAPITokens lists the tokens of one owner (its login ignoring
	// case, FoldCase; every token when ownerType is empty), oldest first.
	// TouchAPIToken sets LastUsedAt.
	CreateAPIToken(ctx context.Context, t *APIToken) error
	GetAPIToken(ctx context.Context, id string) (*APIToken, error)
	GetAPITokenByHash(ctx context.Context, hash string) (*APIToken, error)
	ListAPITokens(ctx context.Context, ownerType, ownerLogin string) ([]*APIToken, error)
	// DeleteAPIToken removes the token id and its offspring (the tokens
	// created with it, ParentID, and theirs) in one transaction, and
	// returns the offspring, oldest first; ErrNotFound when the token is
	// not there. A token being created with one of them meanwhile is
	// either committed first, and removed with them, or refused
	// (ErrRevoked): none outlives the revoke.
	DeleteAPIToken(ctx context.Context, id string) (offspring []*APIToken, err error)
	TouchAPIToken(ctx context.Context, id string, at time.Time) error

	// Console sessions. TouchSession sets LastSeen alone, so that a
	// request of one tab never writes back what another changed
	// meanwhile. AddSessionFlash queues one message (a JSON value) for the
	// session's next page; TakeSessionFlashes removes and returns those
	// waiting, oldest first, in one step: of concurrent callers, each
	// message goes to exactly one (none: an empty list, also for an
	// unknown session).
	// DeleteExpiredSessions removes sessions whose ExpiresAt is not after
	// now or whose LastSeen is before idleBefore. DeleteSessionsOf removes
	// every session of actor (its Type and Login, ignoring case as
	// FoldCase does; an empty Login: every session of its Type) and
	// returns how many.
	CreateSession(ctx context.Context, s *Session) error
	GetSession(ctx context.Context, id string) (*Session, error)
	TouchSession(ctx context.Context, id string, at time.Time) error
	AddSessionFlash(ctx context.Context, id string, flash json.RawMessage) error
	TakeSessionFlashes(ctx context.Context, id string) ([]json.RawMessage, error)
	DeleteSession(ctx context.Context, id string) error
	DeleteExpiredSessions(ctx context.Context, now, idleBefore time.Time) error
	DeleteSessionsOf(ctx context.Context, actor Actor) (int, error)
	// ListSessionsOf returns every stored session of actor (as
	// DeleteSessionsOf selects them), expired or not, oldest first.
	ListSessionsOf(ctx context.Context, actor Actor) ([]*Session, error)
	// DeletePersonAccess removes, in one transaction, every console
	// session of the person login (ActorUser; logins compare ignoring
	// case, as Okta's do, by FoldCase on every backend) and every API
	// token they own (OwnerType ActorUser) with their offspring (whoever
	// owns them: no token outlives the token that created it), and
	// returns how many sessions and which tokens it removed, oldest
	// first, and the binding it removed (nil when the login was bound to
	// none): all or nothing, read in the transaction that removes them,
	// so that what it returns is exactly what is gone. It also marks every sign-in in flight
	// (whose person is not known yet) with the login, so that what the
	// sign-in gives is refused if it is theirs (and only then), and waits
	// for the person's sessions and tokens being created on the strength
	// of one of theirs: nothing created concurrently outlives it. The
	// authorizations of connections they started (AuthRequest.Actor of
	// type ActorUser or ActorToken with their login) and had not finished
	// are deleted too, so that their authorize URLs no longer complete,
	// and so is the login's binding (PersonBinding): their next sign-in
	// binds it anew.
	DeletePersonAccess(ctx context.Context, login string) (sessions int, tokens []*APIToken, binding *PersonBinding, err error)
	// DeleteBoundPersonAccess is DeletePersonAccess only when, in its
	// transaction, login is bound to subject at issuer (a binding made
	// before issuers were kept, at any issuer): for a sign-in of that
	// very account refused because its groups give no role. A login
	// bound to none is ErrNotFound, one bound to another account
	// ErrSubjectTaken (an *IssuerChangedError at another issuer); then
	// nothing is deleted or marked.
	DeleteBoundPersonAccess(ctx context.Context, login, subject, issuer string) (sessions int, tokens []*APIToken, binding *PersonBinding, err error)
	// PersonBinding returns the account at the identity provider the
	// login (ignoring case, FoldCase) is bound to: the subject and issuer
	// of its first sign-in since its access was last revoked
	// (CreateSession or CreateAPIToken with SignIn, Subject and Issuer);
	// ErrNotFound when it is bound to none. ListPersonBindings returns
	// every binding, by login ignoring case.
	PersonBinding(ctx context.Context, login string) (*PersonBinding, error)
	ListPersonBindings(ctx context.Context) ([]*PersonBinding, error)
	// StartSignIn records a sign-in in flight with id, from before the
	// identity provider is asked who signed in until CreateSession or
	// CreateAPIToken (SignIn set) stores what it gives: a revoke of that
	// person's access meanwhile marks it, and they refuse. EndSignIn removes one that
	// failed (ErrNotFound when it is gone); DeleteExpiredSignInRequests
	// removes those whose expiresAt has come.
	StartSignIn(ctx context.Context, id string, expiresAt time.Time) error
	EndSignIn(ctx context.Context, id string) error

	// Single sign-on state. ConsumeSignInRequest deletes and returns the
	// request in one step (single use); ErrNotFound for an unknown or used
	// state. Expiry is the caller's to check.
	CreateSignInRequest(ctx context.Context, r *SignInRequest) error
	ConsumeSignInRequest(ctx context.Context, state string) (*SignInRequest, error)
	DeleteExpiredSignInRequests(ctx context.Context, now time.Time) error

	// Settings: small named values (the API token hash, the keyring check).
	GetSetting(ctx context.Context, key string) ([]byte, error)
	PutSetting(ctx context.Context, key string, value []byte) error

	// CheckSchema returns a *SchemaAheadError when a newer cardflow has
	// migrated the database past this binary's migrations since it was
	// opened (another server's upgrade); nil while it has not.
	CheckSchema(ctx context.Context) error

	Close() error
}

// canWaitKey marks a context whose writes can wait (CanWait).
type canWaitKey struct{}

// WithCanWait returns a context whose writes tell the store that their
// caller is not waiting on them to go on: a backend that commits the writes
// of concurrent callers together may hold such a write briefly (a few
// milliseconds) to commit it with a write whose caller is waiting. The
// write is as durable when its call returns as any other.
func WithCanWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, canWaitKey{}, true)
}

// queuedKey carries the function of WithQueued.
type queuedKey struct{}

// WithQueued returns a context whose writes call fn once they are queued
// (or, in a backend that queues nothing, about to start): a caller that
// makes the write in another goroutine learns that a write it makes next
// will be committed with it or after it, never before it.
func WithQueued(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, queuedKey{}, fn)
}

// Queued returns the function of WithQueued, or nil.
func Queued(ctx context.Context) func() {
	fn, _ := ctx.Value(queuedKey{}).(func())
	return fn
}

// lockedKey carries the function of WithLocked.
type lockedKey struct{}

// WithLocked returns a context whose CreateAPIToken, DeleteAPIToken and
// DeletePersonAccess call fn inside their transaction once they hold what
// they lock (the creator's session, token or sign-in; the tokens to
// delete; the sign-ins in flight, marked, and the person's sessions and
// tokens), before they write (delete),
// and whose PutFlow calls it once it wrote the flow, before it commits: a
// concurrent call fn starts comes after them. It lets tests start such
// races at that point; fn must not wait for what it starts.
func WithLocked(ctx context.Context, fn func()) context.Context {
	return context.WithValue(ctx, lockedKey{}, fn)
}

// Locked returns the function of WithLocked, or nil.
func Locked(ctx context.Context) func() {
	fn, _ := ctx.Value(lockedKey{}).(func())
	return fn
}

// CanWait reports whether ctx was made by WithCanWait.
func CanWait(ctx context.Context) bool {
	v, _ := ctx.Value(canWaitKey{}).(bool)
	return v
}
