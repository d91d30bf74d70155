package oktaemu_test

// Okta's Go SDK drives the event hooks and System Log endpoints; every
// response it receives is validated against the OpenAPI document.

import (
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func TestSDKEventHooks(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 60, Now: stoppedClock})
	st := newSpecTransport(t)
	sdk := newSDK(t, srv, st.client(), okta.WithToken(oktaemu.DemoAPIToken))
	ctx := context.Background()
	rcv := newHookReceiver(t)

	auth := okta.NewEventHookChannelConfigAuthScheme()
	auth.SetType("HEADER")
	auth.SetKey("Authorization")
	auth.SetValue(rcv.secret)
	cfg := okta.NewEventHookChannelConfig(rcv.srv.URL + "/hooks/okta/abc")
	cfg.SetAuthScheme(*auth)
	hook := okta.NewEventHook(*okta.NewEventHookChannel(*cfg, "HTTP", "1.0.0"),
		*okta.NewEventSubscriptions([]string{"device.user.remove", "device.lifecycle.suspend"}, "EVENT_TYPE"), "cardflow connection")

	created, _, err := sdk.EventHookAPI.CreateEventHook(ctx).EventHook(*hook).Execute()
	if err != nil {
		t.Fatalf("CreateEventHook: %v", err)
	}
	id := created.GetId()
	if created.GetStatus() != "ACTIVE" || created.GetVerificationStatus() != "UNVERIFIED" {
		t.Errorf("created %s/%s; want ACTIVE/UNVERIFIED", created.GetStatus(), created.GetVerificationStatus())
	}
	verified, _, err := sdk.EventHookAPI.VerifyEventHook(ctx, id).Execute()
	if err != nil || verified.GetVerificationStatus() != "VERIFIED" {
		t.Fatalf("VerifyEventHook: %v (%s)", err, verified.GetVerificationStatus())
	}
	list, _, err := sdk.EventHookAPI.ListEventHooks(ctx).Execute()
	if err != nil || len(list) != 1 || list[0].GetId() != id {
		t.Fatalf("ListEventHooks: %v %v", err, list)
	}

	// Deliveries reach the receiver; the SDK reads the same events from
	// the System Log.
	if r := emuControl(t, srv, "POST", "/_emulator/devices", `{"user":"grace.okafor@example.com","platform":"ANDROID"}`); r.status != 201 {
		t.Fatalf("enroll: %d %s", r.status, r.body)
	}
	devs, _, err := sdk.DeviceAPI.ListDevices(ctx).Search(`profile.platform eq "ANDROID" and status eq "ACTIVE"`).Execute()
	if err != nil || len(devs) == 0 {
		t.Fatalf("ListDevices: %v", err)
	}
	var enrolled string
	for _, d := range devs {
		if d.GetProfile().DisplayName == "Grace's ANDROID" {
			enrolled = d.GetId()
		}
	}
	if r := emuControl(t, srv, "DELETE", "/_emulator/devices/"+enrolled+"/users/grace.okafor@example.com", ""); r.status != 204 {
		t.Fatalf("remove user: %d %s", r.status, r.body)
	}
	waitDeliveries(t, srv)
	evs := rcv.events()
	if len(evs) != 1 || evs[0].EventType != "device.user.remove" || evs[0].target("UDDevice") != enrolled {
		t.Fatalf("delivered %+v; want the device.user.remove of %s only", evs, enrolled)
	}
	logs, resp, err := sdk.SystemLogAPI.ListLogEvents(ctx).Filter(`eventType eq "device.user.remove" or eventType eq "device.enrollment.create"`).Execute()
	if err != nil {
		t.Fatalf("ListLogEvents: %v", err)
	}
	if len(logs) != 2 || logs[1].GetUuid() != evs[0].UUID || !resp.HasNextPage() {
		t.Fatalf("System Log %d events (next %v); want the enrollment and the delivered removal", len(logs), resp.HasNextPage())
	}
	var targets []string
	for _, tg := range logs[1].Target {
		targets = append(targets, tg.GetType())
	}
	if !slices.Equal(targets, []string{"UDDevice", "User"}) || logs[1].Actor.GetAlternateId() != "grace.okafor@example.com" {
		t.Errorf("device.user.remove targets %v, actor %s", targets, logs[1].Actor.GetAlternateId())
	}
	// The polling feed goes on through the SDK's next link.
	var more []okta.LogEvent
	if _, err := resp.Next(&more); err != nil || len(more) != 0 {
		t.Errorf("next page: %v, %d events; want an empty page", err, len(more))
	}
	since := srv.Org.Now().Add(-time.Hour)
	bounded, resp, err := sdk.SystemLogAPI.ListLogEvents(ctx).Since(since).Until(srv.Org.Now().Add(time.Second)).SortOrder("DESCENDING").Limit(1).Execute()
	if err != nil || len(bounded) != 1 || bounded[0].GetEventType() == "" || !resp.HasNextPage() {
		t.Errorf("bounded descending query: %v, %d events", err, len(bounded))
	}

	// Update, deactivate, delete.
	hook.SetName("renamed")
	replaced, _, err := sdk.EventHookAPI.ReplaceEventHook(ctx, id).EventHook(*hook).Execute()
	if err != nil || replaced.GetName() != "renamed" || replaced.GetVerificationStatus() != "VERIFIED" {
		t.Fatalf("ReplaceEventHook: %v (%s, %s)", err, replaced.GetName(), replaced.GetVerificationStatus())
	}
	cfg.SetUri(rcv.srv.URL + "/hooks/okta/other")
	hook.Channel.SetConfig(*cfg)
	replaced, _, err = sdk.EventHookAPI.ReplaceEventHook(ctx, id).EventHook(*hook).Execute()
	if err != nil || replaced.GetVerificationStatus() != "UNVERIFIED" {
		t.Fatalf("ReplaceEventHook with a new URI: %v (%s); want UNVERIFIED", err, replaced.GetVerificationStatus())
	}
	resp2, err := sdk.EventHookAPI.DeleteEventHook(ctx, id).Execute()
	if status, code := sdkError(t, resp2, err); status != 400 || code != "E0000001" {
		t.Errorf("DeleteEventHook of an ACTIVE hook: %d %s; want 400 E0000001", status, code)
	}
	if d, _, err := sdk.EventHookAPI.DeactivateEventHook(ctx, id).Execute(); err != nil || d.GetStatus() != "INACTIVE" {
		t.Fatalf("DeactivateEventHook: %v", err)
	}
	if _, err := sdk.EventHookAPI.DeleteEventHook(ctx, id).Execute(); err != nil {
		t.Fatalf("DeleteEventHook: %v", err)
	}
	_, resp3, err := sdk.EventHookAPI.GetEventHook(ctx, id).Execute()
	if status, code := sdkError(t, resp3, err); status != 404 || code != "E0000007" {
		t.Errorf("GetEventHook after delete: %d %s", status, code)
	}
	// The hook's own lifecycle is in the System Log.
	hookLogs, _, err := sdk.SystemLogAPI.ListLogEvents(ctx).Filter(`target.id eq "` + id + `"`).Execute()
	var types []string
	for _, e := range hookLogs {
		types = append(types, e.GetEventType())
	}
	want := []string{"event_hook.created", "event_hook.verified", "event_hook.updated", "event_hook.updated", "event_hook.deactivated", "event_hook.deleted"}
	if err != nil || !slices.Equal(types, want) {
		t.Errorf("hook events %v (%v); want %v", types, err, want)
	}
	for _, op := range []string{"createEventHook 200", "verifyEventHook 200", "listEventHooks 200", "replaceEventHook 200",
		"deleteEventHook 400", "deactivateEventHook 200", "getEventHook 404", "listLogEvents 200"} {
		if st.seen()[op] == 0 {
			t.Errorf("no validated %s; validated %v", op, st.seen())
		}
	}
}

// TestSDKLogsWithOAuth: a connection's access token with okta.logs.read
// and okta.eventHooks.manage (both granted to the demo app) drives both
// APIs; a token with okta.logs.read alone cannot create a hook.
func TestSDKLogsWithOAuth(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 5})
	ctx := context.Background()
	full := emuLogin(t, srv, oktaemu.AdminLogin, emuScopes("okta.logs.read", "okta.eventHooks.manage")...)
	sdk := newSDK(t, srv, http.DefaultClient, okta.WithAuthorizationMode("Bearer"), okta.WithToken(full.AccessToken))
	if _, _, err := sdk.SystemLogAPI.ListLogEvents(ctx).Execute(); err != nil {
		t.Errorf("ListLogEvents with okta.logs.read: %v", err)
	}
	if _, _, err := sdk.EventHookAPI.ListEventHooks(ctx).Execute(); err != nil {
		t.Errorf("ListEventHooks with okta.eventHooks.manage: %v", err)
	}
	readOnly := emuLogin(t, srv, oktaemu.AdminLogin, emuScopes("okta.logs.read")...)
	sdk = newSDK(t, srv, http.DefaultClient, okta.WithAuthorizationMode("Bearer"), okta.WithToken(readOnly.AccessToken))
	cfg := okta.NewEventHookChannelConfig("https://hooks.example.com/okta")
	hook := okta.NewEventHook(*okta.NewEventHookChannel(*cfg, "HTTP", "1.0.0"),
		*okta.NewEventSubscriptions([]string{"device.user.remove"}, "EVENT_TYPE"), "x")
	_, resp, err := sdk.EventHookAPI.CreateEventHook(ctx).EventHook(*hook).Execute()
	if err == nil || resp == nil || resp.StatusCode != 403 {
		t.Errorf("CreateEventHook with okta.logs.read only: %v; want 403", err)
	}
}
