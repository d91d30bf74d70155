package flowrun_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// TestRemediesNameTheCommand: a refusal whose remedy is another request
// names the cardflow command that sends it, after the API path, as the
// other remedies do: a CLI user is not left with only an API path.
func TestRemediesNameTheCommand(t *testing.T) {
	st := sqlitetest.Open(t)
	now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
	s := flowrun.New(flowrun.Config{Store: st, Now: func() time.Time { return now }})
	src, err := os.ReadFile("../../examples/offboard-user-devices.yaml") // no trigger
	if err != nil {
		t.Fatal(err)
	}
	fl := &store.Flow{Name: "offboard-user-devices", Source: src, CreatedAt: now, UpdatedAt: now}
	if _, err := st.PutFlow(t.Context(), fl); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Enable(t.Context(), fl.Name, store.Actor{Type: store.ActorBootstrap})
	remedyHas(t, "Enable of a flow without a trigger", err, "POST /api/v1/flows/"+fl.ID+"/runs (cardflow flows run offboard-user-devices)")
	_, err = s.DisableFlow(t.Context(), fl.Name, store.Actor{Type: store.ActorBootstrap})
	remedyHas(t, "Disable of a flow without a trigger", err, "POST /api/v1/flows/"+fl.ID+"/runs (cardflow flows run offboard-user-devices)")
	if problem.CodeOf(err) != problem.InvalidInput {
		t.Errorf("Disable of a flow without a trigger: %v; want invalid_input, as Enable of it is", err)
	}
	audit, err := st.ListAudit(t.Context(), store.AuditFilter{})
	if err != nil || len(audit) != 0 {
		t.Errorf("audit after refused Enable and Disable: %d events (%v); want none", len(audit), err)
	}

	run := &store.FlowRun{FlowID: fl.ID, FlowName: fl.Name, Source: src, FlowVersion: 1, Inputs: []byte(`{}`), Status: "queued", CreatedAt: now}
	if err := st.CreateFlowRun(t.Context(), run); err != nil {
		t.Fatal(err)
	}
	_, err = s.Rerun(t.Context(), run.ID, false, flowrun.Starter{Actor: store.Actor{Type: store.ActorBootstrap}})
	remedyHas(t, "Rerun of a queued run", err, "POST /api/v1/flow-runs/"+run.ID+"/cancel (cardflow flows cancel "+run.ID+")")
}

func remedyHas(t *testing.T, what string, err error, want string) {
	t.Helper()
	p, ok := problem.As(err)
	if !ok || !strings.Contains(p.Remedy, want) {
		t.Errorf("%s: %v; want a remedy with %q", what, err, want)
	}
}
