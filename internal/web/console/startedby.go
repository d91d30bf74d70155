package console

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/store"
)

// runStart is who or what started a flow run, as its pages show it.
type runStart struct {
	// By is what the lists' "Started by" column shows: the person (or
	// token) who started a run by hand or asked for a rerun, named as the
	// audit names actors; of a run its trigger started, the trigger:
	// "schedule (cron 0 2 * * * UTC)", "event device.lifecycle.suspend".
	By string
	// Person is the actor of the run named as pages name people
	// (personNamer): who started it by hand or asked for the rerun, or of
	// a run a trigger started, who enabled the flow.
	Person string
	// Triggered is set for a run a schedule or an event started (not a
	// rerun of one): it acts as Actor, who enabled the flow.
	Triggered bool
}

// flowRunRow is a flow run as the run lists show it.
type flowRunRow struct {
	*store.FlowRun
	Start runStart
	// Cancel says who asked the run to stop and why (flowrun.CancelCause);
	// empty when nobody did or nobody was recorded.
	Cancel string
	// CancelUnrecorded is set for a run asked to stop, not ended yet, whose
	// request does not record who asked (a server of an earlier version
	// stored it): its Error cell says a cancel is requested, by whom not
	// recorded, where it was empty.
	CancelUnrecorded bool
}

// flowRunRows makes the rows of runs, naming people with name; the
// schedule of each flow version is read from its document once.
func flowRunRows(runs []*store.FlowRun, name func(store.Actor) string) []flowRunRow {
	schedules := map[string]string{}
	rows := make([]flowRunRow, len(runs))
	for i, run := range runs {
		rows[i] = flowRunRow{FlowRun: run, Start: startOf(run, schedules, name), Cancel: flowrun.CancelCause(run, name)}
		rows[i].CancelUnrecorded = rows[i].Cancel == "" && !run.CancelRequestedAt.IsZero() && !flowrun.Finished(run.Status)
	}
	return rows
}

// startOf says who or what started run, naming people with name.
// schedules, when not nil, keeps the schedule text of the flow versions
// already read.
func startOf(run *store.FlowRun, schedules map[string]string, name func(store.Actor) string) runStart {
	st := startOfRun(run, schedules)
	st.Person = name(run.Actor)
	if !st.Triggered {
		st.By = st.Person
		if run.RerunOf != "" {
			st.By += " (rerun)"
		}
	}
	return st
}

func startOfRun(run *store.FlowRun, schedules map[string]string) runStart {
	var t struct {
		Kind  string         `json:"kind"`
		Event map[string]any `json:"event"`
	}
	_ = json.Unmarshal(run.Trigger, &t)
	if run.RerunOf != "" || t.Kind == "" || t.Kind == flow.KindManual {
		return runStart{}
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

// Outcome is what the run's output tells in a few words (card.Outcome);
// "" without output (a failed or running run).
func (r runRow) Outcome() string { return card.Outcome(r.Output) }

// runRows makes the rows of card runs; each flow run they belong to is
// read once. A flow run that cannot be read (deleted since) leaves the
// card run's own actor.
func (c *Console) runRows(ctx context.Context, runs []*store.Run) ([]runRow, error) {
	flowRuns := map[string]*runStart{}
	schedules := map[string]string{}
	name := c.personNamer(ctx)
	rows := make([]runRow, len(runs))
	for i, run := range runs {
		by := name(run.Actor)
		rows[i] = runRow{Run: run, Start: runStart{By: by, Person: by}}
		if run.FlowRunID == "" || c.Flows == nil {
			continue
		}
		st, ok := flowRuns[run.FlowRunID]
		if !ok {
			fr, err := c.Flows.GetFlowRun(ctx, run.FlowRunID)
			switch {
			case err == nil:
				s := startOf(fr, schedules, name)
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

// personNamer names actors as the page header and the People page name
// people: a person by the name of their newest session with their login,
// "Rey Reader (readonly@example.com)", or by login alone when no session
// gives a name; a personal token as "token NAME of" its owner so named.
// Each login is read once per namer (one page).
func (c *Console) personNamer(ctx context.Context) func(store.Actor) string {
	full, _ := c.personNamers(ctx)
	return full
}

// personNamers returns personNamer's namer and a brief one for a cell with
// room for little, which names a person, and the owner of a personal
// token, by name alone ("Rey Reader"; the login when no session gives a
// name), and others as the full one does. Both read a login once.
func (c *Console) personNamers(ctx context.Context) (full, brief func(store.Actor) string) {
	names := map[string]string{}
	nameOf := func(login string) string {
		name, ok := names[login]
		if !ok && c.Sessions != nil {
			ss, err := c.Sessions.ListSessionsOf(ctx, store.Actor{Type: store.ActorUser, Login: login})
			if err != nil {
				c.log.WarnContext(ctx, "read the sessions of a person for their name", slog.String("login", login), slog.Any("cause", err))
			}
			for _, s := range ss {
				if s.Name != "" {
					name = s.Name // oldest first: the newest with a name wins
				}
			}
			names[login] = name
		}
		return name
	}
	person := func(login string) string {
		name := nameOf(login)
		if name == "" || name == login {
			return login
		}
		return name + " (" + login + ")"
	}
	full = func(a store.Actor) string {
		switch {
		case a.Type == store.ActorUser && a.Login != "":
			return person(a.Login)
		case a.Type == store.ActorToken && a.Login != "":
			return "token " + a.TokenName + " of " + person(a.Login)
		}
		return actorName(a)
	}
	brief = func(a store.Actor) string {
		if (a.Type == store.ActorUser || a.Type == store.ActorToken) && a.Login != "" {
			return cmp.Or(nameOf(a.Login), a.Login)
		}
		return actorName(a)
	}
	return full, brief
}
