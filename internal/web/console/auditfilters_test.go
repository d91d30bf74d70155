package console_test

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// auditActions are the actions of the events an Audit page lists, in its
// order (a long one written with <wbr> after its "." to wrap there).
func auditActions(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<td role="cell" class="lead"><code>((?:[^<]|<wbr>)+)</code>`).FindAllStringSubmatch(body, -1) {
		out = append(out, strings.ReplaceAll(m[1], "<wbr>", ""))
	}
	return out
}

// TestAuditFilters: the Audit page lists the events of one action, one
// connection (by nickname or id) or one person, as the API's audit list
// and cardflow audit do, in a form that keeps what was asked; a misspelt
// action or nickname says so with the nearest one, rather than listing
// everything or nothing, and so does an actor no event matches, near an
// actor of the audit. A connection's page and the People page lead to
// their audit trails.
func TestAuditFilters(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	prod := e.connect(t, "Prod", nil)
	e.connect(t, "Staging", nil)
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{}}`); code/100 != 2 {
		t.Fatalf("run a card: %d %s", code, out)
	}
	// What cardflow did on its own (a refresh token's end found, say).
	if err := e.store.AppendAudit(t.Context(), &store.AuditEvent{Time: time.Now(), Actor: store.ServerActor, Action: store.ActionConnectionExpired,
		ConnectionID: prod.ID, Outcome: "success"}); err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/audit")

	_, all := get(t, c, e.url+"/audit")
	if got := auditActions(all); !slices.Contains(got, "card.run") || !slices.Contains(got, "connection.create") || !slices.Contains(got, "person.signin") {
		t.Fatalf("the unfiltered Audit page lists %q; want every event", got)
	}
	for _, tc := range []struct {
		name, query string
		want        func(actions []string) bool
		kept        []string // what the form shows
	}{
		{"action", "action=card.run", func(a []string) bool { return slices.Equal(a, []string{"card.run"}) },
			[]string{`<option value="card.run" selected>card.run</option>`}},
		{"connection by nickname", "connection=prod", func(a []string) bool {
			return slices.Contains(a, "card.run") && slices.Contains(a, "connection.create") && !slices.Contains(a, "person.signin")
		}, []string{`id="audit-connection" name="connection" type="text" value="prod"`, `of the connection Prod`}},
		{"connection by id, with an action", "connection=" + prod.ID + "&action=connection.create", func(a []string) bool { return slices.Equal(a, []string{"connection.create"}) },
			[]string{`value="` + prod.ID + `"`, `<option value="connection.create" selected>`}},
		{"actor", "actor=TEST", func(a []string) bool {
			return slices.Equal(a, []string{"connection.authorize", "connection.create", "connection.authorize", "connection.create"})
		},
			[]string{`id="audit-actor" name="actor" type="text" value="TEST"`}},
		{"the bootstrap admin (whose token the test signs in with)", "actor=bootstrap", func(a []string) bool { return slices.Equal(a, []string{"person.signin", "card.run"}) },
			[]string{`id="audit-actor" name="actor" type="text" value="bootstrap"`}},
		{"cardflow on its own", "actor=cardflow", func(a []string) bool { return slices.Equal(a, []string{"connection.expired"}) },
			[]string{`id="audit-actor" name="actor" type="text" value="cardflow"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, e.url+"/audit?"+tc.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d; want 200", resp.StatusCode)
			}
			if got := auditActions(body); !tc.want(got) {
				t.Errorf("the page lists %q", got)
			}
			for _, w := range tc.kept {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %s:\n%s", w, body)
				}
			}
		})
	}

	for _, tc := range []struct {
		name, query string
		status      int
		want        []string
	}{
		{"misspelt action", "action=card.rn&actor=test", http.StatusBadRequest, []string{`Unknown audit action &#34;card.rn&#34;.`,
			`Did you mean <a href="/audit?action=card.run&amp;actor=test">card.run</a>?`, `Pick an action from the Action list above.`}},
		{"misspelt actor", "actor=tset&plans=exclude", http.StatusOK, []string{`No events match these filters. Did you mean <a href="/audit?actor=test&amp;plans=exclude">test</a>?`}},
		{"misspelt nickname", "connection=prd&action=card.run", http.StatusNotFound, []string{`No connection has the id or nickname &#34;prd&#34;.`,
			`Did you mean <a href="/audit?action=card.run&amp;connection=Prod">Prod</a>?`, `its page links to its audit trail`, `value="prd"`, `<a href="/connections">Go to connections</a>`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, e.url+"/audit?"+tc.query)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d; want %d", resp.StatusCode, tc.status)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %s:\n%s", w, body)
				}
			}
			if got := auditActions(body); len(got) > 0 {
				t.Errorf("the page lists events %q; want none", got)
			}
		})
	}

	if _, body := get(t, c, e.url+"/connections/"+prod.ID); !strings.Contains(body, `<a href="/audit?connection=`+prod.ID+`">`) {
		t.Errorf("the connection's page does not link to its audit trail:\n%s", body)
	}
	admin := ssoSignInHTTP(t, e, oktaemu.AdminLogin)
	if _, body := get(t, admin, e.url+"/people"); !strings.Contains(body, `<a href="/audit?actor=admin%40example.com">`) {
		t.Errorf("the People page does not link to a person's audit trail:\n%s", body)
	}
}
