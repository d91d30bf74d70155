package flow

import (
	"context"
	"fmt"
	"strings"

	"github.com/cardflow/cardflow/internal/problem"
)

// PlanResult is a dry run of a flow; the API serves it as api.Plan (what
// `flows plan --json` prints).
type PlanResult struct {
	Flow  string
	Steps []PlanStep
	// Trigger and Inputs, set by PlanFiring for a run a trigger would
	// start, are that trigger and the inputs the plan ran with (defaults
	// included); nil for a run a person starts, who gave the inputs.
	Trigger *Firing
	Inputs  map[string]any
	// Warnings are the planned document's (Document.Warnings): it is
	// planned, and runs, as written.
	Warnings []Warning
}

// PlanRef names the flow a plan is of, on the calls of its steps
// (Call.Plan): FlowID is the stored flow's id ("" for a document planned
// without being stored), FlowName the document's name. Its fields are the
// store's PlanRef's.
type PlanRef struct {
	FlowID   string
	FlowName string
}

// PlanStep is what one step would do. Items counts the items that would
// run the card (items skipped by if are not counted); Changes lists, for a
// manage step, each device it would change. Errors, present only when some
// item could not be planned, says why.
type PlanStep struct {
	ID      string
	Card    string
	Mode    string
	Items   int
	Changes []Change
	Errors  []PlanError
	// Unsimulated lists the items whose effects the plan cannot predict
	// (a Custom API Action that would POST, PUT or DELETE): they were not
	// simulated, and a run would make these calls.
	Unsimulated []Unsimulated
}

// Unsimulated is an item of a plan whose effect is unknown: Call is the
// call it would make ("POST /api/v1/...").
type Unsimulated struct {
	Index int
	Call  string
}

// PlanError is an item (or a whole step, Index -1) that could not be
// planned.
type PlanError struct {
	Index   int
	Message string
	// DeviceID and DeviceName name the device the item acts on, when its
	// input has a deviceId (and the flow knows its name).
	DeviceID   string
	DeviceName string
}

// Plan is a dry run of a validated document: read steps run their cards
// for real (through CardRunner.PlanCard), manage steps ask PlanCard for
// the change they would make and change nothing; RunCard is never called
// and nothing is saved (the card runs of read steps are the CardRunner's
// to record, as the plan's: Call.Plan). Later steps see a manage step's predicted output
// ({status: <to>, changed: true}, or {deleted: true}) unless PlanCard
// returned one, and act on the devices it changes as it leaves them
// (asChanged). Inputs are checked as by Run.
func (r *Runner) Plan(ctx context.Context, doc *Document, inputs map[string]any) (*PlanResult, error) {
	return r.PlanFiring(ctx, doc, "", inputs, Firing{Kind: KindManual, Time: r.now()})
}

// PlanFiring is Plan of the run f would start: the steps see f as
// `trigger` (a scheduled tick's time, say), as that run's would. flowID
// is the id doc is stored under ("" when it is not stored): the calls
// name the plan with it and doc's name (Call.Plan), and f.Actor as who
// asked for it (Call.Actor).
func (r *Runner) PlanFiring(ctx context.Context, doc *Document, flowID string, inputs map[string]any, f Firing) (*PlanResult, error) {
	switch {
	case doc == nil:
		return nil, problem.New(problem.InvalidInput, "no flow document to plan")
	case !doc.validated:
		return nil, problem.New(problem.InvalidInput, "the flow has not been validated").
			WithRemedy("validate it (cards, connections and scopes) before planning")
	case r.Cards == nil:
		return nil, problem.New(problem.Internal, "flow runner without Cards")
	}
	in, err := doc.resolveInputs(inputs)
	if err != nil {
		return nil, err
	}
	x := newExecution(r, "", doc, in, f, true)
	x.planOf = PlanRef{FlowID: flowID, FlowName: doc.Name}
	res := &PlanResult{Flow: doc.Name, Steps: []PlanStep{}, Warnings: doc.Warnings()}
	if f.Kind != KindManual {
		res.Trigger, res.Inputs = &f, in
	}
	for _, st := range doc.Steps {
		out, err := x.runStep(ctx, st)
		if err != nil {
			return nil, err
		}
		ps := PlanStep{ID: st.ID, Card: st.Card, Mode: st.mode, Changes: []Change{}}
		for i, o := range out.items {
			if o == nil {
				continue
			}
			switch o.status {
			case StatusSucceeded:
				ps.Items++
				switch {
				case o.change != nil && o.change.Call != "":
					ps.Unsimulated = append(ps.Unsimulated, Unsimulated{Index: i, Call: o.change.Call})
				case o.change != nil:
					ch := *o.change
					if ch.DeviceName == "" && ch.DeviceID == deviceIDOf(o.input) {
						ch.DeviceName = o.deviceName
					}
					ps.Changes = append(ps.Changes, ch)
				}
			case StatusFailed:
				ps.Items++
				ps.Errors = append(ps.Errors, PlanError{Index: i, Message: o.msg, DeviceID: deviceIDOf(o.input), DeviceName: o.deviceName})
			}
		}
		if len(out.items) == 0 && out.result.Error != "" || undone(out.items) > 0 {
			ps.Errors = append(ps.Errors, PlanError{Index: -1, Message: out.result.Error})
		}
		res.Steps = append(res.Steps, ps)
	}
	return res, nil
}

// String summarizes a change for people: "guo1 ACTIVE → SUSPENDED", or
// "Ada's Mac (guo1) ACTIVE → SUSPENDED" when the name is known.
func (c Change) String() string {
	return fmt.Sprintf("%s %s → %s", DeviceLabel(c.DeviceName, c.DeviceID), c.From, c.To)
}

// DeviceLabel names a device for people: "Name (id)", or the id alone when
// the name is unknown.
func DeviceLabel(name, id string) string {
	if name == "" {
		return id
	}
	return name + " (" + id + ")"
}

// deviceIDOf is an item input's deviceId, trimmed as the card reads it;
// "" when it has none or it is blank.
func deviceIDOf(input map[string]any) string {
	id, _ := input["deviceId"].(string)
	return strings.TrimSpace(id)
}
