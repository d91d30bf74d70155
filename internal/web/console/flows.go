package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

// Flows reads flows and their runs; store.Store satisfies it.
type Flows interface {
	ListFlowsPage(ctx context.Context, p store.NamePage) ([]*store.Flow, error)
	GetFlow(ctx context.Context, idOrName string) (*store.Flow, error)
	ListFlowRuns(ctx context.Context, flowID string, limit int) ([]*store.FlowRun, error)
	ListFlowRunsPage(ctx context.Context, f store.FlowRunFilter) ([]*store.FlowRun, error)
	GetFlowRun(ctx context.Context, id string) (*store.FlowRun, error)
	ListFlowSteps(ctx context.Context, runID string) ([]*store.FlowStep, error)
	ListFlowItemsPage(ctx context.Context, runID, stepID string, after, limit int) ([]*store.FlowItem, error)
	ListFlowVersions(ctx context.Context, flowID string) ([]*store.FlowVersion, error)
	GetFlowVersion(ctx context.Context, flowID string, version int) (*store.FlowVersion, error)
}

// FlowRunner plans and starts flows; the app's flow service satisfies it.
// Errors are *problem.Error for what a person can fix.
type FlowRunner interface {
	// Get returns a stored flow with its parsed document.
	Get(ctx context.Context, idOrName string) (*store.Flow, *flow.Document, error)
	// Plan dry-runs a flow: what its manage steps would change.
	Plan(ctx context.Context, idOrName string, inputs map[string]any, actor store.Actor) (*flow.PlanResult, error)
	// PlanTriggered dry-runs the run a flow's trigger would start.
	PlanTriggered(ctx context.Context, idOrName string, t flowrun.PlanTrigger, actor store.Actor) (*flow.PlanResult, error)
	// Start queues a run and returns it at once.
	Start(ctx context.Context, idOrName string, inputs map[string]any, by flowrun.Starter) (*store.FlowRun, error)
	// Progress is the live progress of a run executing in this process.
	Progress(runID string) map[string]flow.Progress
	// Enable validates a flow again and turns its trigger on;
	// DisableFlow turns it off, dropping its failed event runs that
	// waited to run again by themselves.
	Enable(ctx context.Context, idOrName string, actor store.Actor) (*store.Flow, *flow.Document, error)
	DisableFlow(ctx context.Context, idOrName string, actor store.Actor) (*flowrun.Disabled, error)
	// Delete removes a stored flow; its runs stay.
	Delete(ctx context.Context, idOrName string, actor store.Actor) (*store.Flow, error)
	// Cancel asks a queued or running flow run to stop.
	Cancel(ctx context.Context, runID string, actor store.Actor) (*store.FlowRun, error)
	// Rerun queues a finished run again (its version, inputs and
	// trigger); failedOnly takes over the items that succeeded or were
	// skipped and runs only the others.
	Rerun(ctx context.Context, runID string, failedOnly bool, by flowrun.Starter) (*store.FlowRun, error)
}

func (c *Console) flowRoutes(mux *web.Mux) {
	if c.Flows == nil {
		return
	}
	mux.Handle("GET /flows", c.auth(c.listFlows))
	mux.Handle("GET /flows/{id}", c.auth(c.showFlow))
	mux.Handle("GET /flows/{id}/versions/{n}", c.auth(c.showFlowVersion))
	mux.Handle("GET /flow-runs/{id}", c.auth(c.showFlowRun))
	if c.FlowRunner != nil {
		mux.Handle("POST /flows/{id}/plan", c.auth(c.planFlow))
		mux.Handle("POST /flows/{id}/plan-scheduled", c.auth(c.planScheduledFlow))
		mux.Handle("POST /flows/{id}/runs", c.auth(c.startFlow))
		mux.Handle("POST /flows/{id}/enable", c.auth(c.toggleFlow(true)))
		mux.Handle("POST /flows/{id}/disable", c.auth(c.toggleFlow(false)))
		mux.Handle("POST /flow-runs/{id}/cancel", c.auth(c.cancelFlowRun))
		mux.Handle("POST /flow-runs/{id}/rerun", c.auth(c.rerunFlowRun))
		mux.Handle("GET /flows/{id}/delete", c.auth(c.confirmDeleteFlow))
		mux.Handle("POST /flows/{id}/delete", c.auth(c.deleteFlow))
	}
}

// confirmDeleteFlow asks whether to delete a flow.
func (c *Console) confirmDeleteFlow(w http.ResponseWriter, r *http.Request, s *reqState) {
	fl, err := c.Flows.GetFlow(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "deleteflow", "Delete "+fl.Name, fl)
}

// deleteFlow deletes a flow and shows the flows left.
func (c *Console) deleteFlow(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	fl, err := c.FlowRunner.Delete(ctx, r.PathValue("id"), s.actor())
	if err != nil {
		_, e := c.publicError(ctx, err)
		c.addFlash(ctx, s.session, flash{Kind: "error", Message: "The flow was not deleted: " + e.Message, Remedy: e.Remedy})
		http.Redirect(w, r, "/flows/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
		return
	}
	c.addFlash(ctx, s.session, flash{Kind: "ok", Message: "Deleted the flow " + fl.Name + ". Its runs keep their history."})
	http.Redirect(w, r, "/flows", http.StatusSeeOther)
}

// cancelFlowRun asks a flow run to stop and shows the run again.
func (c *Console) cancelFlowRun(w http.ResponseWriter, r *http.Request, s *reqState) {
	if _, err := c.FlowRunner.Cancel(r.Context(), r.PathValue("id"), s.actor()); err != nil {
		if p, ok := problem.As(err); ok && p.Code == problem.Conflict {
			// A stale page's Cancel of a run that has ended: the
			// server's remedy names the API's and CLI's rerun.
			c.render(w, r, s, http.StatusConflict, "message", "Not canceled", messageData{Heading: "Not canceled", Message: p.Message,
				Remedy: "only a queued or running run can be canceled; to run it again, press Rerun on its page",
				Link:   "/flow-runs/" + url.PathEscape(r.PathValue("id")), LinkText: "Back to the run"})
			return
		}
		c.fail(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/flow-runs/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}

// rerunFlowRun queues a finished flow run again, all of it or (the form's
// failedOnly) its failed items only, and shows the new run.
func (c *Console) rerunFlowRun(w http.ResponseWriter, r *http.Request, s *reqState) {
	id := r.PathValue("id")
	failedOnly := r.PostForm.Get("failedOnly") == "true"
	if r.PostForm.Get("confirmed") != "yes" {
		// A rerun of a version with steps that cannot be undone asks
		// first, as Run on the flow's page does.
		orig, err := c.Flows.GetFlowRun(r.Context(), id)
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		// A rerun Rerun refuses (a run that goes on, the failed items of
		// one that succeeded) is refused without asking.
		refused := (orig.Status != flow.StatusSucceeded && orig.Status != flow.StatusFailed && orig.Status != flow.StatusCanceled) ||
			(failedOnly && orig.Status == flow.StatusSucceeded)
		if doc, err := flow.Parse(orig.Source); err == nil && !refused {
			if steps := irreversibleSteps(doc); len(steps) > 0 {
				title := "Run " + orig.FlowName + " again?"
				if failedOnly {
					title = "Run the failed items of " + orig.FlowName + " again?"
				}
				c.render(w, r, s, http.StatusOK, "rerun", title, rerunData{Run: orig, FailedOnly: failedOnly, Title: title, Steps: steps})
				return
			}
		}
	}
	run, err := c.FlowRunner.Rerun(r.Context(), id, failedOnly, s.starter())
	if err != nil {
		status, e := c.publicError(r.Context(), err)
		if status == http.StatusNotFound || status >= 500 {
			c.fail(w, r, s, err)
			return
		}
		// The version the run ran no longer validates (a connection to
		// reauthorize, say), or a stale page: the run is not finished, or
		// it succeeded and has no failed items (whose remedy names the
		// API's).
		remedy := e.Remedy
		if problem.CodeOf(err) == problem.Conflict {
			remedy = "a run can be run again once it has finished, and its failed items only when some failed; the run's page offers what it can"
		}
		c.render(w, r, s, status, "message", "Not run again", messageData{Heading: "Not run again", Message: e.Message, Remedy: remedy,
			Link: "/flow-runs/" + url.PathEscape(id), LinkText: "Back to the run"})
		return
	}
	http.Redirect(w, r, "/flow-runs/"+url.PathEscape(run.ID), http.StatusSeeOther)
}

// rerunData asks whether to run a flow run's version again (all of it, or
// its failed items only): steps of it cannot be undone.
type rerunData struct {
	Run        *store.FlowRun
	FailedOnly bool
	Title      string
	Steps      []irreversibleStep
}

// triggerView is a flow's trigger for people.
type triggerView struct {
	Kind string // "schedule" or "event"
	// Connection is an event trigger's connection as the flow names it
	// (a nickname or an id).
	Connection string
	Text       string // "cron 0 2 * * * (Europe/Berlin)", "every 15m0s (UTC)", "event okta-devices/x on Prod, by System Log polls"
	Enabled    bool
	NextRun    time.Time // zero when none
	// NextRunZone is NextRun on the clocks of a cron flow's timezone other
	// than UTC ("2026-12-08 02:00 Europe/Berlin"): the time its cron fields
	// speak of, which daylight saving moves away from the written one at
	// times; "" otherwise.
	NextRunZone string
	// StartingDeadline is a schedule's startingDeadline as the document
	// writes it ("2h"); "" when it has none. The flow's page says it.
	StartingDeadline string
}

// triggerOf reads a stored flow's trigger; nil without one. An event
// trigger that names no delivery has defaultDelivery ("" means poll).
func triggerOf(f *store.Flow, defaultDelivery string) *triggerView {
	if len(f.Trigger) == 0 {
		return nil
	}
	var sp struct {
		Kind, Cron, Every, Timezone, StartingDeadline, Card, Connection, Delivery string
	}
	if json.Unmarshal(f.Trigger, &sp) != nil {
		return nil
	}
	t := &triggerView{Kind: sp.Kind, Enabled: f.Enabled, Connection: sp.Connection}
	switch {
	case sp.Kind == flow.KindEvent:
		t.Text = fmt.Sprintf("event %s on %s, by %s", sp.Card, sp.Connection, deliveryText(flow.DeliveryOf(sp.Delivery, defaultDelivery)))
	case sp.Cron != "":
		t.Text = fmt.Sprintf("cron %s (%s)", sp.Cron, sp.Timezone)
	default:
		t.Text = fmt.Sprintf("every %s (%s)", flow.IntervalText(sp.Every), sp.Timezone)
	}
	if sp.StartingDeadline != "" {
		t.StartingDeadline = flow.IntervalText(sp.StartingDeadline)
	}
	if f.Enabled {
		t.NextRun = f.NextRunAt
		if loc, err := time.LoadLocation(sp.Timezone); err == nil && sp.Cron != "" && sp.Timezone != "UTC" && !t.NextRun.IsZero() {
			t.NextRunZone = t.NextRun.In(loc).Format("2006-01-02 15:04") + " " + sp.Timezone
		}
	}
	return t
}

// deliveryText says how an event trigger's events arrive.
func deliveryText(delivery string) string {
	switch delivery {
	case flow.DeliveryHook:
		return "event hook"
	case flow.DeliveryHookPoll:
		return "event hook and System Log polls"
	default:
		return "System Log polls"
	}
}

// flowRow is one line of the flows list.
type flowRow struct {
	Flow    *store.Flow
	Trigger *triggerView
	LastRun *store.FlowRun
	// LastRunStatus is the last run's status as the Last run cell says
	// it (lastRunStatus).
	LastRunStatus string
	// Problems are the connections that stop an enabled flow, or make it
	// work less well (its page says more).
	Problems []flowProblem
	// Warnings counts what its document says that is allowed but likely
	// not meant (its page lists them).
	Warnings int
}

type flowsData struct {
	Flows     []flowRow
	Runs      []flowRunRow
	Now       time.Time
	Pager     pager // of the flows
	RunsPager pager // of the flow runs
	// RunsError says why the page of flow runs asked for (runs_before)
	// is not one; the page then lists no runs.
	RunsError *filterError
	// Receivers is how many notification receivers the server has.
	Receivers int
}

// flowRunsPage reads the page of flow runs (of flowID, or of every flow)
// that the cursor parameter param of the query q names, and the
// navigation of the list at path; a cursor that is not one gets the
// notice that says so (badCursor) and no runs.
func (c *Console) flowRunsPage(ctx context.Context, path string, q url.Values, flowID, param string) ([]flowRunRow, pager, *filterError, error) {
	f := store.FlowRunFilter{FlowID: flowID, Limit: listPageSize + 1}
	if v := q.Get(param); v != "" {
		var ok bool
		if f.Before, f.BeforeID, ok = parseTimeCursor(v); !ok {
			return nil, pager{}, badCursor(path, q, param, v, "the flow runs", timeCursorText("a flow run's"), "Show the newest flow runs"), nil
		}
	}
	runs, err := c.Flows.ListFlowRunsPage(ctx, f)
	if err != nil {
		return nil, pager{}, nil, err
	}
	next := ""
	if len(runs) > listPageSize {
		runs = runs[:listPageSize]
		last := runs[len(runs)-1]
		next = timeCursor(last.CreatedAt, last.ID)
	}
	if runs, err = c.explainFailures(ctx, runs); err != nil {
		return nil, pager{}, nil, err
	}
	return flowRunRows(runs, c.personNamer(ctx)), newPagerAt(path, q, "Flow runs", param, next, true), nil, nil
}

// explainFailures gives each failed run that has no error of its own (its
// steps ran, and items of one failed) the error of its first failed step,
// as the run's notification says it: a list of runs says why each failed
// rather than leaving its Error column empty. The runs given are not
// changed.
func (c *Console) explainFailures(ctx context.Context, runs []*store.FlowRun) ([]*store.FlowRun, error) {
	out := make([]*store.FlowRun, len(runs))
	for i, run := range runs {
		out[i] = run
		if run.Status != flow.StatusFailed || run.Error != "" {
			continue
		}
		steps, err := c.Flows.ListFlowSteps(ctx, run.ID)
		if err != nil {
			return nil, err
		}
		for _, st := range steps {
			if st.Status == flow.StatusFailed && st.Error != "" {
				shown := *run
				shown.Error = "step " + st.StepID + ": " + st.Error
				out[i] = &shown
				break
			}
		}
	}
	return out, nil
}

func (c *Console) listFlows(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	// By name ignoring case, a page read at a time; the page bounds the
	// last-run read of each row.
	fs, next, err := namePage(r.URL.Query().Get("after"), func(p store.NamePage) ([]*store.Flow, error) {
		return c.Flows.ListFlowsPage(ctx, p)
	}, func(f *store.Flow) (string, string) { return f.Name, f.ID })
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	runs, runsPager, runsError, err := c.flowRunsPage(ctx, r.URL.Path, r.URL.Query(), "", "runs_before")
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	rows := make([]flowRow, 0, len(fs))
	fp := c.flowProblems() // one lookup for the page
	_, brief := c.personNamers(ctx)
	for _, f := range fs {
		row := flowRow{Flow: f, Trigger: triggerOf(f, c.DefaultDelivery)}
		// A stored document parses; one that no longer does (a newer
		// server's) is shown without the checks.
		if doc, err := flow.Parse(f.Source); err == nil {
			row.Warnings = len(doc.Warnings())
			if row.Trigger != nil && row.Trigger.Enabled {
				if row.Problems, err = findFlowProblems(ctx, fp, doc, true); err != nil {
					c.fail(w, r, s, err)
					return
				}
			}
		}
		last, err := c.Flows.ListFlowRuns(ctx, f.ID, 1)
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		if len(last) > 0 {
			row.LastRun, row.LastRunStatus = last[0], lastRunStatus(last[0], brief)
		}
		rows = append(rows, row)
	}
	status, title := http.StatusOK, "Flows"
	if runsError != nil {
		status, title = http.StatusBadRequest, "Error: Flows"
	}
	c.render(w, r, s, status, "flows", title, flowsData{Flows: rows, Runs: runs, Now: c.now(), Receivers: c.notificationReceivers(),
		Pager: newPager(r, "Flows", "after", next, false), RunsPager: runsPager, RunsError: runsError})
}

// lastRunStatus is run's status as the Flows page's Last run cell says it:
// of a canceled run, in brief, who asked (named with brief) or why, as its
// page says it in full: "Canceled by Ada Admin", "Canceled: access
// revoked" for a run canceled because its starter's access was revoked
// (flowrun.RevokedReason), "Canceled: REASON" for another reason, and
// "Canceled" when who asked is not recorded. A run that has not ended
// though asked to stop (its last items in flight) is stopping, said so
// with the request as the run lists say it: "Stopping (cancel requested by
// Ada Admin)", "Stopping (cancel requested: access revoked)", "Stopping
// (cancel requested)" when who asked is not recorded.
func lastRunStatus(run *store.FlowRun, brief func(store.Actor) string) string {
	stopping := !flowrun.Finished(run.Status) && !run.CancelRequestedAt.IsZero()
	if stopping {
		return "Stopping (cancel requested" + cancelBrief(run, brief) + ")"
	}
	if run.Status == flow.StatusCanceled {
		return humanize(run.Status) + cancelBrief(run, brief)
	}
	return humanize(run.Status)
}

// cancelBrief says in brief who asked run to stop (named with brief) or
// why, to follow a status: " by Ada Admin", ": access revoked", ":
// REASON"; empty when who asked is not recorded.
func cancelBrief(run *store.FlowRun, brief func(store.Actor) string) string {
	switch {
	case flowrun.CancelCause(run, nil) == "":
		return ""
	case run.CancelReason == "":
		return " by " + brief(run.CancelRequestedBy)
	case strings.EqualFold(run.CancelReason, flowrun.RevokedReason(run.Actor.Login)):
		return ": access revoked"
	}
	return ": " + run.CancelReason
}

// toggleFlow enables or disables a flow's trigger and shows the flow page
// again, with the refusal (such as a missing scope) when there is one.
func (c *Console) toggleFlow(on bool) func(http.ResponseWriter, *http.Request, *reqState) {
	return func(w http.ResponseWriter, r *http.Request, s *reqState) {
		ctx := r.Context()
		var dropped []*store.FlowRun
		set := func(ctx context.Context, id string, actor store.Actor) error {
			d, err := c.FlowRunner.DisableFlow(ctx, id, actor)
			if err == nil {
				dropped = d.DroppedReruns
			}
			return err
		}
		if on {
			set = func(ctx context.Context, id string, actor store.Actor) error {
				_, _, err := c.FlowRunner.Enable(ctx, id, actor)
				return err
			}
		}
		if err := set(ctx, r.PathValue("id"), s.actor()); err != nil {
			d, lerr := c.flowPage(ctx, r.PathValue("id"), nil)
			if lerr != nil {
				c.fail(w, r, s, lerr)
				return
			}
			status, e := c.publicError(ctx, err)
			if on && d.Trigger == nil && e.Code == string(problem.InvalidInput) {
				// A stale page's Enable of a flow stored again without
				// a trigger: the server's remedy names the API and CLI.
				e.Remedy = "add an on: section (on.schedule or on.event) and store the flow again; without one, start it with Run below"
			}
			d.Error = &e
			c.render(w, r, s, status, "flow", d.Flow.Name, d)
			return
		}
		if len(dropped) > 0 {
			c.addFlash(ctx, s.session, droppedRerunsFlash(dropped))
		}
		http.Redirect(w, r, "/flows/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
	}
}

// droppedRerunsFlash says which failed event runs, waiting for their
// connection to run again by themselves, disabling a flow dropped, and how
// to run them anyway, in the words of cardflow flows disable.
func droppedRerunsFlash(runs []*store.FlowRun) flash {
	ids := make([]string, len(runs))
	for i, run := range runs {
		ids[i] = run.ID
	}
	return flash{Kind: "warning",
		Message: fmt.Sprintf("Disabled the flow. Dropped %s that waited for their connection to run again by themselves (%s): enabling the flow again does not bring them back. "+
			"To run the failed items of one anyway, open it under Runs below and press Rerun failed items.", counttext.Format(len(runs), "failed event run"), strings.Join(ids, ", "))}
}

// flowInput is one input of a flow's run form.
type flowInput struct {
	*flow.InputDef
	ID      string
	Value   string
	Default string
	Error   string // shown under the field, and read with it
}

type flowData struct {
	Flow    *store.Flow
	Trigger *triggerView   // nil without a trigger
	Doc     *flow.Document // nil without a FlowRunner, or when Unreadable
	// Unreadable says why this version no longer accepts the stored
	// document (a rule added since it was stored); empty when it does.
	Unreadable string
	// Warnings are what the document says that is legal but likely not
	// meant (timezone: EST); the flow runs as written.
	Warnings []flow.Warning
	Inputs   []flowInput
	Runs     []flowRunRow
	Pager    pager // of the runs
	// RunsError says why the page of runs asked for (before) is not
	// one; the page then lists no runs.
	RunsError *filterError
	// Versions are the flow's stored versions, newest first, without
	// their sources.
	Versions []*store.FlowVersion
	Plan     *flow.PlanResult
	Error    *shownError
	// Problems are the connections the flow uses that cannot run cards
	// now (not active, or gone) and, while its trigger is enabled, its
	// event trigger's connection whose System Log polls fail, each with
	// what uses it and the fix.
	Problems []flowProblem
	// EventRead is where a step of an event flow reads its event, which a
	// run started by hand does not have (no Run form then); nil when none.
	EventRead *flow.EventRead
	// Confirm, when set, asks before the flow runs: steps of it cannot be
	// undone. Plan is then what it would change now.
	Confirm []irreversibleStep
	// ConfirmFailing are the steps with failures in the plan the question
	// shows: a run now fails alike.
	ConfirmFailing []string
	// Modes are the modes (read, manage) of the cards the steps name, by
	// card reference; a card the server does not have has none.
	Modes map[string]string
}

// cardModes are the modes of the cards doc's steps name, by reference.
func (c *Console) cardModes(doc *flow.Document) map[string]string {
	modes := map[string]string{}
	for _, st := range doc.Steps {
		k, ok := c.connector(st.Connector())
		if !ok {
			continue
		}
		for _, cd := range k.Cards {
			if cd.Ref == st.Card {
				modes[st.Card] = cd.Mode
			}
		}
	}
	return modes
}

// irreversibleStep is a step of a flow whose card cannot be undone
// (irreversibleCards), with why.
type irreversibleStep struct {
	ID, Card, Why string
}

// irreversibleSteps are the steps of doc whose cards cannot be undone.
func irreversibleSteps(doc *flow.Document) []irreversibleStep {
	if doc == nil {
		return nil
	}
	var out []irreversibleStep
	for _, st := range doc.Steps {
		if why, ok := irreversibleCards[st.Card]; ok {
			out = append(out, irreversibleStep{ID: st.ID, Card: st.Card, Why: why})
		}
	}
	return out
}

// Stops says that one of the flow's problems stops it; the others only
// make it work less well.
func (d *flowData) Stops() bool {
	return slices.ContainsFunc(d.Problems, func(p flowProblem) bool { return p.Stops })
}

// flowProblem is a connection that stops a flow (web.FlowProblem), as the
// console words it.
type flowProblem struct {
	web.FlowProblem
	ID     string // the connection's; empty when no connection has the name
	Status string // "Needs reauthorization", for a connection that is not active
	Remedy string // the fix, in the console's words
}

// flowProblems is a lookup of what stops flows, the one the API's flows
// list uses, so that the console and the API name the same problems.
func (c *Console) flowProblems() *web.FlowProblems {
	return &web.FlowProblems{Connections: c.Connections, Events: c.Events, DefaultDelivery: c.DefaultDelivery}
}

// findFlowProblems is what fp finds of doc (enabled: its trigger is on),
// in the console's words.
func findFlowProblems(ctx context.Context, fp *web.FlowProblems, doc *flow.Document, enabled bool) ([]flowProblem, error) {
	ps, err := fp.Find(ctx, doc, enabled)
	if err != nil {
		return nil, err
	}
	out := make([]flowProblem, 0, len(ps))
	for _, p := range ps {
		cp := flowProblem{FlowProblem: p, Remedy: inConsole(p.Remedy)}
		if p.View != nil {
			cp.ID = p.View.ID
		}
		if p.Kind == web.FlowProblemStatus {
			cp.Status, cp.Remedy = humanize(p.View.Status), consoleRemedy(p.View)
		}
		out = append(out, cp)
	}
	return out, nil
}

// setError shows e on the page, and under each required input it names as
// missing.
func (d *flowData) setError(e shownError) {
	d.Error = &e
	for i, in := range d.Inputs {
		if slices.Contains(e.Missing, in.Name) {
			d.Inputs[i].Error = in.Name + " is required."
		}
	}
}

// flowPage loads a flow, its runs and its input form (filled from values
// when not nil).
func (c *Console) flowPage(ctx context.Context, id string, values url.Values) (*flowData, error) {
	d := &flowData{}
	var err error
	if c.FlowRunner != nil {
		d.Flow, d.Doc, err = c.FlowRunner.Get(ctx, id)
	} else {
		d.Flow, err = c.Flows.GetFlow(ctx, id)
	}
	if err != nil {
		return nil, err
	}
	if c.FlowRunner != nil && d.Doc == nil {
		if _, perr := flow.Parse(d.Flow.Source); perr != nil {
			d.Unreadable = problem.Public(perr).Message
		}
	}
	d.Warnings = web.FlowWarnings(d.Flow, d.Doc)
	d.Trigger = triggerOf(d.Flow, c.DefaultDelivery)
	if d.Versions, err = c.Flows.ListFlowVersions(ctx, d.Flow.ID); err != nil {
		return nil, err
	}
	if d.Runs, d.Pager, _, err = c.flowRunsPage(ctx, "/flows/"+url.PathEscape(d.Flow.ID), url.Values{}, d.Flow.ID, "before"); err != nil {
		return nil, err
	}
	if d.Doc != nil {
		d.Modes = c.cardModes(d.Doc)
		if reads := d.Doc.EventReads(); len(reads) > 0 {
			d.EventRead = &reads[0]
		}
		if d.Problems, err = findFlowProblems(ctx, c.flowProblems(), d.Doc, d.Flow.Enabled); err != nil {
			return nil, err
		}
		for _, in := range d.Doc.Inputs {
			fi := flowInput{InputDef: in, ID: "in." + in.Name}
			if in.HasDefault {
				fi.Default = defaultText(in.Default)
			}
			if values != nil {
				fi.Value = values.Get(fi.ID)
			}
			d.Inputs = append(d.Inputs, fi)
		}
	}
	return d, nil
}

// flowInputs returns the form's non-empty inputs as text; the flow service
// converts them to the declared types (lists: JSON or comma-separated).
func flowInputs(d *flowData) map[string]any {
	in := map[string]any{}
	for _, fi := range d.Inputs {
		if v := strings.TrimSpace(fi.Value); v != "" {
			in[fi.Name] = v
		}
	}
	return in
}

func (c *Console) showFlow(w http.ResponseWriter, r *http.Request, s *reqState) {
	d, err := c.flowPage(r.Context(), r.PathValue("id"), nil)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	status, title := http.StatusOK, d.Flow.Name
	if q := r.URL.Query(); q.Get("before") != "" { // a later page of its runs
		if d.Runs, d.Pager, d.RunsError, err = c.flowRunsPage(r.Context(), r.URL.Path, q, d.Flow.ID, "before"); err != nil {
			c.fail(w, r, s, err)
			return
		}
		if d.RunsError != nil {
			status, title = http.StatusBadRequest, "Error: "+d.Flow.Name
		}
	}
	c.render(w, r, s, status, "flow", title, d)
}

// flowVersionData is the page of one stored version of a flow.
type flowVersionData struct {
	Flow    *store.Flow
	Version *store.FlowVersion
	// Warnings are what the version's document says that is allowed but
	// likely not meant.
	Warnings []flow.Warning
	// Older and Newer are the neighbouring versions' numbers; 0 for none.
	Older, Newer int
}

// showFlowVersion shows one stored version of a flow with its document,
// as a run of that version ran it.
func (c *Console) showFlowVersion(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	f, err := c.Flows.GetFlow(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	has := fmt.Sprintf("its versions are 1 to %d", f.Version)
	if f.Version == 1 {
		has = "it has only version 1"
	}
	back := messageData{Remedy: "Pick the version on the flow's page.", Link: "/flows/" + url.PathEscape(f.ID), LinkText: "Back to " + f.Name}
	n, err := strconv.Atoi(r.PathValue("n"))
	if err != nil || n < 1 {
		back.Message = fmt.Sprintf("A flow version is a whole number from 1; flow %s: %s.", f.Name, has)
		c.notFoundAt(w, r, s, back)
		return
	}
	v, err := c.Flows.GetFlowVersion(ctx, f.ID, n)
	if errors.Is(err, store.ErrNotFound) {
		back.Message = fmt.Sprintf("Flow %s has no version %d: %s.", f.Name, n, has)
		c.notFoundAt(w, r, s, back)
		return
	}
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d := flowVersionData{Flow: f, Version: v}
	if doc, err := flow.Parse(v.Source); err == nil {
		d.Warnings = doc.Warnings()
	}
	if n > 1 {
		d.Older = n - 1
	}
	if n < f.Version {
		d.Newer = n + 1
	}
	c.render(w, r, s, http.StatusOK, "flowversion", fmt.Sprintf("%s, version %d", f.Name, n), d)
}

func (c *Console) planFlow(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	d, err := c.flowPage(ctx, r.PathValue("id"), r.PostForm)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	status := http.StatusOK
	title := "Plan of " + d.Flow.Name
	d.Plan, err = c.FlowRunner.Plan(ctx, d.Flow.ID, flowInputs(d), s.actor())
	if err != nil {
		st, e := c.publicError(ctx, err)
		status, title = st, d.Flow.Name
		d.setError(e)
	}
	c.render(w, r, s, status, "flow", title, d)
}

// planScheduledFlow plans the run of the flow's next scheduled tick, with
// the inputs its on.inputs computes (none are given).
func (c *Console) planScheduledFlow(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	d, err := c.flowPage(ctx, r.PathValue("id"), nil)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	status := http.StatusOK
	title := "Plan of the next scheduled run of " + d.Flow.Name
	d.Plan, err = c.FlowRunner.PlanTriggered(ctx, d.Flow.ID, flowrun.PlanTrigger{Kind: flow.KindSchedule}, s.actor())
	if err != nil {
		st, e := c.publicError(ctx, err)
		status, title = st, d.Flow.Name
		d.setError(e)
	}
	c.render(w, r, s, status, "flow", title, d)
}

// confirmFlow asks whether to run the flow of d, whose steps include
// irreversible ones, above the plan of what it would change now with the
// form's inputs. A plan that fails (a missing input, a connection that
// needs reauthorizing) is shown as Plan shows it, with no question: the
// run would fail alike.
func (c *Console) confirmFlow(w http.ResponseWriter, r *http.Request, s *reqState, d *flowData, steps []irreversibleStep) {
	ctx := r.Context()
	plan, err := c.FlowRunner.Plan(ctx, d.Flow.ID, flowInputs(d), s.actor())
	if err != nil {
		status, e := c.publicError(ctx, err)
		d.setError(e)
		c.render(w, r, s, status, "flow", d.Flow.Name, d)
		return
	}
	d.Plan, d.Confirm = plan, steps
	for _, st := range plan.Steps {
		if len(st.Errors) > 0 {
			d.ConfirmFailing = append(d.ConfirmFailing, st.ID)
		}
	}
	c.render(w, r, s, http.StatusOK, "flow", "Run "+d.Flow.Name+"?", d)
}

func (c *Console) startFlow(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	d, err := c.flowPage(ctx, r.PathValue("id"), r.PostForm)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if steps := irreversibleSteps(d.Doc); len(steps) > 0 && r.PostForm.Get("confirmed") != "yes" {
		// Steps of it cannot be undone: as a card that cannot be, it asks
		// first, with the plan of what it would change now (recorded and
		// audited as any plan).
		c.confirmFlow(w, r, s, d, steps)
		return
	}
	run, err := c.FlowRunner.Start(ctx, d.Flow.ID, flowInputs(d), s.starter())
	if err != nil {
		status, e := c.publicError(ctx, err)
		d.setError(e)
		c.render(w, r, s, status, "flow", d.Flow.Name, d)
		return
	}
	http.Redirect(w, r, "/flow-runs/"+url.PathEscape(run.ID), http.StatusSeeOther)
}

// flowStepView is one step of a flow run with its items and, while it
// runs here, its live progress.
// ChangedText says how many of the step's items changed their device
// ("3 changed their devices", "none changed its device"); "" when the
// step's cards do not say.
func (v flowStepView) ChangedText() string {
	switch {
	case v.Changed == nil:
		return ""
	case *v.Changed == 0:
		return "none changed its device"
	case *v.Changed == 1:
		return "1 changed its device"
	}
	return fmt.Sprintf("%d changed their devices", *v.Changed)
}

type flowStepView struct {
	*store.FlowStep
	ItemList []flowItemView
	Progress *flow.Progress
	// Paged says the list does not start at the first item, and First is
	// then the address of the page that does; Next, when set, is the
	// address of the page after it. Both keep ?reload=off.
	Paged bool
	First string
	Next  string
}

// itemPageSize is how many items of a step the flow run page shows.
const itemPageSize = 100

// flowItemView is one item of a step and the card run it made, if known.
type flowItemView struct {
	*store.FlowItem
	Run      string
	DeviceID string // the input's deviceId, shown with the item's DeviceName
	// Outcome is what the item's output tells in a few words
	// (card.Outcome); "" without output.
	Outcome string
}

type flowRunData struct {
	Run      *store.FlowRun
	Start    runStart
	Event    *runEvent // the Okta event that started the run; nil if none
	Steps    []flowStepView
	Finished bool
	Duration time.Duration
	// CanCancel says whether the page offers Cancel: the run goes on and
	// nobody asked it to stop yet.
	CanCancel bool
	// Cancel says who asked the run to stop and why (flowrun.CancelCause,
	// people named as the page names them); empty when nobody did, or
	// nobody was recorded (a run asked to stop before 0039).
	Cancel string
	// CanRerun says whether the page offers Rerun (a finished run), and
	// HasFailed whether it offers Rerun failed items as well (a run that
	// did not succeed).
	CanRerun, HasFailed bool
	// Reloading says the page of a run that goes on reloads itself (the
	// Refresh header: no script). Each reload puts the focus and a screen
	// reader back at the top of the page, so the page first offers to stop
	// it (?reload=off): StopReload is its address so, Reload the address
	// that reloads again.
	Reloading          bool
	StopReload, Reload string
}

func (c *Console) showFlowRun(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	run, err := c.Flows.GetFlowRun(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	steps, err := c.Flows.ListFlowSteps(ctx, run.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	finished := run.Status == flow.StatusSucceeded || run.Status == flow.StatusFailed || run.Status == flow.StatusCanceled
	namer := c.personNamer(ctx)
	d := flowRunData{Run: run, Start: startOf(run, nil, namer), Finished: finished, Cancel: flowrun.CancelCause(run, namer),
		CanCancel: !finished && run.CancelRequestedAt.IsZero() && c.FlowRunner != nil,
		CanRerun:  finished && c.FlowRunner != nil, HasFailed: finished && run.Status != flow.StatusSucceeded}
	if d.Event, err = c.eventOfRun(ctx, run); err != nil {
		c.fail(w, r, s, err)
		return
	}
	if d.Finished && !run.StartedAt.IsZero() && !run.FinishedAt.IsZero() {
		d.Duration = run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond)
	}
	q := r.URL.Query()
	reloadOff := q.Get("reload") == "off"
	d.Reloading = !d.Finished && !reloadOff
	q.Set("reload", "off")
	d.StopReload = r.URL.Path + "?" + q.Encode()
	q.Del("reload")
	d.Reload = r.URL.Path
	if len(q) > 0 {
		d.Reload += "?" + q.Encode()
	}
	var progress map[string]flow.Progress
	if c.FlowRunner != nil && !d.Finished {
		progress = c.FlowRunner.Progress(run.ID)
	}
	// Items name their card run (RunRef); the card runs of the flow run
	// are read (once) only for an item that does not, or for a running
	// step.
	runsOf := &flowCardRuns{c: c, flowRunID: run.ID}
	var cardRuns map[itemKey]string
	// The items in flight have no stored item until they end: their card
	// runs, running, stand for them while the run goes on.
	var inFlight map[string][]*store.Run
	pageStep, after := r.URL.Query().Get("step"), -1
	if n, err := strconv.Atoi(r.URL.Query().Get("after")); err == nil && n >= -1 {
		after = n
	}
	for _, st := range steps {
		from := -1
		if st.StepID == pageStep {
			from = after
		}
		items, err := c.Flows.ListFlowItemsPage(ctx, run.ID, st.StepID, from, itemPageSize+1)
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		v := flowStepView{FlowStep: st, Paged: from >= 0}
		if v.Paged {
			v.First = "/flow-runs/" + url.PathEscape(run.ID)
			if reloadOff {
				v.First += "?reload=off"
			}
			v.First += "#step-" + st.StepID
		}
		if len(items) > itemPageSize {
			items = items[:itemPageSize]
			q := url.Values{"step": {st.StepID}, "after": {strconv.Itoa(items[len(items)-1].Index)}}
			if reloadOff {
				q.Set("reload", "off")
			}
			v.Next = "/flow-runs/" + url.PathEscape(run.ID) + "?" + q.Encode() + "#step-" + st.StepID
		}
		for _, it := range items {
			iv := flowItemView{FlowItem: it, Run: it.RunRef, DeviceID: inputDeviceID(it.Input), Outcome: card.Outcome(it.Output)}
			if iv.Run == "" {
				if cardRuns == nil {
					cardRuns = runsOf.byItem(ctx)
				}
				iv.Run = cardRuns[itemKey{it.StepID, it.Index}]
			}
			v.ItemList = append(v.ItemList, iv)
		}
		if !d.Finished && st.Status == flow.StatusRunning {
			if inFlight == nil {
				inFlight = runsOf.inFlight(ctx)
			}
			v.ItemList = withInFlight(v.ItemList, inFlight[st.StepID], from, v.Next != "")
		}
		if p, ok := progress[st.StepID]; ok {
			v.Progress = &p
		}
		d.Steps = append(d.Steps, v)
	}
	if d.Reloading {
		w.Header().Set("Refresh", "2")
	}
	title := run.FlowName + " run · " + strings.ToLower(humanize(run.Status)) + " · queued " + when(run.CreatedAt)
	c.render(w, r, s, http.StatusOK, "flowrun", title, d)
}

// itemKey names one item of a flow run.
type itemKey struct {
	step  string
	index int
}

// maxItemRuns bounds the card runs looked up to link a flow run's items.
const maxItemRuns = 2000

// flowCardRuns reads the card runs of a flow run (newest first, up to
// maxItemRuns) once, for the maps of a flow run page: the card run of
// each item, and the running ones by step.
type flowCardRuns struct {
	c         *Console
	flowRunID string
	runs      []*store.Run
	read      bool
}

func (f *flowCardRuns) list(ctx context.Context) []*store.Run {
	if f.read || f.c.Runs == nil {
		return f.runs
	}
	f.read = true
	runs, err := f.c.Runs.ListRuns(ctx, store.RunFilter{FlowRunID: f.flowRunID, Limit: maxItemRuns})
	if err != nil {
		f.c.log.WarnContext(ctx, "console: list the card runs of a flow run", "flow_run", f.flowRunID, "cause", err.Error())
	}
	f.runs = runs
	return f.runs
}

// inFlight returns the running card runs of the flow run, by step.
func (f *flowCardRuns) inFlight(ctx context.Context) map[string][]*store.Run {
	out := map[string][]*store.Run{}
	for _, r := range f.list(ctx) {
		if r.Status == store.RunRunning && r.StepID != "" {
			out[r.StepID] = append(out[r.StepID], r)
		}
	}
	return out
}

// withInFlight adds to a page of a step's stored items (those after index
// from; more follows when more is set) the items in flight that belong on
// it, shown as running with their card run, in the order of their index.
func withInFlight(items []flowItemView, running []*store.Run, from int, more bool) []flowItemView {
	stored := make(map[int]bool, len(items))
	for _, it := range items {
		stored[it.Index] = true
	}
	added := false
	for _, r := range running {
		i := r.ItemIndex
		if i <= from || stored[i] || more && len(items) > 0 && i > items[len(items)-1].Index {
			continue
		}
		stored[i] = true // one row per item: the newest attempt (runs come newest first)
		items = append(items, flowItemView{
			FlowItem: &store.FlowItem{RunID: r.FlowRunID, StepID: r.StepID, Index: i, Status: flow.StatusRunning, Input: r.Input, RunRef: r.ID, StartedAt: r.StartedAt, DeviceName: r.DeviceName},
			Run:      r.ID,
			DeviceID: inputDeviceID(r.Input),
		})
		added = true
	}
	if added {
		slices.SortFunc(items, func(a, b flowItemView) int { return a.Index - b.Index })
	}
	return items
}

// byItem maps the items of the flow run to the card runs they made.
func (f *flowCardRuns) byItem(ctx context.Context) map[itemKey]string {
	out := map[itemKey]string{}
	for _, r := range f.list(ctx) {
		k := itemKey{r.StepID, r.ItemIndex}
		if _, seen := out[k]; !seen { // newest first: keep the latest attempt
			out[k] = r.ID
		}
	}
	return out
}

// notificationReceivers is how many notification receivers the server
// has; 0 without a notification sender.
func (c *Console) notificationReceivers() int {
	if c.Notifications == nil {
		return 0
	}
	return c.Notifications.Receivers()
}
