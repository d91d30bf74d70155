package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestRunsFilterForm: the Runs page filters by card and connection in a
// form, as the Audit page does, which keeps what was asked (a card's short
// name as the card it names), and says in a sentence what it lists.
func TestRunsFilterForm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	for _, card := range []string{"okta-devices/search-devices", "okta-devices/read-device"} {
		input := `{}`
		if strings.HasSuffix(card, "read-device") {
			input = `{"deviceId":"guoNONE"}`
		}
		e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"`+card+`","connection":"Prod","input":`+input+`}`)
	}
	c, _, _ := signInHTTP(t, e.url, "/runs")
	for _, tc := range []struct {
		name, query string
		want        []string
		not         []string
	}{
		{"no filter", "", []string{`<form method="get" action="/runs" class="card" role="search" aria-label="Filter runs">`, `<option value="">Any card</option>`,
			`<option value="okta-devices/suspend-device">`, `<datalist id="runs-nicknames"><option value="Prod"></option></datalist>`,
			`run of okta-devices/search-devices`, `run of okta-devices/read-device`}, []string{" selected>"}},
		{"short card name", "card=search-devices", []string{`<option value="okta-devices/search-devices" selected>`, `run of okta-devices/search-devices`},
			[]string{`run of okta-devices/read-device`}},
		{"card and connection", "card=okta-devices/search-devices&connection=Prod", []string{`Filtered by connection Prod and card <code>okta-devices/search-devices</code>`}, nil},
		{"card", "card=okta-devices/search-devices", []string{`Filtered by card <code>okta-devices/search-devices</code>`}, nil},
		{"connection", "connection=prod", []string{`id="runs-connection" name="connection" type="text" value="prod"`, `Filtered by connection Prod `,
			`run of okta-devices/read-device`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, e.url+"/runs?"+tc.query)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d; want 200", resp.StatusCode)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %s:\n%s", w, body)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(body, w) {
					t.Errorf("the page has %s:\n%s", w, body)
				}
			}
		})
	}
}
