package app

import (
	"fmt"
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

// TestAuditRetention: audit events are kept forever by default; a server
// started with -retain-audit purges those older than it when it starts,
// and leaves the runs, which -retain-runs (here: forever) governs.
func TestAuditRetention(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	h.connect("Prod")
	if code, data := h.call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": "Prod",
		"input": map[string]any{"resultSet": "first"}}, nil); code != http.StatusCreated {
		t.Fatalf("run a card: %d %s", code, data)
	}
	ids := func(events []map[string]any) map[any]bool {
		out := map[any]bool{}
		for _, e := range events {
			out[e["id"]] = true
		}
		return out
	}
	first := ids(h.audit(""))
	if len(first) < 2 {
		t.Fatalf("%d audit events after a connection and a card run; want at least 2", len(first))
	}
	h.stop()

	later := func(d, retain time.Duration) func(*Config) {
		return func(c *Config) {
			c.Now = func() time.Time { return time.Now().Add(d) }
			c.RetainRuns, c.RetainAudit = -1, retain
		}
	}
	// 400 days on, the connection's refresh token has ended: the server's
	// expiry check records that too (connection.expired), at its clock's
	// time. It runs in the background: wait for it, so that the event
	// exists before the purge below.
	h2 := startServer(t, h.emu, h.dataDir, later(400*24*time.Hour, 0))
	deadline := time.Now().Add(30 * time.Second)
	for len(h2.audit("action=connection.expired")) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("400 days later the server did not record the connection's expiry:\n%s", h2.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	kept := ids(h2.audit(""))
	for id := range first {
		if !kept[id] {
			t.Errorf("400 days later, without -retain-audit, audit event %v is gone; want every event kept", id)
		}
	}
	h2.stop()

	h3 := startServer(t, h.emu, h.dataDir, later(400*24*time.Hour, 365*24*time.Hour))
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(h3.logs.String(), "purged records past the retention period") {
		if time.Now().After(deadline) {
			t.Fatalf("with -retain-audit 365d, 400 days later the server did not purge:\n%s", h3.logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	left := h3.audit("")
	for _, e := range left {
		if first[e["id"]] {
			t.Errorf("400 days later with -retain-audit 365d, audit event %v remains", e)
		}
	}
	if len(left) == 0 {
		t.Errorf("the purge took the events of the last 365 days too (the connection's expiry)")
	}
	var runs struct {
		Runs []any `json:"runs"`
	}
	h3.call("GET", "/api/v1/runs", nil, &runs)
	if len(runs.Runs) != 1 {
		t.Errorf("%d card runs after the audit purge; want the 1 run kept (-retain-runs forever)", len(runs.Runs))
	}
	_, data := h3.call("GET", "/metrics", nil, nil)
	if want := fmt.Sprintf(`cardflow_retention_purged_total{kind="audit_event"} %d`, len(first)); !strings.Contains(string(data), want) {
		t.Errorf("/metrics does not count the %d purged audit events:\n%s", len(first), grepLines(string(data), "retention"))
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
