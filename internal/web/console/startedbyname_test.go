package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestStartedByNamesThePerson: a flow run started by a person who signed in
// with single sign-on names them as the page header and the People page
// do, by name with their login ("Rey Reader (readonly@example.com)"), on
// the run's page, in the Recent flow runs list and on its card run's page,
// where they gave the login alone.
func TestStartedByNamesThePerson(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	e.connect(t, "Prod", nil)
	now := time.Now()
	reader := store.Actor{Type: store.ActorUser, Login: oktaemu.ReadOnlyLogin}
	if err := e.store.CreateSession(ctx, &store.Session{ID: "s-reader", Actor: reader, Name: "Rey Reader", Role: "operator", CSRF: "x",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	const doc = `name: find-active
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      status: ACTIVE
      resultSet: first
`
	e.storeFlow(t, doc)
	run, err := e.app.Flows.Start(ctx, "find-active", nil, flowrun.Starter{Actor: reader})
	if err != nil {
		t.Fatalf("start the flow as %s: %v", reader.Login, err)
	}
	waitUntil(t, "the end of flow run "+run.ID, func() bool {
		r, err := e.store.GetFlowRun(ctx, run.ID)
		return err == nil && (r.Status == "succeeded" || r.Status == "failed")
	})
	cardRuns, err := e.store.ListRuns(ctx, store.RunFilter{FlowRunID: run.ID})
	if err != nil || len(cardRuns) != 1 {
		t.Fatalf("card runs of flow run %s: %v, %v; want one", run.ID, cardRuns, err)
	}

	const want = "Rey Reader (readonly@example.com)"
	c, _, _ := signInHTTP(t, e.url, "/flow-runs")
	for _, tc := range []struct{ name, path, want string }{
		{"the flow run's page", "/flow-runs/" + run.ID, "<dt>Started by</dt><dd>" + want + "</dd>"},
		{"the Recent flow runs list", "/flows", `data-label="Started by">Rey Reader <span class="parts"><span>(readonly@</span><wbr><span>example.</span><wbr><span>com)</span></span></td>`},
		{"the card run's page", "/runs/" + cardRuns[0].ID, `<dd id="run-started-by">` + want + "</dd>"},
		// The lists' Started by may wrap after the "@" and the "." of the
		// login (breakable), as they do after those of an event's type.
		{"the Runs list", "/runs", `data-label="Started by">Rey Reader <span class="parts"><span>(readonly@</span><wbr><span>example.</span><wbr><span>com)</span></span></td>`},
	} {
		_, page := get(t, c, e.url+tc.path)
		if !strings.Contains(page, tc.want) {
			t.Errorf("%s lacks %s:\n%s", tc.name, tc.want, page)
		}
	}
}
