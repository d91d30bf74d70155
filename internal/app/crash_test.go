package app

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// child is a server process: the test binary re-executed as a cardflow
// server (see serveChild).
type child struct {
	t      *testing.T
	cmd    *exec.Cmd
	url    string
	stderr *emutest.SyncBuffer
	// exited is closed once the process has exited and been waited for;
	// err is then what Wait returned.
	exited chan struct{}
	err    error
}

// startChild runs a server process on dataDir against emu, with the
// failpoint (if any) and flags (-db, -flow-lease-ttl), and waits for its
// serving line.
func startChild(t *testing.T, emu *emutest.Server, dataDir, failpoint string, flags ...string) *child {
	t.Helper()
	args := append([]string{"-listen", "127.0.0.1:0", "-data-dir", dataDir, "-trust-origin", emu.URL}, flags...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "CARDFLOW_FAILPOINT="+failpoint)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	c := &child{t: t, cmd: cmd, stderr: &emutest.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start a server process: %v", err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "cardflow: serving "); ok {
				urls <- u
			}
		}
		c.err = cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
		default:
			_ = cmd.Process.Kill()
			<-c.exited
		}
	})
	select {
	case c.url = <-urls:
	case <-c.exited:
		t.Fatalf("the server process exited before serving: %v\n%s", c.err, c.stderr)
	case <-time.After(time.Minute):
		t.Fatalf("the server process did not print its serving line within a minute\n%s", c.stderr)
	}
	return c
}

// harness returns a harness that talks to the child over HTTP.
func (c *child) harness(emu *emutest.Server, dataDir string) *harness {
	return &harness{t: c.t, emu: emu, url: c.url, dataDir: dataDir, logs: c.stderr,
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// startRunToCrash starts a flow run on a child whose failpoint kills it
// after some suspensions. The org holds the suspensions until the run's
// 202 has arrived, so that the death cannot come before the answer.
func startRunToCrash(t *testing.T, h *harness, flowID string, body map[string]any) flowRun {
	t.Helper()
	hold := h.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 0)
	defer hold.Release()
	var run flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+flowID+"/runs", body, &run); code != 202 {
		t.Fatalf("start run: %d %s", code, data)
	}
	return run
}

// waitKilled waits for the child to die and checks it died of SIGKILL.
// The minute only bounds how long a failure takes to show.
func (c *child) waitKilled() {
	c.t.Helper()
	select {
	case <-c.exited:
		err := c.err
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			c.t.Fatalf("child exited with %v; want killed by SIGKILL", err)
		}
		ws, ok := ee.Sys().(syscall.WaitStatus)
		if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			c.t.Fatalf("child exited with %v; want killed by SIGKILL\n%s", err, c.stderr)
		}
	case <-time.After(time.Minute):
		c.t.Fatalf("child still alive a minute on; want it killed at the failpoint\n%s", c.stderr)
	}
}

// refreshLeaseLapsed is a clock offset past the refresh lease (6 s by
// default) of a server that died just now, well inside the retry window of
// its interrupted refresh (20 s).
const refreshLeaseLapsed = "7s"

// pastRefreshLease returns a clock file (see fileClock) that runs a server
// refreshLeaseLapsed ahead of the wall clock.
func pastRefreshLease(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clock")
	moveClocks(t, path, refreshLeaseLapsed)
	return path
}

// TestCrashAroundRefresh kills a real server process with SIGKILL before
// the refresh request, after Okta answered but before the commit, and after
// the commit, then restarts it: the connection must still work (or, past
// the safe window, need reauthorization with a reason) and the org must
// never see a refresh token reused (its family revocation would make the
// next refresh fail).
func TestCrashAroundRefresh(t *testing.T) {
	t.Parallel()
	for _, fp := range []string{fpRefreshBeforeRequest, fpRefreshAfterResponse, fpRefreshAfterCommit} {
		t.Run(fp, func(t *testing.T) {
			t.Parallel()
			emu := emutest.Start(t, oktaemu.Config{Devices: 3})
			dir := t.TempDir()
			c1 := startChild(t, emu, dir, fp)
			conn := c1.harness(emu, dir).connect("Crashy")
			tokenPosts := func() int { return emu.Stats(t)["POST /oauth2/v1/token"] }
			before := tokenPosts()

			// A health check refreshes the access token: the child dies.
			h1 := c1.harness(emu, dir)
			req, _ := http.NewRequest("POST", c1.url+"/api/v1/connections/"+conn.ID+"/test", nil)
			req.Header.Set("Authorization", "Bearer "+testAPIToken)
			if resp, err := h1.http.Do(req); err == nil {
				resp.Body.Close()
				t.Fatalf("the test request got an answer (%d); want the server killed mid-refresh", resp.StatusCode)
			}
			c1.waitKilled()
			sent := tokenPosts() - before
			wantSent := 1
			if fp == fpRefreshBeforeRequest {
				wantSent = 0
			}
			if sent != wantSent {
				t.Fatalf("the killed server sent %d refresh requests; want %d", sent, wantSent)
			}

			// Restart without the failpoint, its clock past the dead
			// server's refresh lease: it need not wait for the lease to
			// lapse, and the interrupted refresh is as old as it would be
			// by then.
			c2 := startChild(t, emu, dir, "", "-clock-file", pastRefreshLease(t))
			h2 := c2.harness(emu, dir)
			got := h2.connection(conn.ID)
			if got.Status != "active" {
				if got.Status != "needs_reauthorization" || got.StatusReason == "" || got.Remedy == "" {
					t.Fatalf("after restart: status %q reason %q remedy %q; want active, or needs_reauthorization with reason and remedy", got.Status, got.StatusReason, got.Remedy)
				}
				t.Fatalf("after a restart inside the retry window the connection needs reauthorization (%s); want it recovered", got.StatusReason)
			}
			// Two refreshes in a row work: had the org seen a reused refresh
			// token it would have revoked the whole family, and the first or
			// second refresh would fail with invalid_grant.
			for i := 0; i < 2; i++ {
				var res struct {
					OK           bool   `json:"ok"`
					Status       string `json:"status"`
					StatusReason string `json:"statusReason"`
				}
				if code, data := h2.call("POST", "/api/v1/connections/"+conn.ID+"/test", nil, &res); code != 200 || !res.OK {
					t.Fatalf("health check %d after restart: %d %s\n%s", i+1, code, data, c2.stderr)
				}
			}
			if n := tokenPosts() - before; n > wantSent+3 {
				t.Errorf("%d token requests in all; want at most %d (no retry loop)", n, wantSent+3)
			}
			if strings.Contains(c2.stderr.String(), "reuse") {
				t.Errorf("the restarted server logs a refresh token reuse:\n%s", c2.stderr)
			}
		})
	}
}

// TestCrashMidFlowRun kills a real server with SIGKILL mid flow run:
// after some items are recorded, after an item's card run is stored but
// not its item, and after Okta answered an item's call but before its card
// run is finished. It restarts the server and checks that the run resumes
// and finishes without doing any item twice (the org counts lifecycle
// calls), that no card run stays running (the interrupted ones end
// interrupted), and that every item names the card run that changed its
// device, so that the run counts every change once.
func TestCrashMidFlowRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		failpoint string
		// interrupted is whether the crash must leave a card run that
		// ends interrupted.
		interrupted bool
		// known gives the suspensions the status the search saw
		// (status: ${{ item.status }}), which the retry of the item the
		// crash cut off must not trust: that attempt changed it.
		known bool
	}{
		{"after items", fpFlowAfterItems + "5", false, false},
		{"after a card run before its item", fpFlowAfterCardRuns + "5", false, false},
		{"after the call before its card run", fpFlowAfterLifecycle + "4", true, false},
		{"after the call before its card run, known status", fpFlowAfterLifecycle + "4", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			crashMidFlowRun(t, tt.failpoint, tt.interrupted, tt.known)
		})
	}
}

func crashMidFlowRun(t *testing.T, failpoint string, wantInterrupted, known bool) {
	emu := emutest.Start(t, oktaemu.Config{Devices: 80})
	dir := t.TempDir()
	// The card runs' leases outlast the test (the restarted server's
	// clock included): only the resumed flow run can end them interrupted.
	c1 := startChild(t, emu, dir, failpoint, "-flow-lease-ttl", "2s", "-card-lease-ttl", "1h")
	h1 := c1.harness(emu, dir)
	h1.connect("Prod")

	// How many devices the flow will suspend.
	var plan struct {
		Steps []struct {
			Changes []any `json:"changes"`
		} `json:"steps"`
	}
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	doc := strings.Replace(suspendActiveFlow, "concurrency: 3", "concurrency: 2", 1)
	if known {
		doc = strings.Replace(doc, "deviceId: ${{ item.id }}\n", "deviceId: ${{ item.id }}\n      status: ${{ item.status }}\n", 1)
	}
	if code, data := h1.postYAML("/api/v1/flows", doc, &stored); code != 201 {
		t.Fatalf("store flow: %d %s", code, data)
	}
	inputs := map[string]any{"inputs": map[string]any{"platform": "WINDOWS"}}
	h1.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/plan", inputs, &plan)
	want := len(plan.Steps[1].Changes)
	if want < 8 {
		t.Fatalf("the plan suspends %d devices; the test needs more than the failpoint's 5", want)
	}
	before := lifecycleCalls(emu.Stats(t))

	run := startRunToCrash(t, h1, stored.Flow.ID, inputs)
	c1.waitKilled()
	crashedAt := time.Now()
	done := lifecycleCalls(emu.Stats(t)) - before
	// About four items done: the search, then suspensions (the one in
	// flight may have reached the org unrecorded).
	if done < 3 || done >= want {
		t.Fatalf("%d of %d devices were suspended before the crash; want the crash mid-run", done, want)
	}

	// The restarted server's clock is past the dead server's lease on the
	// run: it claims the run at once instead of waiting for it to lapse.
	clock := filepath.Join(t.TempDir(), "clock")
	moveClocks(t, clock, "1m")
	c2 := startChild(t, emu, dir, "", "-flow-lease-ttl", "2s", "-card-lease-ttl", "1h", "-clock-file", clock)
	h2 := c2.harness(emu, dir)
	deadline := time.Now().Add(60 * time.Second)
	for {
		h2.call("GET", "/api/v1/flow-runs/"+run.ID, nil, &run)
		if run.Status == "succeeded" || run.Status == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run did not finish after the restart: %+v\n%s", run, c2.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if run.Status != "succeeded" || run.Steps[1].Succeeded != want || run.Steps[1].Failed != 0 {
		t.Fatalf("resumed run: %+v; want succeeded with %d items", run, want)
	}
	if n := lifecycleCalls(emu.Stats(t)) - before; n != want {
		t.Errorf("%d lifecycle calls for %d devices; want exactly one each (no item done twice)", n, want)
	}
	// The items finished before the crash kept their records.
	early := 0
	for _, it := range run.Steps[1].ItemResults {
		if ts, err := time.Parse(time.RFC3339Nano, it.FinishedAt); err == nil && ts.Before(crashedAt) {
			early++
		}
	}
	if early < 2 {
		t.Errorf("%d items are recorded as finished before the crash; want at least 2", early)
	}
	if !strings.Contains(c2.stderr.String(), "resuming an interrupted flow run") {
		t.Errorf("the restarted server does not log that it resumed the run")
	}

	// No card run of the flow run is left running.
	var cardRuns struct {
		Runs []struct {
			ID     string          `json:"id"`
			Status string          `json:"status"`
			Output json.RawMessage `json:"output"`
		} `json:"runs"`
	}
	if code, data := h2.call("GET", "/api/v1/runs?limit=500&flowRun="+run.ID, nil, &cardRuns); code != 200 {
		t.Fatalf("list card runs: %d %s", code, data)
	}
	statusOf := map[string]string{}
	interrupted := 0
	for _, r := range cardRuns.Runs {
		statusOf[r.ID] = r.Status
		switch r.Status {
		case "running":
			t.Errorf("card run %s is still running after the flow run finished", r.ID)
		case "interrupted":
			interrupted++
		}
	}
	if wantInterrupted && interrupted == 0 {
		t.Errorf("no card run ended interrupted; want the one the crash cut off")
	}
	// Every device was changed once, and its item says so and names the
	// card run that changed it: the run's totals count every change.
	changed := 0
	for _, it := range run.Steps[1].ItemResults {
		var out struct {
			Changed bool `json:"changed"`
		}
		if err := json.Unmarshal(it.Output, &out); err != nil {
			t.Fatalf("item %d output %s: %v", it.Index, it.Output, err)
		}
		if !out.Changed {
			t.Errorf("item %d: output %s; want changed: true (the org saw one suspension per device)", it.Index, it.Output)
			continue
		}
		changed++
		if st := statusOf[it.RunID]; st != "succeeded" && st != "interrupted" {
			t.Errorf("item %d names card run %q (%s); want the run that changed the device", it.Index, it.RunID, st)
		}
	}
	if changed != want {
		t.Errorf("%d items changed a device; want %d", changed, want)
	}
}
