package oktaemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

const day = 24 * time.Hour

// introspectRefresh returns the active flag and exp of a refresh token.
func introspectRefresh(t *testing.T, s *emutest.Server, rt string) (bool, time.Time) {
	t.Helper()
	r := emuForm(t, s, "/oauth2/v1/introspect", url.Values{"token": {rt}, "token_type_hint": {"refresh_token"}})
	var v struct {
		Active    bool    `json:"active"`
		Exp       int64   `json:"exp"`
		TokenType string  `json:"token_type"`
		UID       *string `json:"uid"`
	}
	if err := json.Unmarshal([]byte(r.body), &v); err != nil || r.status != 200 {
		t.Fatalf("introspect: %d %s", r.status, r.body)
	}
	// Okta's IntrospectionResponse: token_type "is always Bearer"; uid
	// comes only with access tokens.
	if v.Active && (v.TokenType != "Bearer" || v.UID != nil) {
		t.Errorf("token_type %q, uid %v; want Bearer and no uid", v.TokenType, v.UID)
	}
	return v.Active, time.Unix(v.Exp, 0)
}

// TestRefreshTokenLifetime: the org authorization server's refresh tokens
// live 90 days from the sign-in; every rotated token keeps that expiry
// (EVENTS.md §7), introspection reports it, and after it a refresh is
// invalid_grant — through x/oauth2, and the last access token stops
// working for Okta's SDK an hour later.
func TestRefreshTokenLifetime(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 2})
	ctx := context.Background()
	conf := emuOAuth(s, emuScopes("okta.devices.read")...)
	signIn := s.Now()
	tok := emuLogin(t, s, oktaemu.AdminLogin, conf.Scopes...)
	active, exp := introspectRefresh(t, s, tok.RefreshToken)
	if !active || exp.Unix() != signIn.Add(90*day).Unix() {
		t.Fatalf("fresh refresh token: active %v exp %v; want exp %v", active, exp, signIn.Add(90*day))
	}
	refresh := func(rt string) (*oauth2.Token, error) {
		return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt}).Token()
	}
	rt := tok.RefreshToken
	for _, at := range []time.Duration{10 * day, 45 * day, 89*day + 23*time.Hour} {
		s.AdvanceClock(t, signIn.Add(at).Sub(s.Now()))
		nt, err := refresh(rt)
		if err != nil {
			t.Fatalf("refresh on day %v: %v", at/day, err)
		}
		if nt.RefreshToken == "" || nt.RefreshToken == rt {
			t.Fatalf("refresh on day %v did not rotate the refresh token", at/day)
		}
		rt, tok = nt.RefreshToken, nt
		if _, exp := introspectRefresh(t, s, rt); exp.Unix() != signIn.Add(90*day).Unix() {
			t.Errorf("rotated on day %v: exp %v; want the sign-in's %v", at/day, exp, signIn.Add(90*day))
		}
	}
	sdk := newSDK(t, s, s.Client, okta.WithAuthorizationMode("Bearer"), okta.WithToken(tok.AccessToken))
	if _, _, err := sdk.DeviceAPI.ListDevices(ctx).Execute(); err != nil {
		t.Fatalf("SDK with the last access token: %v", err)
	}

	s.AdvanceClock(t, signIn.Add(90*day+time.Minute).Sub(s.Now()))
	if active, _ := introspectRefresh(t, s, rt); active {
		t.Error("refresh token active after 90 days")
	}
	_, err := refresh(rt)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after 90 days: %v; want invalid_grant", err)
	}
	s.AdvanceClock(t, time.Hour)
	_, resp, err := sdk.DeviceAPI.ListDevices(ctx).Execute()
	if status, code := sdkError(t, resp, err); status != http.StatusUnauthorized || code != "E0000011" {
		t.Errorf("SDK after the access token expired: %d %s; want 401 E0000011", status, code)
	}

	// A new sign-in starts a new 90 days.
	signIn = s.Now()
	tok = emuLogin(t, s, oktaemu.AdminLogin, conf.Scopes...)
	if _, exp := introspectRefresh(t, s, tok.RefreshToken); exp.Unix() != signIn.Add(90*day).Unix() {
		t.Errorf("new sign-in: exp %v; want %v", exp, signIn.Add(90*day))
	}
}
