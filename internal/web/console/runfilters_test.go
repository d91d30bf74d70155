package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestRunsFilterNamesNothing: a Runs page filtered by a card or a
// connection nickname that does not exist says so, with the nearest name as
// a link and the cards that run, rather than an empty list that reads as
// "no runs yet"; a good filter still lists its runs.
func TestRunsFilterNamesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{}}`); code/100 != 2 {
		t.Fatalf("run a card: %d %s", code, out)
	}
	c, _, _ := signInHTTP(t, e.url, "/runs")
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"misspelt card", "card=okta-devices/serch-devices", []string{`Unknown card &#34;okta-devices/serch-devices&#34;.`,
			`Did you mean <a href="/runs?card=okta-devices%2Fsearch-devices">okta-devices/search-devices</a>?`,
			`<a href="/runs?card=okta-devices%2Fsuspend-device"><code>okta-devices/suspend-device</code>`}},
		{"misspelt short name", "card=serch-devices", []string{`Unknown card &#34;serch-devices&#34;.`, `Did you mean <a href="/runs?card=okta-devices%2Fsearch-devices">`}},
		{"unknown card", "card=okta-users/list-users", []string{`Unknown card &#34;okta-users/list-users&#34;.`, `Pick one of the cards that run below.`,
			`<a href="/runs?card=okta-devices%2Fread-device"><code>okta-devices/read-device</code>`}},
		{"event card", "card=okta-devices/device-suspended", []string{`is an event card: it starts flows and is never run`}},
		{"misspelt nickname", "connection=prd", []string{`No connection has the id or nickname &#34;prd&#34;.`, `Did you mean <a href="/runs?connection=Prod">Prod</a>?`,
			`pick the connection on the Connections page`, `<a href="/connections">Go to connections</a>`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := get(t, c, e.url+"/runs?"+tc.query)
			want := http.StatusBadRequest
			if strings.HasPrefix(tc.query, "connection=") {
				want = http.StatusNotFound // as the API answers an unknown nickname
			}
			if resp.StatusCode != want {
				t.Errorf("status %d; want %d", resp.StatusCode, want)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %s:\n%s", w, body)
				}
			}
			if strings.Contains(body, "No runs yet") {
				t.Errorf("the page shows an empty list:\n%s", body)
			}
		})
	}
	for _, q := range []string{"card=okta-devices/search-devices", "card=search-devices", "connection=Prod", "connection=prod"} {
		resp, body := get(t, c, e.url+"/runs?"+q)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `run of okta-devices/search-devices`) || strings.Contains(body, "filter-error") {
			t.Errorf("/runs?%s: status %d; want 200 and the run:\n%s", q, resp.StatusCode, body)
		}
	}
}

// TestEventsOfUnknownConnection: the Events page of a connection that does
// not exist gives the console's way on (the nearest nickname, the
// Connections page, all events), not the API's or command line's.
func TestEventsOfUnknownConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	c, _, _ := signInHTTP(t, e.url, "/events")
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"connection=nope", []string{`No connection has the id or nickname &#34;nope&#34;.`, `pick the connection on the Connections page: its page links to its events.`,
			`<a href="/connections">Go to connections</a>`, `<a href="/events">Show all events</a>`}},
		{"connection=prd", []string{`Did you mean <a href="/events?connection=Prod">Prod</a>?`}},
	} {
		resp, body := get(t, c, e.url+"/events?"+tc.query)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("/events?%s: status %d; want 404", tc.query, resp.StatusCode)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("/events?%s lacks %s:\n%s", tc.query, w, body)
			}
		}
		if strings.Contains(body, "list the connections") || strings.Contains(body, "Events of nope") || strings.Contains(body, "No events yet") {
			t.Errorf("/events?%s gives the API's advice or an empty list:\n%s", tc.query, body)
		}
	}
	if resp, body := get(t, c, e.url+"/events?connection=prod"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "Events of Prod") {
		t.Errorf("/events?connection=prod: status %d; want 200, the events of Prod:\n%s", resp.StatusCode, body)
	}
}
