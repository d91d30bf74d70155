package console_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// apiProblems are the problems GET /api/v1/flows gives the flow named
// name, as "connection C: problem (severity)".
func (e *env) apiProblems(t *testing.T, name string) []string {
	t.Helper()
	code, out := e.api(t, http.MethodGet, "/api/v1/flows", "", "")
	var list api.FlowList
	if err := json.Unmarshal([]byte(out), &list); code != http.StatusOK || err != nil {
		t.Fatalf("list the flows: %d %s", code, out)
	}
	for _, f := range list.Flows {
		if f.Name != name {
			continue
		}
		var ps []string
		for _, p := range f.Problems {
			ps = append(ps, "connection "+p.Connection+": "+p.Problem+" ("+p.Severity+")")
		}
		return ps
	}
	t.Fatalf("GET /api/v1/flows lists no flow %s:\n%s", name, out)
	return nil
}

// listProblems are the problems the console's flows list names beside
// the flow named name's "enabled", as apiProblems gives them: the
// severity is the mark's class ("no" an error, "warn" a warning).
func listProblems(body, name string) []string {
	for _, row := range regexp.MustCompile(`(?s)<tr[ >].*?</tr>`).FindAllString(body, -1) {
		if !strings.Contains(row, ">"+name+"</a>") {
			continue
		}
		var ps []string
		for _, m := range regexp.MustCompile(`<div class="(no|warn)">(.*?)</div>`).FindAllStringSubmatch(row, -1) {
			sev := map[string]string{"no": "error", "warn": "warning"}[m[1]]
			ps = append(ps, html.UnescapeString(m[2])+" ("+sev+")")
		}
		return ps
	}
	return nil
}

// pageProblems is the text of a flow page's connection problems, and the
// class of their box ("flash-error" or "flash-warning"; "" without one).
func pageProblems(body string) (text, class string) {
	m := regexp.MustCompile(`(?s)<div class="flash (flash-\w+)" role="status" id="connection-problems">(.*?)</div>`).FindStringSubmatch(body)
	if m == nil {
		return "", ""
	}
	return html.UnescapeString(strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[2], "")), " ")), m[1]
}

// TestConsoleAndAPINameTheSameFlowProblems: what stops an enabled flow is
// found in one place for the API's flows list (and so cardflow flows
// list), the console's flows list and the flow's page. The console found
// it on its own: its list named both "needs reauthorization" and
// "System Log polls failing" for a connection to reauthorize whose polls
// failed (the API only the first), and a flow's page said nothing of
// failing polls at all.
func TestConsoleAndAPINameTheSameFlowProblems(t *testing.T) {
	t.Parallel()
	// The poll the enabling wakes is the only one: the poll statuses the
	// test stores stay as it stored them.
	e := newEnvWith(t, func(c *app.Config, _ string) { c.EventPollInterval = time.Hour })
	prod := e.connect(t, "Prod", nil)
	e.connect(t, "Reader", nil)
	flowID := e.storeFlow(t, enrollQuarantineFlow) // delivery: poll
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, out)
	}
	waitUntil(t, "the first System Log poll", func() bool {
		src, err := e.store.GetEventSource(t.Context(), prod.ID)
		return err == nil && !src.PolledAt.IsZero()
	})
	c, _, _ := signInHTTP(t, e.url, "/flows")
	const name = "quarantine-on-enroll"
	check := func(when string, want []string, page []string, class string) {
		t.Helper()
		if got := e.apiProblems(t, name); !slices.Equal(got, want) {
			t.Errorf("%s: the API's problems are %q; want %q", when, got, want)
		}
		_, body := get(t, c, e.url+"/flows")
		if got := listProblems(body, name); !slices.Equal(got, want) {
			t.Errorf("%s: the console's flows list names %q; want %q, as the API", when, got, want)
		}
		_, body = get(t, c, e.url+"/flows/"+flowID)
		text, cls := pageProblems(body)
		if cls != class {
			t.Errorf("%s: the flow page's problems are in a box of class %q; want %q", when, cls, class)
		}
		for _, w := range page {
			if !strings.Contains(text, w) {
				t.Errorf("%s: the flow page's problems read %q; want %q in them", when, text, w)
			}
		}
	}
	check("all working", nil, nil, "")

	// Prod's System Log polls fail: the trigger gets no events.
	since := time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC)
	failing := store.PollStatus{Error: "Okta refused the System Log request (E0000006)", Remedy: "grant the app okta.logs.read, then reauthorize", FailingSince: since}
	if err := e.store.SetPollStatus(t.Context(), prod.ID, "", failing, since, nil); err != nil {
		t.Fatal(err)
	}
	check("polls failing", []string{"connection Prod: System Log polls failing (error)"}, []string{
		"Connection Prod: System Log polls failing: Okta refused the System Log request (E0000006).",
		"This flow's trigger reads its events from the System Log: it starts no runs until the polls work again",
		"How to fix it: Grant the app okta.logs.read, then reauthorize.",
	}, "flash-error")

	// Prod then needs reauthorization: that is what stops the flow, for
	// its trigger and its step alike; its polls fail because of it.
	if err := e.store.UpdateConnection(context.Background(), prod.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "Okta refused the refresh token (invalid_grant)", "reauthorize the connection"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("needs reauthorization", []string{"connection Prod: needs reauthorization (error)"}, []string{
		"Connection Prod (Needs reauthorization): Okta refused the refresh token (invalid_grant).",
		"This flow uses it for its trigger's events and step suspend: its runs fail until the connection works again.",
	}, "flash-error")
	if _, body := get(t, c, e.url+"/flows/"+flowID); strings.Contains(body, "System Log polls failing") {
		t.Errorf("the flow page names the failing polls of a connection to reauthorize beside it")
	}
}

// TestHookPollFlowWhosePollsFailStillRuns: a flow whose trigger has
// delivery hook+poll gets its events by the event hook while the System
// Log polls fail. The API and the console flagged it as stopped ("System
// Log polls failing"); they now say it as a warning, that events arrive
// only by the hook, until the hook stops working too, and then that both
// stopped.
func TestHookPollFlowWhosePollsFailStillRuns(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *app.Config, _ string) { c.EventPollInterval = 100 * time.Millisecond })
	prod := e.connect(t, "Prod", nil)
	if code, body := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", quarantineFlow); code != http.StatusCreated {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	if code, body := e.api(t, http.MethodPost, "/api/v1/flows/quarantine-on-user-removal/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, body)
	}
	waitUntil(t, "the event hook to be active", func() bool { return e.hookStatus(t, prod.ID) == "active" })
	// The org's System Log fails from now on.
	e.emu.Fault(t, "GET", "/api/v1/logs", 400, 1_000_000)
	waitUntil(t, "a System Log poll to fail", func() bool {
		src, err := e.store.GetEventSource(context.Background(), prod.ID)
		return err == nil && !src.Poll.FailingSince.IsZero()
	})
	if v, err := e.manager.Get(context.Background(), prod.ID); err != nil || v.Status != store.StatusActive {
		t.Fatalf("Prod: %+v, %v; want it active (only its polls fail)", v, err)
	}

	const name = "quarantine-on-user-removal"
	c, _, _ := signInHTTP(t, e.url, "/flows")
	want := []string{"connection Prod: System Log polls fail; events arrive only by the event hook (warning)"}
	if got := e.apiProblems(t, name); !slices.Equal(got, want) {
		t.Errorf("the API's problems are %q; want %q", got, want)
	}
	_, body := get(t, c, e.url+"/flows")
	if got := listProblems(body, name); !slices.Equal(got, want) {
		t.Errorf("the console's flows list names %q; want %q", got, want)
	}
	_, body = get(t, c, e.url+"/flows/quarantine-on-user-removal")
	text, class := pageProblems(body)
	if w := "the events the hook brings still start runs, and those it misses wait until the polls work again"; class != "flash-warning" || !strings.Contains(text, w) {
		t.Errorf("the flow page's problems (%s) read %q; want a warning with %q", class, text, w)
	}

	if _, body := get(t, c, e.url+"/connections/"+prod.ID); !strings.Contains(body, "those with delivery hook+poll get only the events its event hook brings meanwhile") {
		t.Errorf("the connection page's failing polls do not say that hook+poll flows still get the hook's events")
	}

	// Someone deactivates the hook at Okta: now nothing brings events.
	src, err := e.store.GetEventSource(context.Background(), prod.ID)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.emu.URL+"/api/v1/eventHooks/"+src.HookID+"/lifecycle/deactivate", nil)
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	resp, err := e.emu.Client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("deactivate the hook: %v %v", err, resp)
	}
	resp.Body.Close()
	waitUntil(t, "the server to see the hook deactivated", func() bool { return e.hookStatus(t, prod.ID) == "deactivated" })
	want = []string{"connection Prod: System Log polls failing and event hook not working (error)"}
	if got := e.apiProblems(t, name); !slices.Equal(got, want) {
		t.Errorf("with the hook deactivated too, the API's problems are %q; want %q", got, want)
	}
	_, body = get(t, c, e.url+"/flows")
	if got := listProblems(body, name); !slices.Equal(got, want) {
		t.Errorf("with the hook deactivated too, the console's flows list names %q; want %q", got, want)
	}
	_, body = get(t, c, e.url+"/flows/quarantine-on-user-removal")
	text, class = pageProblems(body)
	if w := "This flow's trigger reads its events from the event hook, which does not work either, and the System Log: it starts no runs until one of them works again."; class != "flash-error" || !strings.Contains(text, w) {
		t.Errorf("with the hook deactivated too, the flow page's problems (%s) read %q; want an error with %q", class, text, w)
	}
}

// TestFlowWhoseEventHookFails: an enabled flow whose trigger reads only
// the event hook starts no runs once the hook stops working (deactivated
// at Okta), yet the API and the console said only "enabled"; they now
// name it, and, for a flow with delivery hook+poll, which still gets its
// events from the System Log, say so as a warning.
func TestFlowWhoseEventHookFails(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *app.Config, _ string) { c.EventPollInterval = 100 * time.Millisecond })
	prod := e.connect(t, "Prod", nil)
	hookOnly := strings.NewReplacer("name: quarantine-on-user-removal", "name: hook-only", "delivery: hook+poll", "delivery: hook").Replace(quarantineFlow)
	for _, src := range []string{quarantineFlow, hookOnly} {
		if code, body := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", src); code != http.StatusCreated {
			t.Fatalf("store the flow: %d %s", code, body)
		}
	}
	for _, name := range []string{"quarantine-on-user-removal", "hook-only"} {
		if code, body := e.api(t, http.MethodPost, "/api/v1/flows/"+name+"/enable", "", ""); code != http.StatusOK {
			t.Fatalf("enable %s: %d %s", name, code, body)
		}
	}
	waitUntil(t, "the event hook to be active", func() bool { return e.hookStatus(t, prod.ID) == "active" })
	c, _, _ := signInHTTP(t, e.url, "/flows")
	for _, name := range []string{"quarantine-on-user-removal", "hook-only"} {
		if got := e.apiProblems(t, name); got != nil {
			t.Errorf("with the hook active, the API names %q for %s; want none", got, name)
		}
	}

	// Someone deactivates the hook at Okta.
	src, err := e.store.GetEventSource(context.Background(), prod.ID)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.emu.URL+"/api/v1/eventHooks/"+src.HookID+"/lifecycle/deactivate", nil)
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	resp, err := e.emu.Client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("deactivate the hook: %v %v", err, resp)
	}
	resp.Body.Close()
	waitUntil(t, "the server to see the hook deactivated", func() bool { return e.hookStatus(t, prod.ID) == "deactivated" })

	for _, tt := range []struct {
		name, want, class, page string
	}{
		{"hook-only", "connection Prod: event hook not working (error)", "flash-error",
			"This flow's trigger reads its events from the event hook only: it starts no runs until the hook works again."},
		{"quarantine-on-user-removal", "connection Prod: event hook not working; events arrive only by the System Log polls (warning)", "flash-warning",
			"they still arrive from the System Log, each at the next poll rather than at once."},
	} {
		if got := e.apiProblems(t, tt.name); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("%s: the API's problems are %q; want %q", tt.name, got, tt.want)
		}
		_, body := get(t, c, e.url+"/flows")
		if got := listProblems(body, tt.name); !slices.Equal(got, []string{tt.want}) {
			t.Errorf("%s: the console's flows list names %q; want %q", tt.name, got, tt.want)
		}
		_, body = get(t, c, e.url+"/flows/"+tt.name)
		text, class := pageProblems(body)
		for _, w := range []string{"Connection Prod: event hook not working: Okta shows the event hook", tt.page, "How to fix it:", "(Disable, then Enable, on each flow's page)"} {
			if class != tt.class || !strings.Contains(text, w) {
				t.Errorf("%s: the flow page's problems (%s) read %q; want %s with %q", tt.name, class, text, tt.class, w)
			}
		}
	}
}
