package app

// Personal API tokens (expiry, revocation, the role ceiling, ownership)
// and the actors the audit, card runs and flow runs name.

import (
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

type tokenJSON struct {
	Lowered *struct {
		Role     string   `json:"role"`
		Sessions int      `json:"sessions"`
		Tokens   []string `json:"tokens"`
	} `json:"lowered"`
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Token      string     `json:"token"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	Owner      struct {
		Type  string `json:"type"`
		Login string `json:"login"`
	} `json:"owner"`
}

func (h *harness) tokens(token, query string) []tokenJSON {
	h.t.Helper()
	var out struct {
		Tokens []tokenJSON `json:"tokens"`
	}
	if code, data := h.callWith(token, "GET", "/api/v1/tokens"+query, nil, &out); code != http.StatusOK {
		h.t.Fatalf("list tokens: status %d\n%s", code, data)
	}
	return out.Tokens
}

// names returns the tokens' names, sorted.
func names(ts []tokenJSON) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	slices.Sort(out)
	return out
}

func TestPersonalTokens(t *testing.T) {
	t.Parallel()
	clk := emutest.NewClock(time.Now())
	h := startHarness(t, oktaemu.Config{Devices: 2}, func(c *Config) { c.Now = clk.Now })
	ctx := t.Context()
	person := func(login string, role access.Role) access.Principal {
		return access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: login}, Role: role}
	}
	// What single sign-on gives Alice (operator) and Bob (viewer).
	alice, err := h.app.Tokens.Create(ctx, person("alice@example.com", access.Operator), "laptop", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := h.app.Tokens.Create(ctx, person("bob@example.com", access.Viewer), "bob's", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if alice.Role != "operator" || alice.ExpiresAt.Sub(clk.Now()) != access.DefaultTokenLifetime {
		t.Errorf("alice's token: role %s, expires %v; want operator, in %v", alice.Role, alice.ExpiresAt, access.DefaultTokenLifetime)
	}

	t.Run("role ceiling", func(t *testing.T) {
		var e apiErr
		code, data := h.callWith(alice.Token, "POST", "/api/v1/tokens", map[string]any{"name": "too much", "role": "admin"}, &e)
		if code != http.StatusForbidden || e.Error.Code != "forbidden" {
			t.Errorf("operator creating an admin token: status %d; want 403\n%s", code, data)
		}
		var tok tokenJSON
		code, data = h.callWith(alice.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "role": "viewer", "expiresIn": "1h"}, &tok)
		if code != http.StatusCreated || tok.Token == "" || tok.Role != "viewer" || tok.Owner.Login != "alice@example.com" ||
			!tok.ExpiresAt.Equal(clk.Now().Add(time.Hour).UTC().Truncate(0)) && tok.ExpiresAt.Sub(clk.Now()) != time.Hour {
			t.Errorf("operator creating a viewer token: status %d %+v\n%s", code, tok, data)
		}
		// The viewer token may read, not run cards.
		if code, _ := h.callWith(tok.Token, "GET", "/api/v1/connections", nil, nil); code != http.StatusOK {
			t.Errorf("viewer token reading connections: status %d; want 200", code)
		}
		if code, _ := h.callWith(tok.Token, "POST", "/api/v1/runs", map[string]any{}, &e); code != http.StatusForbidden {
			t.Errorf("viewer token running a card: status %d; want 403", code)
		}
		for _, bad := range []map[string]any{{"name": ""}, {"name": "x", "expiresIn": "soon"}, {"name": "x", "expiresIn": "10000h"}, {"name": "x", "expiresIn": "0"}, {"name": "x", "expiresIn": "0s"}, {"name": "x", "role": "root"}} {
			if code, data := h.callWith(alice.Token, "POST", "/api/v1/tokens", bad, &e); code != http.StatusBadRequest || e.Error.Code != "invalid_input" {
				t.Errorf("create %v: status %d; want 400 invalid_input\n%s", bad, code, data)
			}
		}
	})

	t.Run("ownership", func(t *testing.T) {
		if got := names(h.tokens(alice.Token, "")); fmt.Sprint(got) != "[ci laptop]" {
			t.Errorf("alice's tokens %v; want [ci laptop]", got)
		}
		if got := names(h.tokens(bob.Token, "")); fmt.Sprint(got) != "[bob's]" {
			t.Errorf("bob's tokens %v; want [bob's]", got)
		}
		var e apiErr
		if code, data := h.callWith(alice.Token, "GET", "/api/v1/tokens?all=true", nil, &e); code != http.StatusForbidden ||
			e.Error.Code != "forbidden" || e.Error.Details["requiredRole"] != "admin" {
			t.Errorf("an operator listing everyone's tokens: status %d; want 403 forbidden with requiredRole admin\n%s", code, data)
		}
		if code, _ := h.callWith(alice.Token, "DELETE", "/api/v1/tokens/"+bob.ID, nil, &e); code != http.StatusNotFound {
			t.Errorf("alice revoking bob's token: status %d; want 404", code)
		}
		all := h.tokens(testAPIToken, "?all=true")
		if len(all) != 3 {
			t.Errorf("the admin lists %v; want every token (3)", names(all))
		}
		for _, tok := range all {
			if tok.Token != "" {
				t.Errorf("a token list shows the token %q itself", tok.Name)
			}
		}
	})

	t.Run("a weaker token of the same owner", func(t *testing.T) {
		weak, err := h.app.Tokens.Create(ctx, person("alice@example.com", access.Viewer), "dashboard", "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var e apiErr
		if code, data := h.callWith(weak.Token, "DELETE", "/api/v1/tokens/"+alice.ID, nil, &e); code != http.StatusForbidden ||
			e.Error.Code != "forbidden" || e.Error.Details["requiredRole"] != "operator" {
			t.Errorf("alice's viewer token revoking her operator token: status %d; want 403 forbidden with requiredRole operator\n%s", code, data)
		}
		if code, _ := h.callWith(alice.Token, "GET", "/api/v1/whoami", nil, nil); code != http.StatusOK {
			t.Errorf("alice's operator token after the refused revocation: status %d; want 200", code)
		}
		if code, data := h.callWith(weak.Token, "DELETE", "/api/v1/tokens/"+weak.ID, nil, nil); code != http.StatusNoContent {
			t.Errorf("a viewer token revoking itself: status %d; want 204\n%s", code, data)
		}
	})

	t.Run("revocation", func(t *testing.T) {
		if code, data := h.callWith(testAPIToken, "DELETE", "/api/v1/tokens/"+bob.ID, nil, nil); code != http.StatusNoContent {
			t.Fatalf("the admin revoking bob's token: status %d\n%s", code, data)
		}
		var e apiErr
		if code, _ := h.callWith(bob.Token, "GET", "/api/v1/connections", nil, &e); code != http.StatusUnauthorized || e.Error.Code != "unauthenticated" {
			t.Errorf("a revoked token: status %d %s; want 401", code, e.Error.Code)
		}
	})

	t.Run("last used and expiry", func(t *testing.T) {
		clk.Advance(2 * time.Minute)
		if code, _ := h.callWith(alice.Token, "GET", "/api/v1/whoami", nil, nil); code != http.StatusOK {
			t.Fatalf("whoami: status %d", code)
		}
		for _, tok := range h.tokens(testAPIToken, "?all=true") {
			if tok.ID == alice.ID && (tok.LastUsedAt == nil || !tok.LastUsedAt.Equal(clk.Now())) {
				t.Errorf("lastUsedAt %v; want %v", tok.LastUsedAt, clk.Now())
			}
		}
		clk.Advance(access.DefaultTokenLifetime)
		var e apiErr
		code, data := h.callWith(alice.Token, "GET", "/api/v1/whoami", nil, &e)
		if code != http.StatusUnauthorized || e.Error.Code != "unauthenticated" {
			t.Errorf("an expired token: status %d; want 401\n%s", code, data)
		}
		// Its holder learns that it expired, and when, and what to do.
		expired := timetext.Format(alice.ExpiresAt)
		if remedy := fmt.Sprint(e.Error.Details["remedy"]); !strings.Contains(e.Error.Message, `token "laptop" expired on `+expired) ||
			!strings.Contains(remedy, "cardflow tokens create") || !strings.Contains(remedy, "cardflow login") {
			t.Errorf("an expired token: %s; want it to say that the token laptop expired on %s and how to get a new one", data, expired)
		}
	})

	t.Run("wrong tokens are slowed down per address", func(t *testing.T) {
		// Someone guesses tokens from 127.0.0.2; the admin works from
		// 127.0.0.1.
		guesser := *h
		guesser.t = t
		guesser.http = &http.Client{Transport: &http.Transport{
			DialContext: (&net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}).DialContext}}
		defer guesser.http.CloseIdleConnections()
		var e apiErr
		for i := range 20 {
			if code, _ := guesser.callWith("cfp_wrong", "GET", "/api/v1/whoami", nil, &e); code != http.StatusUnauthorized {
				t.Fatalf("wrong token %d: status %d; want 401", i+1, code)
			}
		}
		code, data := guesser.callWith("cfp_wrong", "GET", "/api/v1/whoami", nil, &e)
		if code != http.StatusTooManyRequests || e.Error.Code != "rate_limited" || !strings.Contains(fmt.Sprint(e.Error.Details["remedy"]), "wait 1m0s") {
			t.Errorf("the 21st wrong token in a minute: status %d; want 429 rate_limited saying to wait a minute\n%s", code, data)
		}
		if code, _ := guesser.callWith(testAPIToken, "GET", "/api/v1/whoami", nil, nil); code != http.StatusTooManyRequests {
			t.Errorf("the API token from the guessing address: status %d; want 429 until the minute is over", code)
		}
		if code, _ := h.callWith(testAPIToken, "GET", "/api/v1/whoami", nil, nil); code != http.StatusOK {
			t.Errorf("the admin at another address: status %d; want 200 (a guesser must not lock the admin out)", code)
		}
		clk.Advance(time.Minute)
		if code, _ := guesser.callWith(testAPIToken, "GET", "/api/v1/whoami", nil, nil); code != http.StatusOK {
			t.Errorf("the guessing address a minute later, with the API token: status %d; want 200", code)
		}
	})
}

func TestAuditNamesActors(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	conn := h.connect("Prod")
	ctx := t.Context()
	op, err := h.app.Tokens.Create(ctx, access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: "olga@example.com"}, Role: access.Operator}, "olga-ci", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	tokenActor := map[string]any{"type": "token", "login": "olga@example.com", "tokenName": "olga-ci"}

	var run struct {
		ID    string         `json:"id"`
		Actor map[string]any `json:"actor"`
	}
	if code, data := h.callWith(op.Token, "POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": "Prod",
		"input": map[string]any{"resultSet": "first"}}, &run); code != http.StatusCreated {
		t.Fatalf("card run: status %d\n%s", code, data)
	}
	if fmt.Sprint(run.Actor) != fmt.Sprint(tokenActor) {
		t.Errorf("card run actor %v; want %v", run.Actor, tokenActor)
	}

	const flowDoc = `name: list-active
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      search: 'status eq "ACTIVE"'
      resultSet: first
`
	if code, data := h.postYAML("/api/v1/flows", flowDoc, nil); code != http.StatusCreated {
		t.Fatalf("store flow: status %d\n%s", code, data)
	}
	var fr struct {
		ID     string         `json:"id"`
		Status string         `json:"status"`
		Actor  map[string]any `json:"actor"`
	}
	if code, data := h.callWith(op.Token, "POST", "/api/v1/flows/list-active/runs?wait=true", map[string]any{}, &fr); code != http.StatusOK || fr.Status != "succeeded" {
		t.Fatalf("flow run: status %d\n%s", code, data)
	}
	if fmt.Sprint(fr.Actor) != fmt.Sprint(tokenActor) {
		t.Errorf("flow run actor %v; want %v", fr.Actor, tokenActor)
	}
	var runs struct {
		Runs []struct {
			Actor map[string]any `json:"actor"`
		} `json:"runs"`
	}
	h.call("GET", "/api/v1/runs?flowRun="+fr.ID, nil, &runs)
	if len(runs.Runs) != 1 || fmt.Sprint(runs.Runs[0].Actor) != fmt.Sprint(tokenActor) {
		t.Errorf("the flow run's card runs %v; want one, started by %v", runs.Runs, tokenActor)
	}

	byAction := map[string]map[string]any{}
	for _, ev := range h.audit("limit=100") {
		byAction[ev["action"].(string)] = ev
	}
	for action, want := range map[string]string{
		"connection.create":    "map[type:bootstrap]",
		"connection.authorize": "map[type:bootstrap]",
		"card.run":             fmt.Sprint(tokenActor),
		"flow.run":             fmt.Sprint(tokenActor),
	} {
		ev := byAction[action]
		if ev == nil {
			t.Errorf("no %s audit event", action)
			continue
		}
		if got := fmt.Sprint(ev["actor"]); got != want {
			t.Errorf("%s actor %s; want %s", action, got, want)
		}
	}
	mine := h.audit("actor=olga@example.com")
	if len(mine) != 3 {
		t.Errorf("audit ?actor=olga@example.com: %d events; want her card run, her flow run and its card run", len(mine))
	}
	_ = conn
}

// TestTokenCannotOutliveItsCreator: a personal token cannot mint a token
// that lasts longer than itself (else a leaked token could renew itself
// forever); asked to, it is refused with the latest end it may ask for,
// and a token asked for without expiresIn ends with its creator. A
// person signed in, and the bootstrap admin, are not bound so.
func TestTokenCannotOutliveItsCreator(t *testing.T) {
	t.Parallel()
	clk := emutest.NewClock(time.Now())
	h := startHarness(t, oktaemu.Config{Devices: 2}, func(c *Config) { c.Now = clk.Now })
	parent, err := h.app.Tokens.Create(t.Context(), access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: "alice@example.com"}, Role: access.Admin},
		"laptop", "", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var e apiErr
	code, data := h.callWith(parent.Token, "POST", "/api/v1/tokens", map[string]any{"name": "forever", "expiresIn": "720h"}, &e)
	if code != http.StatusForbidden || e.Error.Code != "forbidden" || e.Error.Details["field"] != "expiresIn" ||
		!strings.Contains(e.Error.Message, "this token expires on "+timetext.Format(parent.ExpiresAt)+", and a token it creates cannot outlive it; expiresIn 720h0m0s would end on "+timetext.Format(clk.Now().Add(720*time.Hour))) ||
		!strings.Contains(fmt.Sprint(e.Error.Details["remedy"]), "at most 24h0m0s") {
		t.Errorf("a 24h token creating a 720h token: status %d; want 403 forbidden saying it cannot outlive its creator, with the longest allowed\n%s", code, data)
	}
	if got := names(h.tokens(parent.Token, "")); fmt.Sprint(got) != "[laptop]" {
		t.Errorf("after the refusal alice has the tokens %v; want only [laptop]", got)
	}

	clk.Advance(time.Hour)
	var tok tokenJSON
	if code, data := h.callWith(parent.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci"}, &tok); code != http.StatusCreated ||
		!tok.ExpiresAt.Equal(parent.ExpiresAt) {
		t.Errorf("a token asked for without expiresIn: status %d, expires %v; want 201 ending with its creator at %v\n%s", code, tok.ExpiresAt, parent.ExpiresAt, data)
	}
	// The audit names the token made, with the role and the end it got,
	// not the empty role and expiry asked for.
	var created []string
	for _, ev := range h.audit("action=token.create") {
		created = append(created, fmt.Sprint(ev["inputSummary"]))
	}
	if want := "token ci (admin), expires " + timetext.Format(parent.ExpiresAt); !slices.Contains(created, want) {
		t.Errorf("token.create audit events %q; want one %q", created, want)
	}
	if code, data := h.callWith(tok.Token, "POST", "/api/v1/tokens", map[string]any{"name": "grandchild", "expiresIn": "24h"}, &e); code != http.StatusForbidden {
		t.Errorf("the child token creating one beyond its own end: status %d; want 403\n%s", code, data)
	}
	if code, data := h.callWith(parent.Token, "POST", "/api/v1/tokens", map[string]any{"name": "short", "expiresIn": "1h"}, &tok); code != http.StatusCreated ||
		tok.ExpiresAt.Sub(clk.Now()) != time.Hour {
		t.Errorf("a token within its creator's life: status %d, expires %v; want 201 in 1h\n%s", code, tok.ExpiresAt, data)
	}
	if code, data := h.callWith(testAPIToken, "POST", "/api/v1/tokens", map[string]any{"name": "long", "expiresIn": "720h"}, &tok); code != http.StatusCreated {
		t.Errorf("the bootstrap admin creating a 720h token: status %d; want 201\n%s", code, data)
	}
}

// TestRevokingATokenRevokesWhatItCreated: revoking a token also revokes
// the tokens it created and theirs, so that a leaked token's offspring do
// not outlive it; tokens its owner created otherwise stay. A token the
// revoked one created while it was being revoked is refused too.
func TestRevokingATokenRevokesWhatItCreated(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	ctx := t.Context()
	alice := access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: "alice@example.com"}, Role: access.Admin}
	laptop, err := h.app.Tokens.Create(ctx, alice, "laptop", "", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, err := h.app.Tokens.Create(ctx, alice, "other", "", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var ci, nightly tokenJSON
	if code, data := h.callWith(laptop.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci"}, &ci); code != http.StatusCreated {
		t.Fatalf("create ci: status %d\n%s", code, data)
	}
	if code, data := h.callWith(ci.Token, "POST", "/api/v1/tokens", map[string]any{"name": "nightly", "role": "viewer"}, &nightly); code != http.StatusCreated {
		t.Fatalf("create nightly: status %d\n%s", code, data)
	}

	if code, data := h.callWith(other.Token, "DELETE", "/api/v1/tokens/"+laptop.ID, nil, nil); code != http.StatusNoContent {
		t.Fatalf("revoke laptop: status %d\n%s", code, data)
	}
	for name, tok := range map[string]string{"laptop": laptop.Token, "ci (made by laptop)": ci.Token, "nightly (made by ci)": nightly.Token} {
		if code, _ := h.callWith(tok, "GET", "/api/v1/whoami", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("%s after laptop was revoked: status %d; want 401", name, code)
		}
	}
	if code, _ := h.callWith(other.Token, "GET", "/api/v1/whoami", nil, nil); code != http.StatusOK {
		t.Errorf("another token of alice after laptop was revoked: status %d; want 200", code)
	}
	if got := names(h.tokens(other.Token, "")); fmt.Sprint(got) != "[other]" {
		t.Errorf("alice's tokens after laptop was revoked: %v; want [other]", got)
	}
	var revoked []string
	for _, ev := range h.audit("action=token.revoke") {
		revoked = append(revoked, fmt.Sprint(ev["inputSummary"]))
	}
	if want := "token laptop (admin) of alice@example.com, with the tokens it created: ci, nightly"; !slices.Contains(revoked, want) {
		t.Errorf("token.revoke audit events %q; want %q", revoked, want)
	}

	// A request laptop authenticated just before its revocation creates no
	// token after it.
	_, err = h.app.Tokens.Create(ctx, access.Principal{Actor: store.Actor{Type: store.ActorToken, Login: "alice@example.com", TokenName: "laptop"},
		Role: access.Admin, TokenID: laptop.ID, ExpiresAt: laptop.ExpiresAt}, "late", "", 0)
	if problem.CodeOf(err) != problem.Unauthenticated {
		t.Errorf("laptop creating a token after its revocation: %v; want it refused as revoked", err)
	}
	if got := names(h.tokens(other.Token, "")); fmt.Sprint(got) != "[other]" {
		t.Errorf("alice's tokens after laptop created one after its revocation: %v; want [other]", got)
	}
}

// TestCLILoginRefusalSaysWhenItEnds: after 20 failed cardflow login
// redemptions from one address, the refusal says how long to wait, rounded
// up to the second, and until when: rounded down, a login retried as told
// was refused again.
func TestCLILoginRefusalSaysWhenItEnds(t *testing.T) {
	t.Parallel()
	clk := emutest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	h := startHarness(t, oktaemu.Config{Devices: 1}, func(c *Config) { ssoConfig(c, c.TrustedOrigins[0]); c.Now = clk.Now })
	bad := map[string]any{"code": "not-a-code", "codeVerifier": "v", "nonce": "n", "redirectUri": "http://127.0.0.1:1/callback"}
	for i := range 20 {
		if code, data := h.callWith("", "POST", "/api/v1/auth/cli-token", bad, nil); code == http.StatusCreated || code == http.StatusTooManyRequests {
			t.Fatalf("failed redemption %d: status %d\n%s", i+1, code, data)
		}
	}
	clk.Advance(29*time.Second + 600*time.Millisecond)
	var e struct {
		Error struct {
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	code, data := h.callWith("", "POST", "/api/v1/auth/cli-token", bad, &e)
	if remedy := fmt.Sprint(e.Error.Details["remedy"]); code != http.StatusTooManyRequests || !strings.Contains(remedy, "wait 31s (until 10:01:00 UTC)") ||
		e.Error.Details["refusedUntil"] != "2026-03-01T10:01:00Z" {
		t.Errorf("the 21st redemption 30.4 s before the minute ends: %d %s; want 429 saying to wait 31s, until 10:01:00 UTC", code, data)
	}
}

// TestCLILoginProviderOutageLocksOutNoOne: cardflow login redemptions that
// fail because the identity provider does not answer the code exchange (an
// outage at the provider) are no wrong guesses: however many there are,
// the address's requests with a right token go on, where 20 of them
// refused every request from the address for a minute as "too many wrong
// API tokens"; redemptions the provider refuses still count.
func TestCLILoginProviderOutageLocksOutNoOne(t *testing.T) {
	t.Parallel()
	clk := emutest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	h := startHarness(t, oktaemu.Config{Devices: 1}, func(c *Config) { ssoConfig(c, c.TrustedOrigins[0]); c.Now = clk.Now })
	// Each redemption may ask twice (golang.org/x/oauth2 tries the other
	// client authentication after an error).
	h.emu.Fault(t, "POST", "/oauth2/v1/token", http.StatusServiceUnavailable, 50)
	bad := map[string]any{"code": "not-a-code", "codeVerifier": "v", "nonce": "n", "redirectUri": "http://127.0.0.1:1/callback"}
	for i := range 25 {
		if code, data := h.callWith("", "POST", "/api/v1/auth/cli-token", bad, nil); code != http.StatusBadGateway {
			t.Fatalf("redemption %d while the provider fails: status %d; want 502\n%s", i+1, code, data)
		}
	}
	if code, data := h.call("GET", "/api/v1/whoami", nil, nil); code != http.StatusOK {
		t.Fatalf("the API token after 25 redemptions the provider did not answer: status %d; want 200\n%s", code, data)
	}
	for i := range 20 {
		if code, data := h.callWith("", "POST", "/api/v1/auth/cli-token", bad, nil); code != http.StatusUnauthorized {
			t.Fatalf("redemption %d the provider refuses: status %d; want 401\n%s", i+1, code, data)
		}
	}
	if code, data := h.call("GET", "/api/v1/whoami", nil, nil); code != http.StatusTooManyRequests {
		t.Errorf("the API token after 20 redemptions the provider refused: status %d; want 429\n%s", code, data)
	}
}
