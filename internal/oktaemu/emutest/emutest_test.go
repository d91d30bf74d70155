package emutest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func oauthConfig(s *emutest.Server, scopes ...string) *oauth2.Config {
	return &oauth2.Config{
		ClientID: oktaemu.DemoClientID, ClientSecret: oktaemu.DemoClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: s.URL + "/oauth2/v1/authorize", TokenURL: s.URL + "/oauth2/v1/token"},
		RedirectURL: "http://127.0.0.1:8080/oauth/callback",
		Scopes:      scopes,
	}
}

func get(t *testing.T, s *emutest.Server, path, authz string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestSignInCodeFlow(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 5})
	conf := oauthConfig(s, append(append([]string{}, oktaemu.AutoGrantedScopes()...), "okta.devices.read", "okta.devices.manage", "okta.users.read")...)
	verifier := oauth2.GenerateVerifier()
	cb := s.SignIn(t, conf.AuthCodeURL("st4te", oauth2.S256ChallengeOption(verifier)), oktaemu.AdminLogin, oktaemu.DemoPassword)
	if got := cb.Query().Get("state"); got != "st4te" {
		t.Fatalf("state %q; want st4te (callback %s)", got, cb)
	}
	tok, err := conf.Exchange(context.Background(), cb.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" || tok.Extra("id_token") == nil {
		t.Fatalf("token lacks refresh or id token: %+v", tok)
	}
	if got, want := tok.Extra("scope"), strings.Join(append(append([]string{}, oktaemu.AutoGrantedScopes()...), "okta.devices.read", "okta.devices.manage"), " "); got != want {
		t.Errorf("scope %q; want %q", got, want)
	}
	code, _, body := get(t, s, "/api/v1/devices?limit=2", "Bearer "+tok.AccessToken)
	if code != 200 {
		t.Fatalf("devices: %d %s", code, body)
	}
	var devs []map[string]any
	if err := json.Unmarshal([]byte(body), &devs); err != nil || len(devs) != 2 {
		t.Fatalf("devices: %v %d", err, len(devs))
	}
}

func TestSignInErrors(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	conf := oauthConfig(s, "openid", "okta.devices.read")
	cb := s.SignIn(t, conf.AuthCodeURL("x"), oktaemu.UnassignedLogin, oktaemu.DemoPassword)
	if cb.Query().Get("error") != "access_denied" || !strings.Contains(cb.RawQuery, "error_description=User+is+not+assigned+to+the+client+application.") {
		t.Errorf("callback %s; want access_denied", cb)
	}
	s.RevokeGrant(t, "groups")
	conf = oauthConfig(s, "openid", "groups", "okta.devices.read")
	cb = s.SignIn(t, conf.AuthCodeURL("x"), oktaemu.AdminLogin, oktaemu.DemoPassword)
	if cb.Query().Get("error") != "invalid_scope" || !strings.Contains(cb.Query().Get("error_description"), "groups") {
		t.Errorf("callback %s; want invalid_scope naming groups", cb)
	}
	s.AddGrant(t, "groups")
	conf = oauthConfig(s, "openid", "okta.users.read")
	cb = s.SignIn(t, conf.AuthCodeURL("x"), oktaemu.AdminLogin, oktaemu.DemoPassword)
	if cb.Query().Get("error") != "consent_required" || cb.Query().Get("error_description") != "You are not allowed any of the requested scopes." {
		t.Errorf("callback %s; want consent_required", cb)
	}
}

func TestControl(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 3})
	s.Fault(t, "GET", "/api/v1/devices/{deviceId}", 503, 1)
	code, _, _ := get(t, s, "/api/v1/devices/guoX", "SSWS "+oktaemu.DemoAPIToken)
	if code != 503 {
		t.Errorf("faulted: %d; want 503", code)
	}
	code, _, _ = get(t, s, "/api/v1/devices/guoX", "SSWS "+oktaemu.DemoAPIToken)
	if code != 404 {
		t.Errorf("after fault: %d; want 404", code)
	}
	st := s.Stats(t)
	if st["GET /api/v1/devices/{deviceId}"] != 2 {
		t.Errorf("stats %v", st)
	}
	before := s.Now()
	s.AdvanceClock(t, time.Hour)
	if d := s.Now().Sub(before); d < time.Hour {
		t.Errorf("clock moved %v", d)
	}
	s.Reset(t)
	if len(s.Stats(t)) != 0 {
		t.Errorf("stats after reset: %v", s.Stats(t))
	}
}

// TestHold: the first pass requests go through, later ones wait at the org
// until released; one whose client gives up is neither served nor counted.
func TestHold(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 3})
	const route = "/api/v1/devices/{deviceId}"
	hold := s.Hold(t, "GET", route, 1)
	if code, _, _ := get(t, s, "/api/v1/devices/guoX", emutest.AdminAuthorization); code != 404 {
		t.Fatalf("first request: %d; want it let through (404)", code)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	// A request whose client gives up while it is held.
	gaveUp := make(chan error, 1)
	cctx, ccancel := context.WithCancel(ctx)
	go func() {
		req, _ := http.NewRequestWithContext(cctx, "GET", s.URL+"/api/v1/devices/guoY", nil)
		req.Header.Set("Authorization", emutest.AdminAuthorization)
		_, err := s.Client.Do(req)
		gaveUp <- err
	}()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("the second request was not held: %v", err)
	}
	ccancel()
	if err := <-gaveUp; err == nil {
		t.Fatalf("the abandoned request got an answer; want the client's cancellation")
	}
	if err := hold.Await(ctx, 0); err != nil {
		t.Fatalf("the abandoned request is still held: %v", err)
	}

	// A request held until the hold is released.
	answered := make(chan int, 1)
	go func() {
		code, _, _ := get(t, s, "/api/v1/devices/guoZ", emutest.AdminAuthorization)
		answered <- code
	}()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("the third request was not held: %v", err)
	}
	hold.Release()
	if code := <-answered; code != 404 {
		t.Errorf("released request: %d; want 404", code)
	}
	if got := s.Stats(t)["GET "+route]; got != 2 {
		t.Errorf("the org counted %d requests; want 2 (the abandoned one is not served)", got)
	}
}

// TestStartInMemory: an org served in memory answers its client inside a
// synctest bubble, on the bubble's clock.
func TestStartInMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := emutest.StartInMemory(t, oktaemu.Config{Devices: 3})
		code, h, body := get(t, s, "/api/v1/devices", emutest.AdminAuthorization)
		if code != 200 {
			t.Fatalf("devices: %d %s", code, body)
		}
		if got, want := h.Get("Date"), time.Now().UTC().Format(http.TimeFormat); got != want {
			t.Errorf("Date %q; want the bubble's clock, %q", got, want)
		}
	})
}
