package sso_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/sso"
)

// redirectURI is a loopback callback; the emulated org's console app takes
// any path on a loopback origin.
const redirectURI = "http://127.0.0.1:8080/sso/callback"

func roles() access.GroupRoles {
	return access.GroupRoles{
		access.Admin:    {oktaemu.AdminsGroup},
		access.Operator: {oktaemu.OperatorsGroup},
		access.Viewer:   {oktaemu.ViewersGroup},
	}
}

func newProvider(t *testing.T, emu *emutest.Server, change func(*sso.Config)) *sso.Provider {
	t.Helper()
	cfg := sso.Config{
		Issuer:       emu.URL,
		ClientID:     oktaemu.DemoConsoleClientID,
		ClientSecret: keyring.Secret(oktaemu.DemoConsoleClientSecret),
		Roles:        roles(),
		HTTP:         emu.Client,
	}
	if change != nil {
		change(&cfg)
	}
	p, err := sso.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// signIn is one sign-in: the authorization URL with state, nonce and PKCE,
// the person's credentials at the org, and the code the org redirects
// back with.
type signIn struct {
	state, nonce, verifier, code string
}

func startSignIn(t *testing.T, emu *emutest.Server, p *sso.Provider, login string) signIn {
	t.Helper()
	s := signIn{state: "state-" + login, nonce: "nonce-" + login, verifier: oauth2.GenerateVerifier()}
	authURL, err := p.AuthURL(t.Context(), redirectURI, s.state, s.nonce, s.verifier)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	for k, want := range map[string]string{
		"client_id": oktaemu.DemoConsoleClientID, "redirect_uri": redirectURI, "response_type": "code",
		"state": s.state, "nonce": s.nonce, "code_challenge_method": "S256",
		"code_challenge": oauth2.S256ChallengeFromVerifier(s.verifier), "scope": "openid profile email groups",
	} {
		if got := q.Get(k); got != want {
			t.Errorf("authorization URL %s = %q; want %q", k, got, want)
		}
	}
	if strings.Contains(authURL, oktaemu.DemoConsoleClientSecret) {
		t.Errorf("the authorization URL carries the client secret")
	}
	back := emu.SignIn(t, authURL, login, oktaemu.DemoPassword)
	if got := back.Query().Get("state"); got != s.state {
		t.Fatalf("the org sent state %q back; want %q", got, s.state)
	}
	s.code = back.Query().Get("code")
	if s.code == "" {
		t.Fatalf("the org redirected to %s without a code", back)
	}
	return s
}

// wantProblem checks err is a problem with code whose message contains msg,
// and that no secret is in it.
func wantProblem(t *testing.T, err error, code problem.Code, msg string) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T); want a problem", err, err)
	}
	if pe.Code != code || !strings.Contains(pe.Message, msg) {
		t.Errorf("problem %s %q; want %s containing %q", pe.Code, pe.Message, code, msg)
	}
	if pe.Remedy == "" {
		t.Errorf("problem %q has no remedy", pe.Message)
	}
	if strings.Contains(err.Error(), oktaemu.DemoConsoleClientSecret) {
		t.Errorf("the error names the client secret: %v", err)
	}
}

func TestNewRefusesIncompleteConfig(t *testing.T) {
	good := sso.Config{Issuer: "https://example.okta.com", ClientID: "c", ClientSecret: "s", Roles: roles()}
	for _, tc := range []struct {
		name   string
		change func(*sso.Config)
		want   string
	}{
		{"issuer not a URL", func(c *sso.Config) { c.Issuer = "example.okta.com" }, "must be the provider's issuer URL"},
		{"issuer with a query", func(c *sso.Config) { c.Issuer = "https://example.okta.com?x=1" }, "must be the provider's issuer URL"},
		{"issuer of another scheme", func(c *sso.Config) { c.Issuer = "ftp://example.okta.com" }, "must be the provider's issuer URL"},
		{"issuer with a password", func(c *sso.Config) { c.Issuer = "https://admin:s3cret@example.okta.com" }, "-oidc-issuer https://admin:xxxxx@example.okta.com must not hold a user name or password"},
		{"issuer with a password that does not parse", func(c *sso.Config) { c.Issuer = "https://admin:s3cret@example.okta.com:bad" }, `-oidc-issuer "https://xxxxx@example.okta.com:bad" must be the provider's issuer URL`},
		{"no client ID", func(c *sso.Config) { c.ClientID = "" }, "-oidc-client-id is required"},
		{"no client secret", func(c *sso.Config) { c.ClientSecret = "" }, "CARDFLOW_OIDC_CLIENT_SECRET is required"},
		{"no roles", func(c *sso.Config) { c.Roles = nil }, "-oidc-role is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.change(&cfg)
			_, err := sso.New(cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v; want an error containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("New: %v; want the password left out", err)
			}
		})
	}
	p, err := sso.New(good)
	if err != nil {
		t.Fatalf("New of a complete config: %v", err)
	}
	if got := strings.Join(p.Scopes(), " "); got != "openid profile email groups" {
		t.Errorf("default scopes %q", got)
	}
}

func TestSignInMapsGroupsToRoles(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{})
	p := newProvider(t, emu, nil)
	for _, tc := range []struct {
		login string
		role  access.Role
		group string
	}{
		{oktaemu.AdminLogin, access.Admin, oktaemu.AdminsGroup},
		{oktaemu.ReadOnlyLogin, access.Operator, oktaemu.OperatorsGroup},
		{oktaemu.UserLogin, access.Viewer, oktaemu.ViewersGroup},
	} {
		t.Run(tc.login, func(t *testing.T) {
			s := startSignIn(t, emu, p, tc.login)
			id, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			if id.Login != tc.login || id.Role != tc.role || id.Subject == "" || id.Name == "" {
				t.Errorf("identity %+v; want login %s, role %s, a subject and a name", id, tc.login, tc.role)
			}
			// The subject is the provider's: it comes with the issuer.
			if id.Issuer != emu.URL {
				t.Errorf("identity's issuer %q; want the provider's, %s", id.Issuer, emu.URL)
			}
			if len(id.Groups) != 1 || id.Groups[0] != tc.group {
				t.Errorf("groups %v; want [%s]", id.Groups, tc.group)
			}
		})
	}
}

func TestSignInOfAPersonInNoGroup(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{})
	p := newProvider(t, emu, nil)
	s := startSignIn(t, emu, p, oktaemu.UnassignedLogin)
	id, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
	var nr *sso.NoRoleError
	if !errors.As(err, &nr) {
		t.Fatalf("Exchange: %v; want a NoRoleError", err)
	}
	if id == nil || id.Login != oktaemu.UnassignedLogin || id.Role != "" {
		t.Errorf("identity %+v; want the person, with no role", id)
	}
	pe := nr.Problem()
	if pe.Code != problem.Forbidden || !strings.Contains(pe.Message, "no groups") || !strings.Contains(pe.Message, oktaemu.AdminsGroup) {
		t.Errorf("problem %s %q; want forbidden, saying the person has no groups and which groups give roles", pe.Code, pe.Message)
	}
}

func TestSignInRefusals(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{})
	p := newProvider(t, emu, nil)

	t.Run("nonce of another sign-in", func(t *testing.T) {
		s := startSignIn(t, emu, p, oktaemu.AdminLogin)
		_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, "nonce-of-another-sign-in")
		wantProblem(t, err, problem.Unauthenticated, "nonce mismatch")
	})
	t.Run("no nonce", func(t *testing.T) {
		s := startSignIn(t, emu, p, oktaemu.AdminLogin)
		_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, "")
		wantProblem(t, err, problem.Unauthenticated, "nonce mismatch")
	})
	t.Run("code replayed", func(t *testing.T) {
		s := startSignIn(t, emu, p, oktaemu.AdminLogin)
		if _, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce); err != nil {
			t.Fatalf("first Exchange: %v", err)
		}
		_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
		wantProblem(t, err, problem.Unauthenticated, "already used or has expired")
	})
	t.Run("PKCE verifier of another sign-in", func(t *testing.T) {
		s := startSignIn(t, emu, p, oktaemu.AdminLogin)
		_, err := p.Exchange(t.Context(), s.code, oauth2.GenerateVerifier(), redirectURI, s.nonce)
		wantProblem(t, err, problem.Unauthenticated, "the sign-in could not be completed")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		bad := newProvider(t, emu, func(c *sso.Config) { c.ClientSecret = "not-the-secret" })
		s := startSignIn(t, emu, bad, oktaemu.AdminLogin)
		_, err := bad.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
		wantProblem(t, err, problem.Unauthenticated, "refused cardflow's client ID or secret")
		if strings.Contains(err.Error(), "not-the-secret") {
			t.Errorf("the error names the secret: %v", err)
		}
	})
	t.Run("ID token checked against a clock past its expiry", func(t *testing.T) {
		late := newProvider(t, emu, func(c *sso.Config) { c.Now = func() time.Time { return emu.Now().Add(2 * time.Hour) } })
		s := startSignIn(t, emu, late, oktaemu.AdminLogin)
		_, err := late.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
		wantProblem(t, err, problem.Unauthenticated, "did not verify")
	})
}

func TestDiscoveryRetriedAfterFailure(t *testing.T) {
	// A server starts while its provider is failing, and signs people in
	// once it answers: a failed discovery is not kept.
	emu := emutest.Start(t, oktaemu.Config{})
	emu.Fault(t, "GET", "/.well-known/openid-configuration", http.StatusServiceUnavailable, 1)
	p := newProvider(t, emu, nil)
	_, err := p.AuthorizationEndpoint(context.Background())
	wantProblem(t, err, problem.UpstreamError, "cannot be reached or is not an OpenID Connect issuer")

	s := startSignIn(t, emu, p, oktaemu.AdminLogin)
	if _, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce); err != nil {
		t.Fatalf("Exchange after the provider recovered: %v", err)
	}
	if n := emu.Stats(t)["GET /.well-known/openid-configuration"]; n != 2 {
		t.Errorf("discovery was asked %d times; want 2 (the failure, then once for every later use)", n)
	}
}

func TestIssuerMismatchNamesTheProvidersIssuer(t *testing.T) {
	// -oidc-issuer with a trailing slash: the provider answers discovery,
	// but names its issuer without it, and ID tokens must carry exactly
	// that issuer. The message says so, not that the provider is
	// unreachable.
	emu := emutest.Start(t, oktaemu.Config{})
	p := newProvider(t, emu, func(c *sso.Config) { c.Issuer = emu.URL + "/" })
	_, err := p.AuthorizationEndpoint(context.Background())
	wantProblem(t, err, problem.UpstreamError, `names its issuer "`+emu.URL+`", not "`+emu.URL+`/"`)
	if pe, _ := problem.As(err); pe == nil || strings.Contains(pe.Message, "cannot be reached") || !strings.Contains(pe.Remedy, "-oidc-issuer "+emu.URL+" ") {
		t.Errorf("problem %v; want it not to say the provider cannot be reached, and to say which -oidc-issuer to use", err)
	}
}

// TestRedirectsAreNotFollowed: the provider's discovery document, keys
// and token endpoint are called at the addresses the issuer names, never
// at an address a redirect names. Followed, a 307 from the token endpoint
// would resend the code, the PKCE verifier and the client's credentials
// to another host. The client is the package's default one, as
// cardflow serve uses it.
func TestRedirectsAreNotFollowed(t *testing.T) {
	for _, tc := range []struct {
		name, method, path string
		status             int
	}{
		{"discovery", "GET", "/.well-known/openid-configuration", http.StatusFound},
		{"keys", "GET", "/oauth2/v1/keys", http.StatusFound},
		{"token", "POST", "/oauth2/v1/token", http.StatusTemporaryRedirect},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := emutest.Start(t, oktaemu.Config{Devices: 1})
			var hits atomic.Int32
			elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{}`))
			}))
			defer elsewhere.Close()
			p := newProvider(t, emu, func(c *sso.Config) { c.HTTP = nil })
			// Two: the OAuth client tries the token request a second way
			// after a first failure.
			fault := emutest.FaultSpec{Method: tc.method, Path: tc.path, Status: tc.status, Count: 2, Headers: map[string]string{"Location": elsewhere.URL + tc.path}}
			var err error
			if tc.name == "discovery" {
				emu.Inject(t, fault)
				_, err = p.AuthorizationEndpoint(t.Context())
			} else {
				s := startSignIn(t, emu, p, oktaemu.AdminLogin)
				emu.Inject(t, fault)
				_, err = p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the %s endpoint's redirect was followed: %d requests reached %s", tc.name, n, elsewhere.URL)
			}
			if err == nil {
				t.Fatal("the sign-in went on past a redirect; want an error")
			}
			wantProblem(t, err, problem.UpstreamError, "redirect")
		})
	}
}

// TestTokenEndpointPageRepeatingTheRequest: a token endpoint that answers
// with a page repeating the request (a proxy's or a firewall's) gets the
// client secret (in the form, once the Basic header was refused), the
// code and the PKCE verifier; the error of the sign-in, its internal
// cause included (which the server logs), holds none of them.
func TestTokenEndpointPageRepeatingTheRequest(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{})
	p := newProvider(t, emu, nil)
	s := startSignIn(t, emu, p, oktaemu.AdminLogin)
	emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/token", Status: http.StatusInternalServerError, Body: "echo", Count: 2})
	_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
	wantProblem(t, err, problem.UpstreamError, "did not answer the code exchange")
	text := err.Error()
	if pe, ok := problem.As(err); ok && pe.Err != nil {
		text += "\n" + pe.Err.Error()
	}
	for what, secret := range map[string]string{"the repeated request": "The request was:", "the client secret": oktaemu.DemoConsoleClientSecret,
		"the code": s.code, "the code verifier": s.verifier} {
		if strings.Contains(text, secret) {
			t.Errorf("the error or its cause holds %s: %s", what, text)
		}
	}
}
