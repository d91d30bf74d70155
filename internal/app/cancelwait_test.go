package app

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// startWaitingRun starts a server and the suspend-all flow against an org
// of the given number of devices that allows 5 Devices API calls a
// minute, its clock at the start of a window, and returns once a
// suspension waits for the rate limit (a whole minute): the server, the
// org, the run and the suspensions sent.
func startWaitingRun(t *testing.T, devices int) (*harness, *emutest.Server, flowRun, int) {
	t.Helper()
	clock := emutest.NewClock(time.Now().Truncate(time.Minute).Add(500 * time.Millisecond))
	emu := emutest.Start(t, oktaemu.Config{Devices: devices, RateLimitPerMinute: 5, Now: clock.Now})
	h := startServer(t, emu, t.TempDir(), nil)
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, data := h.postYAML("/api/v1/flows", fmt.Sprintf(bulkFlowTemplate, 1), &stored); code != 201 {
		t.Fatalf("store flow: %d %s", code, data)
	}
	before := lifecycleCalls(emu.Stats(t))
	var run flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", map[string]any{}, &run); code/100 != 2 {
		t.Fatalf("start run: %d %s", code, data)
	}
	waitFor(t, "a suspension of the run to wait for the rate limit", func() bool {
		var r struct {
			Steps []struct {
				ID            string `json:"id"`
				RateLimitWait string `json:"rateLimitWait"`
			} `json:"steps"`
		}
		h.call("GET", "/api/v1/flow-runs/"+run.ID+"?items=false", nil, &r)
		return len(r.Steps) == 2 && r.Steps[1].RateLimitWait != ""
	})
	sent := lifecycleCalls(emu.Stats(t)) - before
	if sent < 1 {
		t.Fatalf("%d suspensions before the wait; want some", sent)
	}
	return h, emu, run, sent
}

// TestCancelStopsRateLimitWait: a flow run asked to stop while its card
// waits for the org's rate limit does not send that call when the window
// resets: the wait ends at once, its card run fails saying the call was
// not sent and why, its item counts as not run (not failed), as do the
// items never started, and the run ends canceled with nothing more
// changed. The run page of the console says so. A rerun of the failed
// items does every item the canceled run did not: the org's clock moved
// to the next window, a server started afresh suspends the rest. The org
// allows 5 Devices API calls a minute and its clock stands at the start
// of a window, so a call past them would wait the whole minute.
func TestCancelStopsRateLimitWait(t *testing.T) {
	t.Parallel()
	h, emu, run, sent := startWaitingRun(t, 6)
	before := lifecycleCalls(emu.Stats(t)) - sent
	if code, data := h.call("POST", "/api/v1/flow-runs/"+run.ID+"/cancel", nil, nil); code/100 != 2 {
		t.Fatalf("cancel: %d %s", code, data)
	}
	var r flowRun
	waitFor(t, "the run to end canceled (within seconds, not at the window's reset a minute away)", func() bool {
		h.call("GET", "/api/v1/flow-runs/"+run.ID+"?items=false", nil, &r)
		return r.Status == "canceled"
	})
	if n := lifecycleCalls(emu.Stats(t)) - before; n != sent {
		t.Errorf("%d suspensions in all; want the %d before the cancel", n, sent)
	}
	var notRun struct {
		Steps []struct {
			NotRun int `json:"notRun"`
		} `json:"steps"`
	}
	h.call("GET", "/api/v1/flow-runs/"+run.ID+"?items=false", nil, &notRun)
	items := r.Steps[1].Items // the org's active devices
	if s := r.Steps[1]; s.Status != "canceled" || items <= sent || s.Succeeded != sent || s.Failed != 0 || s.Skipped != 0 ||
		len(notRun.Steps) != 2 || notRun.Steps[1].NotRun != items-sent {
		t.Errorf("suspend step: %+v, not run %+v; want canceled, %d succeeded, none failed, the others not run (the waiting one and those never started)",
			s, notRun.Steps, sent)
	}
	got := shutdownRunStatuses(h, run.ID)
	if len(got["failed"]) != 1 || !strings.Contains(got["failed"][0], "did not send its call to Okta: its flow run was asked to stop") ||
		!strings.Contains(got["failed"][0], "flows rerun "+run.ID+" --failed-only") {
		t.Errorf("card runs by status: %v; want the waiting one failed, saying its call was not sent because the run was asked to stop, and how to run it again", got)
	}
	cookie, _ := consoleSession(t, h.app.Store, access.Viewer)
	page := consolePage(t, h, cookie, "/flow-runs/"+run.ID)
	changed := fmt.Sprintf("%d changed their devices", sent) // each suspension sent suspended its device
	if sent == 1 {
		changed = "1 changed its device"
	}
	if want := fmt.Sprintf("%d items: %d succeeded (%s), 0 failed, 0 skipped, %d not run.", items, sent, changed, items-sent); !strings.Contains(page, want) {
		t.Errorf("the console's run page does not say %q", want)
	}

	// The next window: a server started afresh (its budget does not wait
	// for the minute it saw) reruns the failed items and does the rest.
	h.stop()
	emu.AdvanceClock(t, time.Minute)
	h2 := startServer(t, emu, h.dataDir, nil)
	var again flowRun
	if code, data := h2.call("POST", "/api/v1/flow-runs/"+run.ID+"/rerun", map[string]any{"failedOnly": true}, &again); code != http.StatusAccepted {
		t.Fatalf("rerun: %d %s", code, data)
	}
	done := h2.waitFlowRun(t.Context(), again.ID, "succeeded", "failed", "canceled")
	if s := done.Steps[1]; done.Status != "succeeded" || s.Succeeded != items || s.Failed != 0 {
		t.Errorf("rerun of the failed items: %s, suspend step %d of %d items succeeded, %d failed; want succeeded with all of them",
			done.Status, s.Succeeded, s.Items, s.Failed)
	}
	if n := lifecycleCalls(emu.Stats(t)) - before; n != items {
		t.Errorf("%d suspensions in all; want %d, one per active device", n, items)
	}
}

// consolePage reads a page of h's console with the session cookie and
// returns it, failing unless it is answered 200.
func consolePage(t *testing.T, h *harness, cookie, path string) string {
	t.Helper()
	req, err := http.NewRequest("GET", h.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: "cardflow_session", Value: cookie})
	resp, err := h.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// TestShutdownStopsRateLimitWait: a server that stops while a flow run's
// card waits for the org's rate limit does not send that call: the card
// run fails saying so and that the run resumes with the item, nothing
// more is changed, and the run is handed back, still running, for the
// next server.
func TestShutdownStopsRateLimitWait(t *testing.T) {
	t.Parallel()
	h, emu, run, sent := startWaitingRun(t, 40)
	before := lifecycleCalls(emu.Stats(t)) - sent
	h.stop()
	if n := lifecycleCalls(emu.Stats(t)) - before; n != sent {
		t.Errorf("%d suspensions in all; want the %d before the shutdown", n, sent)
	}
	if !strings.Contains(h.logs.String(), "flow run interrupted by shutdown") {
		t.Errorf("the server does not log that it handed the run back")
	}
	// The next server resumes the run (its suspensions wait for the
	// minute again); the card run the shutdown stopped says why.
	h2 := startServer(t, emu, h.dataDir, nil)
	got := shutdownRunStatuses(h2, run.ID)
	if len(got["failed"]) != 1 || !strings.Contains(got["failed"][0], "did not send its call to Okta: its server began shutting down while the call waited") ||
		!strings.Contains(got["failed"][0], "the flow run resumes by itself, with this item") {
		t.Errorf("card runs by status: %v; want the waiting one failed, saying its call was not sent because the server stopped, and that the run resumes with it", got)
	}
}
