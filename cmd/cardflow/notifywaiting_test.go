package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLINotificationsTestSaysWhatWaits: cardflow notifications test says,
// of each receiver, how many notifications wait for it and since when (the
// API's waiting, waitingSince and, once an attempt failed, lastError), so
// that a receiver found refusing tells what it has not had: a flow's
// failure notified while it refused waits for it. A receiver that took
// every message shows none.
func TestCLINotificationsTestSaysWhatWaits(t *testing.T) {
	var refused atomic.Int64
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refused.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	t.Cleanup(refusing.Close)
	took := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(took.Close)
	s := startServerWith(t, oktaemu.Config{Devices: 1}, func(c *app.Config) {
		c.NotifyURLs, c.NotifySecret = []string{refusing.URL + "/hook", took.URL + "/hook"}, "a-long-random-notification-secret"
	})
	s.connect(t, "Demo org")
	file := filepath.Join(t.TempDir(), "flow.yaml")
	doc := "name: read-gone\nsteps:\n  - id: read\n    card: okta-devices/read-device\n    connection: Demo org\n    input: {deviceId: guogone0000000000000}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "run", file); code == exitOK {
		t.Fatalf("flows run of a device that is gone: exit 0; want a failed run\n%s%s", out, errOut)
	}

	// Once the sender has tried the failure's notification at each
	// receiver (delivered to one, refused by the other).
	var res api.NotificationTest
	var code int
	var out, errOut string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, out, errOut = runCLI(t, s.vars, "notifications", "test", "--json")
		res = api.NotificationTest{} // what the answer leaves out is not kept from the one before
		if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Receivers) != 2 {
			t.Fatalf("notifications test --json: exit %d %v\n%s%s", code, err, out, errOut)
		}
		if refused.Load() > 1 && res.Receivers[0].LastError != "" && res.Receivers[1].Waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for the sender to try the failure's notification at each receiver: %+v", res.Receivers)
		}
	}
	r := res.Receivers[0]
	if r.Delivered || r.Waiting != 1 || r.WaitingSince == nil || !strings.Contains(r.LastError, "503") {
		t.Errorf("refusing receiver: %+v; want waiting 1, waitingSince, lastError naming its 503", r)
	}
	if o := res.Receivers[1]; !o.Delivered || o.Waiting != 0 || o.WaitingSince != nil || o.LastError != "" {
		t.Errorf("receiver that took everything: %+v; want nothing waiting", o)
	}

	code, out, errOut = runCLI(t, s.vars, "notifications", "test")
	if code != exitFailure {
		t.Errorf("exit %d; want %d\n%s%s", code, exitFailure, out, errOut)
	}
	var refusedRow, tookRow string
	for line := range strings.SplitSeq(out, "\n") {
		switch {
		case strings.Contains(line, "refused: "):
			refusedRow = line
		case strings.Contains(line, "took the test message"):
			tookRow = line
		}
	}
	if !strings.Contains(out, "WAITING") || !strings.Contains(refusedRow, " 1 since ") || !strings.HasSuffix(strings.TrimSpace(tookRow), " -") {
		t.Errorf("stdout:\n%s\nwant a WAITING column: 1 since T for the refusing receiver (the run's failure), - for the other", out)
	}
}
