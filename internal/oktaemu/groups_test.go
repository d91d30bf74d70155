package oktaemu_test

// Groups and cardflow's own sign-in app: the console app accepts
// any loopback redirect path and port, and its ID tokens carry the groups
// claim only when the groups scope is asked for.

import (
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// consoleClient is a relying party using the demo's console app with the
// given loopback redirect URI.
func consoleClient(t *testing.T, srv *emutest.Server, redirect string, scopes ...string) *oidcClient {
	t.Helper()
	c := newOIDCClient(t, srv, scopes...)
	c.conf.ClientID, c.conf.ClientSecret, c.conf.RedirectURL = oktaemu.DemoConsoleClientID, oktaemu.DemoConsoleClientSecret, redirect
	return c
}

func TestConsoleAppGroupsClaim(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: -1})
	tests := []struct {
		name     string
		user     string
		scopes   []string
		redirect string
		want     []string
	}{
		{"admin", oktaemu.AdminLogin, []string{"openid", "profile", "email", "groups"}, "http://127.0.0.1:41234/auth/callback", []string{oktaemu.AdminsGroup}},
		{"operator", oktaemu.ReadOnlyLogin, []string{"openid", "groups"}, "http://localhost:5555/callback", []string{oktaemu.OperatorsGroup}},
		{"viewer", oktaemu.UserLogin, []string{"openid", "groups"}, "http://127.0.0.1:9/x/y", []string{oktaemu.ViewersGroup}},
		{"in no group", oktaemu.UnassignedLogin, []string{"openid", "groups"}, "http://127.0.0.1:8080/auth/callback", nil},
		{"groups scope not asked", oktaemu.AdminLogin, []string{"openid", "profile"}, "http://127.0.0.1:8080/auth/callback", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := consoleClient(t, srv, tt.redirect, tt.scopes...)
			verifier, state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()[:22], oauth2.GenerateVerifier()[:22]
			u := srv.SignIn(t, c.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), tt.user, oktaemu.DemoPassword)
			if got := u.Scheme + "://" + u.Host + u.Path; got != tt.redirect {
				t.Fatalf("redirected to %s; want %s", got, tt.redirect)
			}
			tok, err := c.conf.Exchange(t.Context(), u.Query().Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}
			raw, _ := tok.Extra("id_token").(string)
			idt, err := c.provider.Verifier(&oidc.Config{ClientID: oktaemu.DemoConsoleClientID, Now: srv.Now}).Verify(t.Context(), raw)
			if err != nil {
				t.Fatalf("verify: %v", err)
			}
			var claims struct {
				Groups []string `json:"groups"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, claims.Groups); diff != "" {
				t.Errorf("groups claim (-want +got):\n%s", diff)
			}
			ui, err := c.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			var info struct {
				Groups []string `json:"groups"`
			}
			if err := ui.Claims(&info); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, info.Groups); diff != "" {
				t.Errorf("userinfo groups (-want +got):\n%s", diff)
			}
		})
	}
}

func TestConsoleAppRefusesOtherRedirects(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: -1})
	for _, redirect := range []string{"https://evil.example/callback", "http://127.0.0.1.evil.example:80/cb", "http://10.0.0.1:80/cb"} {
		c := consoleClient(t, srv, redirect, "openid")
		resp, err := srv.Client.Get(c.conf.AuthCodeURL("state-value"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode == 302 || strings.Contains(loc, "code=") {
			t.Errorf("authorize with redirect %s: status %d, Location %q; want an error page", redirect, resp.StatusCode, loc)
		}
	}
	// The Workflows app keeps its exact callback path.
	c := newOIDCClient(t, srv, "openid")
	c.conf.RedirectURL = "http://127.0.0.1:5000/other"
	resp, err := srv.Client.Get(c.conf.AuthCodeURL("state-value"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == 302 {
		t.Errorf("the workflows app accepted another path: %s", resp.Header.Get("Location"))
	}
}

func TestFixtureGroupsValidated(t *testing.T) {
	for _, doc := range []string{
		`{"users":[{"login":"a@example.com"}],"groups":[{"name":""}]}`,
		`{"users":[{"login":"a@example.com"}],"groups":[{"name":"g","users":["nobody@example.com"]}]}`,
		`{"users":[{"login":"a@example.com"}],"groups":[{"name":"g"},{"name":"G"}]}`,
	} {
		if _, err := oktaemu.LoadFixture(strings.NewReader(doc)); err == nil {
			t.Errorf("LoadFixture(%s) accepted it; want an error", doc)
		}
	}
	if _, err := oktaemu.LoadFixture(strings.NewReader(`{"users":[{"login":"a@example.com"}],"groups":[{"name":"g","users":["a@example.com"]}]}`)); err != nil {
		t.Errorf("a valid fixture with groups: %v", err)
	}
}

// idTokenGroups signs login in to the console app and returns the groups
// claim of the ID token.
func idTokenGroups(t *testing.T, srv *emutest.Server, login string) []string {
	t.Helper()
	c := consoleClient(t, srv, "http://127.0.0.1:41234/auth/callback", "openid", "groups")
	verifier, state, nonce := oauth2.GenerateVerifier(), oauth2.GenerateVerifier()[:22], oauth2.GenerateVerifier()[:22]
	u := srv.SignIn(t, c.conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), login, oktaemu.DemoPassword)
	tok, err := c.conf.Exchange(t.Context(), u.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := c.provider.Verifier(&oidc.Config{ClientID: oktaemu.DemoConsoleClientID, Now: srv.Now}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims struct {
		Groups []string `json:"groups"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims.Groups
}

// TestGroupMembershipControl: the control endpoints put a user in a group
// and take them out, and the next sign-in's ID token says so.
func TestGroupMembershipControl(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: -1})
	srv.SetGroupMember(t, oktaemu.AdminsGroup, oktaemu.AdminLogin, false)
	srv.SetGroupMember(t, oktaemu.ViewersGroup, oktaemu.AdminLogin, true)
	if got, want := idTokenGroups(t, srv, oktaemu.AdminLogin), []string{oktaemu.ViewersGroup}; !cmp.Equal(got, want) {
		t.Errorf("groups after moving %s to the viewers: %v; want %v", oktaemu.AdminLogin, got, want)
	}
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/_emulator/groups/" + oktaemu.ViewersGroup + "/users", `{"user":"` + oktaemu.AdminLogin + `"}`}, // a member already
		{"POST", "/_emulator/groups/" + oktaemu.ViewersGroup + "/users", `{}`},
		{"POST", "/_emulator/groups/no-such-group/users", `{"user":"` + oktaemu.AdminLogin + `"}`},
		{"POST", "/_emulator/groups/" + oktaemu.ViewersGroup + "/users", `{"user":"nobody@example.com"}`},
		{"DELETE", "/_emulator/groups/" + oktaemu.AdminsGroup + "/users/" + oktaemu.AdminLogin, ``}, // not a member
	} {
		if r := emuControl(t, srv, tt.method, tt.path, tt.body); r.status/100 != 4 {
			t.Errorf("%s %s %s: status %d; want a 4xx refusal", tt.method, tt.path, tt.body, r.status)
		}
	}
	srv.Reset(t)
	if got, want := idTokenGroups(t, srv, oktaemu.AdminLogin), []string{oktaemu.AdminsGroup}; !cmp.Equal(got, want) {
		t.Errorf("groups after a reset: %v; want %v", got, want)
	}
}

// TestUserClaimsControl: a user made to claim another's login and email
// gets ID tokens and userinfo that say so, with their own sub; a reset
// gives back their own claims.
func TestUserClaimsControl(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: -1})
	srv.SetClaims(t, oktaemu.ReadOnlyLogin, oktaemu.AdminLogin, "ada@example.com")
	c := newOIDCClient(t, srv)
	claimsOf := func() (sub, login, email string) {
		t.Helper()
		l := c.signIn(t, oktaemu.ReadOnlyLogin)
		var claims struct {
			Email             string `json:"email"`
			PreferredUsername string `json:"preferred_username"`
		}
		if err := l.idToken.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		info, err := c.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(l.token))
		if err != nil || info.Subject != l.idToken.Subject || info.Email != claims.Email {
			t.Errorf("userinfo %+v, %v; want the ID token's sub %s and email %s", info, err, l.idToken.Subject, claims.Email)
		}
		return l.idToken.Subject, claims.PreferredUsername, claims.Email
	}
	if sub, login, email := claimsOf(); sub != oktaemu.ReadOnlyUserID || login != oktaemu.AdminLogin || email != "ada@example.com" {
		t.Errorf("claims after the change: sub %s, preferred_username %s, email %s; want %s, %s, ada@example.com", sub, login, email, oktaemu.ReadOnlyUserID, oktaemu.AdminLogin)
	}
	for _, tt := range []struct{ path, body string }{
		{"/_emulator/users/nobody@example.com/claims", `{"preferred_username":"x"}`},
		{"/_emulator/users/" + oktaemu.ReadOnlyLogin + "/claims", `{}`},
		{"/_emulator/users/" + oktaemu.ReadOnlyLogin + "/claims", `not json`},
	} {
		if r := emuControl(t, srv, "POST", tt.path, tt.body); r.status/100 != 4 {
			t.Errorf("POST %s %s: status %d; want a 4xx refusal", tt.path, tt.body, r.status)
		}
	}
	srv.Reset(t)
	c = newOIDCClient(t, srv)
	if sub, login, _ := claimsOf(); sub != oktaemu.ReadOnlyUserID || login != oktaemu.ReadOnlyLogin {
		t.Errorf("claims after a reset: sub %s, preferred_username %s; want %s, %s", sub, login, oktaemu.ReadOnlyUserID, oktaemu.ReadOnlyLogin)
	}
}
