package app

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// storesMeanwhile is a store on which, before the first PutFlow asked of
// it, another server's whole store of a flow runs: after the caller
// checked the names and before it writes.
type storesMeanwhile struct {
	store.Store
	once      sync.Once
	meanwhile func()
}

func (s *storesMeanwhile) PutFlow(ctx context.Context, f *store.Flow) (bool, error) {
	s.once.Do(s.meanwhile)
	return s.Store.PutFlow(ctx, f)
}

// TestFlowNamesInOtherCapitalsAtOnce: two servers storing "Offboard" and
// "offboard" at the same moment (each checks that no flow has the name in
// other capitals before the other has stored its own) do not both
// succeed: the database refuses the second, with the same conflict the
// check gives, naming the flow stored first.
func TestFlowNamesInOtherCapitalsAtOnce(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	h.connect("Prod")
	ctx := t.Context()
	doc := func(name string) []byte {
		return []byte("name: " + name + "\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n")
	}
	env := flowEnv{m: h.app.Connections}
	other := flowrun.New(flowrun.Config{Store: h.app.Store, Env: env, Owner: "other"})
	var first error
	st := &storesMeanwhile{Store: h.app.Store, meanwhile: func() {
		_, first = other.Put(ctx, doc("offboard"), store.Actor{Type: store.ActorUser, Login: "bob@example.com"})
	}}
	this := flowrun.New(flowrun.Config{Store: st, Env: env, Owner: "this"})
	_, err := this.Put(ctx, doc("Offboard"), store.Actor{Type: store.ActorUser, Login: "ada@example.com"})
	if first != nil {
		t.Fatalf("the other server storing offboard: %v", first)
	}
	if problem.CodeOf(err) != problem.Conflict || !strings.Contains(err.Error(), `flow "offboard" already has that name in other capitals`) {
		t.Errorf("storing Offboard while offboard was stored: %v; want the conflict naming offboard", err)
	}
	if p, _ := problem.As(err); p == nil || p.Remedy != `name the document "offboard" to store a new version of that flow, or choose another name` {
		t.Errorf("the conflict's remedy: %+v; want the one the check gives", p)
	}
	list, err := h.app.Store.ListFlows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range list {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "offboard" {
		t.Errorf("flows stored: %v; want only offboard", names)
	}
}
