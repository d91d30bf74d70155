package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// killDuringDirectRun starts suspend-device on device with POST
// /api/v1/runs on c, whose failpoint kills it once Okta has answered the
// suspension (before the run is finished), and waits for the death.
func killDuringDirectRun(t *testing.T, c *child, device string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"card": "okta-devices/suspend-device", "connection": "Prod", "input": map[string]any{"deviceId": device}})
	req, _ := http.NewRequest("POST", c.url+"/api/v1/runs", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the card run got an answer (%d); want the server killed after the suspension", resp.StatusCode)
	}
	c.waitKilled()
}

// moveClocks makes the servers started with -clock-file path run d ahead
// of the wall clock (e.g. past the lease of a server that died just now).
// The file is replaced whole, so that a server reading it while it moves
// sees the old offset or the new one.
func moveClocks(t *testing.T, path, d string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(d), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// setClocks stops the clocks of the servers started with -clock-file path
// at t: they stay there, whatever the wall clock does, until moved again.
func setClocks(t *testing.T, path string, at time.Time) {
	t.Helper()
	moveClocks(t, path, "@"+at.UTC().Format(time.RFC3339Nano))
}

// interruptedRun waits until server h lists the one suspend-device run as
// interrupted, and checks what it says.
func interruptedRun(t *testing.T, h *harness, emu *emutest.Server, device string) runJSON {
	t.Helper()
	var runs struct {
		Runs []runJSON `json:"runs"`
	}
	waitFor(t, "the dead server's card run to end interrupted", func() bool {
		h.call("GET", "/api/v1/runs?card=okta-devices/suspend-device", nil, &runs)
		return len(runs.Runs) == 1 && runs.Runs[0].Status != store.RunRunning
	})
	r := runs.Runs[0]
	if r.Status != store.RunInterrupted || r.Error == nil || r.Error.Code != store.InterruptedCode || !strings.Contains(r.Error.Message, "whether the call reached Okta is unknown") ||
		r.Error.Details["remedy"] != store.InterruptedChangeRemedy {
		t.Errorf("the dead server's card run: %+v %+v; want interrupted, saying the call may have reached Okta, with a remedy", r, r.Error)
	}
	// Here the call did reach Okta: the remedy's read would show it.
	var dev struct {
		Device struct {
			Status string `json:"status"`
		} `json:"device"`
	}
	if code, data := h.call("GET", "/api/v1/runs/"+r.ID, nil, nil); code != http.StatusOK {
		t.Errorf("GET the interrupted run: %d %s", code, data)
	}
	if code, out := h.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": device}); code != http.StatusCreated || json.Unmarshal(out.Output, &dev) != nil || dev.Device.Status != "SUSPENDED" {
		t.Errorf("read-device after the crash: %d %s; want the device SUSPENDED", code, out.Output)
	}
	return r
}

// TestCrashMidDirectCardRun kills a server process (SIGKILL) after Okta
// answered a card run started with POST /api/v1/runs and before the run
// was finished, then starts the server again on the same data directory:
// once the dead server's lease on the run has lapsed the run ends
// interrupted, with the warning that the call may have reached Okta,
// instead of staying running forever.
func TestCrashMidDirectCardRun(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dir := t.TempDir()
	clock := filepath.Join(t.TempDir(), "clock")
	c1 := startChild(t, emu, dir, fpFlowAfterLifecycle+"1", "-card-lease-ttl", "2s")
	h1 := c1.harness(emu, dir)
	h1.connect("Prod")
	device := h1.deviceWithStatus("Prod", "ACTIVE")
	killDuringDirectRun(t, c1, device)

	moveClocks(t, clock, "1m")
	c2 := startChild(t, emu, dir, "", "-clock-file", clock)
	r := interruptedRun(t, c2.harness(emu, dir), emu, device)
	if !strings.Contains(c2.stderr.String(), "card runs interrupted") || !strings.Contains(c2.stderr.String(), r.ID) {
		t.Errorf("the restarted server does not log the card run it interrupted\n%s", c2.stderr)
	}
}

// TestPGCrashMidDirectCardRun: on PostgreSQL, a server dies mid card run
// while another server executes a card run of its own; a third server
// ends the dead server's run interrupted once its lease has lapsed, and
// leaves the live server's run, whose lease that server renews, running
// until it finishes.
func TestPGCrashMidDirectCardRun(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dsn := pgtest.NewDatabase(t)
	dirA, dirB, dirC := t.TempDir(), t.TempDir(), t.TempDir()
	clock := filepath.Join(t.TempDir(), "clock")
	c1 := startChild(t, emu, dirA, fpFlowAfterLifecycle+"1", "-db", dsn, "-card-lease-ttl", "2s")
	copyKeyring(t, dirA, dirB)
	copyKeyring(t, dirA, dirC)
	h1 := c1.harness(emu, dirA)
	h1.connect("Prod")
	device := h1.deviceWithStatus("Prod", "ACTIVE")
	// The live server: its lease lasts an hour of its own (wall) clock.
	live := startChild(t, emu, dirC, "", "-db", dsn, "-card-lease-ttl", "1h")
	hLive := live.harness(emu, dirC)

	killDuringDirectRun(t, c1, device)
	st := openPG(t, dsn)
	dead, err := st.ListRuns(t.Context(), store.RunFilter{Card: "okta-devices/suspend-device"})
	if err != nil || len(dead) != 1 || dead[0].Status != store.RunRunning || dead[0].Owner == "" {
		t.Fatalf("after the crash: %+v (%v); want one run, running, owned by the dead server", dead, err)
	}

	// The live server's card run waits at Okta.
	hold := emu.Hold(t, "GET", "/api/v1/devices/{deviceId}", 0)
	done := make(chan runJSON, 1)
	go func() {
		_, r := hLive.run("okta-devices/read-device", "Prod", map[string]any{"deviceId": device})
		done <- r
	}()
	if err := hold.Await(t.Context(), 1); err != nil {
		t.Fatal(err)
	}

	// A third server, a minute ahead: past the dead server's lease, well
	// within the live one's.
	moveClocks(t, clock, "1m")
	c2 := startChild(t, emu, dirB, "", "-db", dsn, "-clock-file", clock)
	h2 := c2.harness(emu, dirB)
	var runs struct {
		Runs []runJSON `json:"runs"`
	}
	waitFor(t, "the dead server's card run to end", func() bool {
		h2.call("GET", "/api/v1/runs?card=okta-devices/suspend-device", nil, &runs)
		return len(runs.Runs) == 1 && runs.Runs[0].Status != store.RunRunning
	})
	// The sweep that ended it saw the live server's run, and left it.
	reading, err := st.ListRuns(t.Context(), store.RunFilter{Card: "okta-devices/read-device"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reading {
		if r.Status != store.RunRunning && r.Status != "succeeded" {
			t.Errorf("read-device run %s (owner %s) is %s; want the live server's run left running", r.ID, r.Owner, r.Status)
		}
	}
	hold.Release()
	if r := <-done; r.Status != "succeeded" {
		t.Errorf("the live server's card run ended %s; want succeeded", r.Status)
	}
	interruptedRun(t, h2, emu, device)
}
