package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// planSuspensions stores the suspend flow through h and returns its id and
// how many devices a run for each platform would suspend.
func planSuspensions(t *testing.T, h *harness, platforms []string) (string, map[string]int) {
	t.Helper()
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, data := h.postYAML("/api/v1/flows", strings.Replace(suspendActiveFlow, "concurrency: 3", "concurrency: 2", 1), &stored); code != 201 {
		t.Fatalf("store flow: %d %s", code, data)
	}
	want := map[string]int{}
	for _, p := range platforms {
		var plan struct {
			Steps []struct {
				Changes []any `json:"changes"`
			} `json:"steps"`
		}
		if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/plan", map[string]any{"inputs": map[string]any{"platform": p}}, &plan); code != 200 || len(plan.Steps) != 2 {
			t.Fatalf("plan for %s: %d %s", p, code, data)
		}
		want[p] = len(plan.Steps[1].Changes)
	}
	return stored.Flow.ID, want
}

// waitFlowRun polls h until the run finishes.
func waitFlowRun(t *testing.T, h *harness, id string, within time.Duration) flowRun {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var run flowRun
		h.call("GET", "/api/v1/flow-runs/"+id, nil, &run)
		if run.Status == "succeeded" || run.Status == "failed" {
			return run
		}
		if time.Now().After(deadline) {
			t.Fatalf("flow run %s did not finish within %v: %+v\n%s", id, within, run, h.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestMultiServerFlowRunsClaimedOnce starts flow runs alternately on two
// servers; each run is executed by exactly one server: every run succeeds
// and the org sees exactly one lifecycle call per planned device.
func TestMultiServerFlowRunsClaimedOnce(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 80})
	a, b, dsn := pgServers(t, emu, nil)
	a.connect("Prod")
	platforms := []string{"WINDOWS", "MACOS", "IOS", "ANDROID"}
	flowID, want := planSuspensions(t, a, platforms)
	before := lifecycleCalls(emu.Stats(t))

	ids := map[string]string{}
	for i, p := range platforms {
		h := []*harness{a, b}[i%2]
		var run flowRun
		if code, data := h.call("POST", "/api/v1/flows/"+flowID+"/runs", map[string]any{"inputs": map[string]any{"platform": p}}, &run); code != 202 {
			t.Fatalf("start run for %s on %s: %d %s", p, h.url, code, data)
		}
		ids[p] = run.ID
	}
	st := openPG(t, dsn)
	total := 0
	owners := map[string]int{}
	for _, p := range platforms {
		run := waitFlowRun(t, b, ids[p], 60*time.Second)
		if run.Status != "succeeded" || run.Steps[1].Succeeded != want[p] || run.Steps[1].Failed != 0 {
			t.Errorf("run for %s: %+v; want succeeded with %d items", p, run, want[p])
		}
		total += want[p]
		fr, err := st.GetFlowRun(t.Context(), ids[p])
		if err != nil {
			t.Fatalf("GetFlowRun: %v", err)
		}
		owners[fr.Owner]++
	}
	t.Logf("runs executed by: %v", owners)
	for owner := range owners {
		if owner != "server-a" && owner != "server-b" {
			t.Errorf("a run was last held by %q; want server-a or server-b", owner)
		}
	}
	if n := lifecycleCalls(emu.Stats(t)) - before; n != total {
		t.Errorf("%d lifecycle calls for %d planned suspensions; want exactly one each", n, total)
	}
}

// TestMultiServerFlowRunTakeover kills one `cardflow serve` process with
// SIGKILL in the middle of a flow run; another server on the same database
// (its own data directory, the same sealing key) picks the run up once the
// dead server's lease has expired on its clock, and finishes it without
// repeating an item.
func TestMultiServerFlowRunTakeover(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 80})
	dsn := pgtest.NewDatabase(t)
	dirA, dirB := t.TempDir(), t.TempDir()
	c1 := startChild(t, emu, dirA, fpFlowAfterItems+"5", "-db", dsn, "-flow-lease-ttl", "2s")
	copyKeyring(t, dirA, dirB)
	h1 := c1.harness(emu, dirA)
	h1.connect("Prod")
	flowID, plans := planSuspensions(t, h1, []string{"WINDOWS"})
	want := plans["WINDOWS"]
	if want < 8 {
		t.Fatalf("the plan suspends %d devices; the test needs more than the failpoint's 5", want)
	}
	before := lifecycleCalls(emu.Stats(t))

	run := startRunToCrash(t, h1, flowID, map[string]any{"inputs": map[string]any{"platform": "WINDOWS"}})
	c1.waitKilled()
	if done := lifecycleCalls(emu.Stats(t)) - before; done < 4 || done >= want {
		t.Fatalf("%d of %d devices were suspended before the crash; want the crash mid-run", done, want)
	}
	st := openPG(t, dsn)
	dead, err := st.GetFlowRun(t.Context(), run.ID)
	if err != nil {
		t.Fatalf("GetFlowRun: %v", err)
	}
	if dead.Status != "running" || dead.Owner == "" {
		t.Fatalf("after the crash the run is %q held by %q; want running, held by the dead server", dead.Status, dead.Owner)
	}

	// The other server starts with its clock an hour behind, well inside
	// the dead server's lease, which it must leave alone; then its clock
	// moves just past the lease's end, and it takes the run over.
	clock := filepath.Join(t.TempDir(), "clock")
	moveClocks(t, clock, "-1h")
	c2 := startChild(t, emu, dirB, "", "-db", dsn, "-flow-lease-ttl", "2s", "-clock-file", clock)
	h2 := c2.harness(emu, dirB)
	// Read from the other server while the dead one still holds the run,
	// the step shows how many items it has, not just how many are done.
	var held flowRun
	if code, data := h2.call("GET", "/api/v1/flow-runs/"+run.ID, nil, &held); code != 200 || len(held.Steps) != 2 {
		t.Fatalf("read the held run on the other server: %d %s", code, data)
	}
	if s := held.Steps[1]; s.Status != "running" || s.Items != want || s.Succeeded < 4 {
		t.Errorf("the held run's for_each step read on the other server: %s with %d items, %d succeeded; want running with %d items, some succeeded", s.Status, s.Items, s.Succeeded, want)
	}
	moved := time.Now()
	moveClocks(t, clock, (time.Until(dead.LeaseUntil) + time.Millisecond).String())
	run = waitFlowRun(t, h2, run.ID, 60*time.Second)
	if run.Status != "succeeded" || run.Steps[1].Succeeded != want || run.Steps[1].Failed != 0 {
		t.Fatalf("resumed run: %+v; want succeeded with %d items", run, want)
	}
	if n := lifecycleCalls(emu.Stats(t)) - before; n != want {
		t.Errorf("%d lifecycle calls for %d devices; want exactly one each (no item done twice)", n, want)
	}
	after, err := st.GetFlowRun(t.Context(), run.ID)
	if err != nil {
		t.Fatalf("GetFlowRun: %v", err)
	}
	if after.Owner == dead.Owner {
		t.Errorf("the run is still held by the dead server %q; want the other server", dead.Owner)
	}
	if resumedAt := logTime(t, c2.stderr.String(), "resuming an interrupted flow run"); resumedAt.Before(moved) {
		t.Errorf("the other server resumed the run at %v, while its clock stood an hour before the dead server's lease expired at %v", resumedAt, dead.LeaseUntil)
	}
}

// copyKeyring gives the server on dir "to" the sealing key of the server on
// dir "from", as servers sharing a database must have.
func copyKeyring(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(from, "keyring"))
	if err != nil {
		t.Fatalf("read the first server's keyring: %v", err)
	}
	if err := os.WriteFile(filepath.Join(to, "keyring"), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// logTime returns the time of the first JSON log line with message msg.
func logTime(t *testing.T, logs, msg string) time.Time {
	t.Helper()
	for line := range strings.Lines(logs) {
		var l struct {
			Time time.Time `json:"time"`
			Msg  string    `json:"msg"`
		}
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == msg {
			return l.Time
		}
	}
	t.Fatalf("no log line %q in:\n%s", msg, logs)
	return time.Time{}
}
