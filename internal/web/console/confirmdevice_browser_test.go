package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// activeDevice is a device of the org's as search-devices shows it.
type activeDevice struct {
	ID      string `json:"id"`
	Profile struct {
		DisplayName string `json:"displayName"`
		Platform    string `json:"platform"`
	} `json:"profile"`
}

// activeDevices returns the org's ACTIVE devices, read through Prod.
func (e *env) activeDevices(t *testing.T) []activeDevice {
	t.Helper()
	code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{"status":"ACTIVE"}}`)
	var search struct {
		Output struct {
			Devices []activeDevice `json:"devices"`
		} `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &search); code != http.StatusCreated || err != nil || len(search.Output.Devices) < 3 {
		t.Fatalf("find three active devices: %d %s", code, out)
	}
	return search.Output.Devices
}

// TestBrowserDeleteDeviceShowsTheDevice: the question before Delete Device
// (and Deactivate Device) shows which device it is (its name, status, platform, as Okta has it
// now), read through the chosen connection by a Read Device run that the
// run history and the audit log record as the person's, where it showed
// only the id. When the read fails (the device is gone, Okta refuses the
// read for its scope, the connection is in error) the question says why
// and still runs the delete by id.
func TestBrowserDeleteDeviceShowsTheDevice(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	devs := e.activeDevices(t)
	ctx := context.Background()

	b := newTab(t, e)
	b.signIn()
	ask := func(connID, deviceID, shot string) string {
		t.Helper()
		b.open("/cards/okta-devices/delete-device?connection=" + connID)
		b.fill("deviceId", deviceID)
		b.do("tick deactivateFirst", chromedp.Click(labelled("deactivateFirst")))
		b.click(button("Run"))
		got := b.text(`//*[@id="confirm"]`)
		b.screenshot("delete-device-confirm-" + shot + "-desktop")
		return got
	}
	readRuns := func(deviceID string) []*store.Run {
		t.Helper()
		runs, err := e.store.ListRuns(ctx, store.RunFilter{Card: "okta-devices/read-device", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []*store.Run
		for _, r := range runs {
			if strings.Contains(string(r.Input), deviceID) {
				out = append(out, r)
			}
		}
		return out
	}
	// The question's button names the card it runs, where it read "Run"
	// as the form's below does, two buttons of one name.
	confirm := func(want string) {
		t.Helper()
		card := strings.TrimSuffix(b.text(`//h1`), "\n")
		b.click(`//*[@id="confirm"]` + button("Run "+card))
		if got := b.runStatus(); got != want {
			b.fatalf("the confirmed run's status is %q; want %s", got, want)
		}
	}

	// A device that is there: its name, status and platform, and the
	// recorded read behind them.
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	d := devs[0]
	got := ask(prod.ID, d.ID, "read")
	for _, want := range []string{"Delete Device with Prod?", "Check the device and the input", d.Profile.DisplayName, "Status", "ACTIVE",
		"Platform", d.Profile.Platform, "The run will: Deactivate the device (it is ACTIVE), then delete it.",
		"Read from Okta through Prod just now", "a Read Device run", d.ID} {
		if !strings.Contains(got, want) {
			t.Errorf("the question reads %q; want %q in it", got, want)
		}
	}
	runs := readRuns(d.ID)
	if len(runs) != 1 || runs[0].Status != "succeeded" || runs[0].Actor.Type != store.ActorBootstrap || runs[0].ConnectionID != prod.ID {
		t.Fatalf("the question's read was recorded as %+v; want one succeeded read-device run of the bootstrap admin through Prod", runs)
	}
	if href := eval[string](b, "read the run link", `document.querySelector('#confirm-device a').getAttribute('href')`); href != "/runs/"+runs[0].ID {
		t.Errorf("the read's link goes to %q; want /runs/%s", href, runs[0].ID)
	}
	audit, err := e.store.ListAudit(ctx, store.AuditFilter{Action: store.ActionCardRun, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	audited := false
	for _, ev := range audit {
		audited = audited || ev.Card == "okta-devices/read-device" && strings.Contains(ev.InputSummary, d.ID) && ev.Outcome == "success"
	}
	if !audited {
		t.Errorf("the audit log has no card.run of the question's read of %s", d.ID)
	}
	b.setWidth(phoneWidth)
	b.screenshot("delete-device-confirm-read-phone")
	b.checkPage("delete-device-confirm-read")

	// Without deactivateFirst, Okta would refuse to delete the ACTIVE
	// device: the question says so, with the fix, before anything runs.
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	before := e.emu.Stats(t)
	b.open("/cards/okta-devices/delete-device?connection=" + prod.ID)
	b.fill("deviceId", d.ID)
	b.click(button("Run"))
	refused := b.text(`//*[@id="confirm"]`)
	after := e.emu.Stats(t)
	b.screenshot("delete-device-confirm-refused-desktop")
	for _, want := range []string{d.Profile.DisplayName, "This run would fail", "Okta deletes only DEACTIVATED devices", "deactivateFirst", "Running it anyway changes nothing"} {
		if !strings.Contains(refused, want) {
			t.Errorf("the question about deleting an ACTIVE device without deactivateFirst reads %q; want %q in it", refused, want)
		}
	}
	if strings.Contains(refused, "The run will:") {
		t.Errorf("the question about a delete Okta would refuse says what the run will do: %q", refused)
	}
	// The question's one call is its recorded read: what the run would do
	// is planned from the status read, with no call of its own.
	for k, n := range after {
		want := before[k]
		if k == "GET /api/v1/devices/{deviceId}" {
			want++
		}
		if strings.Contains(k, "/api/v1/devices") && n != want {
			t.Errorf("the question called %s %d times; want %d (its read alone)", k, n-before[k], want-before[k])
		}
	}
	got = ask(prod.ID, d.ID, "read-again")
	if !strings.Contains(got, "The run will: Deactivate the device (it is ACTIVE), then delete it.") {
		t.Errorf("the question with deactivateFirst ticked reads %q; want what the run will do", got)
	}
	confirm("Succeeded")

	// The same device, gone now: why it cannot be shown, and the delete
	// still runs (and fails as Okta says).
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	got = ask(prod.ID, d.ID, "gone")
	for _, want := range []string{"Could not show which device this is", "was not found", "The card can still run by the device id below", "the failed read is recorded", d.ID} {
		if !strings.Contains(got, want) {
			t.Errorf("the question about a gone device reads %q; want %q in it", got, want)
		}
	}
	if runs := readRuns(d.ID); len(runs) != 4 || runs[0].Status != "failed" {
		t.Errorf("the failed read was recorded as %+v; want a fourth, failed read-device run", runs)
	}
	b.setWidth(phoneWidth)
	b.screenshot("delete-device-confirm-gone-phone")
	b.checkPage("delete-device-confirm-gone")
	confirm("Failed")

	// Okta refuses the read for its scope (once): the delete still goes
	// through.
	b.do("emulate a desktop", chromedp.EmulateViewport(1280, 860, chromedp.EmulateScale(1)))
	e.emu.Inject(t, emutest.FaultSpec{Method: http.MethodGet, Path: "/api/v1/devices/{deviceId}", Status: http.StatusForbidden, Count: 1, Body: "empty",
		Headers: map[string]string{"WWW-Authenticate": `Bearer authorization_uri="http://localhost/oauth2/v1/authorize", realm="http://localhost", scope="okta.devices.read", error="insufficient_scope", error_description="The access token provided does not contain the required scopes."`}})
	got = ask(prod.ID, devs[1].ID, "scope")
	for _, want := range []string{"Could not show which device this is", "okta.devices.read", "The card can still run by the device id below"} {
		if !strings.Contains(got, want) {
			t.Errorf("the question whose read Okta refused reads %q; want %q in it", got, want)
		}
	}
	if strings.Contains(got, devs[1].Profile.DisplayName) {
		t.Errorf("the question whose read Okta refused names the device %q", devs[1].Profile.DisplayName)
	}
	confirm("Succeeded")

	// A connection granted only the read scope: the device shows, and
	// the question says the run would fail for the scope cardflow checks
	// before any call, not that Okta would refuse it.
	read := []string{"okta.devices.read"}
	reader := e.connect(t, "Reader", &read)
	got = ask(reader.ID, devs[2].ID, "no-manage-scope")
	for _, want := range []string{devs[2].Profile.DisplayName, "This run would fail", "okta.devices.manage", "Running it anyway changes nothing"} {
		if !strings.Contains(got, want) {
			t.Errorf("the question through a connection without the manage scope reads %q; want %q in it", got, want)
		}
	}
	if strings.Contains(got, "Okta would refuse") {
		t.Errorf("the question blames Okta for a refusal cardflow makes itself: %q", got)
	}

	// A connection in error (the app's client secret was rotated before
	// its sign-in): its reads and its delete fail alike, and the question
	// still asks.
	_, authURL, _ := e.createRotated(t, "Broken")
	cb := e.emu.SignIn(t, authURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
	if res, err := e.manager.Callback(ctx, cb.Query()); err == nil && res.OK {
		t.Fatal("a connection with a wrong client secret was authorized")
	}
	broken := e.connectionByNickname(t, "Broken")
	if broken.Status != store.StatusError {
		t.Fatalf("the connection with a wrong secret is %q; want error", broken.Status)
	}
	got = ask(broken.ID, devs[2].ID, "connection-error")
	for _, want := range []string{"Delete Device with Broken?", "Could not show which device this is", "Broken", "The card can still run by the device id below"} {
		if !strings.Contains(got, want) {
			t.Errorf("the question through a connection in error reads %q; want %q in it", got, want)
		}
	}
	b.setWidth(phoneWidth)
	b.screenshot("delete-device-confirm-connection-error-phone")
	confirm("Failed")

	// Deactivate Device, the other card that asks first, shows the device
	// the same way.
	b.open("/cards/okta-devices/deactivate-device?connection=" + prod.ID)
	b.fill("deviceId", devs[2].ID)
	b.click(button("Run"))
	got = b.text(`//*[@id="confirm"]`)
	for _, want := range []string{"Deactivate Device with Prod?", devs[2].Profile.DisplayName, "ACTIVE", "The run will: Change its status from ACTIVE to DEACTIVATED.", "a Read Device run"} {
		if !strings.Contains(got, want) {
			t.Errorf("the question before Deactivate Device reads %q; want %q in it", got, want)
		}
	}
	confirm("Succeeded")

	// Asked again, the device is DEACTIVATED: the run leaves it as it is,
	// said once, where it read "The run will: Nothing: the device is
	// already DEACTIVATED, so the run changes nothing."
	b.open("/cards/okta-devices/deactivate-device?connection=" + prod.ID)
	b.fill("deviceId", devs[2].ID)
	b.click(button("Run"))
	if got, want := b.text(`//*[@id="confirm"]`), "The run will: Leave the device as it is (it is already DEACTIVATED)."; !strings.Contains(got, want) {
		t.Errorf("the question before Deactivate Device of a DEACTIVATED device reads %q; want %q in it", got, want)
	}
}
