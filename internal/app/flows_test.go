package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

const suspendActiveFlow = `name: suspend-active-macs
description: Suspend every active macOS device
inputs:
  platform: {type: string, required: true}
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      search: 'status eq "ACTIVE" and profile.platform eq "${{ inputs.platform }}"'
      resultSet: all
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    for_each: ${{ steps.find.output.devices }}
    concurrency: 3
    input:
      deviceId: ${{ item.id }}
`

// flowValidation is the answer of POST /api/v1/flows/validate.
type flowValidation struct {
	Valid  bool `json:"valid"`
	Issues []struct {
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Step    string `json:"step"`
		Message string `json:"message"`
	} `json:"issues"`
}

// postYAML sends a flow document.
func (h *harness) postYAML(path, src string, out any) (int, []byte) {
	h.t.Helper()
	req, _ := http.NewRequest("POST", h.url+path, strings.NewReader(src))
	token := h.token
	if token == "" {
		token = testAPIToken
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/yaml")
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			h.t.Fatalf("POST %s: %d %v\n%s", path, resp.StatusCode, err, data)
		}
	}
	return resp.StatusCode, data
}

type flowRun struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Error  string `json:"error"`
	Steps  []struct {
		ID          string `json:"id"`
		Status      string `json:"status"`
		Items       int    `json:"items"`
		Succeeded   int    `json:"succeeded"`
		Failed      int    `json:"failed"`
		Skipped     int    `json:"skipped"`
		Error       string `json:"error"`
		ItemResults []struct {
			Index      int             `json:"index"`
			Status     string          `json:"status"`
			Input      json.RawMessage `json:"input"`
			Output     json.RawMessage `json:"output"`
			RunID      string          `json:"runId"`
			StartedAt  string          `json:"startedAt"`
			FinishedAt string          `json:"finishedAt"`
		} `json:"itemResults"`
	} `json:"steps"`
}

func lifecycleCalls(stats map[string]int) int {
	n := 0
	for k, v := range stats {
		if strings.HasPrefix(k, "POST /api/v1/devices/") || strings.HasPrefix(k, "DELETE /api/v1/devices/") {
			n += v
		}
	}
	return n
}

func TestFlowValidatePlanRun(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 60}, nil)
	h.connect("Prod")

	// Validation problems name their line.
	var v flowValidation
	bad := strings.Replace(suspendActiveFlow, "okta-devices/suspend-device", "okta-devices/suspend-devise", 1)
	if code, data := h.postYAML("/api/v1/flows/validate", bad, &v); code != 200 || v.Valid || len(v.Issues) == 0 || v.Issues[0].Line != 13 {
		t.Errorf("validate a misspelt card: %d %s; want invalid with an issue on line 13 (the card)", code, data)
	}
	if code, data := h.postYAML("/api/v1/flows/validate", suspendActiveFlow, &v); code != 200 || !v.Valid {
		t.Errorf("validate: %d %s; want valid", code, data)
	}
	var e apiErr
	if code, _ := h.postYAML("/api/v1/flows", bad, &e); code != 400 || e.Error.Code != "invalid_input" {
		t.Errorf("store an invalid flow: %d %+v; want 400 invalid_input", code, e)
	}

	var stored struct {
		Flow struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"flow"`
	}
	if code, data := h.postYAML("/api/v1/flows", suspendActiveFlow, &stored); code != 201 || stored.Flow.Name != "suspend-active-macs" {
		t.Fatalf("store the flow: %d %s", code, data)
	}

	// Plan changes nothing.
	before := lifecycleCalls(h.emu.Stats(t))
	var plan struct {
		Flow  string `json:"flow"`
		Steps []struct {
			ID      string `json:"id"`
			Mode    string `json:"mode"`
			Items   int    `json:"items"`
			Changes []struct {
				DeviceID, From, To string
			} `json:"changes"`
		} `json:"steps"`
	}
	if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/plan", map[string]any{"inputs": map[string]any{"platform": "MACOS"}}, &plan); code != 200 {
		t.Fatalf("plan: %d %s", code, data)
	}
	if len(plan.Steps) != 2 || plan.Steps[1].Mode != "manage" || len(plan.Steps[1].Changes) == 0 || plan.Steps[1].Changes[0].To != "SUSPENDED" || plan.Steps[1].Changes[0].From != "ACTIVE" {
		t.Fatalf("plan: %+v; want the suspend step with ACTIVE → SUSPENDED changes", plan)
	}
	if n := lifecycleCalls(h.emu.Stats(t)); n != before {
		t.Errorf("plan made %d lifecycle calls; want none", n-before)
	}
	want := len(plan.Steps[1].Changes)

	// Run, waiting for the end.
	var run flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"platform": "MACOS"}}, &run); code != 200 {
		t.Fatalf("run: %d %s", code, data)
	}
	if run.Status != "succeeded" || len(run.Steps) != 2 || run.Steps[1].Succeeded != want || run.Steps[1].Items != want {
		t.Fatalf("run: %+v; want succeeded with %d suspended", run, want)
	}
	if n := lifecycleCalls(h.emu.Stats(t)) - before; n != want {
		t.Errorf("the run made %d lifecycle calls; want %d", n, want)
	}
	var detail flowRun
	h.call("GET", "/api/v1/flow-runs/"+run.ID, nil, &detail)
	items := detail.Steps[1].ItemResults
	if len(items) != want || items[0].Status != "succeeded" || !bytes.Contains(items[0].Input, []byte("deviceId")) ||
		!bytes.Contains(items[0].Output, []byte("SUSPENDED")) || items[0].StartedAt == "" || items[0].FinishedAt == "" {
		t.Errorf("flow run detail: %d items, first %+v; want each item's input, output and timing", len(items), items)
	}
	// The worker appends the audit event after it stores the outcome that
	// ended the wait.
	var audit []map[string]any
	waitFor(t, "the flow.run audit event", func() bool { audit = h.audit("action=flow.run"); return len(audit) > 0 })
	if len(audit) != 1 || audit[0]["outcome"] != "success" {
		t.Errorf("flow.run audit: %v", audit)
	}

	// Missing input and a revoked scope are refused before anything runs.
	if code, _ := h.call("POST", "/api/v1/flows/suspend-active-macs/runs", map[string]any{}, &e); code != 400 || !strings.Contains(e.Error.Message, "platform") {
		t.Errorf("run without its input: %d %+v", code, e)
	}
}

func TestFlowScopePreflight(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	_, authURL := h.create("Prod", oktaemu.DemoClientSecret, []string{"okta.devices.read"})
	h.signIn(authURL, oktaemu.AdminLogin)
	var v struct {
		Valid   bool   `json:"valid"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	h.postYAML("/api/v1/flows/validate", suspendActiveFlow, &v)
	if v.Valid || v.Code != "insufficient_scope" || !strings.Contains(v.Message, "okta.devices.manage") {
		t.Errorf("validate with read-only scopes: %+v; want insufficient_scope naming okta.devices.manage", v)
	}
	// Storing it is not refused: the missing scope is the document's
	// warning, at the step's connection; running it is refused.
	var stored struct {
		Warnings []struct {
			Path    string `json:"path"`
			Message string `json:"message"`
			Remedy  string `json:"remedy"`
		} `json:"warnings"`
	}
	if code, data := h.postYAML("/api/v1/flows", suspendActiveFlow, &stored); code != http.StatusCreated {
		t.Fatalf("store: %d %s; want 201, the missing scope a warning", code, data)
	}
	if w := stored.Warnings; len(w) != 1 || w[0].Path != "steps[1].connection" || !strings.Contains(w[0].Message, "okta.devices.manage") || w[0].Remedy == "" {
		t.Errorf("store: warnings %+v; want the missing okta.devices.manage of steps[1].connection, with its fix", w)
	}
	var e apiErr
	if code, _ := h.call("POST", "/api/v1/flows/suspend-active-macs/runs", map[string]any{"inputs": map[string]any{"platform": "MACOS"}}, &e); code != http.StatusForbidden || e.Error.Code != "insufficient_scope" {
		t.Errorf("run: %d %+v; want 403 insufficient_scope", code, e)
	}
}

// TestFlowStoredWhileConnectionNeedsReauthorization: a flow document
// whose connection needs reauthorization is stored (a fix saved while the
// connection waits), the connection's state its warning at each step's
// connection; a flow enabled with the same trigger stays enabled. Enabling
// and running stay refused, and a document with another problem is still
// refused, with every problem.
func TestFlowStoredWhileConnectionNeedsReauthorization(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	h.connect("Prod")
	nightly := strings.Replace(suspendActiveFlow, "steps:", "on:\n  schedule: {cron: \"0 2 * * *\", timezone: Europe/Berlin}\n  inputs: {platform: MACOS}\nsteps:", 1)
	if code, data := h.postYAML("/api/v1/flows", nightly, nil); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/enable", nil, nil); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, data)
	}
	if code, data := h.call("PATCH", "/api/v1/connections/Prod", map[string]any{"clientSecret": oktaemu.DemoClientSecret}, nil); code != http.StatusOK {
		t.Fatalf("PATCH: %d %s", code, data)
	}

	var stored struct {
		Flow struct {
			Version int  `json:"version"`
			Enabled bool `json:"enabled"`
		} `json:"flow"`
		Warnings []struct {
			Line    int    `json:"line"`
			Path    string `json:"path"`
			Message string `json:"message"`
			Remedy  string `json:"remedy"`
		} `json:"warnings"`
	}
	fixed := strings.Replace(nightly, "Suspend every active macOS device", "Suspend the active macOS devices", 1)
	if code, data := h.postYAML("/api/v1/flows", fixed, &stored); code != http.StatusCreated {
		t.Fatalf("store while Prod needs reauthorization: %d %s; want 201 with warnings", code, data)
	}
	if stored.Flow.Version != 2 || !stored.Flow.Enabled {
		t.Errorf("stored: version %d, enabled %t; want version 2, still enabled (the same trigger)", stored.Flow.Version, stored.Flow.Enabled)
	}
	if w := stored.Warnings; len(w) != 2 || w[0].Path != "steps[0].connection" || w[1].Path != "steps[1].connection" ||
		!strings.HasPrefix(w[0].Message, `connection "Prod" needs reauthorization`) || !strings.Contains(w[0].Remedy, `cardflow connections reauthorize "Prod"`) {
		t.Errorf("stored: warnings %+v; want Prod's reauthorization at each step's connection, with the fix", w)
	}

	var e apiErr
	if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/runs", map[string]any{}, &e); code != http.StatusConflict || e.Error.Code != "needs_reauthorization" {
		t.Errorf("run: %d %s; want 409 needs_reauthorization", code, data)
	}
	if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d %s", code, data)
	}
	if code, data := h.call("POST", "/api/v1/flows/suspend-active-macs/enable", nil, &e); code != http.StatusConflict || e.Error.Code != "needs_reauthorization" ||
		!strings.Contains(e.Error.Message, `connection "Prod" needs reauthorization`) {
		t.Errorf("enable: %d %s; want 409 needs_reauthorization naming Prod", code, data)
	}

	broken := strings.Replace(fixed, "okta-devices/suspend-device", "okta-devices/suspend-devise", 1)
	code, data := h.postYAML("/api/v1/flows", broken, &e)
	if code != http.StatusBadRequest || e.Error.Code != "invalid_input" || !strings.Contains(e.Error.Message, "suspend-devise") || !strings.Contains(e.Error.Message, `connection "Prod" needs reauthorization`) {
		t.Errorf("store with an unknown card: %d %s; want 400 invalid_input with both problems", code, data)
	}
}

// TestFlowScopePreflightAfterRevokedGrant: once the access token that
// still carried a grant revoked on the OAuth app has expired, a flow's
// scope preflight refreshes it and refuses the flow before anything runs.
func TestFlowScopePreflightAfterRevokedGrant(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 5})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	h.connect("Prod")
	var e apiErr
	if code, data := h.postYAML("/api/v1/flows", suspendActiveFlow, nil); code != http.StatusCreated {
		t.Fatalf("store: %d\n%s", code, data)
	}
	h.emu.RevokeGrant(t, "okta.devices.manage")
	h.emu.AdvanceClock(t, time.Hour)
	before := h.emu.Stats(t)["GET /api/v1/devices"]
	code, _ := h.call("POST", "/api/v1/flows/suspend-active-macs/runs", map[string]any{"inputs": map[string]any{"platform": "MACOS"}}, &e)
	if code != http.StatusForbidden || e.Error.Code != "insufficient_scope" || !strings.Contains(e.Error.Message, "okta.devices.manage") {
		t.Errorf("run after the grant was revoked: %d %+v; want 403 insufficient_scope naming okta.devices.manage", code, e)
	}
	if n := h.emu.Stats(t)["GET /api/v1/devices"] - before; n != 0 {
		t.Errorf("the refused run searched devices %d times; want none", n)
	}
}

func TestExampleFlowsRun(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 40}, nil)
	h.connect("Demo org")
	tests := []struct {
		file   string
		inputs map[string]any
	}{
		{file: "../../examples/offboard-user-devices.yaml", inputs: map[string]any{"login": oktaemu.UserLogin}},
		{file: "../../examples/stale-device-cleanup.yaml", inputs: map[string]any{"since": "2100-01-01T00:00:00.000Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			src, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var stored struct {
				Flow struct{ ID string } `json:"flow"`
			}
			if code, data := h.postYAML("/api/v1/flows", string(src), &stored); code != 201 {
				t.Fatalf("store: %d %s", code, data)
			}
			var run flowRun
			if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", map[string]any{"inputs": tt.inputs}, &run); code != 200 || run.Status != "succeeded" {
				t.Fatalf("run: %d %s", code, data)
			}
		})
	}
}

// shutdownRunStatuses lists the card runs of flow run id by status.
func shutdownRunStatuses(h *harness, id string) map[string][]string {
	var runs struct {
		Runs []struct {
			Status string `json:"status"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"runs"`
	}
	h.call("GET", "/api/v1/runs?limit=1000&flowRun="+id, nil, &runs)
	out := map[string][]string{}
	for _, r := range runs.Runs {
		msg := ""
		if r.Error != nil {
			msg = r.Error.Message
		}
		out[r.Status] = append(out[r.Status], msg)
	}
	return out
}

// startShutdownRun stores the suspend flow (concurrency 1) and starts it
// with the org holding every suspension after the first three; it
// returns the run, how many devices the run suspends, the hold (one call
// waiting at it) and the lifecycle calls made before the run.
func startShutdownRun(t *testing.T, h *harness) (flowRun, int, *oktaemu.Hold, int) {
	t.Helper()
	var hold *oktaemu.Hold
	run, want, before := startShutdownRunWith(t, h, func() {
		hold = h.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 3)
	})
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("the run's fourth suspension never reached the org: %v", err)
	}
	return run, want, hold, before
}

// startShutdownRunWith stores the suspend flow (concurrency 1), calls
// obstruct, starts the run and returns it, how many devices it suspends
// and the lifecycle calls made before it.
func startShutdownRunWith(t *testing.T, h *harness, obstruct func()) (flowRun, int, int) {
	t.Helper()
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", strings.Replace(suspendActiveFlow, "concurrency: 3", "concurrency: 1", 1), &stored)
	inputs := map[string]any{"inputs": map[string]any{"platform": "ANDROID"}}
	var plan struct {
		Steps []struct {
			Changes []any `json:"changes"`
		} `json:"steps"`
	}
	h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/plan", inputs, &plan)
	want := len(plan.Steps[1].Changes)
	if want < 5 {
		t.Fatalf("the plan suspends %d devices; the test needs more than the 3 let through", want)
	}
	before := lifecycleCalls(h.emu.Stats(t))
	obstruct()
	var run flowRun
	h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", inputs, &run)
	return run, want, before
}

// resumeShutdownRun starts a second server on h's data and waits for it
// to resume run and finish it.
func resumeShutdownRun(t *testing.T, h *harness, id string, edit func(*Config)) (*harness, flowRun) {
	t.Helper()
	h2 := startServer(t, h.emu, h.dataDir, edit)
	var r flowRun
	waitFor(t, "the run to resume and finish (the lease is half an hour)", func() bool {
		h2.call("GET", "/api/v1/flow-runs/"+id+"?items=false", nil, &r)
		return r.Status == "succeeded" || r.Status == "failed"
	})
	if !strings.Contains(h2.logs.String(), "resuming an interrupted flow run") {
		t.Errorf("the second server does not log that it resumed the run")
	}
	return h2, r
}

// TestFlowRunHandedBackAtShutdown stops a server gracefully mid-run: the
// run starts no new item, the card call in flight finishes and is
// recorded (not cut off with its effect unknown), the run is handed back
// at once and the next server resumes it without waiting for the lease
// to expire and without repeating items. The org holds the fourth
// suspension until the server is shutting down, so the shutdown always
// meets the run mid-call, however fast or slow the machine. The lease is
// half an hour: a run not handed back could not resume before the test
// gives up.
func TestFlowRunHandedBackAtShutdown(t *testing.T) {
	t.Parallel()
	lease := func(c *Config) { c.FlowLeaseTTL = 30 * time.Minute; c.ShutdownTimeout = 10 * time.Minute }
	h := startHarness(t, oktaemu.Config{Devices: 400}, lease)
	run, want, hold, before := startShutdownRun(t, h)

	stopped := make(chan struct{})
	go func() { h.stop(); close(stopped) }()
	waitFor(t, "the server to log that it is shutting down", func() bool {
		return strings.Contains(h.logs.String(), `"msg":"shutting down","card_calls_in_flight":1`)
	})
	// The org answers the call in flight only now that the server is
	// stopping: the server waits for it, records it and starts no other.
	hold.Release()
	<-stopped
	if n := lifecycleCalls(h.emu.Stats(t)) - before; n != 4 {
		t.Fatalf("%d lifecycle calls before the shutdown; want 4: the 3 let through and the one in flight, and no new one", n)
	}
	if !strings.Contains(h.logs.String(), "flow run interrupted by shutdown") {
		t.Errorf("the server does not log that it handed the run back")
	}

	h2, r := resumeShutdownRun(t, h, run.ID, lease)
	if r.Status != "succeeded" || r.Steps[1].Succeeded != want {
		t.Errorf("resumed run: %+v; want succeeded with %d items", r, want)
	}
	if n := lifecycleCalls(h.emu.Stats(t)) - before; n != want {
		t.Errorf("%d lifecycle calls for %d devices; want one each: the call in flight at the shutdown was recorded with its item", n, want)
	}
	if got := shutdownRunStatuses(h2, run.ID); len(got) != 1 || len(got["succeeded"]) != want+1 {
		t.Errorf("card runs by status: %v; want the search and %d suspensions, all succeeded", got, want)
	}
}

// TestFlowRunShutdownTimeoutCutsCall: a card call still in flight when the
// shutdown's time is up is cut off, recorded as such, and its item run
// again by the server that resumes the run.
func TestFlowRunShutdownTimeoutCutsCall(t *testing.T) {
	t.Parallel()
	lease := func(c *Config) { c.FlowLeaseTTL = 30 * time.Minute; c.ShutdownTimeout = time.Millisecond }
	h := startHarness(t, oktaemu.Config{Devices: 400}, lease)
	run, want, hold, before := startShutdownRun(t, h)
	h.stop()
	// The stopped server gave up its call: the org drops it unserved.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := hold.Await(ctx, 0); err != nil {
		t.Fatalf("the stopped server's call is still waiting at the org: %v", err)
	}
	hold.Release()
	if n := lifecycleCalls(h.emu.Stats(t)) - before; n != 3 {
		t.Fatalf("%d lifecycle calls before the shutdown; want the 3 let through", n)
	}

	h2, r := resumeShutdownRun(t, h, run.ID, lease)
	if r.Status != "succeeded" || r.Steps[1].Succeeded != want {
		t.Errorf("resumed run: %+v; want succeeded with %d items", r, want)
	}
	if n := lifecycleCalls(h.emu.Stats(t)) - before; n != want {
		t.Errorf("%d lifecycle calls for %d devices; want one each", n, want)
	}
	got := shutdownRunStatuses(h2, run.ID)
	if len(got["interrupted"]) != 1 || !strings.Contains(got["interrupted"][0], "cancelled before Okta answered") || len(got["succeeded"]) != want+1 {
		t.Errorf("card runs by status: %v; want the call cut off interrupted, saying so, and the search and %d suspensions succeeded", got, want)
	}
}

// TestFlowRunShutdownCutCallCredited: a call cut off at the shutdown's end
// that Okta had carried out (its answer lost) is credited with the change
// when the resumed run finds the device already suspended: the item says
// changed, names the cut attempt, and no suspension is sent twice.
func TestFlowRunShutdownCutCallCredited(t *testing.T) {
	t.Parallel()
	lease := func(c *Config) { c.FlowLeaseTTL = 30 * time.Minute; c.ShutdownTimeout = time.Millisecond }
	h := startHarness(t, oktaemu.Config{Devices: 400}, lease)
	const suspend = "/api/v1/devices/{deviceId}/lifecycle/suspend"
	run, want, before := startShutdownRunWith(t, h, func() {
		// The fourth suspension is carried out, then its answer never comes.
		h.emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: suspend, Skip: 3, Count: 1, After: true, Body: "hang"})
	})
	waitFor(t, "the fourth suspension to reach the org", func() bool { return lifecycleCalls(h.emu.Stats(t))-before == 4 })
	h.stop()

	h2, r := resumeShutdownRun(t, h, run.ID, lease)
	if r.Status != "succeeded" || r.Steps[1].Succeeded != want {
		t.Errorf("resumed run: %+v; want succeeded with %d items", r, want)
	}
	if n := lifecycleCalls(h.emu.Stats(t)) - before; n != want {
		t.Errorf("%d lifecycle calls for %d devices; want one each (the cut one not sent again)", n, want)
	}
	var detail flowRun
	h2.call("GET", "/api/v1/flow-runs/"+run.ID+"?items=true", nil, &detail)
	credited := 0
	for _, it := range detail.Steps[1].ItemResults {
		var out map[string]any
		if err := json.Unmarshal(it.Output, &out); err != nil {
			t.Fatalf("item %d output %s: %v", it.Index, it.Output, err)
		}
		if out["changed"] != true {
			t.Errorf("item %d output %s; want changed: every device was suspended by this run", it.Index, it.Output)
		}
		if out["note"] == "changed by the interrupted attempt" {
			credited++
		}
	}
	if credited != 1 {
		t.Errorf("%d items credited to an interrupted attempt; want the one whose call was cut off", credited)
	}
	if got := shutdownRunStatuses(h2, run.ID); len(got["interrupted"]) != 1 {
		t.Errorf("card runs by status: %v; want the cut call interrupted", got)
	}
}

const readOneFlow = `name: read-one
inputs:
  deviceId: {type: string, required: true}
steps:
  - id: device
    card: okta-devices/read-device
    connection: Prod
    input: {deviceId: "${{ inputs.deviceId }}"}
`

// TestFlowRunQueuedBehindBusySlots: a run queued while every run slot of
// the server is taken starts as soon as a slot frees, not at the worker's
// next periodic look (a third of the 30 min lease here).
func TestFlowRunQueuedBehindBusySlots(t *testing.T) {
	t.Parallel()
	const slots = 4 // flowrun's default MaxRuns
	h := startHarness(t, oktaemu.Config{Devices: 3}, func(c *Config) { c.FlowLeaseTTL = 30 * time.Minute })
	h.connect("Prod")
	device := h.deviceWithStatus("Prod", "ACTIVE")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, data := h.postYAML("/api/v1/flows", readOneFlow, &stored); code != 201 {
		t.Fatalf("store flow: %d %s", code, data)
	}
	hold := h.emu.Hold(t, "GET", "/api/v1/devices/{deviceId}", 0)
	var ids []string
	for range slots + 1 {
		var run flowRun
		if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", map[string]any{"inputs": map[string]any{"deviceId": device}}, &run); code/100 != 2 {
			t.Fatalf("start run: %d %s", code, data)
		}
		ids = append(ids, run.ID)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := hold.Await(ctx, slots); err != nil {
		t.Fatalf("waiting for %d runs to call the org: %v", slots, err)
	}
	hold.Release()
	for _, id := range ids {
		waitFor(t, "run "+id+" to succeed", func() bool {
			var r flowRun
			h.call("GET", "/api/v1/flow-runs/"+id, nil, &r)
			return r.Status == "succeeded"
		})
	}
}
