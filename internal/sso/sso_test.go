package sso_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
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
	"github.com/cardflow/cardflow/internal/timetext"
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

// wantRemedy checks err is a problem whose remedy contains want.
func wantRemedy(t *testing.T, err error, want string) {
	t.Helper()
	if pe, ok := problem.As(err); !ok || !strings.Contains(pe.Remedy, want) {
		t.Errorf("error %v; want a problem whose remedy contains %q", err, want)
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
		wantProblem(t, err, problem.Unauthenticated, "the PKCE code verifier does not fit the code challenge the sign-in started with (the provider said: PKCE verification failed.)")
		wantRemedy(t, err, "finish it where it started")
	})
	t.Run("redirect URI other than the sign-in's", func(t *testing.T) {
		s := startSignIn(t, emu, p, oktaemu.AdminLogin)
		other := "http://localhost:8080/sso/callback"
		_, err := p.Exchange(t.Context(), s.code, s.verifier, other, s.nonce)
		wantProblem(t, err, problem.Unauthenticated, "the redirect URI sent with the code, "+other+", is not the one the sign-in started with")
		wantRemedy(t, err, "-public-url")
	})
	t.Run("code past its lifetime", func(t *testing.T) {
		// Okta says the same of a used code and of an expired one.
		s := startSignIn(t, emu, p, oktaemu.AdminLogin)
		emu.AdvanceClock(t, 6*time.Minute)
		_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
		wantProblem(t, err, problem.Unauthenticated, "already used or has expired, or belongs to another sign-in (the provider said: The authorization code is invalid or has expired.)")
	})
	t.Run("wrong client secret", func(t *testing.T) {
		bad := newProvider(t, emu, func(c *sso.Config) { c.ClientSecret = "not-the-secret" })
		s := startSignIn(t, emu, bad, oktaemu.AdminLogin)
		_, err := bad.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
		// The server's configuration, not the person: no wrong guess.
		wantProblem(t, err, problem.UpstreamError, "refused cardflow's client ID or secret (invalid_client: ")
		wantRemedy(t, err, "CARDFLOW_OIDC_CLIENT_SECRET")
		if strings.Contains(err.Error(), "not-the-secret") {
			t.Errorf("the error names the secret: %v", err)
		}
		if sso.Refused(err) {
			t.Errorf("Refused(%v) = true; want false: a wrong client secret refuses everyone, and counts against no one's address", err)
		}
	})
	t.Run("ID token checked against a clock past its expiry", func(t *testing.T) {
		late := newProvider(t, emu, func(c *sso.Config) { c.Now = func() time.Time { return emu.Now().Add(2 * time.Hour) } })
		s := startSignIn(t, emu, late, oktaemu.AdminLogin)
		_, err := late.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
		wantProblem(t, err, problem.UpstreamError, "had expired by this server's clock")
		if m := regexp.MustCompile(`\(it expired at (.+?); the server's clock says (.+?)\)`).FindStringSubmatch(err.Error()); m == nil || !isTimeText(m[1]) || !isTimeText(m[2]) {
			t.Errorf("%v\nwant both times written as %s", err, timetext.Layout)
		}
		wantProblem(t, err, problem.UpstreamError, "the server's clock is about 2h0m0s ahead of the provider's")
		wantRemedy(t, err, "set the server's clock right (NTP)")
		notRefused(t, err)
	})
}

// isTimeText reports whether s is a time as messages write it
// (timetext.Layout), where they once wrote RFC 3339.
func isTimeText(s string) bool {
	_, err := time.Parse(timetext.Layout, s)
	return err == nil
}

// notRefused checks that Refused(err) is false: an ID token that does not
// verify is no one's guess (it comes from the provider, in answer to the
// code), so that one misconfiguration with many people retrying from one
// office does not lock the office's API tokens out.
func notRefused(t *testing.T, err error) {
	t.Helper()
	if sso.Refused(err) {
		t.Errorf("Refused(%v) = true; want false: it counts against no one's address", err)
	}
}

// TestIDTokenKeysNameTheIssuer: an ID token that no key of the issuer's
// jwks_uri verifies (a token endpoint of another authorization server
// than -oidc-issuer's) says to check -oidc-issuer, and keys that cannot be
// read say so; neither counts against the person's address.
func TestIDTokenKeysNameTheIssuer(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{})
	t.Run("keys that verify nothing", func(t *testing.T) {
		p := newProvider(t, emu, nil)
		s := startSignIn(t, emu, p, oktaemu.AdminLogin)
		// An answer without keys, as another issuer's set is without the
		// token's key.
		emu.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/oauth2/v1/keys", Status: http.StatusOK, Body: "json", Count: 5})
		t.Cleanup(func() { emu.ClearFaults(t) })
		_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
		wantProblem(t, err, problem.UpstreamError, "is not signed with a key of -oidc-issuer "+emu.URL)
		wantRemedy(t, err, "check -oidc-issuer")
		notRefused(t, err)
	})
	t.Run("keys that cannot be read", func(t *testing.T) {
		p := newProvider(t, emu, nil)
		s := startSignIn(t, emu, p, oktaemu.AdminLogin)
		emu.Fault(t, "GET", "/oauth2/v1/keys", http.StatusServiceUnavailable, 5)
		t.Cleanup(func() { emu.ClearFaults(t) })
		_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
		wantProblem(t, err, problem.UpstreamError, "signing keys (the jwks_uri of -oidc-issuer "+emu.URL+") could not be read")
		notRefused(t, err)
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

// TestDiscoveryRefusesEndpointsOnAnotherHost: a discovery document that
// places the token endpoint, the keys or the authorization endpoint on
// another host than the issuer's is refused, naming the endpoint, the host
// found, the issuer's host and the flag that allows it, before anything
// is sent there; the refusal is not kept, so a corrected document is
// taken at the next discovery.
func TestDiscoveryRefusesEndpointsOnAnotherHost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		moved []string
		want  string
	}{
		{"token endpoint", []string{"token_endpoint"}, "places its token_endpoint on the host OTHER, not on the issuer's host ISSUER"},
		{"keys", []string{"jwks_uri"}, "places its jwks_uri on the host OTHER, not on the issuer's host ISSUER"},
		{"authorization endpoint", []string{"authorization_endpoint"}, "places its authorization_endpoint on the host OTHER, not on the issuer's host ISSUER"},
		{"token endpoint and keys", []string{"token_endpoint", "jwks_uri"}, "places its token_endpoint on the host OTHER and its jwks_uri on the host OTHER, not on the issuer's host ISSUER"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			emu := emutest.Start(t, oktaemu.Config{})
			s := emu.SplitIssuer(t, tc.moved...)
			p := newProvider(t, emu, func(c *sso.Config) { c.Issuer = s.Issuer })
			want := strings.NewReplacer("OTHER", s.Other, "ISSUER", s.Issuer).Replace(tc.want)
			wantRemedy := "start the server with -oidc-allow-host " + s.Other + ";"

			err := p.Discover(t.Context())
			wantProblem(t, err, problem.UpstreamError, want)
			if pe, _ := problem.As(err); pe == nil || !strings.Contains(pe.Remedy, wantRemedy) {
				t.Errorf("remedy of %v; want it to say %q", err, wantRemedy)
			}
			var eh *sso.EndpointHostError
			if !errors.As(err, &eh) || len(eh.Endpoints) != len(tc.moved) || eh.Endpoints[0].Host != s.Other || eh.Issuer != s.Issuer {
				t.Errorf("error %#v; want an EndpointHostError naming %v on %s", eh, tc.moved, s.Other)
			}
			if !strings.Contains(err.Error(), s.Issuer+"/.well-known/openid-configuration") {
				t.Errorf("error %v; want it to name the discovery document", err)
			}
			// Every use is refused the same way, and nothing reaches
			// the other host: not the code exchange, not the keys.
			_, err = p.AuthURL(t.Context(), redirectURI, "state", "nonce", oauth2.GenerateVerifier())
			wantProblem(t, err, problem.UpstreamError, want)
			_, err = p.Exchange(t.Context(), "a-code", oauth2.GenerateVerifier(), redirectURI, "nonce")
			wantProblem(t, err, problem.UpstreamError, want)
			if got := s.Requests(); len(got) != 0 {
				t.Errorf("the other host was asked %v; want nothing", got)
			}

			// The provider puts its endpoints back: the next discovery
			// takes the document, and people sign in.
			s.Move()
			si := startSignIn(t, emu, p, oktaemu.AdminLogin)
			if _, err := p.Exchange(t.Context(), si.code, si.verifier, redirectURI, si.nonce); err != nil {
				t.Fatalf("Exchange once the document places its endpoints on the issuer's host: %v", err)
			}
		})
	}
}

// TestAllowedHostTakesEndpoints: with the other host allowed
// (-oidc-allow-host), a document placing the token endpoint and the keys
// there is taken, and people sign in through it; another host is still
// refused, and the message says which hosts are allowed.
func TestAllowedHostTakesEndpoints(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{})
	s := emu.SplitIssuer(t, "token_endpoint", "jwks_uri")
	p := newProvider(t, emu, func(c *sso.Config) {
		c.Issuer, c.AllowedHosts = s.Issuer, []string{"https://keys.example.com", strings.ToUpper(s.Other) + "/"}
	})
	si := startSignIn(t, emu, p, oktaemu.AdminLogin)
	id, err := p.Exchange(t.Context(), si.code, si.verifier, redirectURI, si.nonce)
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	if id.Role != access.Admin || id.Issuer != s.Issuer {
		t.Errorf("identity %+v; want an admin of the issuer %s", id, s.Issuer)
	}
	if got := s.Requests(); !slices.Contains(got, "POST /oauth2/v1/token") || !slices.Contains(got, "GET /oauth2/v1/keys") {
		t.Errorf("the allowed host was asked %v; want the code exchange and the keys", got)
	}

	// A host given bare means https: the other host's http origin is not
	// allowed by its host and port alone.
	bare := newProvider(t, emu, func(c *sso.Config) {
		c.Issuer, c.AllowedHosts = s.Issuer, []string{strings.TrimPrefix(s.Other, "http://")}
	})
	err = bare.Discover(t.Context())
	wantProblem(t, err, problem.UpstreamError, "places its token_endpoint on the host "+s.Other)
	host := strings.TrimPrefix(s.Other, "http://")
	wantProblem(t, err, problem.UpstreamError, "cardflow uses a provider only on the issuer's host and those of -oidc-allow-host (https://"+host+")")
}

func TestParseAllowedHost(t *testing.T) {
	for in, want := range map[string]string{
		"keys.example.com":               "https://keys.example.com",
		"keys.example.com:8443":          "https://keys.example.com:8443",
		"https://KEYS.example.com:443/":  "https://keys.example.com",
		"http://127.0.0.1:9090":          "http://127.0.0.1:9090",
		"http://idp.example.com:80":      "http://idp.example.com",
		" https://[::1]:8443 ":           "https://[::1]:8443",
		"https://www.googleapis.com":     "https://www.googleapis.com",
		"HTTPS://oauth2.googleapis.com/": "https://oauth2.googleapis.com",
	} {
		if got, err := sso.ParseAllowedHost(in); err != nil || got != want {
			t.Errorf("ParseAllowedHost(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "*.example.com", "https://*.example.com", "https://keys.example.com/oauth2/v1/keys",
		"https://admin:s3cret@keys.example.com", "ftp://keys.example.com", "https://keys.example.com?x=1", "https://"} {
		if got, err := sso.ParseAllowedHost(in); err == nil || !strings.Contains(err.Error(), "-oidc-allow-host") || !strings.Contains(err.Error(), "must name one host") {
			t.Errorf("ParseAllowedHost(%q) = %q, %v; want an error naming the flag", in, got, err)
		}
	}
	_, err := sso.New(sso.Config{Issuer: "https://example.okta.com", ClientID: "c", ClientSecret: "s", Roles: roles(), AllowedHosts: []string{"*.example.com"}})
	if err == nil || !strings.Contains(err.Error(), `-oidc-allow-host "*.example.com" must name one host`) {
		t.Errorf("New with a wildcard allowed host: %v; want it refused", err)
	}
}

// TestDiscoveryTakesTheIssuersHostHoweverWritten: endpoints on the
// issuer's host are taken whatever the case of the scheme and host and
// whether the default port is written.
func TestDiscoveryTakesTheIssuersHostHoweverWritten(t *testing.T) {
	var issuer string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		up := strings.ToUpper(issuer)
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": issuer, "authorization_endpoint": up + "/authorize",
			"token_endpoint": issuer + "/token", "jwks_uri": up + "/keys"})
	}))
	defer srv.Close()
	issuer = srv.URL
	p, err := sso.New(sso.Config{Issuer: issuer, ClientID: "c", ClientSecret: "s", Roles: roles(), HTTP: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Discover(t.Context()); err != nil {
		t.Errorf("Discover: %v; want the document taken", err)
	}
	// A document without keys is refused too: the server would not know
	// where to take them from.
	issuer2 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		self := "http://" + r.Host
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": self, "authorization_endpoint": self + "/authorize", "token_endpoint": self + "/token"})
	}))
	defer issuer2.Close()
	p, err = sso.New(sso.Config{Issuer: issuer2.URL, ClientID: "c", ClientSecret: "s", Roles: roles(), HTTP: issuer2.Client()})
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, p.Discover(t.Context()), problem.UpstreamError, `places its jwks_uri at "", which is no http(s) URL`)
}

// TestTokenEndpointUnavailable: a token endpoint answering 503 with
// temporarily_unavailable is the provider failing, not a refusal of the
// sign-in: an upstream error, which is no wrong guess (Refused is false),
// saying to try again later.
func TestTokenEndpointUnavailable(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{})
	p := newProvider(t, emu, nil)
	s := startSignIn(t, emu, p, oktaemu.AdminLogin)
	// Two: golang.org/x/oauth2 tries the other client authentication
	// after an error.
	emu.Fault(t, "POST", "/oauth2/v1/token", http.StatusServiceUnavailable, 2)
	_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
	wantProblem(t, err, problem.UpstreamError, "could not redeem the sign-in code now: temporarily_unavailable")
	if sso.Refused(err) {
		t.Errorf("Refused(%v) = true; want false for a provider that failed", err)
	}
	s = startSignIn(t, emu, p, oktaemu.AdminLogin)
	_, err = p.Exchange(t.Context(), s.code, oauth2.GenerateVerifier(), redirectURI, s.nonce)
	if !sso.Refused(err) {
		t.Errorf("Refused(%v) = false; want true for a verifier the provider refused", err)
	}
}

// tokenAnswer is a transport that answers the token endpoint's requests
// with an OAuth error answer and sends the rest on to the org.
type tokenAnswer struct {
	next http.RoundTripper
	body func(form url.Values) string
}

func (a tokenAnswer) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/token") {
		return a.next.RoundTrip(r)
	}
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Content-Type", "application/json")
	rec.WriteHeader(http.StatusBadRequest)
	rec.WriteString(a.body(r.PostForm))
	return rec.Result(), nil
}

// TestInvalidGrantSaysWhatWasRefused: a code exchange the provider refuses
// with invalid_grant says what the provider's error_description tells
// (an expired code, a used one, its words when they tell neither) with a
// remedy, never the code, the verifier or the client secret that a
// description may quote; without a description it names the causes it
// may have.
func TestInvalidGrantSaysWhatWasRefused(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{})
	for _, tc := range []struct {
		name, desc, want, remedy string
	}{
		{"expired", "Code is expired", "the sign-in code expired before cardflow redeemed it (the provider said: Code is expired)", "a code is good for a few minutes"},
		{"expired, Entra ID", "AADSTS70008: The provided authorization code or refresh token has expired due to inactivity.", "the sign-in code expired before cardflow redeemed it", "check the server's clock"},
		{"used", "AADSTS54005: OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.", "the sign-in code was already used (the provider said: AADSTS54005", "going Back to the provider's page"},
		{"code quoted", "Code {code} not valid for client with secret {secret}, verifier {verifier}", "the sign-in code was refused: it was already used or has expired, or belongs to another sign-in (the provider said: Code [redacted] not valid for client with secret [redacted], verifier [redacted])", "start the sign-in again"},
		{"no description", "", "the sign-in code was refused: it was already used or has expired, or belongs to another sign-in", "start the sign-in again"},
		{"lines", "PKCE check\nfailed", "the PKCE code verifier does not fit the code challenge the sign-in started with (the provider said: PKCE check failed)", "finish it where it started"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent url.Values
			p := newProvider(t, emu, func(c *sso.Config) {
				c.HTTP = &http.Client{Transport: tokenAnswer{next: emu.Client.Transport, body: func(f url.Values) string {
					sent = f
					d := strings.NewReplacer("{code}", f.Get("code"), "{verifier}", f.Get("code_verifier"), "{secret}", oktaemu.DemoConsoleClientSecret).Replace(tc.desc)
					b, _ := json.Marshal(map[string]string{"error": "invalid_grant", "error_description": d})
					if d == "" {
						b = []byte(`{"error":"invalid_grant"}`)
					}
					return string(b)
				}}}
			})
			s := startSignIn(t, emu, p, oktaemu.AdminLogin)
			_, err := p.Exchange(t.Context(), s.code, s.verifier, redirectURI, s.nonce)
			if sent == nil {
				t.Fatal("the token endpoint was not asked")
			}
			wantProblem(t, err, problem.Unauthenticated, tc.want)
			wantRemedy(t, err, tc.remedy)
			if !sso.Refused(err) {
				t.Errorf("Refused(%v) = false; want true", err)
			}
			text := err.Error()
			if pe, ok := problem.As(err); ok && pe.Err != nil {
				text += "\n" + pe.Err.Error()
			}
			for what, secret := range map[string]string{"the code": s.code, "the code verifier": s.verifier, "the client secret": oktaemu.DemoConsoleClientSecret} {
				if strings.Contains(text, secret) {
					t.Errorf("the error or its cause holds %s: %s", what, text)
				}
			}
		})
	}
}
