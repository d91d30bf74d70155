package flowrun

import (
	"context"

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
type Cards struct {
	Executor *card.Executor
	History  card.RunHistory
}

func (c Cards) request(call flow.Call) card.Request {
	return card.Request{Card: call.Card, Connection: call.Connection, Input: call.Input, Actor: store.Actor(call.Actor),
		FlowRunID: call.FlowRunID, StepID: call.StepID, ItemIndex: call.Index, OnWait: call.OnWait}
}

// RunCard runs one card.
func (c Cards) RunCard(ctx context.Context, call flow.Call) (flow.CardResult, error) {
	req := c.request(call)
	retry := call.Retry && c.History != nil
	if retry {
		out, prev, err := card.Recorded(ctx, c.History, req)
		if err != nil {
			return flow.CardResult{}, err
		}
		if out != nil {
			return flow.CardResult{Output: out, RunRef: prev}, nil
		}
	}
	res, err := c.Executor.Run(ctx, req)
	if err != nil {
		return flow.CardResult{}, err
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
		return flow.CardResult{RunRef: res.RunID}, res.Error
	}
	return flow.CardResult{Output: res.Output, RunRef: res.RunID}, nil
}

// PlanCard plans one card.
func (c Cards) PlanCard(ctx context.Context, call flow.Call) (map[string]any, *flow.Change, error) {
	res, err := c.Executor.Plan(ctx, c.request(call))
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
