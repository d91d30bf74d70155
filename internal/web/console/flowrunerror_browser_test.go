package console_test

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestBrowserFlowRunItemErrorsWrapAtTokenBreaks: the Error column of a
// flow run's items, at 1280 and 390 px, wraps an email address, a host
// and a path only after an "@", a ".", a "/", a "-" or a "_" or between
// words, where it broke them at whatever letter reached the cell's edge;
// an id too long for the cell still breaks inside, and the page does not
// scroll sideways.
func TestBrowserFlowRunItemErrorsWrapAtTokenBreaks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, testFlow)
	ctx := context.Background()
	f, err := e.store.GetFlow(ctx, flowID)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour)
	run := &store.FlowRun{ID: "itemwraprun", FlowID: f.ID, FlowName: f.Name, Source: f.Source, FlowVersion: f.Version, Inputs: json.RawMessage(`{}`),
		Status: "failed", Actor: store.Actor{Type: store.ActorUser, Login: oktaemu.AdminLogin}, Error: "step suspend: 3 of 3 items failed",
		CreatedAt: at, StartedAt: at, FinishedAt: at.Add(time.Minute)}
	if err := e.store.CreateFlowRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	errs := []string{
		"okta-devices/suspend-device refused for margaret.hamilton@subdomain.example.com at https://dev-123456.okta.com/api/v1/devices/guo1a2b3c4d5e6f7g8h9/lifecycle/suspend: You do not have permission",
		"no device of alexandria.ocasio-smith@subdomain.example.com: ops_team-oncall@corp.example.net removed it",
		"device 0123456789abcdef0123456789abcdef0123 not found at https://dev-123456.okta.com/api/v1/devices",
	}
	if err := e.store.PutFlowStep(ctx, "", &store.FlowStep{RunID: run.ID, StepID: "suspend", Status: "failed", Items: len(errs), Failed: len(errs),
		Error: "3 of 3 items failed", StartedAt: at, FinishedAt: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var items []*store.FlowItem
	for i, msg := range errs {
		items = append(items, &store.FlowItem{RunID: run.ID, StepID: "suspend", Index: i, Status: "failed", Input: json.RawMessage(`{"deviceId":"guo1a2b3c4d5e6f7g8h9"}`),
			ErrorCode: "E0000006", Error: msg, StartedAt: at, FinishedAt: at.Add(time.Second)})
	}
	if err := e.store.PutFlowItems(ctx, "", items); err != nil {
		t.Fatal(err)
	}
	b := newTab(t, e)
	b.signIn()
	script := wordBreaksScript(`table.items td[data-label="Error"]`)
	for _, w := range []int64{1280, phoneWidth} {
		if w == 1280 {
			b.do("emulate the screen", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
		} else {
			b.setWidth(w)
		}
		b.open("/flow-runs/" + run.ID)
		b.wantText("margaret.hamilton@subdomain.example.com", "ops_team-oncall@corp.example.net")
		b.screenshot(fmt.Sprintf("flow-run-item-errors-wrap-%d", w))
		if breaks := eval[[]string](b, "find where the item errors break", script); len(breaks) > 0 {
			t.Errorf("the flow run's page at %d px: the items' Error column breaks words at %q; want breaks only between words or after \"@\", \".\", \"/\", \"-\" or \"_\"", w, breaks)
		}
		b.checkWidth("the flow run's page", int(w))
	}
}
