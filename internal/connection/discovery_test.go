package connection

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// TestAuthorizationWhenDiscoveryFails: when the code exchange, the org's
// OpenID discovery document or its signing keys fail, the authorization
// fails saying which and how, with no part of the org's error page.
func TestAuthorizationWhenDiscoveryFails(t *testing.T) {
	tests := []struct {
		name  string
		fault emutest.FaultSpec
		want  []string
	}{
		{name: "discovery answers an HTML 503", fault: emutest.FaultSpec{Method: "GET", Path: "/.well-known/openid-configuration", Status: 503, Body: "html"},
			want: []string{"the org's OpenID discovery document", "503 Service Unavailable", "authorize again"}},
		{name: "keys answer an empty 502", fault: emutest.FaultSpec{Method: "GET", Path: "/oauth2/v1/keys", Status: 502, Body: "empty"},
			want: []string{"the org's signing keys", "502 Bad Gateway", "authorize again"}},
		{name: "keys answer an HTML page with 200", fault: emutest.FaultSpec{Method: "GET", Path: "/oauth2/v1/keys", Status: 200, Body: "html"},
			want: []string{"the org's signing keys", "text/html instead of JSON"}},
		{name: "token exchange answers an HTML 502", fault: emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/token", Status: 502, Body: "html"},
			want: []string{"the org answered HTTP 502"}},
		{name: "token exchange answer cut short", fault: emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/token", After: true, Body: "truncated"},
			want: []string{"the org's answer could not be used"}},
		{name: "token exchange connection reset", fault: emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/token", Body: "reset"},
			want: []string{"the connection to the org broke before its answer arrived"}},
		{name: "discovery cut short", fault: emutest.FaultSpec{Method: "GET", Path: "/.well-known/openid-configuration", After: true, Body: "truncated"},
			want: []string{"the org's OpenID discovery document", "could not be read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			_, authURL := e.create(t, "Conn", nil)
			e.emu.Inject(t, tt.fault)
			res := e.signIn(t, authURL, oktaemu.AdminLogin)
			if res.OK {
				t.Fatal("authorization succeeded; want it to fail")
			}
			text := res.Message + "; " + res.Remedy
			if res.Code != problem.UpstreamError || strings.ContainsAny(text, "<>") || strings.Contains(text, "domain is the org's own") {
				t.Errorf("%s: %q; want an upstream error without HTML and without blaming the domain", res.Code, text)
			}
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("result %q; want it to contain %q", text, w)
				}
			}
			if c := e.conn(t, res.ConnectionID); c.Status != store.StatusError || len(c.SealedRefreshToken) != 0 {
				t.Errorf("connection %s with tokens %v; want error and none stored", c.Status, len(c.SealedRefreshToken) != 0)
			}
		})
	}
}

// TestIDTokenVerifierChecks: the verifier built from the org's discovery
// document and keys accepts the org's ID token and refuses a tampered
// one and one for another client.
func TestIDTokenVerifierChecks(t *testing.T) {
	e := newEnv(t)
	v := e.connect(t, "Prod")
	idToken := e.open(t, e.conn(t, v.ID), "id_token")
	ctx := t.Context()
	ver, err := e.m.idTokenVerifier(ctx, e.emu.URL, oktaemu.DemoClientID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ver.Verify(ctx, idToken); err != nil {
		t.Fatalf("Verify of the org's ID token: %v", err)
	}
	parts := strings.Split(idToken, ".")
	sig := []byte(parts[2])
	sig[10] ^= 1
	if _, err := ver.Verify(ctx, parts[0]+"."+parts[1]+"."+string(sig)); err == nil {
		t.Error("Verify accepted a tampered signature")
	}
	other, err := e.m.idTokenVerifier(ctx, e.emu.URL, "0oasomeoneelse")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Verify(ctx, idToken); err == nil {
		t.Error("Verify accepted an ID token for another client")
	}
}

// TestDeleteRevocationAnsweredByAProxy: a 200 page that is not the org's
// empty answer does not count as a revocation; the deletion warns that the
// refresh token may still be valid.
func TestDeleteRevocationAnsweredByAProxy(t *testing.T) {
	e := newEnv(t)
	v := e.connect(t, "Prod")
	rt := e.open(t, e.conn(t, v.ID), "refresh_token")
	e.emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/revoke", Status: 200, Body: "html"})
	res, err := e.m.DeleteWithResult(t.Context(), v.ID, tester)
	if err != nil {
		t.Fatal(err)
	}
	if res.Revoked || !strings.Contains(res.Warning, "could not be revoked") || strings.ContainsAny(res.Warning, "<>") {
		t.Errorf("DeleteWithResult = %+v; want a warning about the revocation, without HTML", res)
	}
	// Indeed the org never revoked it.
	if code, _ := e.oauthPost(t, "/oauth2/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); code != http.StatusOK {
		t.Errorf("refresh with the token: %d; want 200 (the page was not the org's answer)", code)
	}
}

// TestSigningKeysOnlyFromTheOrg: a discovery document that names signing
// keys on another origin fails the authorization, and cardflow makes no
// request to that origin.
func TestSigningKeysOnlyFromTheOrg(t *testing.T) {
	var elsewhere []string
	h := &hookTransport{}
	e := newEnv(t, withHook(h))
	org, _ := url.Parse(e.emu.URL)
	other := "http://localhost:" + org.Port()
	h.before = func(r *http.Request) error {
		if r.URL.Host != org.Host {
			elsewhere = append(elsewhere, r.Method+" "+r.URL.String())
		}
		return nil
	}
	h.after = func(r *http.Request, resp *http.Response) (*http.Response, error) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			return resp, nil
		}
		var disc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&disc); err != nil {
			return nil, err
		}
		_ = resp.Body.Close()
		disc["jwks_uri"] = other + "/oauth2/v1/keys"
		b, _ := json.Marshal(disc)
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Del("Content-Length")
		return resp, nil
	}
	_, authURL := e.create(t, "Conn", nil)
	res := e.signIn(t, authURL, oktaemu.AdminLogin)
	if res.OK {
		t.Fatal("authorization succeeded with signing keys on another origin; want it to fail")
	}
	if len(elsewhere) > 0 {
		t.Errorf("cardflow called another origin than the org's: %v", elsewhere)
	}
	if text := res.Message + "; " + res.Remedy; !strings.Contains(text, "jwks_uri") || !strings.Contains(text, other) || !strings.Contains(text, "not on the org") {
		t.Errorf("result %q; want it to say the signing keys (jwks_uri) at %s are not on the org", text, other)
	}
}
