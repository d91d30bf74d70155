package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/store"
)

// FlowRunJSON is the public shape of a flow run: the run, each step in
// document order and, unless omitted, each finished item with its input,
// output, error and timing.
type FlowRunJSON struct {
	ID     string `json:"id"`
	FlowID string `json:"flowId"`
	Flow   string `json:"flow"`
	// FlowVersion is the version of the flow the run runs (absent for
	// runs stored before versions were kept).
	FlowVersion int `json:"flowVersion,omitempty"`
	// RerunOf is the id of the run this one repeats; its trigger is the
	// original's and its actor who asked for the rerun.
	RerunOf    string          `json:"rerunOf,omitempty"`
	Status     string          `json:"status"`
	Actor      *api.Actor      `json:"actor"`
	Inputs     json.RawMessage `json:"inputs,omitempty"`
	Error      string          `json:"error,omitempty"`
	CreatedAt  time.Time       `json:"createdAt"`
	StartedAt  *time.Time      `json:"startedAt,omitempty"`
	FinishedAt *time.Time      `json:"finishedAt,omitempty"`
	// CancelRequestedAt is when someone asked the run to stop; the run
	// ends canceled once its items in flight finish.
	CancelRequestedAt *time.Time `json:"cancelRequestedAt,omitempty"`
	// Trigger is what started the run: {kind: manual|schedule|event, time,
	// eventUuid}.
	Trigger *FlowRunTriggerJSON `json:"trigger"`
	Steps   []FlowRunStepJSON   `json:"steps,omitempty"`
}

// FlowRunTriggerJSON is what started a flow run.
type FlowRunTriggerJSON struct {
	Kind      string    `json:"kind"`
	Time      time.Time `json:"time"`
	EventUUID string    `json:"eventUuid,omitempty"`
}

// runTrigger reads a run's stored trigger; runs stored before triggers
// existed were started by a person when they were created.
func runTrigger(run *store.FlowRun) *FlowRunTriggerJSON {
	t := &FlowRunTriggerJSON{Kind: flow.KindManual, Time: run.CreatedAt}
	if len(run.Trigger) > 0 {
		_ = json.Unmarshal(run.Trigger, t)
	}
	return t
}

// FlowRunStepJSON is one step of a flow run.
type FlowRunStepJSON struct {
	ID        string `json:"id"`
	Card      string `json:"card"`
	Status    string `json:"status"`
	Items     int    `json:"items"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
	Error     string `json:"error,omitempty"`
	// RateLimitWait is how long a card of the step last waited for the
	// org's rate limit, while the step runs in this server.
	RateLimitWait string     `json:"rateLimitWait,omitempty"`
	StartedAt     *time.Time `json:"startedAt,omitempty"`
	FinishedAt    *time.Time `json:"finishedAt,omitempty"`
	// Output is the output of a step with one item; a for_each step's
	// outputs are its items'.
	Output json.RawMessage `json:"output,omitempty"`
	// ItemResults is the first page of the step's finished items, by
	// index; NextItems, when set, is the address of the next page.
	ItemResults []FlowRunItemJSON `json:"itemResults,omitempty"`
	NextItems   string            `json:"nextItems,omitempty"`
}

// FlowRunItemJSON is one finished item of a step.
type FlowRunItemJSON struct {
	Index      int             `json:"index"`
	Status     string          `json:"status"`
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      *api.Error      `json:"error,omitempty"`
	RunID      string          `json:"runId,omitempty"`
	StartedAt  *time.Time      `json:"startedAt,omitempty"`
	FinishedAt *time.Time      `json:"finishedAt,omitempty"`
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// flowRunHeader is a run without its steps.
func flowRunHeader(run *store.FlowRun) FlowRunJSON {
	return FlowRunJSON{
		ID: run.ID, FlowID: run.FlowID, Flow: run.FlowName, FlowVersion: run.FlowVersion, RerunOf: run.RerunOf,
		Status: run.Status, Actor: actorJSON(run.Actor),
		Inputs: rawOrNil(run.Inputs), Error: run.Error, CreatedAt: run.CreatedAt,
		StartedAt: timePtr(run.StartedAt), FinishedAt: timePtr(run.FinishedAt), Trigger: runTrigger(run),
		CancelRequestedAt: timePtr(run.CancelRequestedAt),
	}
}

// defaultItemPage is how many items of each step a flow run carries
// unless the request asks for another page size.
const defaultItemPage = 100

// itemsURL is the address of the page of step's items after index after.
func itemsURL(runID, stepID string, after, limit int) string {
	q := url.Values{"step": {stepID}, "after": {strconv.Itoa(after)}, "limit": {strconv.Itoa(limit)}}
	return "/api/v1/flow-runs/" + url.PathEscape(runID) + "/items?" + q.Encode()
}

// flowRunJSON assembles a run with its steps (in document order, pending
// ones included) and, if limit > 0, the first limit items of each step,
// with the address of the next page (nextItems) when there are more.
func (s *Server) flowRunJSON(ctx context.Context, run *store.FlowRun, limit int) (*FlowRunJSON, error) {
	withItems := limit > 0
	out := flowRunHeader(run)
	out.Steps = []FlowRunStepJSON{}
	saved, err := s.Flows.Steps(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	byID := map[string]*store.FlowStep{}
	for _, st := range saved {
		byID[st.StepID] = st
	}
	live := s.Flows.Progress(run.ID)
	var order []FlowRunStepJSON
	single := map[string]bool{} // steps without for_each
	if doc, err := flow.Parse(run.Source); err == nil {
		for _, st := range doc.Steps {
			order = append(order, FlowRunStepJSON{ID: st.ID, Card: st.Card, Status: flow.StatusPending})
			single[st.ID] = !st.ForEach()
		}
	} else {
		for _, st := range saved {
			order = append(order, FlowRunStepJSON{ID: st.StepID, Status: flow.StatusPending})
		}
	}
	for _, js := range order {
		if st, ok := byID[js.ID]; ok {
			js.Status, js.Items, js.Succeeded, js.Failed, js.Skipped = st.Status, st.Items, st.Succeeded, st.Failed, st.Skipped
			js.Error, js.StartedAt, js.FinishedAt = st.Error, timePtr(st.StartedAt), timePtr(st.FinishedAt)
			if withItems && single[js.ID] {
				// Runs stored by earlier versions keep the step's output.
				js.Output = rawOrNil(st.Output)
			}
		}
		if p, ok := live[js.ID]; ok && !flowrun.Finished(run.Status) && js.Status != flow.StatusSucceeded && js.Status != flow.StatusFailed && js.Status != flow.StatusSkipped {
			js.Status = flow.StatusRunning
			js.Items, js.Succeeded, js.Failed, js.Skipped = p.Total, p.Succeeded, p.Failed, p.Skipped
			if p.Wait > 0 {
				js.RateLimitWait = p.Wait.Round(time.Millisecond).String()
			}
		}
		if js.Status == flow.StatusRunning && live == nil && !flowrun.Finished(run.Status) {
			// Executing in another server: count what is recorded.
			counts, err := s.Flows.ItemCounts(ctx, run.ID, js.ID)
			if err != nil {
				return nil, err
			}
			js.Succeeded, js.Failed, js.Skipped = counts[flow.StatusSucceeded], counts[flow.StatusFailed], counts[flow.StatusSkipped]
		}
		if withItems && js.Status != flow.StatusPending {
			items, next, err := s.itemPage(ctx, run.ID, js.ID, -1, limit)
			if err != nil {
				return nil, err
			}
			js.ItemResults, js.NextItems = items, next
			if js.Output == nil && single[js.ID] && len(items) == 1 && items[0].Status == flow.StatusSucceeded {
				// A step of one item outputs that item's output; a
				// for_each step's outputs are its items', paged with them.
				js.Output = items[0].Output
			}
		}
		out.Steps = append(out.Steps, js)
	}
	return &out, nil
}

// itemPage reads up to limit items of a step after index after, and the
// address of the next page ("" when these are the last).
func (s *Server) itemPage(ctx context.Context, runID, stepID string, after, limit int) ([]FlowRunItemJSON, string, error) {
	items, err := s.Flows.ItemsPage(ctx, runID, stepID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = itemsURL(runID, stepID, items[len(items)-1].Index, limit)
	}
	out := make([]FlowRunItemJSON, 0, len(items))
	for _, it := range items {
		ij := FlowRunItemJSON{
			Index: it.Index, Status: it.Status, Input: rawOrNil(it.Input), Output: rawOrNil(it.Output),
			RunID: it.RunRef, StartedAt: timePtr(it.StartedAt), FinishedAt: timePtr(it.FinishedAt),
		}
		if it.ErrorCode != "" || it.Error != "" {
			ij.Error = &api.Error{Code: it.ErrorCode, Message: it.Error}
		}
		out = append(out, ij)
	}
	return out, next, nil
}
