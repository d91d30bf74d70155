package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/store"
)

// runTrigger reads a run's stored trigger; runs stored before triggers
// existed were started by a person when they were created.
func runTrigger(run *store.FlowRun) *api.FlowRunTrigger {
	f := flow.Firing{Kind: flow.KindManual, Time: run.CreatedAt}
	if len(run.Trigger) > 0 {
		_ = json.Unmarshal(run.Trigger, &f)
	}
	return triggerJSON(f)
}

// triggerJSON is a run's trigger in the API's shape: of an event, its type
// and the device and user it is about, read from trigger.event as the run
// keeps it (so also once the inbox no longer holds the event).
func triggerJSON(f flow.Firing) *api.FlowRunTrigger {
	t := &api.FlowRunTrigger{Kind: f.Kind, Time: f.Time, EventUUID: f.EventUUID}
	if f.Event == nil {
		return t
	}
	t.EventType, _ = f.Event["eventType"].(string)
	if d, _ := f.Event["device"].(map[string]any); d != nil {
		id, _ := d["id"].(string)
		name, _ := d["displayName"].(string)
		if id != "" {
			t.Device = &api.EventDevice{ID: id, DisplayName: name}
		}
	}
	if u, _ := f.Event["user"].(map[string]any); u != nil {
		id, _ := u["id"].(string)
		login, _ := u["login"].(string)
		if id != "" || login != "" {
			t.User = &api.EventUser{ID: id, Login: login}
		}
	}
	return t
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// flowRunHeader is a run without its steps.
func flowRunHeader(run *store.FlowRun) api.FlowRun {
	return api.FlowRun{
		ID: run.ID, FlowID: run.FlowID, Flow: run.FlowName, FlowVersion: run.FlowVersion, RerunOf: run.RerunOf,
		Status: run.Status, Actor: actorJSON(run.Actor),
		Inputs: rawOrNil(run.Inputs), Error: run.Error, Failure: run.Failure, CreatedAt: run.CreatedAt,
		StartedAt: timePtr(run.StartedAt), FinishedAt: timePtr(run.FinishedAt), Trigger: runTrigger(run),
		CancelRequestedAt: timePtr(run.CancelRequestedAt), CancelRequestedBy: actorJSON(run.CancelRequestedBy),
		CancelReason: run.CancelReason, RerunWhenActive: rerunWhenActive(run),
	}
}

// rerunWhenActive is the automatic rerun of run, a failed event run its
// connection stopped; nil for other runs.
func rerunWhenActive(run *store.FlowRun) *api.RerunWhenActive {
	if run.RerunWhenActive == "" {
		return nil
	}
	return &api.RerunWhenActive{Connection: api.ConnectionRef{ID: run.RerunWhenActive, Nickname: run.RerunConnection},
		Rerun: run.RerunBy, NotRerun: run.RerunSkipped}
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
func (s *Server) flowRunJSON(ctx context.Context, run *store.FlowRun, limit int) (*api.FlowRun, error) {
	withItems := limit > 0
	out := flowRunHeader(run)
	out.Steps = []api.FlowRunStep{}
	saved, err := s.Flows.Steps(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	byID := map[string]*store.FlowStep{}
	for _, st := range saved {
		byID[st.StepID] = st
	}
	live := s.Flows.Progress(run.ID)
	var order []api.FlowRunStep
	single := map[string]bool{} // steps without for_each
	if doc, err := flow.Parse(run.Source); err == nil {
		for _, st := range doc.Steps {
			order = append(order, api.FlowRunStep{ID: st.ID, Card: st.Card, Status: flow.StatusPending})
			single[st.ID] = !st.ForEach()
		}
	} else {
		for _, st := range saved {
			order = append(order, api.FlowRunStep{ID: st.StepID, Status: flow.StatusPending})
		}
	}
	for _, js := range order {
		if st, ok := byID[js.ID]; ok {
			js.Status, js.Items, js.Succeeded, js.Failed, js.Skipped = st.Status, st.Items, st.Succeeded, st.Failed, st.Skipped
			js.NotRun, js.Changed = st.NotRun(), st.Changed
			js.Error, js.StartedAt, js.FinishedAt = st.Error, timePtr(st.StartedAt), timePtr(st.FinishedAt)
			if withItems && single[js.ID] {
				// Runs stored by earlier versions keep the step's output.
				js.Output = rawOrNil(st.Output)
			}
		}
		if p, ok := live[js.ID]; ok && !flowrun.Finished(run.Status) && js.Status != flow.StatusSucceeded && js.Status != flow.StatusFailed && js.Status != flow.StatusSkipped {
			js.Status = flow.StatusRunning
			js.Items, js.Succeeded, js.Failed, js.Skipped, js.NotRun = p.Total, p.Succeeded, p.Failed, p.Skipped, 0
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
			if js.Output != nil && single[js.ID] && len(items) == 1 {
				// Once in the answer: a search's output can be thousands
				// of devices. The item's page (/items) has it too.
				items[0].Output = nil
			}
		}
		out.Steps = append(out.Steps, js)
	}
	return &out, nil
}

// itemPage reads up to limit items of a step after index after, and the
// address of the next page ("" when these are the last).
func (s *Server) itemPage(ctx context.Context, runID, stepID string, after, limit int) ([]api.FlowRunItem, string, error) {
	items, err := s.Flows.ItemsPage(ctx, runID, stepID, after, limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = itemsURL(runID, stepID, items[len(items)-1].Index, limit)
	}
	out := make([]api.FlowRunItem, 0, len(items))
	for _, it := range items {
		ij := api.FlowRunItem{
			Index: it.Index, Status: it.Status, Input: rawOrNil(it.Input), Output: rawOrNil(it.Output),
			RunID: it.RunRef, StartedAt: timePtr(it.StartedAt), FinishedAt: timePtr(it.FinishedAt), DeviceName: it.DeviceName,
			Outcome: card.Outcome(it.Output),
		}
		if it.ErrorCode != "" || it.Error != "" {
			ij.Error = &api.Error{Code: it.ErrorCode, Message: it.Error}
		}
		out = append(out, ij)
	}
	return out, next, nil
}
