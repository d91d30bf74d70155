package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// walkPages reads a console list from path, following the "next" link of
// its navigation (named label; plain links: no script), and returns the
// record keys idRe finds, in page order, and the pages' addresses. Every later page must link back
// to the first and keep keep (the list's filter) in its address.
func walkPages(t *testing.T, c *http.Client, base, path, label string, idRe *regexp.Regexp, keep string) ([]string, []string) {
	t.Helper()
	nav := `<nav class="pager" aria-label="` + regexp.QuoteMeta(label) + `: pages">\s*`
	firstRe := regexp.MustCompile(nav + `<a href="([^"]+)" rel="first">`)
	nextRe := regexp.MustCompile(nav + `(?:<a href="[^"]+" rel="first">[^<]*</a>\s*)?<a href="([^"]+)" rel="next">`)
	var ids, pages []string
	for u := path; u != ""; {
		pages = append(pages, u)
		if len(pages) > 20 {
			t.Fatalf("%s: the pages never end: %v", path, pages)
		}
		resp, body := get(t, c, base+u)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d\n%s", u, resp.StatusCode, body)
		}
		for _, m := range idRe.FindAllStringSubmatch(body, -1) {
			ids = append(ids, m[1])
		}
		if len(pages) > 1 && !firstRe.MatchString(body) {
			t.Errorf("page %s has no link to the first page", u)
		}
		u = ""
		if m := nextRe.FindStringSubmatch(body); m != nil {
			u = html.UnescapeString(m[1])
			if !strings.Contains(u, keep) {
				t.Errorf("the next page %s loses the filter %s", u, keep)
			}
		}
	}
	return ids, pages
}

// TestConsoleListsPage seeds every growing list of the console with more
// records than a page holds, many sharing a time, and reads each list
// page by page through its links: a second page shows the next records,
// and no record is lost or repeated; filters stay on every page. The
// flows page has two lists, each with its own links.
func TestConsoleListsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	st := e.store
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	const many = 107 // more than two pages of 50
	const some = 57  // more than one page

	var conns, runs, flowRuns, events, audit, tokens, flows []string
	for i := range some {
		id := fmt.Sprintf("conn_seed%03d", i)
		must(t, st.CreateConnection(ctx, &store.Connection{ID: id, Connector: "okta-devices", Nickname: fmt.Sprintf("Seed %03d", i),
			Domain: "seed.okta.com", Status: store.StatusActive, ScopeMode: "default", ClientID: "x", CreatedAt: base, UpdatedAt: base}))
		conns = append(conns, id)
		name := fmt.Sprintf("seed-flow-%03d", i)
		src := "name: " + name + "\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Seed 000\n"
		f := &store.Flow{Name: name, Source: []byte(src), CreatedAt: base, UpdatedAt: base}
		_, err := st.PutFlow(ctx, f)
		must(t, err)
		flows = append(flows, f.Name)
		tok := &store.APIToken{ID: fmt.Sprintf("tok%03d", i), Name: fmt.Sprintf("seed-tok-%03d", i), Hash: fmt.Sprintf("%064d", i), Role: "viewer",
			OwnerType: store.ActorBootstrap, CreatedAt: base.Add(time.Duration(i/3) * time.Second), ExpiresAt: base.Add(24 * time.Hour)}
		must(t, st.CreateAPIToken(ctx, tok))
		tokens = append(tokens, tok.Name)
	}
	seedFlow, err := st.GetFlow(ctx, "seed-flow-000")
	must(t, err)
	var evs []*store.Event
	for i := range many {
		at := base.Add(time.Duration(i/4) * time.Second) // four records a second
		id := fmt.Sprintf("seedrun%03d", i)
		// The runs of conn_seed000 are a plan's reads: the plans filter
		// keeps them alone, page by page.
		must(t, st.CreateRun(ctx, &store.Run{ID: id, Card: "okta-devices/read-device", ConnectionID: "conn_seed000", Status: "succeeded", StartedAt: at, FinishedAt: at,
			Plan: store.PlanRef{FlowName: "seed-plan"}}))
		runs = append(runs, id)
		// Runs of another connection, which the filter leaves out.
		must(t, st.CreateRun(ctx, &store.Run{ID: fmt.Sprintf("otherrun%03d", i), Card: "okta-devices/read-device", ConnectionID: "conn_seed001", Status: "succeeded", StartedAt: at, FinishedAt: at}))
		fr := &store.FlowRun{ID: fmt.Sprintf("seedfr%03d", i), FlowID: seedFlow.ID, FlowName: seedFlow.Name, Source: seedFlow.Source,
			Inputs: json.RawMessage(`{}`), Status: "succeeded", CreatedAt: at, StartedAt: at, FinishedAt: at}
		must(t, st.CreateFlowRun(ctx, fr))
		flowRuns = append(flowRuns, fr.ID)
		raw := fmt.Sprintf(`{"uuid":"seedev%03d","target":[{"id":"guoseed%03d","type":"UDDevice","displayName":"seed-device-%03d"}]}`, i, i, i)
		evs = append(evs, &store.Event{UUID: fmt.Sprintf("seedev%03d", i), ConnectionID: "conn_seed000", EventType: "device.user.remove",
			Published: at, Raw: json.RawMessage(raw), ReceivedAt: at})
		events = append(events, fmt.Sprintf("seed-device-%03d", i))
		ev := &store.AuditEvent{Time: at, Actor: store.Actor{Type: store.ActorUser, Login: "pager@example.com"}, Action: "test.pager",
			InputSummary: fmt.Sprintf("seedaudit%03d", i), Outcome: "success", Plan: store.PlanRef{FlowName: "seed-plan"}}
		must(t, st.AppendAudit(ctx, ev))
		audit = append(audit, ev.InputSummary)
	}
	_, err = st.PutEvents(ctx, evs, store.ViaPoll)
	must(t, err)
	// Newest first for the lists ordered by time.
	for _, l := range [][]string{runs, flowRuns, events, audit, tokens} {
		slices.Reverse(l)
	}

	c, _, _ := signInHTTP(t, e.url, "/connections")
	tests := []struct {
		name  string
		path  string
		idRe  string
		keep  string
		label string // the name of the list's page navigation
		want  []string
		pages int
	}{
		{name: "connections", path: "/connections", idRe: `href="/connections/(conn_seed\d+)"`, label: "Connections", want: conns, pages: 2},
		{name: "card runs of a connection", path: "/runs?connection=conn_seed000", idRe: `href="/runs/((?:seed|other)run\d+)"`, keep: "connection=conn_seed000", label: "Runs", want: runs, pages: 3},
		{name: "card runs of a connection by nickname", path: "/runs?connection=Seed+000", idRe: `href="/runs/((?:seed|other)run\d+)"`, keep: "connection=Seed", label: "Runs", want: runs, pages: 3},
		{name: "card runs of plans", path: "/runs?plans=only", idRe: `href="/runs/((?:seed|other)run\d+)"`, keep: "plans=only", label: "Runs", want: runs, pages: 3},
		{name: "flows", path: "/flows", idRe: `>(seed-flow-\d+)</a></td>`, label: "Flows", want: flows, pages: 2},
		{name: "flow runs of every flow", path: "/flows", idRe: `href="/flow-runs/(seedfr\d+)">[^<]*<span class="vh"> run of`, label: "Flow runs", want: flowRuns, pages: 3},
		{name: "flow runs of a flow", path: "/flows/" + seedFlow.ID, idRe: `href="/flow-runs/(seedfr\d+)">[^<]*<span class="vh"> run of`, label: "Flow runs", want: flowRuns, pages: 3},
		{name: "events of a connection", path: "/events?connection=conn_seed000", idRe: `(seed-device-\d+)`, keep: "connection=conn_seed000", label: "Events", want: events, pages: 3},
		{name: "audit of a person", path: "/audit?actor=pager%40example.com", idRe: `(seedaudit\d+)`, keep: "actor=pager", label: "Audit events", want: audit, pages: 3},
		{name: "audit of plans", path: "/audit?plans=only", idRe: `(seedaudit\d+)`, keep: "plans=only", label: "Audit events", want: audit, pages: 3},
		{name: "tokens", path: "/tokens", idRe: `aria-label="Revoke (seed-tok-\d+)"`, label: "Tokens", want: tokens, pages: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idRe := regexp.MustCompile(tt.idRe)
			got, pages := walkPages(t, c, e.url, tt.path, tt.label, idRe, tt.keep)
			if len(pages) != tt.pages {
				t.Errorf("%d pages %v; want %d", len(pages), pages, tt.pages)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("records read page by page (%d):\n%v\nwant (%d):\n%v", len(got), got, len(tt.want), tt.want)
			}
		})
	}
	// A filter names the connection by its nickname, however it was given.
	for _, q := range []string{"conn_seed000", "Seed+000"} {
		if _, body := get(t, c, e.url+"/runs?connection="+q); !strings.Contains(body, "Filtered by connection Seed 000 ") {
			t.Errorf("/runs?connection=%s does not name the connection by its nickname:\n%s", q, body)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestConsoleNameListsPage: the Connections and Flows pages list by name
// ignoring case, page by page through their Next page links, and a
// record deleted after its page was shown (the one the link's cursor
// names) neither loses nor repeats a record of the next page.
func TestConsoleNameListsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	st := e.store
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	const n = 57 // more than a page
	var conns, flows []string
	for i := range n {
		// Every other name capitalised: by case the capitals would come
		// first.
		seed, name := "seed", "flow"
		if i%2 == 0 {
			seed, name = "Seed", "Flow"
		}
		id := fmt.Sprintf("conn_seed%03d", i)
		must(t, st.CreateConnection(ctx, &store.Connection{ID: id, Connector: "okta-devices", Nickname: fmt.Sprintf("%s %03d", seed, i),
			Domain: "seed.okta.com", Status: store.StatusActive, ScopeMode: "default", ClientID: "x", CreatedAt: at, UpdatedAt: at}))
		conns = append(conns, id)
		f := &store.Flow{Name: fmt.Sprintf("%s-%03d", name, i), CreatedAt: at, UpdatedAt: at}
		f.Source = []byte("name: " + f.Name + "\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Seed 000\n")
		_, err := st.PutFlow(ctx, f)
		must(t, err)
		flows = append(flows, f.Name)
	}
	c, _, _ := signInHTTP(t, e.url, "/connections")
	connRe := regexp.MustCompile(`href="/connections/(conn_seed\d+)"`)
	flowRe := regexp.MustCompile(`>((?i:flow)-\d+)</a></td>`)
	if got, pages := walkPages(t, c, e.url, "/connections", "Connections", connRe, ""); !slices.Equal(got, conns) || len(pages) != 2 {
		t.Errorf("connections in %d pages %v:\n%v\nwant in 2:\n%v", len(pages), pages, got, conns)
	}
	got, pages := walkPages(t, c, e.url, "/flows", "Flows", flowRe, "")
	if !slices.Equal(got, flows) || len(pages) != 2 {
		t.Errorf("flows in %d pages %v:\n%v\nwant in 2:\n%v", len(pages), pages, got, flows)
	}

	// The last flow of the first page goes; the second page is the same.
	last, err := st.GetFlow(ctx, flows[49])
	must(t, err)
	must(t, st.DeleteFlow(ctx, last.ID))
	rest, _ := walkPages(t, c, e.url, pages[1], "Flows", flowRe, "")
	if !slices.Equal(rest, flows[50:]) {
		t.Errorf("the second page after the first's last flow was deleted:\n%v\nwant:\n%v", rest, flows[50:])
	}
}
