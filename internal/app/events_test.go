package app

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestEventHookThroughTheServer: a connection's event hook, registered
// with the connection's own token and verified by the org through the
// server's /hooks/okta/ endpoint, delivers device events into the inbox,
// and GET /api/v1/events lists them with how they arrived.
func TestEventHookThroughTheServer(t *testing.T) {
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	c := h.connect("Prod devices")
	ctx := t.Context()
	orgs := eventOrgs{m: h.app.Connections}
	rec := &events.Reconciler{Store: h.app.Store, Orgs: orgs, Keyring: h.app.Keyring, PublicURL: h.url}
	src, err := rec.Reconcile(ctx, c.ID, []string{"device.enrollment.create", "device.user.add"})
	if err != nil || src.HookStatus != events.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	resp, err := h.emu.Client.Post(h.emu.URL+"/_emulator/devices", "application/json", stringsReader(`{"user":"emma.schmidt@example.com"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("enroll: %v %v", err, resp)
	}
	resp.Body.Close()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := h.emu.Org.WaitDeliveries(wctx); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Events []struct {
			UUID        string   `json:"uuid"`
			EventType   string   `json:"eventType"`
			ReceivedVia []string `json:"receivedVia"`
			FlowRuns    []string `json:"flowRuns"`
		} `json:"events"`
	}
	if code, body := h.call("GET", "/api/v1/events?connection=Prod+devices", nil, &out); code != http.StatusOK {
		t.Fatalf("GET /api/v1/events: %d %s", code, body)
	}
	var types []string
	for _, e := range out.Events {
		types = append(types, e.EventType)
		if !slices.Equal(e.ReceivedVia, []string{"hook"}) || e.FlowRuns == nil {
			t.Errorf("event %+v; want received via hook, no flow runs yet", e)
		}
	}
	slices.Sort(types)
	if !slices.Equal(types, []string{"device.enrollment.create", "device.user.add"}) {
		t.Errorf("events %v; want the enrollment's two", types)
	}
	// The endpoint refuses a delivery without the hook's secret.
	resp, err = http.Post(h.url+events.HookPathPrefix+src.HookPath, "application/json", stringsReader(`{}`))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("delivery without the secret: %v %v; want 401", err, resp)
	}
	resp.Body.Close()
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }
