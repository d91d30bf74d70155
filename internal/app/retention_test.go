package app

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestRetentionPurgesOnStart: a server whose clock is past the retention
// period of a finished run purges it by itself when it starts, logs what
// it removed and counts it in /metrics; a server within the period keeps it.
func TestRetentionPurgesOnStart(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 20}, nil)
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", suspendActiveFlow, &stored)
	var run flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs?wait=true", map[string]any{"inputs": map[string]any{"platform": "WINDOWS"}}, &run); code != http.StatusOK {
		t.Fatalf("run: %d %s", code, data)
	}
	h.stop()

	later := func(d time.Duration) func(*Config) {
		return func(c *Config) { c.Now = func() time.Time { return time.Now().Add(d) } }
	}
	h2 := startServer(t, h.emu, h.dataDir, later(29*24*time.Hour))
	if code, _ := h2.call("GET", "/api/v1/flow-runs/"+run.ID+"?items=false", nil, nil); code != http.StatusOK {
		t.Errorf("29 days later the run answers %d; want it kept (200)", code)
	}
	h2.stop()

	h3 := startServer(t, h.emu, h.dataDir, later(31*24*time.Hour))
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(h3.logs.String(), "purged records past the retention period") {
		if time.Now().After(deadline) {
			t.Fatalf("31 days later the server did not purge:\n%s", h3.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if code, _ := h3.call("GET", "/api/v1/flow-runs/"+run.ID, nil, nil); code != http.StatusNotFound {
		t.Errorf("31 days later the run answers %d; want 404 (purged)", code)
	}
	var runs struct {
		Runs []any `json:"runs"`
	}
	h3.call("GET", "/api/v1/runs?flowRun="+run.ID, nil, &runs)
	if len(runs.Runs) != 0 {
		t.Errorf("%d card runs of the purged flow run remain", len(runs.Runs))
	}
	_, data := h3.call("GET", "/metrics", nil, nil)
	metrics := string(data)
	if !strings.Contains(metrics, `cardflow_retention_purged_total{kind="flow_run"} 1`) {
		t.Errorf("/metrics does not count the purged flow run:\n%s", grepLines(metrics, "retention"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
