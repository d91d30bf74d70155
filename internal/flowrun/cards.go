package flowrun

import (
	"context"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
)

// callerKey carries a flow run's caller from the worker to Cards.
type callerKey struct{}

// Cards is the card executor as flow.CardRunner: each call runs as the
// caller of the flow run it belongs to. History, when set, is where the
// executor records card runs; a retried delete-device that finds no device
// reads it to tell an item an interrupted attempt already deleted from a
// device that never existed (card.AlreadyDeleted).
type Cards struct {
	Executor *card.Executor
	History  card.RunHistory
}

func (c Cards) request(ctx context.Context, call flow.Call) card.Request {
	caller, _ := ctx.Value(callerKey{}).(string)
	return card.Request{Card: call.Card, Connection: call.Connection, Input: call.Input, Caller: caller,
		FlowRunID: call.FlowRunID, StepID: call.StepID, ItemIndex: call.Index}
}

// RunCard runs one card.
func (c Cards) RunCard(ctx context.Context, call flow.Call) (map[string]any, error) {
	req := c.request(ctx, call)
	res, err := c.Executor.Run(ctx, req)
	if err != nil {
		return nil, err
	}
	if res.Error != nil && res.Error.Code == problem.NotFound && call.Retry && c.History != nil {
		out, prev, err := card.AlreadyDeleted(ctx, c.History, req, res.RunID)
		if err != nil {
			flow.ReportRunRef(ctx, res.RunID)
			return nil, err
		}
		if out != nil {
			flow.ReportRunRef(ctx, prev)
			return out, nil
		}
	}
	flow.ReportRunRef(ctx, res.RunID)
	if res.Error != nil {
		return nil, res.Error
	}
	return res.Output, nil
}

// PlanCard plans one card.
func (c Cards) PlanCard(ctx context.Context, call flow.Call) (map[string]any, *flow.Change, error) {
	res, err := c.Executor.Plan(ctx, c.request(ctx, call))
	if err != nil {
		return nil, nil, err
	}
	if res.Error != nil {
		return nil, nil, res.Error
	}
	var ch *flow.Change
	switch {
	case res.Change != nil:
		ch = &flow.Change{DeviceID: res.Change.DeviceID, From: res.Change.From, To: res.Change.To}
	case res.Unsimulated != "":
		ch = &flow.Change{Call: res.Unsimulated}
	}
	return res.Output, ch, nil
}
