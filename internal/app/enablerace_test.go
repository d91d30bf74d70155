package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// enablesMeanwhile runs meanwhile between an Enable's read of the flow and
// its write.
type enablesMeanwhile struct {
	store.Store
	meanwhile func()
}

func (s *enablesMeanwhile) SetFlowEnabled(ctx context.Context, id string, trigger []byte, enabled bool, next time.Time, by store.Actor) error {
	s.meanwhile()
	return s.Store.SetFlowEnabled(ctx, id, trigger, enabled, next, by)
}

// TestEnableRacedByNewTrigger: an Enable that loses the race with a new
// version's trigger is refused with a remedy naming cardflow flows show
// as well as the API request that reads the flow again.
func TestEnableRacedByNewTrigger(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	h.connect("Prod")
	ctx := t.Context()
	doc := func(every string) []byte {
		return []byte("name: nightly\non:\n  schedule:\n    every: " + every + "\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n")
	}
	env := flowEnv{m: h.app.Connections}
	other := flowrun.New(flowrun.Config{Store: h.app.Store, Env: env, Owner: "other"})
	admin := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	res, err := other.Put(ctx, doc("1h"), admin)
	if err != nil {
		t.Fatal(err)
	}
	st := &enablesMeanwhile{Store: h.app.Store, meanwhile: func() {
		if _, err := other.Put(ctx, doc("2h"), admin); err != nil {
			t.Error(err)
		}
	}}
	this := flowrun.New(flowrun.Config{Store: st, Env: env, Owner: "this"})
	_, _, err = this.Enable(ctx, "nightly", admin)
	want := "GET /api/v1/flows/" + res.Flow.ID + " (cardflow flows show nightly)"
	if p, ok := problem.As(err); !ok || p.Code != problem.Conflict || !strings.Contains(p.Remedy, want) {
		t.Errorf("Enable raced by a new trigger: %v; want a conflict whose remedy has %q", err, want)
	}
}
