package flowrun

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// planTally counts, per connection id, what a plan did at Okta: the card
// runs of its read steps (each recorded and audited as card.run) and the
// devices its manage steps read to predict their change (a device whose
// status the flow does not know), which leave no card run. Cards.PlanCard
// adds to the tally a plan's context carries. Safe for concurrent use (a
// for_each step plans its items at once).
type planTally struct {
	mu    sync.Mutex
	reads map[string]int // card runs of read steps
	looks map[string]int // devices read to predict a manage step's change
}

type planTallyKey struct{}

// withPlanTally returns ctx carrying t, for Cards.PlanCard to count into.
func withPlanTally(ctx context.Context, t *planTally) context.Context {
	return context.WithValue(ctx, planTallyKey{}, t)
}

// countPlanCall counts a planned call on connection: a recorded card run
// (read step), or a prediction that called Okta (calls > 0). A context
// without a tally counts nothing.
func countPlanCall(ctx context.Context, connection string, recorded bool, calls int) {
	t, _ := ctx.Value(planTallyKey{}).(*planTally)
	if t == nil || (!recorded && calls == 0) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.reads == nil {
		t.reads, t.looks = map[string]int{}, map[string]int{}
	}
	if recorded {
		t.reads[connection]++
	} else {
		t.looks[connection]++
	}
}

// plan dry-runs doc (stored as flowID, "" when not stored) as the run f
// starts, with the inputs in, and audits it (flow.plan) under f's actor:
// a plan runs read cards and reads devices at Okta with its connections'
// tokens, so who planned which flow with which connection is recorded,
// with how many changes it predicted and what it read there.
func (s *Service) plan(ctx context.Context, doc *flow.Document, flowID string, in map[string]any, f flow.Firing) (*flow.PlanResult, error) {
	t := &planTally{}
	res, err := s.runner.PlanFiring(withPlanTally(ctx, t), doc, flowID, in, f)
	for _, e := range planAudit(doc, flowID, f, res, err, t) {
		e.Time = s.now()
		if c, cerr := s.store.GetConnection(context.WithoutCancel(ctx), e.ConnectionID); cerr == nil {
			e.ActingAs = c.AuthorizedLogin
		}
		if aerr := s.store.AppendAudit(context.WithoutCancel(ctx), e); aerr != nil {
			s.log.ErrorContext(ctx, "audit a flow's plan", slog.String("flow", doc.Name), slog.Any("error", aerr))
		}
	}
	return res, err
}

// planAudit builds the flow.plan audit events of a plan of doc: one per
// connection its steps use (in the order the steps name them), so that
// the audit log of each connection shows the plan, each counting the
// changes predicted and the Okta reads made through that connection.
func planAudit(doc *flow.Document, flowID string, f flow.Firing, res *flow.PlanResult, err error, t *planTally) []*store.AuditEvent {
	t.mu.Lock()
	defer t.mu.Unlock()
	var conns []string
	stepConn := map[string]string{}
	for _, st := range doc.Steps {
		c := st.ConnectionID()
		stepConn[st.ID] = c
		if !slices.Contains(conns, c) {
			conns = append(conns, c)
		}
	}
	name := fmt.Sprintf("flow %s (%s)", doc.Name, flowID)
	if flowID == "" {
		name = fmt.Sprintf("flow %s (a document not stored)", doc.Name)
	}
	switch f.Kind {
	case flow.KindSchedule:
		name += ", the run of its schedule's tick at " + timetext.Format(f.Time)
	case flow.KindEvent:
		name += ", the run of event " + f.EventUUID
	}
	outcome, why := "success", ""
	if err != nil {
		outcome, why = "failure", problem.Public(err).Message
	}
	var out []*store.AuditEvent
	for _, c := range conns {
		parts := []string{name}
		if res != nil {
			var changes, calls, failed int
			for _, ps := range res.Steps {
				if stepConn[ps.ID] == c {
					changes += len(ps.Changes)
					calls += len(ps.Unsimulated)
					failed += len(ps.Errors)
				}
			}
			parts = append(parts, counttext.Format(changes, "change")+" predicted")
			if calls > 0 {
				parts = append(parts, counttext.Format(calls, "call")+" not simulated")
			}
			if failed > 0 {
				parts = append(parts, counttext.Format(failed, "item")+" not planned")
			}
		}
		if n := t.looks[c]; n > 0 {
			parts = append(parts, counttext.Format(n, "device")+" read at Okta to predict")
		}
		if n := t.reads[c]; n > 0 {
			parts = append(parts, counttext.Format(n, "read card run"))
		}
		out = append(out, &store.AuditEvent{Actor: store.Actor(f.Actor), Action: store.ActionFlowPlan, ConnectionID: c,
			Outcome: outcome, Error: why, InputSummary: strings.Join(parts, "; "),
			Plan: store.PlanRef{FlowID: flowID, FlowName: doc.Name}})
	}
	return out
}
