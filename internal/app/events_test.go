package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestEventHookThroughTheServer: a connection's event hook, registered
// with the connection's own token and verified by the org through the
// server's /hooks/okta/ endpoint, delivers device events into the inbox,
// and GET /api/v1/events lists them with how they arrived and the device
// and user each is about.
func TestEventHookThroughTheServer(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	c := h.connect("Prod devices")
	ctx := t.Context()
	orgs := eventOrgs{m: h.app.Connections}
	rec := &events.Reconciler{Store: h.app.Store, Orgs: orgs, Keyring: h.app.Keyring, PublicURL: h.url}
	src, err := rec.Reconcile(ctx, c.ID, []string{"device.enrollment.create", "device.user.add"})
	if err != nil || src.HookStatus != store.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	var conn struct {
		EventSource *struct {
			HookStatus string   `json:"hookStatus"`
			EventTypes []string `json:"eventTypes"`
		} `json:"eventSource"`
	}
	if code, body := h.call("GET", "/api/v1/connections/"+c.ID, nil, &conn); code != http.StatusOK || conn.EventSource == nil ||
		conn.EventSource.HookStatus != "active" || !slices.Equal(conn.EventSource.EventTypes, []string{"device.enrollment.create", "device.user.add"}) {
		t.Errorf("GET the connection: %d %s; want its event hook active with both event types", code, body)
	}
	resp, err := h.emu.Client.Post(h.emu.URL+"/_emulator/devices", "application/json", stringsReader(`{"user":"emma.schmidt@example.com","displayName":"Emma's Mac"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("enroll: %v %v", err, resp)
	}
	var enrolled struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&enrolled); err != nil || enrolled.ID == "" {
		t.Fatalf("enroll: %v %+v", err, enrolled)
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
			Connection  struct {
				ID       string `json:"id"`
				Nickname string `json:"nickname"`
			} `json:"connection"`
			Device *struct{ ID, DisplayName string } `json:"device"`
			User   *struct{ ID, Login string }       `json:"user"`
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
		// An event names its connection as a card run does.
		if e.Connection.ID == "" || e.Connection.Nickname != "Prod devices" {
			t.Errorf("event %+v; want connection {id, nickname: Prod devices}", e)
		}
		// Each names the device and the user, as trigger.event does.
		if e.Device == nil || e.Device.ID != enrolled.ID || e.Device.DisplayName != "Emma's Mac" {
			t.Errorf("event %s: device %+v; want {id: %s, displayName: Emma's Mac}", e.EventType, e.Device, enrolled.ID)
		}
		if e.User == nil || e.User.ID == "" || e.User.Login != "emma.schmidt@example.com" {
			t.Errorf("event %s: user %+v; want {id, login: emma.schmidt@example.com}", e.EventType, e.User)
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

const quarantineYAML = `name: quarantine-on-user-removal
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Prod devices
    delivery: DELIVERY
    if: ${{ !trigger.event.user.login.endsWith("@contractors.example.com") }}
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: device
    card: okta-devices/read-device
    connection: Prod devices
    input: {deviceId: "${{ inputs.deviceId }}"}
  - id: quarantine
    card: okta-devices/suspend-device
    connection: Prod devices
    if: ${{ steps.device.output.device.status == "ACTIVE" }}
    input: {deviceId: "${{ inputs.deviceId }}"}
`

// TestEventTriggeredFlow: an enabled flow on device-removed-from-user runs
// once per removal (by hook+poll and by poll), suspending the device; an
// event before the flow was enabled starts nothing.
func TestEventTriggeredFlow(t *testing.T) {
	t.Parallel()
	for _, delivery := range []string{"hook+poll", "poll"} {
		t.Run(delivery, func(t *testing.T) {
			t.Parallel()
			h := startHarness(t, oktaemu.Config{Devices: 5}, func(c *Config) { c.EventPollInterval = 200 * time.Millisecond })
			h.connect("Prod devices")
			enroll := func(login string) string {
				t.Helper()
				resp, err := h.emu.Client.Post(h.emu.URL+"/_emulator/devices", "application/json", stringsReader(`{"user":"`+login+`"}`))
				if err != nil || resp.StatusCode != http.StatusCreated {
					t.Fatalf("enroll: %v %v", err, resp)
				}
				defer resp.Body.Close()
				var d struct{ ID string }
				_ = json.NewDecoder(resp.Body).Decode(&d)
				return d.ID
			}
			remove := func(id, login string) {
				t.Helper()
				req, _ := http.NewRequest("DELETE", h.emu.URL+"/_emulator/devices/"+id+"/users/"+login, nil)
				resp, err := h.emu.Client.Do(req)
				if err != nil || resp.StatusCode != http.StatusNoContent {
					t.Fatalf("remove user: %v %v", err, resp)
				}
				resp.Body.Close()
			}
			before := enroll("ines.garcia@example.com")
			remove(before, "ines.garcia@example.com") // before the flow is enabled
			h.emu.AdvanceClock(t, time.Second)

			id := storeEnabledFlow(t, h, delivery)
			// Let the intake see the flow enabled before the events.
			waitFor(t, "the intake to see the flow enabled", func() bool {
				_, err := h.app.Store.GetSetting(t.Context(), "events/enabled-at/"+id+"/"+flowTrigger(t, h, id))
				return err == nil
			})
			h.emu.AdvanceClock(t, time.Second)
			var devices []string
			for range 3 {
				d := enroll("jonas.berg@example.com")
				devices = append(devices, d)
				remove(d, "jonas.berg@example.com")
			}
			var runs struct {
				Runs []struct {
					ID, Status string
				} `json:"runs"`
			}
			waitFor(t, "three succeeded runs", func() bool {
				h.call("GET", "/api/v1/flows/"+id+"/runs", nil, &runs)
				done := 0
				for _, r := range runs.Runs {
					if r.Status == "succeeded" {
						done++
					}
				}
				return done >= 3
			})
			if len(runs.Runs) != 3 {
				t.Errorf("%d runs; want 3 (one per removal after enabling)", len(runs.Runs))
			}
			cl := h.emu.Client
			for _, d := range devices {
				req, _ := http.NewRequest("GET", h.emu.URL+"/api/v1/devices/"+d, nil)
				req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
				resp, err := cl.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				var dev struct{ Status string }
				_ = json.NewDecoder(resp.Body).Decode(&dev)
				resp.Body.Close()
				if dev.Status != "SUSPENDED" {
					t.Errorf("device %s is %s; want SUSPENDED by the flow", d, dev.Status)
				}
			}
			// Nothing went wrong: nothing is logged as an error (the
			// enabling's first look at a hook not registered yet included).
			for line := range strings.Lines(h.logs.String()) {
				if strings.Contains(line, `"level":"ERROR"`) {
					t.Errorf("logged an error where all went well: %s", line)
				}
			}
		})
	}
}

func flowTrigger(t *testing.T, h *harness, id string) string {
	t.Helper()
	fl, err := h.app.Store.GetFlow(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return string(fl.Trigger)
}

// TestEventFlowEnabledAgain: a poll-delivered event flow that is disabled
// and enabled again starts no runs for the events published while it was
// off, although the System Log cursor it left behind reads them only after
// the new enabling.
func TestEventFlowEnabledAgain(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 5})
	dataDir := t.TempDir()
	cfg := func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond }
	h := startServer(t, emu, dataDir, cfg)
	h.connect("Prod devices")
	id := storeEnabledFlow(t, h, "poll")
	removal := func() string {
		t.Helper()
		emu.AdvanceClock(t, time.Second)
		d := enrollDevice(t, emu, "jonas.berg@example.com")
		removeDeviceUser(t, emu, d, "jonas.berg@example.com")
		return d
	}
	// devicesOf lists the devices of the flow's runs; "" for a run whose
	// inputs a worker has not evaluated yet.
	devicesOf := func(h *harness) []string {
		t.Helper()
		var ds []string
		for _, r := range h.runsOf(id) {
			var in struct{ DeviceID string }
			if len(r.Inputs) == 0 || string(r.Inputs) == "null" {
				ds = append(ds, "")
				continue
			}
			if err := json.Unmarshal(r.Inputs, &in); err != nil {
				t.Fatalf("run %s inputs %s: %v", r.ID, r.Inputs, err)
			}
			ds = append(ds, in.DeviceID)
		}
		slices.Sort(ds)
		return ds
	}
	first := removal()
	waitFor(t, "the run of the first removal", func() bool { return len(h.runsOf(id)) == 1 })
	if code, body := h.call("POST", "/api/v1/flows/"+id+"/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d %s", code, body)
	}
	// While the flow is off (and, so that no round of the intake is under
	// way, the server too), a device loses its user.
	h.stop()
	off := removal()
	// The stopped server gave up the connection's System Log poll lease:
	// the restarted server, another owner, polls at once.
	h = startServer(t, emu, dataDir, cfg)
	if code, body := h.call("POST", "/api/v1/flows/"+id+"/enable", nil, nil); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, body)
	}
	last := removal()
	waitFor(t, "the run of the removal after the flow was enabled again", func() bool {
		ds := devicesOf(h)
		return slices.Contains(ds, last) && !slices.Contains(ds, "")
	})
	want := []string{first, last}
	slices.Sort(want)
	if got := devicesOf(h); !slices.Equal(got, want) {
		t.Errorf("runs for devices %v; want %v (none for %s, whose user was removed while the flow was disabled)", got, want, off)
	}
}

// TestEventIfThatCannotBeEvaluated: an event for which the trigger's if
// cannot be evaluated starts a run that fails with the reason, and that
// failure is notified (flow_run.failed) like any other.
func TestEventIfThatCannotBeEvaluated(t *testing.T) {
	t.Parallel()
	emu, h, received := startNotifiedPoller(t)
	doc := strings.Replace(strings.Replace(quarantineYAML, "DELIVERY", "poll", 1),
		`${{ !trigger.event.user.login.endsWith("@contractors.example.com") }}`, `${{ trigger.event.raw.noSuchField == "x" }}`, 1)
	flowID := storeEnabledDoc(t, h, doc)
	removalFailsNotified(t, emu, h, received, flowID, "on.event.if")
}

// startNotifiedPoller starts an org and a server that polls its System
// Log often and sends notifications to the returned channel, with the
// connection "Prod devices".
func startNotifiedPoller(t *testing.T) (*emutest.Server, *harness, chan map[string]any) {
	t.Helper()
	emu := emutest.Start(t, oktaemu.Config{Devices: 5})
	received := make(chan map[string]any, 16)
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond
		c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, received)}, "a-long-random-notification-secret"
	})
	h.connect("Prod devices")
	return emu, h, received
}

// removalFailsNotified removes a device's user at the org and checks that
// the event starts one run of flowID, which fails, and that the failure is
// notified (flow_run.failed) with an error naming want.
func removalFailsNotified(t *testing.T, emu *emutest.Server, h *harness, received chan map[string]any, flowID, want string) {
	t.Helper()
	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")

	var runs []triggeredRun
	waitFor(t, "the event's run to fail", func() bool {
		runs = h.runsOf(flowID)
		return len(runs) == 1 && runs[0].Status == "failed"
	})
	m := waitNotification(t, received)
	run, _ := m["flowRun"].(map[string]any)
	if m["type"] != "flow_run.failed" || run["id"] != runs[0].ID || !strings.Contains(fmt.Sprint(run["error"]), want) {
		t.Errorf("notification %v; want flow_run.failed for run %s naming %q", m, runs[0].ID, want)
	}
}

// TestEventFlowThatNoLongerValidates: an enabled event flow whose stored
// document this version no longer accepts (a rule added since it was
// enabled: here a misspelt trigger field, which the flow was stored with
// before fields were checked) does not go quiet: its events start runs
// that fail with the reason, and the failure is notified, until the flow
// is stored again.
func TestEventFlowThatNoLongerValidates(t *testing.T) {
	t.Parallel()
	emu, h, received := startNotifiedPoller(t)
	flowID := storeEnabledDoc(t, h, strings.Replace(quarantineYAML, "DELIVERY", "poll", 1))
	// The document as an older version stored it, trigger and all.
	fl, err := h.app.Store.GetFlow(t.Context(), flowID)
	if err != nil {
		t.Fatal(err)
	}
	fl.Source = []byte(strings.Replace(string(fl.Source), "trigger.event.device.id", "trigger.event.device.ident", 1))
	if _, err := h.app.Store.PutFlow(t.Context(), fl); err != nil {
		t.Fatal(err)
	}
	if fl, err = h.app.Store.GetFlow(t.Context(), flowID); err != nil || !fl.Enabled {
		t.Fatalf("the flow after its document was replaced: %+v, %v; want it enabled", fl, err)
	}
	removalFailsNotified(t, emu, h, received, flowID, "ident")
	if lines := h.logLines("events: an enabled event flow no longer validates; its events start runs that fail with the reasons until it is stored again"); len(lines) == 0 {
		t.Errorf("the log does not say that the enabled flow no longer validates")
	}
	// It can still be read and disabled; enabling it says why not.
	if code, body := h.call("GET", "/api/v1/flows/"+flowID, nil, nil); code != http.StatusOK {
		t.Errorf("read the flow: %d %s; want 200", code, body)
	}
	if code, body := h.call("POST", "/api/v1/flows/"+flowID+"/disable", nil, nil); code != http.StatusOK {
		t.Errorf("disable the flow: %d %s; want 200", code, body)
	}
	if code, body := h.call("POST", "/api/v1/flows/"+flowID+"/enable", nil, nil); code != http.StatusBadRequest || !strings.Contains(string(body), "ident") {
		t.Errorf("enable the flow: %d %s; want 400 naming the misspelt field", code, body)
	}
}

// TestDeletingAConnectionDeletesItsHook: deleting a connection whose
// enabled flow has an event hook deletes the hook at Okta, and its old
// address no longer takes deliveries.
func TestDeletingAConnectionDeletesItsHook(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond })
	c := h.connect("Prod devices")
	storeEnabledFlow(t, h, "hook+poll")
	waitHookVerified(t, emu)
	src, err := h.app.Store.GetEventSource(t.Context(), c.ID)
	if err != nil || src.HookPath == "" {
		t.Fatalf("the connection's event source: %+v %v; want its hook path", src, err)
	}
	secret, err := h.app.Keyring.Open(src.SealedSecret, events.SecretAAD(c.ID))
	if err != nil {
		t.Fatal(err)
	}

	if code, body := h.call("DELETE", "/api/v1/connections/"+c.ID, nil, nil); code != http.StatusOK {
		t.Fatalf("delete the connection: %d %s", code, body)
	}
	if hs := orgHooks(t, emu); len(hs) != 0 {
		t.Errorf("after deleting the connection the org has event hooks %+v; want none", hs)
	}
	req, _ := http.NewRequest("POST", h.url+events.HookPathPrefix+src.HookPath, stringsReader(
		`{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"5f0e8a9c-0000-4000-8000-000000000001","eventType":"device.user.remove","published":"2026-01-01T00:00:00.000Z"}]}}`))
	req.Header.Set("Authorization", string(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("a delivery to the deleted connection's hook address: %d; want 404", resp.StatusCode)
	}
}

// TestEventDuringARoundThatReadTheFlowsBefore: an event published after a
// flow was enabled starts its run even when it reaches the inbox during a
// round of the intake that read the enabled flows before the enabling.
func TestEventDuringARoundThatReadTheFlowsBefore(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond })
	c := h.connect("Prod devices")
	first := storeEnabledFlow(t, h, "poll")
	waitFor(t, "a System Log poll", func() bool {
		src, err := h.app.Store.GetEventSource(t.Context(), c.ID)
		return err == nil && !src.PolledAt.IsZero()
	})

	// The next poll waits at the org: its round read the flows already.
	hold := emu.Hold(t, "GET", "/api/v1/logs", 0)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 1); err != nil {
		t.Fatalf("no System Log poll came: %v", err)
	}
	second := strings.Replace(strings.Replace(quarantineYAML, "DELIVERY", "poll", 1), "name: quarantine-on-user-removal", "name: quarantine-too", 1)
	flowID := storeEnabledDoc(t, h, second)
	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")
	hold.Release()

	for _, id := range []string{first, flowID} {
		waitFor(t, "a run of flow "+id+" for the removal", func() bool { return len(h.runsOf(id)) == 1 })
	}
}

// TestTwoConnectionsToOneOrg: flows on two connections to the same org
// each get one run per event, though the event is stored once, under the
// connection that read it first.
func TestTwoConnectionsToOneOrg(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now, c.EventPollInterval = emu.Now, 100*time.Millisecond })
	h.connect("Prod devices")
	h.connect("Second")
	first := storeEnabledFlow(t, h, "poll")
	doc := strings.ReplaceAll(strings.Replace(strings.Replace(quarantineYAML, "DELIVERY", "poll", 1),
		"name: quarantine-on-user-removal", "name: quarantine-second", 1), "Prod devices", "Second")
	flowID := storeEnabledDoc(t, h, doc)
	emu.AdvanceClock(t, time.Second)
	d := enrollDevice(t, emu, "jonas.berg@example.com")
	removeDeviceUser(t, emu, d, "jonas.berg@example.com")
	for _, id := range []string{first, flowID} {
		waitFor(t, "a run of flow "+id+" for the removal", func() bool { return len(h.runsOf(id)) == 1 })
	}
	// The event is stored once, under one of them, and listed for each.
	for _, nick := range []string{"Prod devices", "Second"} {
		var list struct {
			Events []struct {
				EventType string   `json:"eventType"`
				FlowRuns  []string `json:"flowRuns"`
			} `json:"events"`
		}
		if code, body := h.call("GET", "/api/v1/events?connection="+url.QueryEscape(nick), nil, &list); code != http.StatusOK {
			t.Fatalf("events of %s: %d %s", nick, code, body)
		}
		var runs int
		for _, e := range list.Events {
			if e.EventType == "device.user.remove" {
				runs += len(e.FlowRuns)
			}
		}
		if runs != 2 {
			t.Errorf("events of connection %s: %+v; want the removal, with the runs of both flows", nick, list.Events)
		}
	}
}
