package oktaemu

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"time"
)

// The demo org. Scripts, docs and tests rely on these values.
const (
	DemoAPIToken        = "demo-api-token"        // SSWS token of AdminLogin
	DemoPassword        = "Demo-Passw0rd!"        // password of every demo user
	DemoAppID           = "0oaworkflows"          // the "Okta Workflows OAuth" app
	DemoAppLabel        = "Okta Workflows OAuth"  // its label
	DemoClientID        = "0oaworkflowsclient"    // its client ID
	DemoClientSecret    = "demo-workflows-secret" // its client secret
	DemoServiceAppID    = "0oaservice"            // a service app (client_credentials, private_key_jwt)
	DemoServiceClientID = "0oaserviceclient"      // its client ID; register keys with Config.ServiceAppJWKS
	DemoDPoPAppID       = "0oaservicedpop"        // a service app that requires DPoP
	DemoDPoPClientID    = "0oaservicedpopclient"  // its client ID; Config.ServiceAppJWKS gives its keys too

	// cardflow's own sign-in app: redirect URIs are any path on
	// a loopback origin, any port.
	DemoConsoleAppID        = "0oacardflow"         // the "cardflow" OIDC web app
	DemoConsoleAppLabel     = "cardflow"            // its label
	DemoConsoleClientID     = "0oacardflowconsole"  // its client ID
	DemoConsoleClientSecret = "demo-console-secret" // its client secret

	// The demo org's groups, whose names the console app's ID tokens carry
	// in the groups claim when the groups scope is asked for.
	AdminsGroup    = "cardflow-admins"    // AdminLogin
	OperatorsGroup = "cardflow-operators" // ReadOnlyLogin
	ViewersGroup   = "cardflow-viewers"   // UserLogin

	AdminLogin      = "admin@example.com"      // SUPER_ADMIN, assigned to the app
	ReadOnlyLogin   = "readonly@example.com"   // READ_ONLY_ADMIN, assigned
	UserLogin       = "user@example.com"       // no admin role, assigned
	UnassignedLogin = "unassigned@example.com" // SUPER_ADMIN, not assigned

	AdminUserID      = "00uadm1nXkd7QzR4a0g4" // id of AdminLogin
	ReadOnlyUserID   = "00ur3ad0nLyQzR4b70g4" // id of ReadOnlyLogin
	UserUserID       = "00uus3rPl41nQzR4c0g4" // id of UserLogin
	UnassignedUserID = "00uun4ss1gnQzR4d80g4" // id of UnassignedLogin
)

// AutoGrantedScopes returns the seven OIDC scopes an Okta OAuth app grants
// by default; the demo app grants them all. The slice is the caller's.
func AutoGrantedScopes() []string { return slices.Clone(autoGrantedScopes) }

var autoGrantedScopes = []string{"openid", "profile", "email", "phone", "address", "groups", "offline_access"}

// Fixture describes an org: its users, API tokens, apps and devices. It is
// the Go form of the JSON document read by LoadFixture (see the package
// documentation for the format).
type Fixture struct {
	Users           []FixtureUser     `json:"users"`
	APITokens       []FixtureAPIToken `json:"apiTokens,omitempty"`
	Apps            []FixtureApp      `json:"apps,omitempty"`
	Groups          []FixtureGroup    `json:"groups,omitempty"`
	Devices         []FixtureDevice   `json:"devices,omitempty"`
	GenerateDevices int               `json:"generateDevices,omitempty"`
}

// FixtureUser is a user of the org.
type FixtureUser struct {
	ID        string   `json:"id,omitempty"`
	Login     string   `json:"login"`
	FirstName string   `json:"firstName"`
	LastName  string   `json:"lastName"`
	Email     string   `json:"email,omitempty"`
	Password  string   `json:"password"`
	Roles     []string `json:"roles,omitempty"`
}

// FixtureAPIToken is an SSWS API token acting as a user.
type FixtureAPIToken struct {
	Token string `json:"token"`
	User  string `json:"user"`
}

// FixtureGroup is a group of users (by login or id). Its name is what ID
// tokens carry in the groups claim.
type FixtureGroup struct {
	ID    string   `json:"id,omitempty"`
	Name  string   `json:"name"`
	Users []string `json:"users,omitempty"`
}

// FixtureApp is an OAuth app: Type "web" (client secret; authorization
// code and refresh token grants) or "service" (private_key_jwt with JWKS;
// client credentials grant).
type FixtureApp struct {
	ID           string          `json:"id"`
	Label        string          `json:"label"`
	Type         string          `json:"type"`
	ClientID     string          `json:"clientId"`
	ClientSecret string          `json:"clientSecret,omitempty"`
	RedirectURIs []string        `json:"redirectUris,omitempty"`
	Users        []string        `json:"users,omitempty"`
	Grants       []string        `json:"grants,omitempty"`
	Roles        []string        `json:"roles,omitempty"`
	JWKS         json.RawMessage `json:"jwks,omitempty"`
	// DPoP makes a service app require DPoP proofs (RFC 9449) in token
	// requests, as Okta's "Require Demonstrating Proof of Possession"
	// setting does.
	DPoP bool `json:"dpop,omitempty"`
	// DPoPResourceNonce makes the org's resource server ask for its own
	// nonce in the DPoP proofs of API calls made with the app's tokens
	// (RFC 9449 §9: 401 use_dpop_nonce with a DPoP-Nonce header), which
	// Okta does not do today.
	DPoPResourceNonce bool `json:"dpopResourceNonce,omitempty"`
}

// FixtureDevice is a device. Empty ID, Status, Created or LastUpdated get
// a generated id, ACTIVE and the org's start time.
type FixtureDevice struct {
	ID          string              `json:"id,omitempty"`
	Status      string              `json:"status,omitempty"`
	Created     string              `json:"created,omitempty"`
	LastUpdated string              `json:"lastUpdated,omitempty"`
	Profile     map[string]any      `json:"profile"`
	Users       []FixtureDeviceUser `json:"users,omitempty"`
}

// FixtureDeviceUser links a user (by login or id) to a device.
type FixtureDeviceUser struct {
	User             string `json:"user"`
	ManagementStatus string `json:"managementStatus,omitempty"`
	ScreenLockType   string `json:"screenLockType,omitempty"`
	Created          string `json:"created,omitempty"`
}

// LoadFixture reads and validates a JSON fixture. Unknown fields are errors.
func LoadFixture(r io.Reader) (*Fixture, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var fx Fixture
	if err := dec.Decode(&fx); err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("fixture: trailing data after the document")
	}
	for i := range fx.Devices {
		fx.Devices[i].Profile = normalizeNumbers(fx.Devices[i].Profile)
	}
	if _, err := newState(&fx, nil, time.Now()); err != nil {
		return nil, err
	}
	return &fx, nil
}

// LoadFixtureFile reads and validates the JSON fixture in the named file.
func LoadFixtureFile(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fixture: %w", err)
	}
	return LoadFixture(bytes.NewReader(b))
}

// normalizeNumbers turns json.Number profile values into float64, the
// number type search filters compare.
func normalizeNumbers(m map[string]any) map[string]any {
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			f, err := n.Float64()
			if err == nil {
				m[k] = f
			}
		}
	}
	return m
}

// DemoFixture returns the demo org with n generated devices.
func DemoFixture(n int) *Fixture {
	users := []FixtureUser{
		{ID: AdminUserID, Login: AdminLogin, FirstName: "Ada", LastName: "Admin", Password: DemoPassword, Roles: []string{"SUPER_ADMIN"}},
		{ID: ReadOnlyUserID, Login: ReadOnlyLogin, FirstName: "Rey", LastName: "Reader", Password: DemoPassword, Roles: []string{"READ_ONLY_ADMIN"}},
		{ID: UserUserID, Login: UserLogin, FirstName: "Uma", LastName: "User", Password: DemoPassword},
		{ID: UnassignedUserID, Login: UnassignedLogin, FirstName: "Noel", LastName: "Unassigned", Password: DemoPassword, Roles: []string{"SUPER_ADMIN"}},
	}
	for _, e := range demoEmployees {
		users = append(users, FixtureUser{Login: e[0] + "." + e[1] + "@example.com", FirstName: capitalize(e[0]), LastName: capitalize(e[1]), Password: DemoPassword})
	}
	grants := append(append([]string{}, autoGrantedScopes...), "okta.devices.read", "okta.devices.manage", "okta.eventHooks.manage", "okta.logs.read")
	return &Fixture{
		Users:     users,
		APITokens: []FixtureAPIToken{{Token: DemoAPIToken, User: AdminLogin}},
		Apps: []FixtureApp{{
			ID: DemoAppID, Label: DemoAppLabel, Type: "web",
			ClientID: DemoClientID, ClientSecret: DemoClientSecret,
			RedirectURIs: []string{"http://127.0.0.1/oauth/callback", "http://localhost/oauth/callback"},
			Users:        []string{AdminLogin, ReadOnlyLogin, UserLogin},
			Grants:       grants,
		}, {
			ID: DemoServiceAppID, Label: "cardflow service", Type: "service",
			ClientID: DemoServiceClientID,
			Grants:   []string{"okta.devices.read", "okta.devices.manage"},
			Roles:    []string{"SUPER_ADMIN"},
			JWKS:     json.RawMessage(`{"keys":[]}`),
		}, {
			ID: DemoDPoPAppID, Label: "cardflow service (DPoP)", Type: "service",
			ClientID: DemoDPoPClientID,
			Grants:   []string{"okta.devices.read", "okta.devices.manage"},
			Roles:    []string{"SUPER_ADMIN"},
			JWKS:     json.RawMessage(`{"keys":[]}`),
			DPoP:     true,
		}, {
			ID: DemoConsoleAppID, Label: DemoConsoleAppLabel, Type: "web",
			ClientID: DemoConsoleClientID, ClientSecret: DemoConsoleClientSecret,
			RedirectURIs: []string{"http://127.0.0.1/*", "http://localhost/*"},
			Users:        []string{AdminLogin, ReadOnlyLogin, UserLogin, UnassignedLogin},
			Grants:       autoGrantedScopes,
		}},
		Groups: []FixtureGroup{
			{Name: AdminsGroup, Users: []string{AdminLogin}},
			{Name: OperatorsGroup, Users: []string{ReadOnlyLogin}},
			{Name: ViewersGroup, Users: []string{UserLogin}},
		},
		GenerateDevices: n,
	}
}

// demoEmployees own most demo devices.
var demoEmployees = [][2]string{
	{"alice", "nguyen"}, {"bob", "martin"}, {"carla", "rossi"}, {"dev", "patel"},
	{"emma", "schmidt"}, {"farid", "haddad"}, {"grace", "okafor"}, {"hiro", "tanaka"},
	{"ines", "garcia"}, {"jonas", "berg"}, {"kim", "larsen"}, {"liam", "obrien"},
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}
