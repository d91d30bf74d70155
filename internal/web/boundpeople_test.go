package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/sso"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// TestPeopleListsBoundSignIns: GET /api/v1/people lists, besides the
// people holding access, the logins that hold nothing but their binding
// (bound: login, subject, issuer, boundSince), by login ignoring case and
// paged on their own (boundAfter, boundNext); a revoke of one names the
// issuer of the binding it forgot, in its answer and its audit event.
func TestPeopleListsBoundSignIns(t *testing.T) {
	ctx := t.Context()
	st := sqlitetest.Open(t)
	const oldIdP = "https://old-idp.example.com/oauth2/default"
	now := time.Now().UTC().Truncate(time.Second)
	for i, b := range []struct{ login, issuer string }{
		{"ada@example.com", "https://idp.example.com"}, {"Bo@example.com", oldIdP}, {"cy@example.com", ""}, {"dee@example.com", "https://idp.example.com"},
	} {
		at := now.Add(time.Duration(i) * time.Minute)
		if err := st.StartSignIn(ctx, "si-"+b.login, at.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateSession(ctx, &store.Session{ID: "s-" + b.login, Actor: store.Actor{Type: store.ActorUser, Login: b.login}, Role: "viewer", CSRF: "c",
			SignIn: "si-" + b.login, Subject: "00u-" + b.login, Issuer: b.issuer, CreatedAt: at, ExpiresAt: at.Add(time.Hour), LastSeen: at}); err != nil {
			t.Fatal(err)
		}
		if b.login == "ada@example.com" {
			continue // ada keeps her session
		}
		if _, err := st.DeleteSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: b.login}); err != nil {
			t.Fatal(err)
		}
	}
	// Bo, signed out, enabled a flow, which acts as him still.
	trigger := []byte(`{"every":"1h0m0s","kind":"schedule","timezone":"UTC"}`)
	nightly := &store.Flow{Name: "nightly", Source: []byte("name: nightly\n"), Trigger: trigger, CreatedAt: now, UpdatedAt: now}
	if _, err := st.PutFlow(ctx, nightly); err != nil {
		t.Fatal(err)
	}
	if err := st.SetFlowEnabled(ctx, nightly.ID, trigger, true, now.Add(time.Hour), store.Actor{Type: store.ActorUser, Login: "Bo@example.com"}); err != nil {
		t.Fatal(err)
	}
	ts, _ := newTestServer(t, &Server{Tokens: &access.Tokens{Store: st}, People: &access.People{Store: st, Now: func() time.Time { return now.Add(5 * time.Minute) }},
		Limiter: &access.Limiter{}, History: st, SSO: &idpSSO{id: &sso.Identity{Issuer: "https://idp.example.com"}}})
	list := func(path string) api.PeopleList {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out api.PeopleList
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d, %v", path, resp.StatusCode, err)
		}
		return out
	}
	logins := func(bound []api.BoundSignIn) string {
		var out []string
		for _, b := range bound {
			out = append(out, b.Login)
		}
		return strings.Join(out, " ")
	}

	all := list("/api/v1/people")
	if len(all.People) != 1 || all.People[0].Login != "ada@example.com" {
		t.Errorf("people: %+v; want ada alone", all.People)
	}
	if f := all.FlowsWithoutAccess; len(f) != 1 || f[0].Login != "Bo@example.com" || len(f[0].EnabledFlows) != 1 || f[0].EnabledFlows[0] != "nightly" {
		t.Errorf("flows without access: %+v; want Bo's nightly", f)
	}
	if got := logins(all.Bound); got != "Bo@example.com cy@example.com dee@example.com" || all.BoundNext != "" {
		t.Fatalf("bound: %q, boundNext %q; want Bo, cy and dee, on one page", got, all.BoundNext)
	}
	if bo := all.Bound[0]; bo.Subject != "00u-Bo@example.com" || bo.Issuer != oldIdP || !bo.BoundSince.Equal(now.Add(time.Minute)) {
		t.Errorf("Bo's binding: %+v; want subject 00u-Bo@example.com, issuer %s, bound since %s", bo, oldIdP, now.Add(time.Minute))
	}
	if cy := all.Bound[1]; cy.Issuer != "" || cy.IssuerNotCurrent {
		t.Errorf("cy's binding: %+v; want no issuer, not marked", cy)
	}
	// Bo's binding is at an identity provider the server no longer signs
	// in with; dee's at the current one.
	if bo, dee := all.Bound[0], all.Bound[2]; !bo.IssuerNotCurrent || dee.IssuerNotCurrent {
		t.Errorf("bindings %+v and %+v; want Bo's marked issuerNotCurrent (%s is not the server's issuer), dee's not", bo, dee, oldIdP)
	}

	first := list("/api/v1/people?limit=2")
	if got := logins(first.Bound); got != "Bo@example.com cy@example.com" || !strings.Contains(first.BoundNext, "boundAfter=cy%40example.com") {
		t.Fatalf("bound's first page of 2: %q, boundNext %q; want Bo and cy, then the page after cy", got, first.BoundNext)
	}
	if rest := list(first.BoundNext); logins(rest.Bound) != "dee@example.com" || rest.BoundNext != "" || len(rest.People) != 1 {
		t.Errorf("bound's next page: %+v; want dee alone, the last, with the people's page", rest)
	}
	if rest := list("/api/v1/people?boundAfter=BO@EXAMPLE.COM"); logins(rest.Bound) != "cy@example.com dee@example.com" {
		t.Errorf("bound after BO@EXAMPLE.COM: %q; want cy and dee (logins compare ignoring case)", logins(rest.Bound))
	}

	revoke := func(login string) api.PersonRevoked {
		t.Helper()
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/people/"+login+"/revoke", nil)
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out api.PersonRevoked
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
			t.Fatalf("revoking %s: %d, %v", login, resp.StatusCode, err)
		}
		return out
	}
	if rev := revoke("bo@example.com"); !rev.SubjectForgotten || rev.Issuer != oldIdP {
		t.Errorf("revoking bo: %+v; want the binding to %s forgotten", rev, oldIdP)
	}
	if rev := revoke("cy@example.com"); !rev.SubjectForgotten || rev.Issuer != "" {
		t.Errorf("revoking cy: %+v; want the binding forgotten, no issuer", rev)
	}
	if got := logins(list("/api/v1/people").Bound); got != "dee@example.com" {
		t.Errorf("bound after the revokes: %q; want dee alone", got)
	}
	evs, err := st.ListAudit(ctx, store.AuditFilter{Action: store.ActionPersonRevoke})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range evs {
		got = append(got, ev.InputSummary)
	}
	want := []string{
		"cy@example.com: 0 console sessions ended, 0 tokens revoked, its binding forgotten",
		"bo@example.com: 0 console sessions ended, 0 tokens revoked, its binding to " + oldIdP + " forgotten",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("person.revoke audit events, newest first:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
