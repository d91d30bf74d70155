package connection

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// introspections counts the org's answers to POST /oauth2/v1/introspect.
func (e *env) introspections(t *testing.T) int {
	t.Helper()
	return e.emu.Stats(t)["POST /oauth2/v1/introspect"]
}

// TestWrongSecretRefusedBeforeSignIn: a client secret the org refuses
// (invalid_client) is refused when it is given, before any sign-in: a
// new connection is not stored, and a working connection given it keeps
// its tokens and stays active. The refusal names the clientSecret field,
// the client ID and the fix, and is audited as a failed create or update.
func TestWrongSecretRefusedBeforeSignIn(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const wrong = keyring.Secret("not-the-apps-secret")

	before := e.introspections(t)
	_, authURL, err := e.m.Create(ctx, CreateInput{Connector: connector, Nickname: "Prod", Domain: e.emu.URL,
		ClientID: oktaemu.DemoClientID, ClientSecret: wrong}, tester)
	p := wantProblem(t, err, "invalid_input", "invalid_client", oktaemu.DemoClientID)
	if p.Details["field"] != "clientSecret" || !strings.Contains(p.Remedy, "General tab") {
		t.Errorf("refusal %+v; want the clientSecret field and where to copy the secret from", p)
	}
	if authURL != "" {
		t.Errorf("authorize URL %q; want none", authURL)
	}
	if n := e.introspections(t) - before; n != 1 {
		t.Errorf("%d introspection requests; want 1", n)
	}
	if list, err := e.m.List(ctx); err != nil || len(list) != 0 {
		t.Errorf("connections after the refusal: %d (%v); want none stored", len(list), err)
	}
	failed := 0
	for _, ev := range e.audit(t, "") {
		if ev.Action == store.ActionConnectionCreate && ev.Outcome == "failure" {
			failed++
		}
	}
	if failed != 1 {
		t.Errorf("%d failed connection.create audit events; want 1", failed)
	}

	// The same connection with the right secret is created and works.
	v := e.connect(t, "Prod")
	tokenBefore := e.open(t, e.conn(t, v.ID), "refresh_token")
	_, err = e.m.Update(ctx, v.ID, UpdateInput{ClientSecret: wrong}, tester)
	p = wantProblem(t, err, "invalid_input", "invalid_client")
	if p.Details["connection"] != v.ID || !strings.Contains(p.Remedy, "the connection was not changed") {
		t.Errorf("refused update %+v; want the connection's id and that it was not changed", p)
	}
	c := e.conn(t, v.ID)
	if c.Status != store.StatusActive || e.open(t, c, "refresh_token") != tokenBefore {
		t.Fatalf("after the refused update: status %s (%s); want active with its refresh token", c.Status, c.StatusReason)
	}
	e.emu.AdvanceClock(t, time.Hour)
	if _, err := e.m.Token(ctx, v.ID); err != nil {
		t.Errorf("token an hour after the refused update: %v; want the connection still working", err)
	}
	found := false
	for _, ev := range e.audit(t, v.ID) {
		if ev.Action == store.ActionConnectionUpdate && ev.Outcome == "failure" {
			found = true
		}
	}
	if !found {
		t.Error("no failed connection.update audit event for the refused secret")
	}
}

// TestSecretCheckWithoutAnAnswer: when the org's introspection gives no
// usable answer (an error page, a connection reset), the credentials are
// not judged and the connection is created as before: the sign-in says
// what is wrong.
func TestSecretCheckWithoutAnAnswer(t *testing.T) {
	e := newEnv(t)
	const introspect = "/oauth2/v1/introspect"
	for i, fault := range []emutest.FaultSpec{{Method: "POST", Path: introspect, Status: 503, Count: 1},
		{Method: "POST", Path: introspect, Body: "html", Status: 401, Count: 1},
		{Method: "POST", Path: introspect, Body: "reset", Count: 1}} {
		e.emu.Inject(t, fault)
		before := e.introspections(t)
		v, authURL := e.create(t, fmt.Sprintf("Prod %d", i), nil)
		if v.Status != store.StatusPending || authURL == "" {
			t.Errorf("fault %+v: status %s, authorize URL %q; want a pending connection to sign in to", fault, v.Status, authURL)
		}
		if n := e.introspections(t) - before; n != 1 {
			t.Errorf("fault %+v: %d introspection requests; want 1 (the check made)", fault, n)
		}
	}
}

// TestReauthorizeWithARotatedSecret: reauthorizing a connection whose
// app's client secret was rotated at the org since is refused before the
// sign-in, naming how to give the connection the new secret; given it,
// the connection reauthorizes.
func TestReauthorizeWithARotatedSecret(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	secret := e.rotateSecret(t)
	authURL, err := e.m.Reauthorize(ctx, v.ID, nil, tester)
	p := wantProblem(t, err, "invalid_input", "invalid_client", `"Prod"`)
	if authURL != "" || !strings.Contains(p.Remedy, "cardflow connections update "+v.ID+" --client-secret-stdin") || !strings.Contains(p.Remedy, "Change secret") {
		t.Errorf("reauthorize: URL %q, remedy %q; want none, and how to give the connection the new secret", authURL, p.Remedy)
	}
	refused := false
	for _, ev := range e.audit(t, v.ID) {
		refused = refused || ev.Action == store.ActionConnectionReauthorize && ev.Outcome == "failure"
	}
	if !refused {
		t.Error("no failed connection.reauthorize audit event")
	}
	if _, err := e.m.Update(ctx, v.ID, UpdateInput{ClientSecret: keyring.Secret(secret)}, tester); err != nil {
		t.Fatalf("update with the new secret: %v", err)
	}
	authURL, err = e.m.Reauthorize(ctx, v.ID, nil, tester)
	if err != nil {
		t.Fatalf("reauthorize with the new secret: %v", err)
	}
	if res := e.signIn(t, authURL, oktaemu.AdminLogin); !res.OK {
		t.Fatalf("sign-in with the new secret: %+v", res)
	}
}
