package app

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
)

// TestRefusalsNameTheirConnection: a request refused for lack of role
// that is about one connection (its path names it, by id or nickname, or
// a card run's body or form does) is audited with the connection's id, so
// that the audit's connection filter finds the attempts against it, where
// they carried only the path and the filter found none; a refusal about no
// connection names none.
func TestRefusalsNameTheirConnection(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	conn := h.connect("Demo org")
	other := h.connect("Other org")
	tok := map[access.Role]string{}
	for _, role := range []access.Role{access.Viewer, access.Operator} {
		nt, err := h.app.Tokens.Create(t.Context(), access.Bootstrap, "try "+string(role), role, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tok[role] = nt.Token
	}
	for _, tc := range []struct {
		role         access.Role
		method, path string
		body         any
	}{
		{access.Operator, "POST", "/api/v1/connections/" + conn.ID + "/test", map[string]any{}},
		{access.Operator, "DELETE", "/api/v1/connections/" + url.PathEscape("Demo org"), nil},
		{access.Viewer, "POST", "/api/v1/runs", map[string]any{"card": "okta-devices/suspend-device", "connection": "Demo org", "input": map[string]any{"deviceId": "x"}}},
		{access.Viewer, "POST", "/api/v1/runs", map[string]any{"card": "okta-devices/suspend-device", "connection": other.ID}},
		{access.Operator, "POST", "/api/v1/flows/nightly/enable", map[string]any{}},
	} {
		if code, data := h.callWith(tok[tc.role], tc.method, tc.path, tc.body, nil); code != http.StatusForbidden {
			t.Fatalf("%s %s as %s: status %d; want 403\n%s", tc.method, tc.path, tc.role, code, data)
		}
	}
	// The console's forms, posted by a signed-in operator and viewer.
	for _, tc := range []struct {
		role access.Role
		path string
		form url.Values
	}{
		{access.Operator, "/connections/" + conn.ID + "/delete", url.Values{}},
		{access.Viewer, "/cards/okta-devices/suspend-device", url.Values{"connection": {conn.ID}}},
	} {
		cookie, csrf := consoleSession(t, h.app.Store, tc.role)
		tc.form.Set("csrf", csrf)
		req, _ := http.NewRequest("POST", h.url+tc.path, strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", h.url)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		req.AddCookie(&http.Cookie{Name: "cardflow_session", Value: cookie})
		resp, err := h.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("console POST %s as %s: status %d; want 403", tc.path, tc.role, resp.StatusCode)
		}
	}

	refusals := func(query string) []string {
		t.Helper()
		var out []string
		for _, ev := range h.audit(query) {
			if why, _ := ev["error"].(string); ev["outcome"] == "failure" && strings.Contains(why, "this needs the ") {
				id, _ := ev["connectionId"].(string)
				out = append(out, fmt.Sprint(ev["action"], " ", ev["inputSummary"], " ", id))
			}
		}
		return out
	}
	want := []string{
		"connection.test POST /api/v1/connections/" + conn.ID + "/test " + conn.ID,
		"connection.delete DELETE /api/v1/connections/Demo org " + conn.ID,
		"card.run POST /api/v1/runs " + conn.ID,
		"connection.delete POST /connections/" + conn.ID + "/delete " + conn.ID,
		"card.run POST /cards/okta-devices/suspend-device " + conn.ID,
	}
	for _, query := range []string{"connection=" + url.QueryEscape("Demo org"), "connection=" + conn.ID} {
		if got := refusals(query); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("refusals found by ?%s:\n%s\nwant:\n%s", query, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	if got := refusals("connection=" + other.ID); len(got) != 1 || got[0] != "card.run POST /api/v1/runs "+other.ID {
		t.Errorf("refusals found by ?connection=%s: %q; want the card run named by its id", other.ID, got)
	}
	if got := refusals("action=flow.enable"); len(got) != 1 || !strings.HasSuffix(got[0], "/enable ") {
		t.Errorf("the refused flow enable: %q; want it without a connection", got)
	}
}
