package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserFlowRunErrorWithALongIDFits: a failed run whose error holds
// a word longer than its column (a device's or a run's id, as a resumed
// run's error names the rerun command with it), started by a person named
// with their login, keeps the flow run tables of the Flows page and the
// flow's page inside their cards at 1280 px, the id broken inside, the
// login before its "@", and the error wide enough to read, where the table
// ran past its card and cut the error off at the card's edge.
func TestBrowserFlowRunErrorWithALongIDFits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	doc := strings.Replace(missingDeviceFlow, "guoGONE0000000000000", "guoGONE"+strings.Repeat("0123456789abcdef", 4), 1)
	flowID := e.storeFlow(t, doc)
	ctx := context.Background()
	now := time.Now()
	reader := store.Actor{Type: store.ActorUser, Login: oktaemu.ReadOnlyLogin}
	if err := e.store.CreateSession(ctx, &store.Session{ID: "s-reader", Actor: reader, Name: "Rey Reader", Role: "operator", CSRF: "x",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	run, err := e.app.Flows.Start(ctx, flowID, nil, flowrun.Starter{Actor: reader})
	if err != nil {
		t.Fatalf("start the flow as %s: %v", reader.Login, err)
	}
	waitUntil(t, "the end of flow run "+run.ID, func() bool {
		r, err := e.store.GetFlowRun(ctx, run.ID)
		return err == nil && r.Status == "failed"
	})
	b := newTab(t, e)
	b.signIn()
	b.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	for _, path := range []string{"/flows", "/flows/" + flowID} {
		b.open(path)
		b.screenshot("flow-run-long-error" + strings.ReplaceAll(path, "/", "-"))
		fit := eval[[]int](b, "measure the table", `(() => { const r = document.querySelector('[aria-label="Flow runs"]'); const td = r.querySelector('td[data-label="Error"]');
			return [r.scrollWidth, r.clientWidth, Math.round(td.getBoundingClientRect().width)]; })()`)
		if fit[0] > fit[1] {
			t.Errorf("%s at 1280 px: the flow runs table is %d px wide in a region of %d px; want it to fit", path, fit[0], fit[1])
		}
		if fit[2] < 150 {
			t.Errorf("%s at 1280 px: the Error column is %d px wide; want at least 10rem (150 px) to read the error", path, fit[2])
		}
	}
}
