package flowrun

import (
	"context"
	"errors"
	"fmt"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/store"
)

// flowState adapts the store to flow.StateStore. The flow and store
// records have the same fields, so they convert directly. Its writes are
// fenced by owner, this server: a run another server took over is not
// written to (store.ErrLeaseLost).
type flowState struct {
	st    store.Store
	owner string
}

func (s flowState) SaveStep(ctx context.Context, st flow.StepState) error {
	rec := store.FlowStep(st)
	return s.st.PutFlowStep(ctx, s.owner, &rec)
}

func (s flowState) SaveItem(ctx context.Context, it flow.ItemState) error {
	rec := store.FlowItem(it)
	return itemExists(s.st.PutFlowItem(ctx, s.owner, &rec))
}

func (s flowState) SaveItems(ctx context.Context, its []flow.ItemState) error {
	recs := make([]*store.FlowItem, len(its))
	for i, it := range its {
		rec := store.FlowItem(it)
		recs[i] = &rec
	}
	return itemExists(s.st.PutFlowItems(ctx, s.owner, recs))
}

// itemExists is err, a store's answer to recording items, with a conflict
// (an item recorded before) also wrapping flow.ErrItemExists; a lost
// lease stays an error that stops the run.
func itemExists(err error) error {
	if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrLeaseLost) {
		return fmt.Errorf("%w: %w", flow.ErrItemExists, err)
	}
	return err
}

func (s flowState) LoadItems(ctx context.Context, runID, stepID string) ([]flow.ItemState, error) {
	items, err := s.st.ListFlowItems(ctx, runID, stepID)
	if err != nil {
		return nil, err
	}
	out := make([]flow.ItemState, 0, len(items))
	for _, it := range items {
		out = append(out, flow.ItemState(*it))
	}
	return out, nil
}

func (s flowState) LoadSteps(ctx context.Context, runID string) ([]flow.StepState, error) {
	steps, err := s.st.ListFlowSteps(ctx, runID)
	if err != nil {
		return nil, err
	}
	out := make([]flow.StepState, 0, len(steps))
	for _, st := range steps {
		out = append(out, flow.StepState(*st))
	}
	return out, nil
}
