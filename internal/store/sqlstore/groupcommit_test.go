package sqlstore

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// groupLog is a commit function for groupCommit that records each group
// by its writes' names and can hold a commit until released.
type groupLog struct {
	mu      sync.Mutex
	groups  [][]string
	names   map[*write]string
	hold    chan struct{} // when set, the next commit waits for it
	holding chan struct{} // closed when that commit started
}

func (l *groupLog) commit(group []*write) {
	l.mu.Lock()
	var names []string
	for _, w := range group {
		names = append(names, l.names[w])
	}
	slices.Sort(names)
	l.groups = append(l.groups, names)
	hold, holding := l.hold, l.holding
	l.hold = nil
	l.mu.Unlock()
	if hold != nil {
		close(holding)
		<-hold
	}
}

func (l *groupLog) write(name string, lazy bool) *write {
	w := &write{fn: func(context.Context, execer) error { return nil }, done: make(chan struct{}), lead: make(chan struct{}), lazy: lazy}
	l.mu.Lock()
	l.names[w] = name
	l.mu.Unlock()
	return w
}

func within(t *testing.T, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: not within 30 s", what)
	}
}

// TestGroupCommitLazyRidesAlong: a lazy write queued while a commit is in
// progress does not take a commit of its own; it goes with the next write
// whose caller waits, and a lazy write alone is still committed.
func TestGroupCommitLazyRidesAlong(t *testing.T) {
	var g groupCommit
	l := &groupLog{names: map[*write]string{}, hold: make(chan struct{}), holding: make(chan struct{})}
	release := l.hold
	var wg sync.WaitGroup
	a := l.write("a", false)
	wg.Go(func() { g.do(a, l.commit) })
	within(t, "a's commit starts", l.holding)

	lazy := l.write("lazy", true)
	wg.Go(func() { g.do(lazy, l.commit) })
	b := l.write("b", false)
	wg.Go(func() { g.do(b, l.commit) })
	// Both queued (b counts among the writes that are not lazy) before a's
	// commit ends.
	for {
		g.mu.Lock()
		n := len(g.pending)
		g.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()

	alone := l.write("alone", true)
	queued := make(chan struct{})
	alone.queued = func() { close(queued) }
	done := make(chan struct{})
	go func() { g.do(alone, l.commit); close(done) }()
	within(t, "a write says it is queued", queued)
	within(t, "a lazy write alone commits", done)

	want := [][]string{{"a"}, {"b", "lazy"}, {"alone"}}
	if !slices.EqualFunc(l.groups, want, slices.Equal) {
		t.Errorf("groups %v; want %v", l.groups, want)
	}
}
