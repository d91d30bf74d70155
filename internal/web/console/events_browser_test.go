package console_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

const quarantineFlow = `name: quarantine-on-user-removal
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Prod
    delivery: hook+poll
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: device
    card: okta-devices/read-device
    connection: Prod
    input: {deviceId: "${{ inputs.deviceId }}"}
  - id: quarantine
    card: okta-devices/suspend-device
    connection: Prod
    if: ${{ steps.device.output.device.status == "ACTIVE" }}
    input: {deviceId: "${{ inputs.deviceId }}"}
`

// waitUntil polls cond (a store read) until it holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hookStatus returns the connection's event hook status ("" without one).
func (e *env) hookStatus(t *testing.T, connectionID string) string {
	t.Helper()
	src, err := e.store.GetEventSource(context.Background(), connectionID)
	if errors.Is(err, store.ErrNotFound) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return src.HookStatus
}

// removeUserEvent enables the quarantine flow on Prod, waits for its
// event hook, and has the org remove a user from a newly enrolled
// device; it returns the device id once the event is in the inbox.
func (e *env) removeUserEvent(t *testing.T, prodID string) string {
	t.Helper()
	if code, body := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", quarantineFlow); code != http.StatusCreated {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	if code, body := e.api(t, http.MethodPost, "/api/v1/flows/quarantine-on-user-removal/enable", "application/json", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, body)
	}
	waitUntil(t, "the event hook to be active", func() bool { return e.hookStatus(t, prodID) == "active" })
	e.emu.AdvanceClock(t, time.Second) // events after the flow was enabled
	const login = "jonas.berg@example.com"
	resp, err := e.emu.Client.Post(e.emu.URL+"/_emulator/devices", "application/json", strings.NewReader(`{"user":"`+login+`","displayName":"Jonas's Pixel"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("enroll: %v %v", err, resp)
	}
	var d struct{ ID string }
	err = json.NewDecoder(resp.Body).Decode(&d)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, e.emu.URL+"/_emulator/devices/"+d.ID+"/users/"+login, nil)
	if resp, err = e.emu.Client.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("remove the device's user: %v %v", err, resp)
	}
	resp.Body.Close()
	waitUntil(t, "the removal in the inbox with its run", func() bool {
		evs, err := e.store.ListEvents(context.Background(), store.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.EventType == "device.user.remove" && len(ev.FlowRuns) == 1 {
				return true
			}
		}
		return false
	})
	return d.ID
}

// TestBrowserEvents: the Events page lists a device event with how it
// arrived and the run it started (a link to it); the connection page
// shows its event hook active, then, once someone deactivated it at
// Okta, deactivated with the reason and a remedy.
func TestBrowserEvents(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *app.Config, _ string) { c.EventPollInterval = 200 * time.Millisecond })
	prod := e.connect(t, "Prod", nil)
	e.removeUserEvent(t, prod.ID)

	b := newTab(t, e)
	b.signIn()
	b.open("/connections")
	b.click(link("Events"))
	row := `//table[@id="events"]//tr[.//code[normalize-space(.)="device.user.remove"]]`
	got := b.text(row)
	for _, want := range []string{"Device Removed from User", "Jonas's Pixel", "jonas.berg@example.com", "Prod", "hook", "quarantine-on-user-removal"} {
		if !strings.Contains(strings.ToLower(got), strings.ToLower(want)) {
			t.Errorf("the removal's row reads %q; want %q in it", got, want)
		}
	}
	b.screenshot("events")
	b.click(row + `//a[contains(@href, "/flow-runs/")]`)
	if loc := b.location(); !strings.Contains(loc, "/flow-runs/") {
		b.fatalf("the run link led to %s; want the flow run's page", loc)
	}
	b.wantText("quarantine-on-user-removal", "event")

	b.open("/connections/" + prod.ID)
	if got := b.text(`//section[@id="event-intake"]`); !strings.Contains(got, "active and verified") || !strings.Contains(got, "device.user.remove") {
		t.Errorf("the connection's Okta events section reads %q; want the hook active and verified for device.user.remove", got)
	}

	// Someone deactivates the hook at Okta.
	src, err := e.store.GetEventSource(context.Background(), prod.ID)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.emu.URL+"/api/v1/eventHooks/"+src.HookID+"/lifecycle/deactivate", nil)
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	resp, err := e.emu.Client.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("deactivate the hook: %v %v", err, resp)
	}
	resp.Body.Close()
	waitUntil(t, "the server to see the hook deactivated", func() bool { return e.hookStatus(t, prod.ID) == "deactivated" })
	b.open("/connections/" + prod.ID)
	got = b.text(`//section[@id="event-intake"]`)
	for _, want := range []string{"deactivated at Okta", "sends no events", "How to fix it", "Disable and enable", "Disable, then Enable, on each flow's page"} {
		if !strings.Contains(got, want) {
			t.Errorf("after the deactivation the Okta events section reads %q; want %q in it", got, want)
		}
	}
	if strings.Contains(got, "cardflow flows") {
		t.Errorf("the Okta events section gives command-line steps in the console: %q", got)
	}
	b.screenshot("connection-hook-deactivated")
}
