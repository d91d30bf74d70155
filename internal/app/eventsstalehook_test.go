package app

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestHookLeftByAStoppedServerIsDeleted: the server deleting a
// connection's event hook (its last hook flow was disabled) stops while
// the deletion waits at Okta. The server that starts next (another one on
// the same database) deletes the hook, which no enabled flow needs: it did
// not register it, nor see it in use, and the hook stayed at Okta for
// good, delivering events no flow wants.
func TestHookLeftByAStoppedServerIsDeleted(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	dir := t.TempDir()
	config := func(owner string) func(*Config) {
		return func(c *Config) { c.Now, c.EventPollInterval, c.Owner = emu.Now, time.Hour, owner }
	}
	one := startServer(t, emu, dir, config("server-1"))
	conn := one.connect("Prod devices")
	flowID := storeEnabledFlow(t, one, "hook")
	waitHookVerified(t, emu)

	hold := emu.Hold(t, "POST", "/api/v1/eventHooks/{eventHookId}/lifecycle/deactivate", 0)
	if code, body := one.call("POST", "/api/v1/flows/"+flowID+"/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("the hook's deactivation never came: %v", err)
	}
	one.stop()
	hold.Release()
	if hs := orgHooks(t, emu); len(hs) != 1 {
		t.Fatalf("the org has %d event hooks after the stop; want the connection's one, not deleted", len(hs))
	}

	two := startServer(t, emu, dir, config("server-2"))
	waitFor(t, "the hook no flow needs deleted at Okta", func() bool { return len(orgHooks(t, emu)) == 0 })
	waitFor(t, "the connection's event source to have no hook", func() bool {
		src, err := two.app.Store.GetEventSource(t.Context(), conn.ID)
		return err != nil || src.HookID == ""
	})
}

// unreadConnections fails reading connections by nickname while unread
// is set, as a database failing one query does.
type unreadConnections struct {
	store.Store
	unread atomic.Bool
}

func (s *unreadConnections) GetConnectionByNickname(ctx context.Context, connector, nickname string) (*store.Connection, error) {
	if s.unread.Load() {
		return nil, errDown("get connection by nickname")
	}
	return s.Store.GetConnectionByNickname(ctx, connector, nickname)
}

// TestHookKeptWhileItsConnectionCannotBeRead: a round that cannot read the
// connection of an enabled hook flow (a database failing a query) does not
// take the flow for disabled: the connection's event hook stays at Okta.
func TestHookKeptWhileItsConnectionCannotBeRead(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	us := &unreadConnections{}
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.EventPollInterval = emu.Now, time.Hour
		c.wrapStore = func(st store.Store) store.Store { us.Store = st; return us }
	})
	h.connect("Prod devices")
	storeEnabledFlow(t, h, "hook")
	waitHookVerified(t, emu)

	us.unread.Store(true)
	h.app.events.Wake()
	waitFor(t, "a round that could not read the flow's connection", func() bool {
		return len(h.logLines("events: the connection of an enabled flow could not be read; no event hook is deleted in this round")) > 0
	})
	us.unread.Store(false)
	if n := emu.Stats(t)["POST /api/v1/eventHooks/{eventHookId}/lifecycle/deactivate"]; n != 0 {
		t.Errorf("the hook was deactivated %d times; want it kept", n)
	}
	if hs := orgHooks(t, emu); len(hs) != 1 || hs[0].Status != "ACTIVE" {
		t.Errorf("the org's event hooks %+v; want the connection's one, active", hs)
	}
}
