package storetest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func testFlowVersions(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ada := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	bob := store.Actor{Type: store.ActorToken, Login: "bob@example.com", TokenName: "ci"}

	v1 := []byte("name: nightly\nsteps: []\n")
	f := &store.Flow{ID: "f1", Name: "nightly", Source: v1, StoredBy: ada, CreatedAt: at(0), UpdatedAt: at(0)}
	if !putFlow(t, s, f, "PutFlow(v1)") {
		t.Errorf("PutFlow of a new flow reported no new version")
	}
	if f.Version != 1 || f.StoredBy != ada {
		t.Errorf("a new flow is version %d stored by %v; want 1 by %v", f.Version, f.StoredBy, ada)
	}

	// The same bytes again: no version, nothing changes.
	again := &store.Flow{Name: "nightly", Source: v1, StoredBy: bob, CreatedAt: at(5), UpdatedAt: at(5)}
	if putFlow(t, s, again, "PutFlow(same source)") {
		t.Errorf("PutFlow of the latest version's source again reported a new version")
	}
	want := &store.Flow{ID: "f1", Name: "nightly", Source: v1, Version: 1, StoredBy: ada, CreatedAt: at(0), UpdatedAt: at(0)}
	diff(t, "PutFlow's view of an unchanged flow", want, again)

	v2 := []byte("name: nightly\nsteps: [] # two\n")
	f2 := &store.Flow{Name: "nightly", Source: v2, StoredBy: bob, CreatedAt: at(10), UpdatedAt: at(10)}
	if !putFlow(t, s, f2, "PutFlow(v2)") {
		t.Errorf("PutFlow of another source reported no new version")
	}
	got, err := s.GetFlow(ctx, "nightly")
	noErr(t, err, "GetFlow")
	want = &store.Flow{ID: "f1", Name: "nightly", Source: v2, Version: 2, StoredBy: bob, CreatedAt: at(0), UpdatedAt: at(10)}
	diff(t, "the latest version", want, got)

	// Back to the first document: a third version, not the first again.
	f3 := &store.Flow{Name: "nightly", Source: v1, StoredBy: ada, CreatedAt: at(20), UpdatedAt: at(20)}
	if !putFlow(t, s, f3, "PutFlow(v1 again)") || f3.Version != 3 {
		t.Errorf("storing version 1's source over version 2 gave version %d; want a new version 3", f3.Version)
	}

	list, err := s.ListFlowVersions(ctx, "f1")
	noErr(t, err, "ListFlowVersions")
	wantList := []*store.FlowVersion{
		{FlowID: "f1", Version: 3, SHA256: sha(v1), Size: len(v1), StoredAt: at(20), StoredBy: ada},
		{FlowID: "f1", Version: 2, SHA256: sha(v2), Size: len(v2), StoredAt: at(10), StoredBy: bob},
		{FlowID: "f1", Version: 1, SHA256: sha(v1), Size: len(v1), StoredAt: at(0), StoredBy: ada},
	}
	diff(t, "ListFlowVersions", wantList, list)

	v, err := s.GetFlowVersion(ctx, "f1", 2)
	noErr(t, err, "GetFlowVersion(2)")
	diff(t, "GetFlowVersion(2)", &store.FlowVersion{FlowID: "f1", Version: 2, Source: v2, SHA256: sha(v2), Size: len(v2), StoredAt: at(10), StoredBy: bob}, v)
	_, err = s.GetFlowVersion(ctx, "f1", 4)
	wantErr(t, err, store.ErrNotFound, "GetFlowVersion(4)")
	_, err = s.ListFlowVersions(ctx, "missing")
	wantErr(t, err, store.ErrNotFound, "ListFlowVersions(missing)")

	// Deleting the flow deletes its versions; storing the name again
	// starts over at version 1.
	noErr(t, s.DeleteFlow(ctx, "f1"), "DeleteFlow")
	_, err = s.GetFlowVersion(ctx, "f1", 1)
	wantErr(t, err, store.ErrNotFound, "GetFlowVersion of a deleted flow")
	_, err = s.ListFlowVersions(ctx, "f1")
	wantErr(t, err, store.ErrNotFound, "ListFlowVersions of a deleted flow")
	fresh := &store.Flow{ID: "f9", Name: "nightly", Source: v2, CreatedAt: at(30), UpdatedAt: at(30)}
	putFlow(t, s, fresh, "PutFlow(after delete)")
	if fresh.ID != "f9" || fresh.Version != 1 {
		t.Errorf("a flow stored after its namesake was deleted is %s version %d; want f9 version 1", fresh.ID, fresh.Version)
	}
}

// testFlowVersionsConcurrent stores different documents under one name
// from several handles at once: each store gets its own version number,
// with no gaps.
func testFlowVersionsConcurrent(t *testing.T, open func(t *testing.T) store.Store) {
	handles := []store.Store{open(t), open(t)}
	putFlow(t, handles[0], &store.Flow{Name: "busy", Source: []byte("v0"), CreatedAt: at(0), UpdatedAt: at(0)}, "PutFlow")
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := fmt.Appendf(nil, "v%d", i+1)
			if _, err := handles[i%2].PutFlow(t.Context(), &store.Flow{Name: "busy", Source: src, CreatedAt: at(i), UpdatedAt: at(i)}); err != nil {
				t.Errorf("PutFlow(%s): %v", src, err)
			}
		}()
	}
	wg.Wait()
	f, err := handles[0].GetFlow(t.Context(), "busy")
	noErr(t, err, "GetFlow")
	list, err := handles[1].ListFlowVersions(t.Context(), f.ID)
	noErr(t, err, "ListFlowVersions")
	if len(list) != n+1 || f.Version != n+1 {
		t.Fatalf("%d versions, latest %d, after %d stores; want %d", len(list), f.Version, n+1, n+1)
	}
	seen := map[string]bool{}
	for i, v := range list {
		if v.Version != n+1-i {
			t.Errorf("version %d listed at position %d; want %d", v.Version, i, n+1-i)
		}
		seen[v.SHA256] = true
	}
	if len(seen) != n+1 {
		t.Errorf("%d distinct sources among %d versions; want each store kept", len(seen), n+1)
	}
}

// testFlowNameCase: flow names are unique ignoring case, every letter
// folded alike on every backend: a new flow named as another in other
// capitals is refused, also when the other is being stored at that moment
// on another handle; stores of one name, new or not, add versions.
func testFlowNameCase(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	flow := func(name, src string) *store.Flow {
		return &store.Flow{Name: name, Source: []byte(src), CreatedAt: at(0), UpdatedAt: at(0)}
	}
	putFlow(t, s1, flow("Offboard", "a"), "PutFlow(Offboard)")
	putFlow(t, s1, flow("Ärger", "a"), "PutFlow(Ärger)")
	for _, name := range []string{"offboard", "OFFBOARD", "ärger", "ÄRGER"} {
		_, err := s2.PutFlow(ctx, flow(name, "b"))
		wantErr(t, err, store.ErrConflict, "PutFlow("+name+")")
	}
	if !putFlow(t, s2, flow("Offboard", "b"), "PutFlow(Offboard, again)") {
		t.Errorf("storing another document under the same name added no version")
	}

	// Stored while the other is being stored, on another handle: the one
	// committed first has the name.
	var wg sync.WaitGroup
	var second error
	during := store.WithLocked(ctx, func() {
		wg.Go(func() { _, second = s2.PutFlow(ctx, flow("NIGHTLY", "b")) })
	})
	_, err := s1.PutFlow(during, flow("Nightly", "a"))
	noErr(t, err, "PutFlow(Nightly)")
	wg.Wait()
	wantErr(t, second, store.ErrConflict, "PutFlow(NIGHTLY) while Nightly was being stored")

	// One new name stored twice at once: two versions of one flow.
	same := store.WithLocked(ctx, func() {
		wg.Go(func() { _, second = s2.PutFlow(ctx, flow("Weekly", "b")) })
	})
	_, err = s1.PutFlow(same, flow("Weekly", "a"))
	noErr(t, err, "PutFlow(Weekly)")
	wg.Wait()
	noErr(t, second, "PutFlow(Weekly) while Weekly was being stored")
	weekly, err := s1.GetFlow(ctx, "Weekly")
	noErr(t, err, "GetFlow(Weekly)")
	if weekly.Version != 2 {
		t.Errorf("Weekly stored twice at once is at version %d; want 2", weekly.Version)
	}

	// Many at once, in two capitals, on two handles: every store of the
	// capitals stored first is a version, every other one is refused.
	const n = 10
	errs := make([]error, n)
	parallel(n, func(i int) {
		name := []string{"Daily", "DAILY"}[i%2]
		_, errs[i] = alternate(i, s1, s2).PutFlow(ctx, flow(name, fmt.Sprint(i)))
	})
	list, err := s1.ListFlows(ctx)
	noErr(t, err, "ListFlows")
	var daily *store.Flow
	for _, f := range list {
		if strings.EqualFold(f.Name, "daily") {
			if daily != nil {
				t.Fatalf("flows %q and %q both stored", daily.Name, f.Name)
			}
			daily = f
		}
	}
	if daily == nil {
		t.Fatal("neither Daily nor DAILY was stored")
	}
	for i, err := range errs {
		name := []string{"Daily", "DAILY"}[i%2]
		switch {
		case name == daily.Name && err != nil:
			t.Errorf("PutFlow(%s) of the name stored: %v; want a version", name, err)
		case name != daily.Name && !errors.Is(err, store.ErrConflict):
			t.Errorf("PutFlow(%s) next to %s: %v; want ErrConflict", name, daily.Name, err)
		}
	}
	if daily.Version != n/2 {
		t.Errorf("%s is at version %d after %d stores; want %d", daily.Name, daily.Version, n/2, n/2)
	}
}
