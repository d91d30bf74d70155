package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/store"
)

// runStart is who or what started a flow run, as its pages show it.
type runStart struct {
	// By is what the lists' "Started by" column shows: the person (or
	// token) who started a run by hand or asked for a rerun, named as the
	// audit names actors; of a run its trigger started, the trigger:
	// "schedule (cron 0 2 * * * UTC)", "event device.lifecycle.suspend".
	By string
	// Triggered is set for a run a schedule or an event started (not a
	// rerun of one): it acts as Actor, who enabled the flow.
	Triggered bool
}

// flowRunRow is a flow run as the run lists show it.
type flowRunRow struct {
	*store.FlowRun
	Start runStart
}

// flowRunRows makes the rows of runs; the schedule of each flow version
// is read from its document once.
func flowRunRows(runs []*store.FlowRun) []flowRunRow {
	schedules := map[string]string{}
	rows := make([]flowRunRow, len(runs))
	for i, run := range runs {
		rows[i] = flowRunRow{FlowRun: run, Start: startOf(run, schedules)}
	}
	return rows
}

// startOf says who or what started run. schedules, when not nil, keeps
// the schedule text of the flow versions already read.
func startOf(run *store.FlowRun, schedules map[string]string) runStart {
	var t struct {
		Kind  string         `json:"kind"`
		Event map[string]any `json:"event"`
	}
	_ = json.Unmarshal(run.Trigger, &t)
	if run.RerunOf != "" || t.Kind == "" || t.Kind == flow.KindManual {
		by := actorName(run.Actor)
		if run.RerunOf != "" {
			by += " (rerun)"
		}
		return runStart{By: by}
	}
	switch t.Kind {
	case flow.KindSchedule:
		key := fmt.Sprintf("%s@%d", run.FlowID, run.FlowVersion)
		text, ok := schedules[key]
		if !ok {
			text = scheduleText(run.Source)
			if schedules != nil {
				schedules[key] = text
			}
		}
		if text == "" {
			return runStart{By: "schedule", Triggered: true}
		}
		return runStart{By: "schedule (" + text + ")", Triggered: true}
	case flow.KindEvent:
		if typ, _ := t.Event["eventType"].(string); typ != "" {
			return runStart{By: "event " + typ, Triggered: true}
		}
		return runStart{By: "event", Triggered: true}
	}
	return runStart{By: t.Kind, Triggered: true}
}

// scheduleText is the schedule of a flow document's on.schedule, e.g.
// "cron 0 2 * * * Europe/Berlin" or "every 15m UTC"; "" when the document
// no longer parses or has none.
func scheduleText(src []byte) string {
	doc, err := flow.Parse(src)
	if err != nil || doc.Trigger == nil {
		return ""
	}
	var sp struct{ Kind, Cron, Every, Timezone string }
	if json.Unmarshal(doc.Trigger.SpecJSON(), &sp) != nil || sp.Kind != flow.KindSchedule {
		return ""
	}
	text := "every " + flow.IntervalText(sp.Every)
	if sp.Cron != "" {
		text = "cron " + sp.Cron
	}
	return strings.TrimSpace(text + " " + sp.Timezone)
}

// runTrigger says what fired a flow run and when: "manual", or the
// trigger's kind and time, e.g. "schedule, tick of 2025-06-01 02:00 UTC".
func runTrigger(r *store.FlowRun) string {
	var t struct {
		Kind string    `json:"kind"`
		Time time.Time `json:"time"`
	}
	if len(r.Trigger) == 0 || json.Unmarshal(r.Trigger, &t) != nil || t.Kind == "" || t.Kind == flow.KindManual {
		return "manual"
	}
	at := t.Time.UTC().Format("2006-01-02 15:04 MST")
	switch t.Kind {
	case flow.KindSchedule:
		return "schedule, tick of " + at
	case flow.KindEvent:
		return "Okta event published " + at
	}
	return t.Kind + " (" + at + ")"
}

// runRow is a card run as the run lists show it.
type runRow struct {
	*store.Run
	// Start is who or what started the run: the person who ran the card,
	// or for a run of a flow run, what started that (its person, its
	// rerun, its schedule or event), as the flow run lists say.
	Start runStart
}

// runRows makes the rows of card runs; each flow run they belong to is
// read once. A flow run that cannot be read (deleted since) leaves the
// card run's own actor.
func (c *Console) runRows(ctx context.Context, runs []*store.Run) ([]runRow, error) {
	flowRuns := map[string]*runStart{}
	schedules := map[string]string{}
	rows := make([]runRow, len(runs))
	for i, run := range runs {
		rows[i] = runRow{Run: run, Start: runStart{By: actorName(run.Actor)}}
		if run.FlowRunID == "" || c.Flows == nil {
			continue
		}
		st, ok := flowRuns[run.FlowRunID]
		if !ok {
			fr, err := c.Flows.GetFlowRun(ctx, run.FlowRunID)
			switch {
			case err == nil:
				s := startOf(fr, schedules)
				st = &s
			case !errors.Is(err, store.ErrNotFound):
				return nil, err
			}
			flowRuns[run.FlowRunID] = st
		}
		if st != nil {
			rows[i].Start = *st
		}
	}
	return rows, nil
}
