package oktaemu

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// oktaTime is Okta's timestamp format; search filters compare it as text.
const oktaTime = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(oktaTime) }

// state is everything an org holds. Reset swaps in a new state as a whole.
// Devices and users are immutable values: a change stores a new copy, so a
// reader may keep and encode one after releasing mu.
type state struct {
	mu  sync.RWMutex
	rnd *rand.Rand // ids of new objects; guarded by mu

	start     time.Time
	users     map[string]*user // by id; guarded by mu, a user replaced, never changed
	byLogin   map[string]*user // by lower-case login; guarded by mu
	apiTokens map[string]string
	apps      map[string]*app // by id
	byClient  map[string]*app // by client id
	groups    []*group        // a group's members guarded by mu
	// userRoles are the users' admin roles by user id; guarded by mu, a
	// user's slice replaced, never changed.
	userRoles map[string][]roleAssignment

	devices map[string]*device
	order   []string // device ids, sorted

	txns   map[string]*authTxn
	codes  map[string]*authCode
	tokens map[string]*tokenRec
	jtis   map[string]time.Time // used client assertion ids

	dpopSecret []byte               // derives the DPoP nonces
	dpopJTIs   map[string]time.Time // used DPoP proof ids, until when they are kept

	log       systemLog
	hooks     map[string]*eventHook // by id; values are replaced, never changed
	hookOrder []string              // hook ids in creation order
}

type user struct {
	id, login, firstName, lastName, email, password string
	created                                         time.Time
	// claimLogin and claimEmail, when set (POST /_emulator/users/{user}/claims),
	// are what the user's ID tokens and userinfo claim as
	// preferred_username and email instead of login and email.
	claimLogin, claimEmail string
}

func (u *user) name() string { return strings.TrimSpace(u.firstName + " " + u.lastName) }

// preferredUsername is the user's preferred_username claim.
func (u *user) preferredUsername() string { return cmp.Or(u.claimLogin, u.login) }

// emailClaim is the user's email claim.
func (u *user) emailClaim() string { return cmp.Or(u.claimEmail, u.email) }

type app struct {
	id, label, kind, clientID string
	secrets                   []*clientSecret // a web app's; guarded by state.mu
	inactive                  bool            // deactivated; guarded by state.mu
	redirectURIs              []string
	created                   time.Time
	assigned                  []assignment        // guarded by state.mu
	grants                    []*grant            // guarded by state.mu
	roles                     []roleAssignment    // guarded by state.mu; replaced, never changed
	jwks                      *jose.JSONWebKeySet // guarded by state.mu
	keyMeta                   map[string]keyMeta  // by kid: when a key was added; guarded by state.mu
	inactiveKeys              []jose.JSONWebKey   // deactivated public keys, kept until deleted; guarded by state.mu
	dpop                      bool                // token requests need DPoP proofs
	dpopResourceNonce         bool                // API calls with its DPoP tokens need the resource server's nonce
}

type keyMeta struct {
	id               string
	created, updated time.Time
}

type group struct {
	id, name string
	members  []string // user ids
}

// groupsOf returns the names of the groups userID belongs to, in fixture
// order; nil when none.
func (s *state) groupsOf(userID string) []string {
	var out []string
	for _, g := range s.groups {
		if slices.Contains(g.members, userID) {
			out = append(out, g.name)
		}
	}
	return out
}

type assignment struct {
	userID  string
	created time.Time
}

type grant struct {
	id, scopeID, createdBy string
	created                time.Time
}

func (a *app) isAssigned(userID string) bool {
	return slices.ContainsFunc(a.assigned, func(x assignment) bool { return x.userID == userID })
}

func (a *app) grantFor(scope string) *grant {
	for _, g := range a.grants {
		if g.scopeID == scope {
			return g
		}
	}
	return nil
}

type device struct {
	id, status           string
	created, lastUpdated time.Time
	profile              map[string]any
	users                []deviceUser
	tmpl                 [][]byte // JSON split around the origin
}

type deviceUser struct {
	userID, managementStatus, screenLockType string
	created                                  time.Time
}

// with returns a copy of d in status s, updated at now.
func (d *device) with(s string, now time.Time, users []deviceUser) *device {
	c := &device{id: d.id, status: s, created: d.created, lastUpdated: now, profile: d.profile, users: users}
	c.tmpl = c.template()
	return c
}

// attr is the attribute getter search filters use.
func (d *device) attr(name string) (any, bool) {
	switch name {
	case "id":
		return d.id, true
	case "status":
		return d.status, true
	case "created":
		return formatTime(d.created), true
	case "lastUpdated":
		return formatTime(d.lastUpdated), true
	}
	if f, ok := strings.CutPrefix(name, "profile."); ok {
		v, ok := d.profile[f]
		return v, ok
	}
	return nil, false
}

var (
	validStatuses  = []string{"CREATED", "ACTIVE", "SUSPENDED", "DEACTIVATED"}
	validPlatforms = []string{"ANDROID", "IOS", "MACOS", "WINDOWS"}
	knownRoles     = []string{"SUPER_ADMIN", "ORG_ADMIN", "READ_ONLY_ADMIN", "HELP_DESK_ADMIN", "MOBILE_ADMIN", "APP_ADMIN", "USER_ADMIN", "GROUP_MEMBERSHIP_ADMIN", "API_ACCESS_MANAGEMENT_ADMIN", "REPORT_ADMIN", "WORKFLOWS_ADMIN"}
)

// newState builds a state from a fixture, validating it. jwks, when not
// empty, replaces the keys of the app with client ID DemoServiceClientID.
func newState(fx *Fixture, jwks []byte, now time.Time) (*state, error) {
	start := now.UTC().Truncate(24 * time.Hour)
	s := &state{
		rnd:   rand.New(rand.NewPCG(uint64(now.UnixNano()), 7)),
		start: start, users: map[string]*user{}, byLogin: map[string]*user{},
		apiTokens: map[string]string{}, apps: map[string]*app{}, byClient: map[string]*app{},
		devices: map[string]*device{}, txns: map[string]*authTxn{}, codes: map[string]*authCode{},
		tokens: map[string]*tokenRec{}, jtis: map[string]time.Time{}, dpopJTIs: map[string]time.Time{},
		hooks: map[string]*eventHook{}, userRoles: map[string][]roleAssignment{},
		dpopSecret: make([]byte, 32),
	}
	for i := range s.dpopSecret {
		s.dpopSecret[i] = byte(s.rnd.Uint32())
	}
	created := start.AddDate(-2, 0, 0)
	for i, fu := range fx.Users {
		if fu.Login == "" {
			return nil, fmt.Errorf("fixture: users[%d]: login is required", i)
		}
		u := &user{id: fu.ID, login: fu.Login, firstName: fu.FirstName, lastName: fu.LastName,
			email: fu.Email, password: fu.Password, created: created}
		if u.id == "" {
			u.id = stableID("00u", fu.Login)
		}
		if u.email == "" {
			u.email = u.login
		}
		for _, r := range fu.Roles {
			if !slices.Contains(knownRoles, r) {
				return nil, fmt.Errorf("fixture: user %s: unknown role %q", u.login, r)
			}
			if slices.Contains(roleTypes(s.userRoles[u.id]), r) {
				return nil, fmt.Errorf("fixture: user %s: role %s twice", u.login, r)
			}
			s.userRoles[u.id] = append(s.userRoles[u.id], roleAssignment{id: stableID("ra1", u.id+"/"+r), typ: r, created: created})
		}
		if _, dup := s.users[u.id]; dup {
			return nil, fmt.Errorf("fixture: duplicate user id %s", u.id)
		}
		if _, dup := s.byLogin[strings.ToLower(u.login)]; dup {
			return nil, fmt.Errorf("fixture: duplicate user login %s", u.login)
		}
		s.users[u.id] = u
		s.byLogin[strings.ToLower(u.login)] = u
	}
	for i, t := range fx.APITokens {
		u := s.lookupUser(t.User)
		if u == nil || t.Token == "" {
			return nil, fmt.Errorf("fixture: apiTokens[%d]: needs a token and a known user", i)
		}
		s.apiTokens[t.Token] = u.id
	}
	creator := ""
	for _, fu := range fx.Users {
		if u := s.byLogin[strings.ToLower(fu.Login)]; creator == "" && slices.Contains(roleTypes(s.userRoles[u.id]), "SUPER_ADMIN") {
			creator = u.id
		}
	}
	for i, fg := range fx.Groups {
		g := &group{id: fg.ID, name: fg.Name}
		if g.name == "" {
			return nil, fmt.Errorf("fixture: groups[%d]: name is required", i)
		}
		if g.id == "" {
			g.id = stableID("00g", fg.Name)
		}
		if slices.ContainsFunc(s.groups, func(o *group) bool { return o.id == g.id || strings.EqualFold(o.name, g.name) }) {
			return nil, fmt.Errorf("fixture: duplicate group %s", g.name)
		}
		for _, l := range fg.Users {
			u := s.lookupUser(l)
			if u == nil {
				return nil, fmt.Errorf("fixture: group %s: unknown user %q", g.name, l)
			}
			g.members = append(g.members, u.id)
		}
		s.groups = append(s.groups, g)
	}
	for i, fa := range fx.Apps {
		a, err := s.newApp(fa, created, creator)
		if err != nil {
			return nil, fmt.Errorf("fixture: apps[%d]: %w", i, err)
		}
		if (a.clientID == DemoServiceClientID || a.clientID == DemoDPoPClientID) && len(jwks) > 0 {
			a.jwks = new(jose.JSONWebKeySet)
			if err := json.Unmarshal(jwks, a.jwks); err != nil {
				return nil, fmt.Errorf("service app JWKS: %w", err)
			}
		}
	}
	for i, fd := range fx.Devices {
		d, err := s.newDevice(fd)
		if err != nil {
			return nil, fmt.Errorf("fixture: devices[%d]: %w", i, err)
		}
		if _, dup := s.devices[d.id]; dup {
			return nil, fmt.Errorf("fixture: duplicate device id %s", d.id)
		}
		s.devices[d.id] = d
	}
	if fx.GenerateDevices > 0 {
		owners := make([]string, 0, len(fx.Users))
		for _, fu := range fx.Users {
			owners = append(owners, s.byLogin[strings.ToLower(fu.Login)].id)
		}
		for _, d := range generateDevices(fx.GenerateDevices, owners, start) {
			if _, dup := s.devices[d.id]; !dup {
				s.devices[d.id] = d
			}
		}
	}
	for id := range s.devices {
		s.order = append(s.order, id)
	}
	slices.Sort(s.order)
	return s, nil
}

func (s *state) newApp(fa FixtureApp, created time.Time, creator string) (*app, error) {
	a := &app{id: fa.ID, label: fa.Label, kind: fa.Type, clientID: fa.ClientID,
		redirectURIs: fa.RedirectURIs, created: created, dpop: fa.DPoP, dpopResourceNonce: fa.DPoPResourceNonce, keyMeta: map[string]keyMeta{}}
	if a.id == "" || a.clientID == "" {
		return nil, fmt.Errorf("id and clientId are required")
	}
	if _, dup := s.apps[a.id]; dup {
		return nil, fmt.Errorf("duplicate app id %s", a.id)
	}
	if _, dup := s.byClient[a.clientID]; dup {
		return nil, fmt.Errorf("duplicate client id %s", a.clientID)
	}
	switch a.kind {
	case "web":
		if fa.ClientSecret == "" {
			return nil, fmt.Errorf("a web app needs a clientSecret")
		}
		a.secrets = []*clientSecret{{id: stableID("ocs", a.id), value: fa.ClientSecret, created: created, updated: created}}
	case "service":
		a.jwks = new(jose.JSONWebKeySet)
		if len(fa.JWKS) > 0 {
			if err := json.Unmarshal(fa.JWKS, a.jwks); err != nil {
				return nil, fmt.Errorf("jwks: %w", err)
			}
		}
	default:
		return nil, fmt.Errorf("type must be \"web\" or \"service\", not %q", a.kind)
	}
	if a.dpop && a.kind != "service" {
		return nil, fmt.Errorf("dpop is for service apps")
	}
	if a.dpopResourceNonce && !a.dpop {
		return nil, fmt.Errorf("dpopResourceNonce needs dpop")
	}
	for _, r := range fa.Roles {
		if !slices.Contains(knownRoles, r) {
			return nil, fmt.Errorf("unknown role %q", r)
		}
		if slices.Contains(roleTypes(a.roles), r) {
			return nil, fmt.Errorf("role %s twice", r)
		}
		a.roles = append(a.roles, roleAssignment{id: ClientRoleAssignmentID(r), typ: r, created: created})
	}
	for _, l := range fa.Users {
		u := s.lookupUser(l)
		if u == nil {
			return nil, fmt.Errorf("unknown user %q", l)
		}
		a.assigned = append(a.assigned, assignment{userID: u.id, created: created})
	}
	for _, sc := range fa.Grants {
		if !knownScope(sc) {
			return nil, fmt.Errorf("unknown scope %q", sc)
		}
		a.grants = append(a.grants, &grant{id: stableID("oag", a.id+"/"+sc), scopeID: sc, createdBy: creator, created: created})
	}
	s.apps[a.id] = a
	s.byClient[a.clientID] = a
	return a, nil
}

func (s *state) newDevice(fd FixtureDevice) (*device, error) {
	d := &device{id: fd.ID, status: fd.Status, created: s.start, lastUpdated: s.start, profile: fd.Profile}
	if d.id == "" {
		d.id = s.newID("guo")
	}
	if d.status == "" {
		d.status = "ACTIVE"
	}
	if !slices.Contains(validStatuses, d.status) {
		return nil, fmt.Errorf("status %q is not one of %s", d.status, strings.Join(validStatuses, ", "))
	}
	var err error
	if fd.Created != "" {
		if d.created, err = time.Parse(time.RFC3339, fd.Created); err != nil {
			return nil, fmt.Errorf("created: %w", err)
		}
	}
	if fd.LastUpdated != "" {
		if d.lastUpdated, err = time.Parse(time.RFC3339, fd.LastUpdated); err != nil {
			return nil, fmt.Errorf("lastUpdated: %w", err)
		}
	}
	if d.profile == nil {
		return nil, fmt.Errorf("profile is required")
	}
	if n, _ := d.profile["displayName"].(string); n == "" {
		return nil, fmt.Errorf("profile.displayName is required")
	}
	if p, _ := d.profile["platform"].(string); !slices.Contains(validPlatforms, p) {
		return nil, fmt.Errorf("profile.platform must be one of %s", strings.Join(validPlatforms, ", "))
	}
	if _, ok := d.profile["registered"].(bool); !ok {
		return nil, fmt.Errorf("profile.registered (a boolean) is required")
	}
	for _, fu := range fd.Users {
		u := s.lookupUser(fu.User)
		if u == nil {
			return nil, fmt.Errorf("unknown user %q", fu.User)
		}
		du := deviceUser{userID: u.id, managementStatus: fu.ManagementStatus, screenLockType: fu.ScreenLockType, created: d.created}
		if du.managementStatus == "" {
			du.managementStatus = "NOT_MANAGED"
		}
		if du.screenLockType == "" {
			du.screenLockType = "BIOMETRIC"
		}
		if fu.Created != "" {
			if du.created, err = time.Parse(time.RFC3339, fu.Created); err != nil {
				return nil, fmt.Errorf("users: created: %w", err)
			}
		}
		d.users = append(d.users, du)
	}
	d.tmpl = d.template()
	return d, nil
}

// lookupUser finds a user by id or login; the caller holds s.mu.
func (s *state) lookupUser(idOrLogin string) *user {
	if u, ok := s.users[idOrLogin]; ok {
		return u
	}
	return s.byLogin[strings.ToLower(idOrLogin)]
}

// findUser is lookupUser for a caller not holding s.mu: the user map
// changes (POST /_emulator/users/{user}/claims stores a changed copy), the
// user found does not.
func (s *state) findUser(idOrLogin string) *user {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.lookupUser(idOrLogin)
}

// userByID returns the user with id, nil when none; the caller does not
// hold s.mu.
func (s *state) userByID(id string) *user {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.users[id]
}

// newID returns prefix + 17 base62 characters; callers hold mu (or own s).
func (s *state) newID(prefix string) string {
	b := make([]byte, len(prefix), len(prefix)+17)
	copy(b, prefix)
	for range 17 {
		b = append(b, base62[s.rnd.IntN(62)])
	}
	return string(b)
}

// stableID derives an Okta-shaped id from a name, so fixture objects
// without an id get the same one every time.
func stableID(prefix, name string) string {
	var h uint64 = 14695981039346656037
	for i := 0; i < len(name); i++ {
		h = (h ^ uint64(name[i])) * 1099511628211
	}
	r := rand.New(rand.NewPCG(h, 0x6f6b7461))
	b := []byte(prefix)
	for range 17 {
		b = append(b, base62[r.IntN(62)])
	}
	return string(b)
}
