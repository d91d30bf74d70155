package flowrun

import (
	"context"
	"errors"
	"fmt"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/store"
)

// Cards is the card executor as flow.CardRunner: each call runs as the
// actor of the flow run it belongs to (flow.Call.Actor). History, when
// set, is where the executor records card runs: an item run again after
// its flow run resumed (flow.Call.Retry) reads it to find the earlier
// attempt that did the work (card.Recorded, card.AlreadyDone), so that the
// item names that attempt's card run.
//
// Items, when set, is where a first attempt's card run is stored together
// with its item (store.FinishFlowItem): one commit for both, which the
// runner shares with the next item's card run (flow.CardResult.Pending).
//
// HandBack, when set, is asked about each card run's error: true means
// this server cannot go on with the run though another server can (its
// keyring lacks the key the database's secrets are now sealed with). The
// run then stops (flow.ErrHandBack) and is handed back instead of its
// item failing.
type Cards struct {
	Executor *card.Executor
	History  card.RunHistory
	Items    ItemStore
	HandBack func(ctx context.Context, err error) bool
}

// ItemStore stores flow items with their card runs; store.Store
// satisfies it.
type ItemStore interface {
	FinishFlowItem(ctx context.Context, it *store.FlowItem, r *store.Run, e *store.AuditEvent) error
	FinishRun(ctx context.Context, r *store.Run, e *store.AuditEvent) error
}

func (c Cards) request(call flow.Call) card.Request {
	return card.Request{Card: call.Card, Connection: call.Connection, Input: call.Input, Actor: store.Actor(call.Actor),
		FlowRunID: call.FlowRunID, StepID: call.StepID, ItemIndex: call.Index, OnWait: call.OnWait, BeforeCall: call.Ready,
		DeviceName: call.DeviceName, Plan: store.PlanRef(call.Plan), ReadDevice: call.ReadDevice}
}

// RecordedInput is an item's input as its card run records it
// (flow.InputRecorder): a custom call's header values redacted.
func (c Cards) RecordedInput(ref string, in map[string]any) map[string]any {
	return card.RecordedInput(ref, in)
}

// finishedItem is a card run's outcome to be stored with its flow item.
type finishedItem struct {
	st  ItemStore
	fin *card.Finished
}

// SaveItem stores the item and the card run in one transaction. A save
// whose worker goes on (next) waits to share the commit of the next
// item's card run (store.WithCanWait), queued before it
// (store.WithQueued). Neither is dropped for a canceled context: the card
// has run.
func (f finishedItem) SaveItem(ctx context.Context, it flow.ItemState, next func()) error {
	ctx = context.WithoutCancel(ctx)
	rec := store.FlowItem(it)
	wctx := ctx
	if next != nil {
		wctx = store.WithQueued(store.WithCanWait(ctx), next)
	}
	err := f.st.FinishFlowItem(wctx, &rec, f.fin.Run, f.fin.Event)
	if errors.Is(err, store.ErrLeaseLost) {
		// Another server took the run over: the item is its to record;
		// the card run, which did call the org, is stored alone.
		if ferr := f.st.FinishRun(ctx, f.fin.Run, f.fin.Event); ferr != nil {
			return ferr
		}
		return err
	}
	if !errors.Is(err, store.ErrConflict) {
		return err
	}
	// Recorded before (by a server that took the run over): the card
	// run is still stored, alone.
	if ferr := f.st.FinishRun(ctx, f.fin.Run, f.fin.Event); ferr != nil {
		return ferr
	}
	return fmt.Errorf("%w: %w", flow.ErrItemExists, err)
}

// Store stores the card run alone.
func (f finishedItem) Store(ctx context.Context) error {
	return f.st.FinishRun(context.WithoutCancel(ctx), f.fin.Run, f.fin.Event)
}

// RunCard runs one card. A card run that could not be recorded because
// the database is unavailable stops the flow run (flow.ErrStateUnavailable)
// rather than failing the item, and so does one that failed because this
// server cannot go on with the run (HandBack, flow.ErrHandBack) or no
// longer holds it (store.ErrLeaseLost, flow.ErrRunTaken: the card run is
// not recorded and the card not called when its record is refused).
func (c Cards) RunCard(ctx context.Context, call flow.Call) (flow.CardResult, error) {
	res, err := c.runCard(ctx, call)
	if errors.Is(err, store.ErrLeaseLost) {
		return res, fmt.Errorf("%w: %w", flow.ErrRunTaken, err)
	}
	if errors.Is(err, store.ErrUnavailable) {
		return flow.CardResult{RunRef: res.RunRef}, fmt.Errorf("%w: %w", flow.ErrStateUnavailable, err)
	}
	if err != nil && c.HandBack != nil && ctx.Err() == nil && c.HandBack(ctx, err) {
		return res, fmt.Errorf("%w: %w", flow.ErrHandBack, err)
	}
	return res, err
}

func (c Cards) runCard(ctx context.Context, call flow.Call) (flow.CardResult, error) {
	req := c.request(call)
	retry := call.Retry && c.History != nil
	if retry {
		out, prev, interrupted, err := card.Recorded(ctx, c.History, req)
		if err != nil {
			return flow.CardResult{}, err
		}
		if out != nil {
			return flow.CardResult{Output: out, RunRef: prev}, nil
		}
		req.ReadDevice = req.ReadDevice || interrupted
	}
	// A retry reads the history right after its run: it records first.
	req.RecordLater = !retry && c.Items != nil
	res, err := c.Executor.Run(ctx, req)
	if err != nil {
		return flow.CardResult{}, err
	}
	var pending flow.PendingRecord
	if res.Finished != nil {
		pending = finishedItem{st: c.Items, fin: res.Finished}
	}
	if retry {
		out, prev, err := card.AlreadyDone(ctx, c.History, req, res)
		if err != nil {
			return flow.CardResult{RunRef: res.RunID}, err
		}
		if out != nil {
			return flow.CardResult{Output: out, RunRef: prev}, nil
		}
	}
	if res.Error != nil {
		var err error = res.Error
		if res.NotSent {
			err = fmt.Errorf("%w: %w", flow.ErrNotSent, res.Error)
		}
		return flow.CardResult{RunRef: res.RunID, Pending: pending, DeviceName: res.DeviceName}, err
	}
	out := flow.CardResult{Output: res.Output, RunRef: res.RunID, Pending: pending, DeviceName: res.DeviceName}
	if res.Finished != nil {
		out.Encoded = res.Finished.Run.Output
	}
	return out, nil
}

// PlanCard plans one card. A read card runs, recorded and audited as of
// the plan (flow.Call.Plan) under whoever asked for it; it, and a manage
// card's prediction that read the device at Okta, are counted in the
// plan's audit event (Service.plan).
func (c Cards) PlanCard(ctx context.Context, call flow.Call) (map[string]any, *flow.Change, error) {
	res, err := c.Executor.Plan(ctx, c.request(call))
	if err != nil {
		return nil, nil, err
	}
	countPlanCall(ctx, call.Connection, res.RunID != "", len(res.RequestIDs))
	if res.Error != nil {
		return nil, nil, res.Error
	}
	var ch *flow.Change
	switch {
	case res.Change != nil:
		ch = &flow.Change{DeviceID: res.Change.DeviceID, DeviceName: res.Change.DeviceName, From: res.Change.From, To: res.Change.To}
	case res.Unsimulated != "":
		ch = &flow.Change{Call: res.Unsimulated}
	}
	return res.Output, ch, nil
}
