package web

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// TestTokenCreateRefusalsAreAudited: every token creation the API refuses
// is audited as a failure naming who tried and why, an expiresIn that is
// no duration or no lifetime, a body that cannot be read and a query
// parameter the endpoint does not take too, where those were refused
// before the audit and left no trace, unlike a role beyond the caller's.
func TestTokenCreateRefusalsAreAudited(t *testing.T) {
	st := sqlitetest.Open(t)
	tokens := &access.Tokens{Store: st}
	ts, _ := newTestServer(t, &Server{Tokens: tokens, People: &access.People{Store: st}, Limiter: &access.Limiter{}, History: st})
	alice, err := tokens.Create(t.Context(), access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: "alice@example.com"}, Role: access.Operator}, "laptop", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, body, summary, error string
	}{
		{"expiresIn no duration", "", `{"name":"ci","role":"viewer","expiresIn":"soon"}`, "token ci (viewer), expiresIn soon", `expiresIn "soon" is not a duration`},
		{"expiresIn zero", "", `{"name":"ci","expiresIn":"0"}`, "token ci, expiresIn 0", `expiresIn "0" is no lifetime`},
		{"unknown field", "", `{"name":"ci","expires":"1h"}`, "token ci", `unknown field "expires"`},
		{"not JSON", "", `ci for a day`, "a token without a name", "request body is not valid JSON"},
		{"role beyond the caller's", "", `{"name":"ci","role":"admin"}`, "token ci (admin)", "cannot create a token with the admin role"},
		{"unknown query parameter", "?expiresIn=1h", `{"name":"ci"}`, "POST /api/v1/tokens", `unknown query parameter "expiresIn"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, err := st.ListAudit(t.Context(), store.AuditFilter{Action: store.ActionTokenCreate})
			if err != nil {
				t.Fatal(err)
			}
			resp, m := do(t, "POST", ts.URL+"/api/v1/tokens"+tc.path, alice.Token, tc.body)
			if resp.StatusCode/100 != 4 {
				t.Fatalf("status %d %v; want a refusal", resp.StatusCode, m)
			}
			evs, err := st.ListAudit(t.Context(), store.AuditFilter{Action: store.ActionTokenCreate})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != len(before)+1 {
				t.Fatalf("%d token.create audit events after the refusal; want %d", len(evs), len(before)+1)
			}
			ev := evs[0] // newest first
			if ev.Outcome != "failure" || ev.Actor.Login != "alice@example.com" || ev.InputSummary != tc.summary || !strings.Contains(ev.Error, tc.error) {
				t.Errorf("audit event %+v; want a failure of alice@example.com, summary %q, error containing %q", ev, tc.summary, tc.error)
			}
		})
	}
}

// TestTokenRevokeRefusalsAreAudited: a token revocation refused for a
// query parameter it does not take, before its handler, is audited as a
// failure naming who tried, as one of a token that is not the caller's is.
func TestTokenRevokeRefusalsAreAudited(t *testing.T) {
	st := sqlitetest.Open(t)
	tokens := &access.Tokens{Store: st}
	ts, _ := newTestServer(t, &Server{Tokens: tokens, People: &access.People{Store: st}, Limiter: &access.Limiter{}, History: st})
	alice, err := tokens.Create(t.Context(), access.Principal{Actor: store.Actor{Type: store.ActorUser, Login: "alice@example.com"}, Role: access.Operator}, "laptop", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, path, summary, error string }{
		{"not the caller's", "/api/v1/tokens/tok_nobodys", "token tok_nobodys", "tok_nobodys"},
		{"unknown query parameter", "/api/v1/tokens/" + alice.ID + "?force=true", "DELETE /api/v1/tokens/" + alice.ID, `unknown query parameter "force"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, m := do(t, "DELETE", ts.URL+tc.path, alice.Token, "")
			if resp.StatusCode/100 != 4 {
				t.Fatalf("status %d %v; want a refusal", resp.StatusCode, m)
			}
			evs, err := st.ListAudit(t.Context(), store.AuditFilter{Action: store.ActionTokenRevoke, Limit: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Outcome != "failure" || evs[0].Actor.Login != "alice@example.com" || evs[0].InputSummary != tc.summary || !strings.Contains(evs[0].Error, tc.error) {
				t.Errorf("newest token.revoke audit events %+v; want a failure of alice@example.com, summary %q, error containing %q", evs, tc.summary, tc.error)
			}
		})
	}
}

// TestTokenLifetimeRefusalsSayWhatToGive: an expiresIn in days or weeks,
// which Go durations lack, is refused with the same lifetime in hours to
// give instead; one out of range says what was asked and the range in
// hours (8784h, not 8784h0m0s).
func TestTokenLifetimeRefusalsSayWhatToGive(t *testing.T) {
	st := sqlitetest.Open(t)
	ts, _ := newTestServer(t, &Server{Tokens: &access.Tokens{Store: st}, People: &access.People{Store: st}, Limiter: &access.Limiter{}, History: st})
	for _, tc := range []struct{ expiresIn, message, remedy string }{
		{"1d", `expiresIn "1d" is not a duration`, `give it in hours, "24h": a Go duration has no days or weeks`},
		{"30 days", `expiresIn "30 days" is not a duration`, `give it in hours, "720h"`},
		{"2w", `expiresIn "2w" is not a duration`, `give it in hours, "336h"`},
		{"soon", `expiresIn "soon" is not a duration`, `give a Go duration such as "24h" or "720h"`},
		{"10000h", "expiresIn 10000h is longer than a token may last: from 1m to 8784h (366 days)", "give at most 8784h"},
		{"30s", "expiresIn 30s is shorter than a token may last: from 1m to 8784h (366 days)", `give a Go duration`},
		{"-5h", "expiresIn -5h is shorter than a token may last: from 1m to 8784h (366 days)", `give a Go duration`},
		{"0", `expiresIn "0" is no lifetime: a token lasts from 1m to 8784h;`, "leave expiresIn out for the default"},
	} {
		resp, m := do(t, "POST", ts.URL+"/api/v1/tokens", testToken, `{"name":"ci","expiresIn":"`+tc.expiresIn+`"}`)
		e, _ := m["error"].(map[string]any)
		msg, _ := e["message"].(string)
		details, _ := e["details"].(map[string]any)
		remedy, _ := details["remedy"].(string)
		if resp.StatusCode != 400 || !strings.Contains(msg, tc.message) || !strings.Contains(remedy, tc.remedy) || details["field"] != "expiresIn" {
			t.Errorf("expiresIn %q: %d %v; want 400 saying %q, remedy %q", tc.expiresIn, resp.StatusCode, m, tc.message, tc.remedy)
		}
	}
}
