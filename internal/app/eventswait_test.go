package app

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestEventsWaitForAReauthorization: the event hook delivers a removal
// while the connection of a flow's trigger needs reauthorization. Its run
// would fail at once (and a person would have to start each such run
// again), where the events a System Log poll reads after the
// reauthorization start theirs: the event waits in the inbox for that
// flow, and starts its run once the connection is reauthorized, exactly
// once. The run of another connection's flow on the same event starts
// meanwhile.
func TestEventsWaitForAReauthorization(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond })
	prod := h.connect("Prod devices")
	second := h.connect("Second")
	hooked := storeEnabledFlow(t, h, "hook")
	waitHookVerified(t, emu)
	other := storeEnabledDoc(t, h, strings.ReplaceAll(strings.Replace(strings.Replace(quarantineYAML, "DELIVERY", "poll", 1),
		"name: quarantine-on-user-removal", "name: quarantine-second", 1), "Prod devices", "Second"))
	waitFor(t, "a first System Log poll of the second connection", func() bool {
		src, err := h.app.Store.GetEventSource(t.Context(), second.ID)
		return err == nil && src.PollNext != ""
	})
	err := h.app.Store.UpdateConnection(t.Context(), prod.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "the refresh token was revoked", "reauthorize the connection"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")
	waitFor(t, "the other connection's run for the removal", func() bool { return len(h.runsOf(other)) == 1 })
	if runs := h.runsOf(hooked); len(runs) != 0 {
		t.Fatalf("runs of the flow whose connection needs reauthorization: %+v; want none until it is reauthorized", runs)
	}
	all, err := h.app.Store.ListEvents(t.Context(), store.EventFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var removal *store.Event
	for _, e := range all {
		if e.EventType == "device.user.remove" {
			removal = e
		}
	}
	if removal == nil || !removal.DispatchedAt.IsZero() {
		t.Fatalf("the removal in the inbox: %+v; want it waiting, undispatched", removal)
	}
	// GET /api/v1/events says that it waits, as the console's Events page
	// does, beside the run of the other flow it started.
	if ev := h.listedEvent(removal.UUID); ev.Waiting != "not dispatched yet" || ev.DispatchedAt != nil || len(ev.FlowRuns) != 1 {
		t.Errorf("GET /api/v1/events lists the waiting removal as %+v; want waiting \"not dispatched yet\", no dispatchedAt, the other flow's run", ev)
	}
	// And why: the connection of the flow whose run waits, with its remedy.
	if ev, want := h.listedEvent(removal.UUID), "the run of flow quarantine-on-user-removal waits for the connection Prod devices, which needs reauthorization (its runs of other flows have started): reauthorize the connection; it starts once it is active again"; ev.WaitingCode != "connection_inactive" || ev.WaitingReason != want {
		t.Errorf("GET /api/v1/events says the removal waits for %q: %q; want connection_inactive: %q", ev.WaitingCode, ev.WaitingReason, want)
	}

	// ?waiting=true lists it, among the events not dispatched yet only
	// (another may wait for the next round).
	waiting := func() []string {
		t.Helper()
		var out struct {
			Events []struct {
				UUID         string     `json:"uuid"`
				Waiting      string     `json:"waiting"`
				DispatchedAt *time.Time `json:"dispatchedAt"`
			} `json:"events"`
		}
		if code, body := h.call("GET", "/api/v1/events?waiting=true", nil, &out); code != http.StatusOK {
			t.Fatalf("GET /api/v1/events?waiting=true: %d %s", code, body)
		}
		var uuids []string
		for _, e := range out.Events {
			if e.DispatchedAt != nil || e.Waiting == "" {
				t.Errorf("GET /api/v1/events?waiting=true lists %s, dispatched at %v", e.UUID, e.DispatchedAt)
			}
			uuids = append(uuids, e.UUID)
		}
		return uuids
	}
	if got := waiting(); !slices.Contains(got, removal.UUID) {
		t.Errorf("GET /api/v1/events?waiting=true: %v; want the waiting removal %s among them", got, removal.UUID)
	}
	if code, body := h.call("GET", "/api/v1/events?waiting=yes", nil, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "waiting must be true or false") {
		t.Errorf("GET /api/v1/events?waiting=yes: %d %s; want 400 saying what it takes", code, body)
	}

	var re struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+prod.ID+"/reauthorize", map[string]any{}, &re); code != http.StatusOK {
		t.Fatalf("reauthorize: %d %s", code, data)
	}
	if code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK || !strings.Contains(page, "reauthorized") {
		t.Fatalf("reauthorization callback: %d\n%s", code, page)
	}
	waitFor(t, "the waiting event's run, succeeded", func() bool {
		runs := h.runsOf(hooked)
		return len(runs) == 1 && runs[0].Status == "succeeded"
	})
	waitFor(t, "the removal dispatched", func() bool {
		evs, err := h.app.Store.UndispatchedEvents(t.Context(), removal.ConnectionID, nil, 10)
		return err == nil && len(evs) == 0
	})
	if ev := h.listedEvent(removal.UUID); ev.Waiting != "" || ev.WaitingCode != "" || ev.WaitingReason != "" || ev.DispatchedAt == nil || len(ev.FlowRuns) != 2 {
		t.Errorf("GET /api/v1/events lists the dispatched removal as %+v; want its dispatchedAt, no waiting, both runs", ev)
	}
	if got := waiting(); slices.Contains(got, removal.UUID) {
		t.Errorf("GET /api/v1/events?waiting=true once the removal was dispatched: %v; want it left out", got)
	}
	if a, b := h.runsOf(hooked), h.runsOf(other); len(a) != 1 || len(b) != 1 {
		t.Errorf("runs: %d and %d; want one of each flow", len(a), len(b))
	}
}

// listedEvent is the event uuid as GET /api/v1/events lists it.
func (h *harness) listedEvent(uuid string) api.Event {
	h.t.Helper()
	var out api.EventList
	if code, body := h.call("GET", "/api/v1/events?limit=1000", nil, &out); code != http.StatusOK {
		h.t.Fatalf("GET /api/v1/events: %d %s", code, body)
	}
	for _, ev := range out.Events {
		if ev.UUID == uuid {
			return ev
		}
	}
	h.t.Fatalf("GET /api/v1/events lists no event %s: %+v", uuid, out.Events)
	return api.Event{}
}
