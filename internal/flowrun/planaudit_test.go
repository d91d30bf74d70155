package flowrun

import (
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
)

// TestPlanAuditNamesTheTickAsPeopleReadTimes: the flow.plan audit event
// of a plan of a schedule's tick names the tick as every text for people
// writes a time, where it wrote RFC 3339 (2026-12-07T02:00:00Z).
func TestPlanAuditNamesTheTickAsPeopleReadTimes(t *testing.T) {
	doc := &flow.Document{Name: "nightly", Steps: []*flow.Step{{ID: "suspend"}}}
	f := flow.Firing{Kind: flow.KindSchedule, Time: time.Date(2026, 12, 7, 3, 0, 0, 0, time.FixedZone("CET", 3600))}
	events := planAudit(doc, "flow_1", f, &flow.PlanResult{}, nil, &planTally{})
	if len(events) != 1 {
		t.Fatalf("%d flow.plan events; want 1", len(events))
	}
	if got, want := events[0].InputSummary, "flow nightly (flow_1), the run of its schedule's tick at 2026-12-07 02:00:00 UTC; 0 changes predicted"; got != want {
		t.Errorf("summary %q; want %q", got, want)
	}
}
