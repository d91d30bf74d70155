package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// walk reads every page of a list through its cursor and returns the ids
// in the order read; page reads one page after the cursor of the last
// record of the previous one (nil for the first page).
func walk[T any](t *testing.T, size int, page func(last T, first bool) ([]T, error), id func(T) string) []string {
	t.Helper()
	var ids []string
	var last T
	for first := true; ; first = false {
		got, err := page(last, first)
		noErr(t, err, "list a page")
		if len(got) > size {
			t.Fatalf("a page of %d records; want at most %d", len(got), size)
		}
		for _, r := range got {
			ids = append(ids, id(r))
		}
		if len(got) < size {
			return ids
		}
		last = got[len(got)-1]
		if len(ids) > 1000 {
			t.Fatal("the pages never end")
		}
	}
}

// testListPaging walks card runs, flow runs and events page by page, with
// many records sharing a time (where a cursor of the time alone would lose
// some): every record comes once, in the list's order.
func testListPaging(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	var runIDs, flowRunIDs, eventIDs []string
	var events []*store.Event
	for i := range 23 {
		sec := i / 5 // five records a second
		id := fmt.Sprintf("r%02d", i)
		noErr(t, s.CreateRun(ctx, &store.Run{ID: id, Card: "okta-devices/read-device", ConnectionID: "c1", StartedAt: at(sec)}), "CreateRun")
		runIDs = append(runIDs, id)
		fr := newFlowRun(fmt.Sprintf("f%02d", i), sec)
		noErr(t, s.CreateFlowRun(ctx, fr), "CreateFlowRun")
		flowRunIDs = append(flowRunIDs, fr.ID)
		ev := testEvent(fmt.Sprintf("e%02d", i), "c1", sec)
		events = append(events, ev)
		eventIDs = append(eventIDs, ev.UUID)
	}
	_, err := s.PutEvents(ctx, events, store.ViaPoll)
	noErr(t, err, "PutEvents")
	// Newest first; ties by id, highest first.
	slices.Reverse(runIDs)
	slices.Reverse(flowRunIDs)
	slices.Reverse(eventIDs)

	for _, size := range []int{1, 4, 5, 7} {
		t.Run(fmt.Sprintf("runs by %d", size), func(t *testing.T) {
			got := walk(t, size, func(last *store.Run, first bool) ([]*store.Run, error) {
				f := store.RunFilter{ConnectionID: "c1", Limit: size}
				if !first {
					f.Before, f.BeforeID = last.StartedAt, last.ID
				}
				return s.ListRuns(ctx, f)
			}, func(r *store.Run) string { return r.ID })
			diff(t, "runs read page by page", runIDs, got)
		})
		t.Run(fmt.Sprintf("flow runs by %d", size), func(t *testing.T) {
			got := walk(t, size, func(last *store.FlowRun, first bool) ([]*store.FlowRun, error) {
				f := store.FlowRunFilter{Limit: size}
				if !first {
					f.Before, f.BeforeID = last.CreatedAt, last.ID
				}
				return s.ListFlowRunsPage(ctx, f)
			}, func(r *store.FlowRun) string { return r.ID })
			diff(t, "flow runs read page by page", flowRunIDs, got)
		})
		t.Run(fmt.Sprintf("events by %d", size), func(t *testing.T) {
			got := walk(t, size, func(last *store.Event, first bool) ([]*store.Event, error) {
				f := store.EventFilter{Limit: size}
				if !first {
					f.Before, f.BeforeUUID = last.Published, last.UUID
				}
				return s.ListEvents(ctx, f)
			}, func(e *store.Event) string { return e.UUID })
			diff(t, "events read page by page", eventIDs, got)
		})
	}
	fr, err := s.ListFlowRunsPage(ctx, store.FlowRunFilter{FlowID: "other"})
	noErr(t, err, "ListFlowRunsPage")
	if len(fr) != 0 {
		t.Errorf("flow runs of another flow: %d; want none", len(fr))
	}
}

// testDeviceNames: a card run and a flow item keep the display name of
// their device, through updates and into a run made from another.
func testDeviceNames(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	r := &store.Run{ID: "named", Card: "okta-devices/suspend-device", Status: store.RunRunning, StartedAt: at(1), DeviceName: "Ada's Mac"}
	noErr(t, s.CreateRun(ctx, r), "CreateRun")
	r.Status, r.FinishedAt = "succeeded", at(2)
	noErr(t, s.UpdateRun(ctx, r), "UpdateRun")
	got, err := s.GetRun(ctx, "named")
	noErr(t, err, "GetRun")
	diff(t, "run device name", "Ada's Mac", got.DeviceName)

	noErr(t, s.CreateFlowRun(ctx, newFlowRun("from", 1)), "CreateFlowRun")
	noErr(t, s.PutFlowItem(ctx, &store.FlowItem{RunID: "from", StepID: "s", Index: 0, Status: "succeeded", RunRef: "named",
		Input: []byte(`{"deviceId":"guo1"}`), Output: []byte(`{}`), DeviceName: "Ada's Mac", StartedAt: at(1), FinishedAt: at(2)}), "PutFlowItem")
	_, err = s.CreateFlowRunFrom(ctx, newFlowRun("again", 3), "from", []string{"succeeded"})
	noErr(t, err, "CreateFlowRunFrom")
	for _, id := range []string{"from", "again"} {
		items, err := s.ListFlowItems(ctx, id, "s")
		noErr(t, err, "ListFlowItems")
		if len(items) != 1 || items[0].DeviceName != "Ada's Mac" {
			t.Errorf("items of %s: %+v; want one named Ada's Mac", id, items)
		}
	}
}
