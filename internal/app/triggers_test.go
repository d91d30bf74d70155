package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// scheduledFlow reads the org's devices every minute; since comes from
// the tick.
const scheduledFlow = `name: minutely-read
inputs:
  since: {type: string, required: true}
on:
  schedule:
    every: 1m
  inputs:
    since: ${{ string(trigger.time - duration("24h")) }}
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      search: 'lastUpdated gt "${{ inputs.since }}"'
`

type flowJSON struct {
	ID      string         `json:"id"`
	Name    string         `json:"name"`
	Enabled bool           `json:"enabled"`
	Trigger map[string]any `json:"trigger"`
}

type putAnswer struct {
	Flow       flowJSON `json:"flow"`
	Enablement struct {
		Outcome string `json:"outcome"`
		Message string `json:"message"`
	} `json:"enablement"`
}

type triggeredRun struct {
	ID      string          `json:"id"`
	Status  string          `json:"status"`
	RerunOf string          `json:"rerunOf"`
	Inputs  json.RawMessage `json:"inputs"`
	Trigger struct {
		Kind string    `json:"kind"`
		Time time.Time `json:"time"`
	} `json:"trigger"`
}

// waitFor polls cond (a store read through the API) until it holds. The
// minute only bounds how long a failure takes to show.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// schedulerPass makes the server's scheduler fire what is due at its
// clock now, as its loop does at each poll: a run it fires is queued when
// schedulerPass returns.
func schedulerPass(t *testing.T, h *harness) {
	t.Helper()
	if _, err := h.app.Scheduler.Tick(t.Context()); err != nil {
		t.Fatalf("a pass of the scheduler: %v", err)
	}
}

func (h *harness) runsOf(flowID string) []triggeredRun {
	h.t.Helper()
	var out struct {
		Runs []triggeredRun `json:"runs"`
	}
	if code, data := h.call("GET", "/api/v1/flows/"+flowID+"/runs", nil, &out); code != http.StatusOK {
		h.t.Fatalf("list runs: %d %s", code, data)
	}
	return out.Runs
}

func TestScheduledFlowEndToEnd(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	h := startHarness(t, oktaemu.Config{Devices: 5}, func(c *Config) {
		c.Now, c.SchedulePoll = clock.Now, 20*time.Millisecond
	})
	h.connect("Prod")

	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", scheduledFlow, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	fl := put.Flow
	if fl.Enabled || put.Enablement.Outcome != "new" || !strings.Contains(put.Enablement.Message, "stored disabled") {
		t.Fatalf("stored %+v; want disabled with a message saying so", put)
	}
	if fl.Trigger["kind"] != "schedule" || fl.Trigger["every"] != "1m" || fl.Trigger["timezone"] != "UTC" || fl.Trigger["nextRunAt"] != nil {
		t.Errorf("trigger = %v", fl.Trigger)
	}
	// Disabled: time passes, nothing runs (a pass of the scheduler at the
	// new time, as its loop makes, fires nothing).
	clock.Advance(2 * time.Minute)
	schedulerPass(t, h)
	if runs := h.runsOf(fl.ID); len(runs) != 0 {
		t.Fatalf("a disabled flow ran: %+v", runs)
	}

	var on flowJSON
	if code, data := h.call("POST", "/api/v1/flows/"+fl.ID+"/enable", nil, &on); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, data)
	}
	tick := time.Date(2025, 6, 1, 10, 3, 0, 0, time.UTC)
	if !on.Enabled || on.Trigger["nextRunAt"] != tick.Format(time.RFC3339) {
		t.Fatalf("enabled flow %+v; want enabled, next run at %v", on, tick)
	}
	clock.Advance(time.Minute)
	var runs []triggeredRun
	waitFor(t, "the tick's run to finish", func() bool {
		runs = h.runsOf(fl.ID)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	r := runs[0]
	if r.Trigger.Kind != "schedule" || !r.Trigger.Time.Equal(tick) {
		t.Errorf("run trigger = %+v; want schedule at %v", r.Trigger, tick)
	}
	var in map[string]any
	if err := json.Unmarshal(r.Inputs, &in); err != nil || in["since"] != "2025-05-31T10:03:00Z" {
		t.Errorf("run inputs = %s; want since 2025-05-31T10:03:00Z (on.inputs from trigger.time)", r.Inputs)
	}
	var got flowJSON
	h.call("GET", "/api/v1/flows/"+fl.ID, nil, &got)
	if got.Trigger["nextRunAt"] != tick.Add(time.Minute).Format(time.RFC3339) {
		t.Errorf("next run after the tick = %v; want %v", got.Trigger["nextRunAt"], tick.Add(time.Minute))
	}

	// Storing it again unchanged keeps it enabled; a new trigger disables.
	if code, data := h.postYAML("/api/v1/flows", scheduledFlow+"\n", &put); code != http.StatusCreated || !put.Flow.Enabled || put.Enablement.Outcome != "kept" {
		t.Errorf("re-store with the same trigger: %d %s; want still enabled", code, data)
	}
	if code, data := h.postYAML("/api/v1/flows", strings.Replace(scheduledFlow, "every: 1m", "every: 2m", 1), &put); code != http.StatusCreated || put.Flow.Enabled || put.Enablement.Outcome != "disabled" {
		t.Errorf("re-store with another trigger: %d %s; want disabled", code, data)
	}
	clock.Advance(5 * time.Minute)
	schedulerPass(t, h)
	if n := len(h.runsOf(fl.ID)); n != 1 {
		t.Errorf("%d runs after the trigger changed; want still 1", n)
	}

	// Enable then disable: the flow stops; manual runs stay possible.
	h.call("POST", "/api/v1/flows/"+fl.ID+"/enable", nil, nil)
	var off flowJSON
	if code, data := h.call("POST", "/api/v1/flows/minutely-read/disable", nil, &off); code != http.StatusOK || off.Enabled {
		t.Fatalf("disable: %d %s", code, data)
	}
	var manual triggeredRun
	if code, data := h.call("POST", "/api/v1/flows/"+fl.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"since": "2025-01-01T00:00:00Z"}}, &manual); code != http.StatusOK || manual.Trigger.Kind != "manual" {
		t.Errorf("manual run of a disabled flow: %d %s", code, data)
	}
	audit := h.audit("action=flow.enable")
	if len(audit) == 0 {
		t.Errorf("no flow.enable audit event")
	}
}

// TestEnableAgainKeepsTheDueTick: enabling a schedule flow that is
// enabled already (a deploy's flows store --enable) keeps its next tick,
// so that a tick due but not yet fired still runs; it was moved to the
// next tick from the moment of the enable, dropping that run.
func TestEnableAgainKeepsTheDueTick(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	h := startHarness(t, oktaemu.Config{Devices: 2}, func(c *Config) {
		// The scheduler looks when a flow is enabled, not on its own.
		c.Now, c.SchedulePoll = clock.Now, time.Hour
	})
	h.connect("Prod")
	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", scheduledFlow, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	var on flowJSON
	if code, data := h.call("POST", "/api/v1/flows/"+put.Flow.ID+"/enable", nil, &on); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, data)
	}
	due := time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC)
	if on.Trigger["nextRunAt"] != due.Format(time.RFC3339) {
		t.Fatalf("enabled flow %+v; want the next run at %v", on, due)
	}
	// The ticks of 10:01 to 10:04 are due and not fired when it is
	// enabled again (but for the scheduler's look at the first enable,
	// which may come only now: then the latest due tick has run already).
	clock.Advance(4 * time.Minute)
	if code, data := h.call("POST", "/api/v1/flows/"+put.Flow.ID+"/enable", nil, &on); code != http.StatusOK {
		t.Fatalf("enable again: %d %s", code, data)
	}
	waitFor(t, "the due tick's run", func() bool {
		runs := h.runsOf(put.Flow.ID)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	if r := h.runsOf(put.Flow.ID)[0]; !r.Trigger.Time.Equal(due.Add(3 * time.Minute)) {
		t.Errorf("the run is of the tick %v; want the latest due, %v", r.Trigger.Time, due.Add(3*time.Minute))
	}
}

func TestEnableRefusesMissingScopes(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 3}, nil)
	c := h.connect("Prod")
	var e apiErr
	if code, data := h.call("POST", "/api/v1/flows/nope/enable", nil, &e); code != http.StatusNotFound {
		t.Errorf("enable an unknown flow: %d %s", code, data)
	}
	manual := strings.Replace(suspendActiveFlow, "name: suspend-active-macs", "name: plain", 1)
	h.postYAML("/api/v1/flows", manual, nil)
	if code, _ := h.call("POST", "/api/v1/flows/plain/enable", nil, &e); code != http.StatusBadRequest || !strings.Contains(e.Error.Message, "no trigger") {
		t.Errorf("enable a flow without trigger: %d %+v", code, e)
	}

	nightly := strings.Replace(suspendActiveFlow, "steps:", "on:\n  schedule: {cron: \"0 2 * * *\", timezone: Europe/Berlin}\n  inputs: {platform: MACOS}\nsteps:", 1)
	if code, data := h.postYAML("/api/v1/flows", nightly, nil); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	// The connection loses okta.devices.manage: reauthorized with read only.
	var re struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	h.call("POST", "/api/v1/connections/"+c.ID+"/reauthorize", map[string]any{"scopes": []string{"okta.devices.read"}}, &re)
	h.signIn(re.AuthorizeURL, oktaemu.AdminLogin)

	code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/enable", nil, &e)
	if code != http.StatusForbidden || e.Error.Code != "insufficient_scope" || !strings.Contains(string(data), "okta.devices.manage") || !strings.Contains(string(data), "reauthorize") {
		t.Errorf("enable without the scope: %d %s; want 403 insufficient_scope with the fix", code, data)
	}
	var fl flowJSON
	h.call("GET", "/api/v1/flows/suspend-active-macs", nil, &fl)
	if fl.Enabled {
		t.Error("the flow was enabled anyway")
	}
}

// notifyReceiver records signed notifications and answers 500 while
// failing is set.
type notifyReceiver struct {
	secret string
	mu     sync.Mutex
	fail   bool
	got    []map[string]any
	bad    int
}

func (r *notifyReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	mac := hmac.New(sha256.New, []byte(r.secret))
	mac.Write(body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if req.Header.Get("X-Cardflow-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
		r.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m map[string]any
	_ = json.Unmarshal(body, &m)
	r.got = append(r.got, m)
	if r.fail {
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *notifyReceiver) messages() []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]map[string]any(nil), r.got...)
}

const failingFlow = `name: read-missing
steps:
  - id: read
    card: okta-devices/read-device
    connection: Prod
    input:
      deviceId: guo0000000000000none
`

// TestNotificationSurvivesKill: a flow run fails, its notification gets a
// 500, the server is killed with SIGKILL, and the restarted server
// delivers it with the same id.
func TestNotificationSurvivesKill(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	rcv := &notifyReceiver{secret: "notify-s3cret-of-the-test", fail: true}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	t.Setenv("CARDFLOW_NOTIFY_SECRET", rcv.secret)
	c1 := startChild(t, emu, dir, "", "-notify-url", srv.URL+"/cardflow")
	h1 := c1.harness(emu, dir)
	h1.connect("Prod")
	if code, data := h1.postYAML("/api/v1/flows", failingFlow, nil); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	var run flowRun
	if code, data := h1.call("POST", "/api/v1/flows/read-missing/runs?wait=true", map[string]any{}, &run); code != http.StatusOK || run.Status != "failed" {
		t.Fatalf("run: %d %s; want failed", code, data)
	}
	waitFor(t, "a first attempt", func() bool { return len(rcv.messages()) >= 1 })
	_ = c1.cmd.Process.Kill()
	c1.waitKilled()
	rcv.mu.Lock()
	rcv.fail = false
	attempts := len(rcv.got)
	rcv.mu.Unlock()

	// A kill during a retry leaves that attempt's claim on the message
	// until its one-minute lease ends, and a failed attempt puts the next
	// one off: the new server, its clock two minutes ahead, is past both
	// and delivers at once.
	clock := filepath.Join(t.TempDir(), "clock")
	moveClocks(t, clock, "2m")
	startChild(t, emu, dir, "", "-notify-url", srv.URL+"/cardflow", "-clock-file", clock)
	waitFor(t, "delivery after the restart", func() bool { return len(rcv.messages()) > attempts })
	msgs := rcv.messages()
	first, last := msgs[0], msgs[len(msgs)-1]
	if rcv.bad != 0 || first["id"] != last["id"] || last["type"] != "flow_run.failed" {
		t.Fatalf("messages %v (bad signatures %d); want the same flow_run.failed id on every attempt", msgs, rcv.bad)
	}
	fr, _ := last["flowRun"].(map[string]any)
	if fr["id"] != run.ID || fr["status"] != "failed" || fr["trigger"] != "manual" {
		t.Errorf("flowRun = %v; want run %s, failed, manual", fr, run.ID)
	}
}

// TestScheduleTickSurvivesKill: the server is killed with SIGKILL right
// after it fired a tick, and the restarted server runs that tick's run
// once, without firing the tick again. The test moves the servers' clocks
// (-clock-file) to the tick; the scheduler looks at its clock often
// (-schedule-poll), so it fires as soon as the clock has moved.
func TestScheduleTickSurvivesKill(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dir := t.TempDir()
	clock := filepath.Join(t.TempDir(), "clock")
	c1 := startChild(t, emu, dir, fpScheduleAfterTick, "-clock-file", clock, "-schedule-poll", "20ms")
	h1 := c1.harness(emu, dir)
	h1.connect("Prod")
	var put putAnswer
	if code, data := h1.postYAML("/api/v1/flows", scheduledFlow, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	// The flow is enabled with the server's clock standing half a minute
	// before a minute's tick (on the wall clock, a loaded machine could
	// pass the tick while enabling), then the clock moves to the tick.
	tick := time.Now().Truncate(time.Minute).Add(2 * time.Minute)
	setClocks(t, clock, tick.Add(-30*time.Second))
	if code, data := h1.call("POST", "/api/v1/flows/"+put.Flow.ID+"/enable", nil, nil); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, data)
	}
	setClocks(t, clock, tick)
	c1.waitKilled()

	c2 := startChild(t, emu, dir, "", "-clock-file", clock)
	h2 := c2.harness(emu, dir)
	var runs []triggeredRun
	waitFor(t, "the tick's run to finish", func() bool {
		runs = h2.runsOf(put.Flow.ID)
		return len(runs) >= 1 && runs[len(runs)-1].Status == "succeeded"
	})
	first := runs[len(runs)-1]
	n := 0
	for _, r := range runs {
		if r.Trigger.Time.Equal(first.Trigger.Time) {
			n++
		}
	}
	if !first.Trigger.Time.Equal(tick) {
		t.Errorf("the run is of the tick %v; want %v", first.Trigger.Time, tick)
	}
	if n != 1 || first.Trigger.Kind != "schedule" {
		t.Fatalf("runs %+v; want exactly one run of the tick %v", runs, first.Trigger.Time)
	}
	if !strings.Contains(c1.stderr.String(), fpScheduleAfterTick) {
		t.Errorf("the first server did not die at the failpoint")
	}
}
