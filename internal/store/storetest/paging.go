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

	// Unfinished: the queued and running runs only, page by page; a
	// status: the runs of that status only.
	var unfinished, succeeded []string
	for i, id := range flowRunIDs {
		r, err := s.GetFlowRun(ctx, id)
		noErr(t, err, "GetFlowRun")
		switch i % 4 {
		case 0:
			unfinished = append(unfinished, id) // stays queued
			continue
		case 1:
			r.Status = "running"
			unfinished = append(unfinished, id)
		case 2:
			r.Status, r.FinishedAt = "succeeded", at(30)
			succeeded = append(succeeded, id)
		case 3:
			r.Status, r.FinishedAt = store.FlowRunCanceled, at(30)
			if i%8 == 7 {
				r.Status = "failed"
			}
		}
		noErr(t, s.UpdateFlowRun(ctx, r), "UpdateFlowRun")
	}
	got := walk(t, 2, func(last *store.FlowRun, first bool) ([]*store.FlowRun, error) {
		f := store.FlowRunFilter{Unfinished: true, Limit: 2}
		if !first {
			f.Before, f.BeforeID = last.CreatedAt, last.ID
		}
		return s.ListFlowRunsPage(ctx, f)
	}, func(r *store.FlowRun) string { return r.ID })
	diff(t, "unfinished flow runs read page by page", unfinished, got)
	got = walk(t, 2, func(last *store.FlowRun, first bool) ([]*store.FlowRun, error) {
		f := store.FlowRunFilter{Status: "succeeded", Limit: 2}
		if !first {
			f.Before, f.BeforeID = last.CreatedAt, last.ID
		}
		return s.ListFlowRunsPage(ctx, f)
	}, func(r *store.FlowRun) string { return r.ID })
	diff(t, "succeeded flow runs read page by page", succeeded, got)
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
	noErr(t, s.PutFlowItem(ctx, "", &store.FlowItem{RunID: "from", StepID: "s", Index: 0, Status: "succeeded", RunRef: "named",
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

// testNamePaging walks the connections and the flows page by page: by
// name ignoring case, then id (connections of two connectors may share a
// nickname; a flow may take a deleted flow's name in other capitals),
// every record once.
// Between two pages, deleting the record the cursor names and storing
// records on either side of it neither repeats nor loses one: those after
// the cursor come on a later page, those before it do not.
func testNamePaging(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	conn := func(id, connector, nickname string) {
		t.Helper()
		c := newConnection(id, nickname)
		c.Connector = connector
		noErr(t, s.CreateConnection(ctx, c), "CreateConnection "+nickname)
	}
	flow := func(id, name string) {
		t.Helper()
		putFlow(t, s, &store.Flow{ID: id, Name: name, Source: []byte("name: " + name + "\n"), CreatedAt: at(0), UpdatedAt: at(0)}, "PutFlow "+name)
	}
	// Stored out of order; "bravo" twice, told apart by id.
	for _, r := range [][3]string{
		{"c4", "okta-devices", "delta"}, {"c9", "okta-devices", "Bravo"}, {"c2", "okta-devices", "alpha"},
		{"c1", "another-connector", "bravo"}, {"c7", "okta-devices", "CHARLIE"}, {"c3", "okta-devices", "Echo"},
	} {
		conn(r[0], r[1], r[2])
	}
	for _, r := range [][2]string{{"f4", "delta"}, {"f9", "Bravo 2"}, {"f2", "alpha"}, {"f1", "bravo"}, {"f7", "CHARLIE"}, {"f3", "Echo"}} {
		flow(r[0], r[1])
	}
	connPage := func(last *store.Connection, first bool, size int) ([]*store.Connection, error) {
		p := store.NamePage{Limit: size}
		if !first {
			p.After, p.AfterID = last.Nickname, last.ID
		}
		return s.ListConnectionsPage(ctx, p)
	}
	flowPage := func(last *store.Flow, first bool, size int) ([]*store.Flow, error) {
		p := store.NamePage{Limit: size}
		if !first {
			p.After, p.AfterID = last.Name, last.ID
		}
		return s.ListFlowsPage(ctx, p)
	}
	connID := func(c *store.Connection) string { return c.ID }
	flowID := func(f *store.Flow) string { return f.ID }
	for _, size := range []int{1, 2, 4, 6, 7} {
		t.Run(fmt.Sprintf("by %d", size), func(t *testing.T) {
			got := walk(t, size, func(last *store.Connection, first bool) ([]*store.Connection, error) {
				return connPage(last, first, size)
			}, connID)
			diff(t, "connections read page by page", []string{"c2", "c1", "c9", "c7", "c4", "c3"}, got)
			gotFlows := walk(t, size, func(last *store.Flow, first bool) ([]*store.Flow, error) { return flowPage(last, first, size) }, flowID)
			diff(t, "flows read page by page", []string{"f2", "f1", "f9", "f7", "f4", "f3"}, gotFlows)
		})
	}
	all, err := s.ListConnectionsPage(ctx, store.NamePage{})
	noErr(t, err, "ListConnectionsPage without a limit")
	if len(all) != 6 {
		t.Errorf("ListConnectionsPage without a limit: %d connections; want 6", len(all))
	}

	t.Run("changes between pages", func(t *testing.T) {
		page, err := connPage(nil, true, 3) // alpha, bravo (c1), Bravo (c9)
		noErr(t, err, "first page of connections")
		last := page[len(page)-1]
		noErr(t, s.DeleteConnection(ctx, last.ID), "DeleteConnection")
		conn("c0", "okta-devices", "ALPHA-2")   // before the cursor
		conn("c8", "okta-devices", "bravo-2")   // after it
		conn("cz", "third-connector", "Bravo")  // the cursor's name, a greater id
		conn("c5", "fourth-connector", "BRAVO") // the cursor's name, a smaller id
		var got []string
		for _, c := range page {
			got = append(got, c.ID)
		}
		got = append(got, walk(t, 3, func(l *store.Connection, first bool) ([]*store.Connection, error) {
			if first {
				l = last
			}
			return connPage(l, false, 3)
		}, connID)...)
		diff(t, "connections read across changes", []string{"c2", "c1", "c9", "cz", "c8", "c7", "c4", "c3"}, got)

		fpage, err := flowPage(nil, true, 3) // alpha, bravo, Bravo 2 (f9)
		noErr(t, err, "first page of flows")
		flast := fpage[len(fpage)-1]
		noErr(t, s.DeleteFlow(ctx, flast.ID), "DeleteFlow")
		flow("f0", "ALPHA-2")
		flow("f8", "bravo-2")
		flow("fz", "BRAVO 2") // the cursor's name in other capitals, a greater id
		got = nil
		for _, f := range fpage {
			got = append(got, f.ID)
		}
		got = append(got, walk(t, 3, func(l *store.Flow, first bool) ([]*store.Flow, error) {
			if first {
				l = flast
			}
			return flowPage(l, false, 3)
		}, flowID)...)
		diff(t, "flows read across changes", []string{"f2", "f1", "f9", "fz", "f8", "f7", "f4", "f3"}, got)
	})
}
