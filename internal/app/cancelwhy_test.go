package app

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/timetext"
)

// canceledRun is what GET /api/v1/flow-runs/{id} says of a run's cancel.
type canceledRun struct {
	Status            string     `json:"status"`
	CancelRequestedAt *time.Time `json:"cancelRequestedAt"`
	CancelRequestedBy *struct {
		Type      string `json:"type"`
		Login     string `json:"login"`
		TokenName string `json:"tokenName"`
	} `json:"cancelRequestedBy"`
	CancelReason string `json:"cancelReason"`
}

// TestCanceledRunSaysWhoAndWhy: a flow run held mid-flight at the org and
// canceled by a person on another server than the one running it, and one
// canceled because its starter's access was revoked there, each keep who
// asked, when and why: the cancel's answer and the ended run say so, and
// the run's flow.run audit event says it in its error, where both said
// only "canceled".
func TestCanceledRunSaysWhoAndWhy(t *testing.T) {
	t.Parallel()
	lease := func(c *Config) { c.FlowLeaseTTL = 600 * time.Millisecond }
	emu := emutest.Start(t, oktaemu.Config{Devices: 200})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { ssoConfig(c, emu.URL); lease(c) })
	h.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", strings.Replace(suspendActiveFlow, "concurrency: 3", "concurrency: 2", 1), &stored)
	ada := cliLogin(t, h, oktaemu.AdminLogin)
	rey := cliLogin(t, h, oktaemu.ReadOnlyLogin) // an operator
	// Requests to cancel and revoke go to another server, whose clock runs
	// a minute behind so that it claims no run (see TestCancelFlowRun).
	other := func() *harness {
		return startServer(t, h.emu, h.dataDir, func(c *Config) {
			ssoConfig(c, emu.URL)
			lease(c)
			c.Now = func() time.Time { return time.Now().Add(-time.Minute) }
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	inputs := map[string]any{"inputs": map[string]any{"platform": "ANDROID"}}
	// held starts a run of Ada's and waits until two of its suspensions
	// wait at the org.
	held := func() (string, func()) {
		t.Helper()
		hold := h.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 3)
		var run flowRun
		if code, data := h.callWith(ada.Token, "POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", inputs, &run); code != http.StatusAccepted {
			t.Fatalf("start a run with Ada's token: %d %s", code, data)
		}
		if err := hold.Await(ctx, 2); err != nil {
			t.Fatalf("two suspensions never waited at the org: %v", err)
		}
		return run.ID, hold.Release
	}
	// ended lets the held run go once the server running it saw the
	// request, and returns the run as it ended and its flow.run event.
	ended := func(id string, release func()) (canceledRun, map[string]any) {
		t.Helper()
		h.waitCanceling(ctx, id)
		release()
		h.waitFlowRun(ctx, id, "canceled", "succeeded", "failed")
		var got canceledRun
		if code, data := h.call("GET", "/api/v1/flow-runs/"+id, nil, &got); code != http.StatusOK || got.Status != "canceled" {
			t.Fatalf("the run %s: %d %s; want it canceled", id, code, data)
		}
		for _, ev := range h.audit("action=flow.run") {
			if s, _ := ev["inputSummary"].(string); strings.Contains(s, "run "+id+",") {
				return got, ev
			}
		}
		t.Fatalf("no flow.run audit event of run %s", id)
		return got, nil
	}

	// Rey, an operator, cancels Ada's run.
	first, release := held()
	h2 := other()
	var asked canceledRun
	if code, data := h2.callWith(rey.Token, "POST", "/api/v1/flow-runs/"+first+"/cancel", nil, &asked); code != http.StatusAccepted ||
		asked.CancelRequestedBy == nil || asked.CancelRequestedBy.Login != oktaemu.ReadOnlyLogin || asked.CancelRequestedBy.Type != "token" {
		t.Fatalf("Rey cancels Ada's run: %d %s; want 202 with Rey's token as who asked", code, data)
	}
	h2.stop()
	got, ev := ended(first, release)
	if got.CancelRequestedBy == nil || *got.CancelRequestedBy != *asked.CancelRequestedBy || got.CancelReason != "" ||
		got.CancelRequestedAt == nil || !got.CancelRequestedAt.Equal(*asked.CancelRequestedAt) {
		t.Errorf("run canceled by Rey = %+v by %+v; want asked at %v by %+v, no reason", got, got.CancelRequestedBy, asked.CancelRequestedAt, asked.CancelRequestedBy)
	}
	wantErr := "canceled: asked by token cardflow login of " + oktaemu.ReadOnlyLogin + " at " + timetext.Format(*got.CancelRequestedAt)
	if actor, _ := ev["actor"].(map[string]any); ev["error"] != wantErr || actor["login"] != oktaemu.AdminLogin {
		t.Errorf("flow.run event of the run Rey canceled: %v; want Ada's, with error %q", ev, wantErr)
	}

	// Ada's access is revoked while another of her runs is held.
	second, release := held()
	h2 = other()
	if code, data := h2.call("POST", "/api/v1/people/"+url.PathEscape(oktaemu.AdminLogin)+"/revoke", nil, nil); code != http.StatusOK {
		t.Fatalf("revoke Ada: %d %s", code, data)
	}
	h2.stop()
	got, ev = ended(second, release)
	reason := "its starter " + oktaemu.AdminLogin + "'s access was revoked"
	if got.CancelRequestedBy == nil || got.CancelRequestedBy.Type != "bootstrap" || got.CancelReason != reason || got.CancelRequestedAt == nil {
		t.Errorf("run canceled by the revoke = %+v by %+v; want asked by the bootstrap admin, %q", got, got.CancelRequestedBy, reason)
	}
	wantErr = "canceled: " + reason + " by bootstrap admin at " + timetext.Format(*got.CancelRequestedAt)
	if ev["error"] != wantErr {
		t.Errorf("flow.run event of the run canceled by the revoke: %v; want error %q", ev, wantErr)
	}
}

// TestCancelRequestedWhileLastItemsInFlight: a run asked to stop, on
// another server than the one running it, while its last two suspensions
// wait at the org ends as they end it (succeeded), and its flow.run audit
// event says that the cancel was requested, by whom, when, and that the
// run ended succeeded anyway, where it said nothing of the request.
func TestCancelRequestedWhileLastItemsInFlight(t *testing.T) {
	t.Parallel()
	lease := func(c *Config) { c.FlowLeaseTTL = 600 * time.Millisecond }
	h := startHarness(t, oktaemu.Config{Devices: -1}, lease)
	h.connect("Prod")
	// The org's only devices: two active Android phones, the run's last
	// (and only) two suspensions.
	for range 2 {
		resp, err := h.emu.Client.Post(h.emu.URL+"/_emulator/devices", "application/json", stringsReader(`{"user":"emma.schmidt@example.com","platform":"ANDROID"}`))
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("enroll an Android phone: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	h.postYAML("/api/v1/flows", strings.Replace(suspendActiveFlow, "concurrency: 3", "concurrency: 2", 1), &stored)
	hold := h.emu.Hold(t, "POST", "/api/v1/devices/{deviceId}/lifecycle/suspend", 0)
	var run flowRun
	if code, data := h.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", map[string]any{"inputs": map[string]any{"platform": "ANDROID"}}, &run); code != http.StatusAccepted {
		t.Fatalf("start: %d %s", code, data)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	if err := hold.Await(ctx, 2); err != nil {
		t.Fatalf("the two suspensions never waited at the org: %v", err)
	}
	// Another server takes the request (its clock a minute behind, so that
	// it claims no run: see TestCancelFlowRun).
	h2 := startServer(t, h.emu, h.dataDir, func(c *Config) {
		lease(c)
		c.Now = func() time.Time { return time.Now().Add(-time.Minute) }
	})
	var asked canceledRun
	if code, data := h2.call("POST", "/api/v1/flow-runs/"+run.ID+"/cancel", nil, &asked); code != http.StatusAccepted || asked.CancelRequestedAt == nil {
		t.Fatalf("cancel the run: %d %s; want 202 with cancelRequestedAt", code, data)
	}
	h2.stop()
	h.waitCanceling(ctx, run.ID)
	hold.Release()
	if got := h.waitFlowRun(ctx, run.ID, "canceled", "succeeded", "failed"); got.Status != "succeeded" {
		t.Fatalf("the run ended %s; want succeeded, its last items having run", got.Status)
	}
	var ev map[string]any
	for _, e := range h.audit("action=flow.run") {
		if s, _ := e["inputSummary"].(string); strings.Contains(s, "run "+run.ID+",") {
			ev = e
		}
	}
	want := "cancel requested: asked by bootstrap admin at " + timetext.Format(*asked.CancelRequestedAt) +
		", while its last items were in flight; it ended succeeded"
	if ev == nil || ev["outcome"] != "success" || ev["error"] != want {
		t.Errorf("flow.run event of the run = %v; want a success with error %q", ev, want)
	}
}
