package events

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/okta"
	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TestReconcileHook: the connection's one hook is created and verified
// through the real endpoint, updated when the flows' event types change,
// reactivated after someone deactivates it, recreated after it was
// deleted, and deleted when no flow needs it; deliveries then reach the
// inbox.
func TestReconcileHook(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	ctx := t.Context()
	rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL}
	cl, _ := emuOrgs{in.srv}.Client(ctx, connID)
	hooks := func() []string {
		t.Helper()
		req, _ := http.NewRequest("GET", in.srv.URL+"/api/v1/eventHooks", nil)
		req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
		resp, err := in.srv.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var hs []okta.EventHook
		if err := jsonDecode(resp, &hs); err != nil {
			t.Fatalf("list hooks: %v", err)
		}
		var out []string
		for _, h := range hs {
			out = append(out, h.ID+" "+h.Status+" "+h.VerificationStatus+" "+strings.Join(h.Events.Items, ","))
		}
		return out
	}

	src, err := rec.Reconcile(ctx, connID, []string{"device.user.remove"})
	if err != nil || src.HookStatus != store.HookActive || src.HookID == "" || src.HookPath == "" {
		t.Fatalf("first reconcile: %v %+v", err, src)
	}
	if got := hooks(); len(got) != 1 || got[0] != src.HookID+" ACTIVE VERIFIED device.user.remove" {
		t.Fatalf("hooks at the org: %v", got)
	}
	// More types: the same hook, updated.
	src, err = rec.Reconcile(ctx, connID, []string{"device.user.remove", "device.enrollment.create", "device.user.remove"})
	if err != nil || len(hooks()) != 1 || !strings.HasSuffix(hooks()[0], "device.enrollment.create,device.user.remove") {
		t.Fatalf("after adding a type: %v %v", err, hooks())
	}
	// A delivery reaches the inbox.
	in.control(t, "POST", "/_emulator/devices", `{"user":"kim.larsen@example.com"}`)
	waitDeliveries(t, in.srv)
	if n := len(in.inbox(t)); n != 1 {
		t.Errorf("inbox after an enrollment: %d events; want 1 (device.user.add is not subscribed)", n)
	}
	// An active hook Okta shows active: Check changes nothing.
	if got, err := rec.Check(ctx, connID); err != nil || got.HookStatus != store.HookActive || got.HookReason != "" {
		t.Fatalf("check of an active hook: %v %+v", err, got)
	}
	// Deactivated by an admin: Check shows it with the reason and a
	// remedy; Reconcile reactivates it.
	if _, err := cl.HookLifecycle(ctx, src.HookID, "deactivate"); err != nil {
		t.Fatal(err)
	}
	got, err := rec.Check(ctx, connID)
	stored, gerr := in.st.GetEventSource(ctx, connID)
	if err != nil || gerr != nil || stored.HookStatus != store.HookDeactivated || got.HookStatus != store.HookDeactivated ||
		!strings.Contains(stored.HookReason, "deactivated") || !strings.Contains(stored.HookRemedy, "enable") {
		t.Fatalf("check of a deactivated hook: %v %v; stored %+v", err, gerr, stored)
	}
	if src, err = rec.Reconcile(ctx, connID, src.HookTypes); err != nil || !strings.Contains(hooks()[0], "ACTIVE VERIFIED") {
		t.Fatalf("after a deactivation: %v %v", err, hooks())
	}
	// Deleted at Okta: a new one.
	old := src.HookID
	if _, err := cl.HookLifecycle(ctx, old, "deactivate"); err != nil {
		t.Fatal(err)
	}
	if err := cl.DeleteEventHook(ctx, old); err != nil {
		t.Fatal(err)
	}
	if src, err = rec.Reconcile(ctx, connID, src.HookTypes); err != nil || src.HookID == old || len(hooks()) != 1 {
		t.Fatalf("after a deletion: %v %+v %v", err, src, hooks())
	}
	last := src.HookID
	if _, err := rec.Reconcile(ctx, connID, src.HookTypes); err != nil {
		t.Fatalf("reconcile without a change: %v", err)
	}
	// No flow needs it: deleted at the org and forgotten.
	if src, err = rec.Reconcile(ctx, connID, nil); err != nil || src.HookID != "" || len(hooks()) != 0 {
		t.Fatalf("without types: %v %+v %v", err, src, hooks())
	}
	// Each change cardflow made at the org is in the audit log, by the
	// server; Check and a Reconcile that changes nothing add none.
	events, err := in.st.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionEventHook})
	if err != nil {
		t.Fatal(err)
	}
	var audited []string
	for _, e := range slices.Backward(events) {
		if e.Actor != store.ServerActor || e.ConnectionID != connID || e.Outcome != "success" {
			t.Errorf("audit event %+v; want the server's, of %s, a success", e, connID)
		}
		audited = append(audited, e.InputSummary)
	}
	want := []string{
		"registered event hook " + old + " for device.user.remove",
		"changed event hook " + old + " to device.enrollment.create device.user.remove",
		"activated event hook " + old + " again",
		"registered event hook " + last + " for device.enrollment.create device.user.remove",
		"deleted event hook " + last,
	}
	if !slices.Equal(audited, want) {
		t.Errorf("audit of the hook's changes:\n%s\nwant\n%s", strings.Join(audited, "\n"), strings.Join(want, "\n"))
	}
}

// TestReconcileFailures: a hook Okta cannot verify and a connection
// without okta.eventHooks.manage are shown with a reason and a remedy.
func TestReconcileFailures(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	ctx := t.Context()
	// The public URL does not serve the hook endpoint.
	rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.srv.URL + "/elsewhere"}
	_, err := rec.Reconcile(ctx, connID, []string{"device.user.remove"})
	src, gerr := in.st.GetEventSource(ctx, connID)
	if err == nil || gerr != nil || src.HookStatus != store.HookError || !strings.Contains(src.HookReason, "could not verify") || !strings.Contains(src.HookRemedy, "delivery: poll") {
		t.Errorf("unverifiable hook: %v; source %+v (%v)", err, src, gerr)
	}
	// A token without okta.eventHooks.manage.
	noScope := bearerOrgs{srv: in.srv, token: accessToken(t, in.srv, "okta.logs.read")}
	rec = &Reconciler{Store: in.st, Orgs: noScope, Keyring: in.kr, PublicURL: in.hook.URL}
	_, err = rec.Reconcile(ctx, "conn-2", []string{"device.user.remove"})
	src, gerr = in.st.GetEventSource(ctx, "conn-2")
	if err == nil || gerr != nil || !strings.Contains(src.HookReason, "okta.eventHooks.manage") || !strings.Contains(src.HookRemedy, "reauthorize") {
		t.Errorf("missing scope: %v; source %+v (%v)", err, src, gerr)
	}
}

// bearerOrgs gives a client calling with an access token.
type bearerOrgs struct {
	srv   *emutest.Server
	token string
}

type bearer struct {
	token string
	base  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.base.RoundTrip(r)
}

func (o bearerOrgs) Client(context.Context, string) (*okta.Client, error) {
	u, err := url.Parse(o.srv.URL)
	if err != nil {
		return nil, err
	}
	return &okta.Client{BaseURL: u, HTTP: &http.Client{Transport: bearer{o.token, o.srv.Client.Transport}}, RetryBackoff: 1}, nil
}

// accessToken signs the demo admin in with the code flow and returns an
// access token with the auto-granted scopes and scopes.
func accessToken(t *testing.T, srv *emutest.Server, scopes ...string) string {
	t.Helper()
	conf := &oauth2.Config{
		ClientID: oktaemu.DemoClientID, ClientSecret: oktaemu.DemoClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: srv.URL + "/oauth2/v1/authorize", TokenURL: srv.URL + "/oauth2/v1/token"},
		RedirectURL: "http://127.0.0.1:8080/oauth/callback",
		Scopes:      append([]string{"openid", "offline_access"}, scopes...),
	}
	verifier := oauth2.GenerateVerifier()
	loc := srv.SignIn(t, conf.AuthCodeURL("state-1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("nonce", "nonce-1")), oktaemu.AdminLogin, oktaemu.DemoPassword)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client)
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	return tok.AccessToken
}

// TestCheckMovesHookToNewPublicURL: a server restarted with another public
// URL (or -listen without one) finds the org's hook still sending to the
// old one. Its check, which runs at a server's first round, points the
// hook at the new URL and verifies it there, with no failure reported;
// deliveries then reach the server at its new address.
func TestCheckMovesHookToNewPublicURL(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	ctx := t.Context()
	rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL}
	src, err := rec.Reconcile(ctx, connID, []string{"device.enrollment.create"})
	if err != nil || src.HookStatus != store.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	in.hook.Close() // the old address serves no more

	moved := httptest.NewServer(in.hook.Config.Handler)
	t.Cleanup(moved.Close)
	rec = &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: moved.URL}
	got, err := rec.Check(ctx, connID)
	if err != nil || got.HookStatus != store.HookActive || got.HookID != src.HookID {
		t.Fatalf("check after the public URL changed: %v %+v; want the same hook, active", err, got)
	}
	cl, _ := emuOrgs{in.srv}.Client(ctx, connID)
	h, err := cl.GetEventHook(ctx, src.HookID)
	if err != nil {
		t.Fatal(err)
	}
	if want := moved.URL + HookPathPrefix + src.HookPath; h.Channel.Config.URI != want || h.Status != "ACTIVE" || h.VerificationStatus != "VERIFIED" {
		t.Fatalf("hook at the org: %s %s %s; want %s ACTIVE VERIFIED", h.Channel.Config.URI, h.Status, h.VerificationStatus, want)
	}
	in.control(t, "POST", "/_emulator/devices", `{"user":"kim.larsen@example.com"}`)
	waitDeliveries(t, in.srv)
	if n := len(in.inbox(t)); n != 1 {
		t.Errorf("inbox after an enrollment: %d events; want 1, delivered to the new URL", n)
	}
}

// TestCheckSetsBackAHookSecretChangedAtOkta: an admin changes the secret
// of cardflow's hook in the Admin Console. Okta asks for a new
// verification, and would send the changed secret with it, which the
// endpoint refuses: verifying again alone fails at every round, with a
// remedy about the public URL that does not help. The check sets the
// hook's channel back to cardflow's secret and verifies it, with no
// failure reported; deliveries then reach the inbox again.
func TestCheckSetsBackAHookSecretChangedAtOkta(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	ctx := t.Context()
	rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL}
	src, err := rec.Reconcile(ctx, connID, []string{"device.enrollment.create"})
	if err != nil || src.HookStatus != store.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	cl, _ := emuOrgs{in.srv}.Client(ctx, connID)
	changed := okta.NewEventHook("cardflow "+connID, in.hook.URL+HookPathPrefix+src.HookPath, "a secret typed in the Admin Console", src.HookTypes)
	if h, err := cl.ReplaceEventHook(ctx, src.HookID, changed); err != nil || h.VerificationStatus == "VERIFIED" {
		t.Fatalf("changing the hook's secret at Okta: %v %+v; want it unverified", err, h)
	}

	got, err := rec.Check(ctx, connID)
	if err != nil || got.HookStatus != store.HookActive || got.HookID != src.HookID || got.HookReason != "" {
		t.Fatalf("check after the secret was changed at Okta: %v; status %q reason %q remedy %q; want the same hook, active",
			err, got.HookStatus, got.HookReason, got.HookRemedy)
	}
	h, err := cl.GetEventHook(ctx, src.HookID)
	if err != nil || h.Status != "ACTIVE" || h.VerificationStatus != "VERIFIED" {
		t.Fatalf("hook at the org: %v %+v; want ACTIVE VERIFIED", err, h)
	}
	in.control(t, "POST", "/_emulator/devices", `{"user":"kim.larsen@example.com"}`)
	waitDeliveries(t, in.srv)
	if n := len(in.inbox(t)); n != 1 {
		t.Errorf("inbox after an enrollment: %d events; want 1, delivered with cardflow's secret", n)
	}
	events, err := in.st.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionEventHook})
	if err != nil || len(events) == 0 || !strings.Contains(events[0].InputSummary, "secret of event hook "+src.HookID+" back") {
		t.Errorf("latest audit of the hook: %v %+v; want the secret set back", err, events)
	}
}

// TestCheckSeesAHookActivatedAgainAtOkta: a hook deactivated at Okta is
// shown deactivated, with the remedy to activate it in the Admin Console.
// Once someone does, the check shows it active again and sends
// events.hook_recovered; before, it stayed "deactivated" for good. A hook
// still deactivated, or deleted meanwhile, is left as it is.
func TestCheckSeesAHookActivatedAgainAtOkta(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	ctx := t.Context()
	rec, _ := notifyingReconciler(t, in)
	src, err := rec.Reconcile(ctx, connID, []string{"device.enrollment.create"})
	if err != nil || src.HookStatus != store.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	cl, _ := emuOrgs{in.srv}.Client(ctx, connID)
	if _, err := cl.HookLifecycle(ctx, src.HookID, "deactivate"); err != nil {
		t.Fatal(err)
	}
	if got, err := rec.Check(ctx, connID); err != nil || got.HookStatus != store.HookDeactivated || !strings.Contains(got.HookRemedy, "activate it in the Admin Console") {
		t.Fatalf("check of a deactivated hook: %v %+v", err, got)
	}
	if got, err := rec.Check(ctx, connID); err != nil || got.HookStatus != store.HookDeactivated {
		t.Fatalf("second check of a hook still deactivated: %v %+v", err, got)
	}

	if _, err := cl.HookLifecycle(ctx, src.HookID, "activate"); err != nil {
		t.Fatal(err)
	}
	got, err := rec.Check(ctx, connID)
	if err != nil || got.HookStatus != store.HookActive || got.HookReason != "" || got.HookRemedy != "" {
		t.Fatalf("check after the hook was activated at Okta: %v; status %q reason %q remedy %q; want active", err, got.HookStatus, got.HookReason, got.HookRemedy)
	}
	if stored, err := in.st.GetEventSource(ctx, connID); err != nil || stored.HookStatus != store.HookActive {
		t.Fatalf("stored source: %v %+v; want active", err, stored)
	}
	wantNotifications(t, in.st, notify.TypeHookFailing, notify.TypeHookRecovered)

	// Deactivated and then deleted at Okta: left deactivated (its flows
	// enabled again register a new one), not recreated behind the admin.
	if _, err := cl.HookLifecycle(ctx, src.HookID, "deactivate"); err != nil {
		t.Fatal(err)
	}
	if got, err := rec.Check(ctx, connID); err != nil || got.HookStatus != store.HookDeactivated {
		t.Fatalf("check of a hook deactivated again: %v %+v", err, got)
	}
	if err := cl.DeleteEventHook(ctx, src.HookID); err != nil {
		t.Fatal(err)
	}
	if got, err := rec.Check(ctx, connID); err != nil || got.HookStatus != store.HookDeactivated {
		t.Errorf("check of a deactivated hook deleted since: %v %+v; want it left deactivated", err, got)
	}
}

// TestAttemptBacksOff: each failed Attempt for the same key (Okta refuses
// to verify the hook) doubles the wait before the next is due, up to
// RetryCap; another key (a flow or the connection changed) starts over,
// and a success clears it all.
func TestAttemptBacksOff(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	ctx := t.Context()
	rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL, Now: in.srv.Now,
		RetryAfter: time.Minute, RetryCap: 4 * time.Minute}
	types := []string{"device.enrollment.create"}
	verify := emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", Status: 400, Count: 100}
	in.srv.Inject(t, verify)
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		src, err := rec.Attempt(ctx, connID, types, "k1")
		if err == nil || src.HookStatus != store.HookError || src.HookFailures != i+1 || src.HookRetryKey != "k1" {
			t.Fatalf("attempt %d: %v; status %q, %d failures, key %q", i+1, err, src.HookStatus, src.HookFailures, src.HookRetryKey)
		}
		if got := src.HookRetryAt.Sub(in.srv.Now()); got <= want-time.Second || got > want {
			t.Errorf("attempt %d: next due in %s; want %s", i+1, got, want)
		}
		if Due(src, "k1", in.srv.Now()) || !Due(src, "k2", in.srv.Now()) || !Due(src, "k1", src.HookRetryAt) {
			t.Errorf("attempt %d: due now for k1 %t, for k2 %t, at the retry time %t; want false, true, true", i+1,
				Due(src, "k1", in.srv.Now()), Due(src, "k2", in.srv.Now()), Due(src, "k1", src.HookRetryAt))
		}
	}
	if src, _ := rec.Attempt(ctx, connID, types, "k2"); src.HookFailures != 1 {
		t.Errorf("a failed attempt for another key: %d failures; want the count started over", src.HookFailures)
	}
	in.srv.ClearFaults(t)
	if src, err := rec.Attempt(ctx, connID, types, "k2"); err != nil || src.HookStatus != store.HookActive || src.HookFailures != 0 || !src.HookRetryAt.IsZero() || src.HookRetryKey != "" {
		t.Errorf("an attempt that worked: %v, %+v; want active, no backoff", err, src)
	}
}

// TestAttemptBacksOffInOutages: an Attempt that meets an outage at Okta (a
// 503, or no answer at all) is not tried again at every round either: the
// wait doubles from RetryAfter up to OutageRetryCap, shorter than a
// refusal's RetryCap, so that the hook works again soon after Okta does,
// and the remedy says when. Outages are counted apart from refusals: a
// refusal after them waits as long as it would have without them. Another
// key tries at once, and a success clears it all.
func TestAttemptBacksOffInOutages(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	ctx := t.Context()
	rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL, Now: in.srv.Now,
		RetryAfter: time.Minute, RetryCap: time.Hour, OutageRetryCap: 4 * time.Minute}
	types := []string{"device.enrollment.create"}
	const verifyPath = "/api/v1/eventHooks/{eventHookId}/lifecycle/verify"
	verifies := func() int { return in.srv.Stats(t)["POST "+verifyPath] }
	refuse := emutest.FaultSpec{Method: "POST", Path: verifyPath, Status: 400, Count: 1}
	in.srv.Inject(t, refuse)
	if src, err := rec.Attempt(ctx, connID, types, "k1"); err == nil || src.HookFailures != 1 || src.HookOutages != 0 {
		t.Fatalf("a refused attempt: %v, %+v", err, src)
	}
	outages := []emutest.FaultSpec{
		{Method: "POST", Path: verifyPath, Status: 503, Count: 100},
		{Method: "POST", Path: verifyPath, Body: "reset", Count: 100},
	}
	for i, want := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		in.srv.ClearFaults(t)
		in.srv.Inject(t, outages[i%2])
		before := verifies()
		src, err := rec.Attempt(ctx, connID, types, "k1")
		if err == nil || !okta.Unsure(err) || src.HookStatus != store.HookError || src.HookOutages != i+1 || src.HookFailures != 1 {
			t.Fatalf("attempt %d in the outage: %v; status %q, %d outages, %d failures; want %d outages, the refusal still counted",
				i+1, err, src.HookStatus, src.HookOutages, src.HookFailures, i+1)
		}
		if verifies() == before {
			t.Fatalf("attempt %d in the outage did not reach the verification", i+1)
		}
		if got := src.HookRetryAt.Sub(in.srv.Now()); !about(got, want) {
			t.Errorf("attempt %d in the outage: next due in %s; want %s", i+1, got, want)
		}
		if Due(src, "k1", in.srv.Now()) || !Due(src, "k2", in.srv.Now()) || !Due(src, "k1", src.HookRetryAt) {
			t.Errorf("attempt %d in the outage: due now for k1 %t, for k2 %t, at the retry time %t; want false, true, true", i+1,
				Due(src, "k1", in.srv.Now()), Due(src, "k2", in.srv.Now()), Due(src, "k1", src.HookRetryAt))
		}
		if wantText := "cardflow tries again at " + timetext.Format(src.HookRetryAt); !strings.Contains(src.HookRemedy, wantText) ||
			!strings.Contains(src.HookRemedy, "up to 4m;") {
			t.Errorf("attempt %d in the outage: remedy %q; want it to say %q, up to 4m", i+1, src.HookRemedy, wantText)
		}
		in.srv.AdvanceClock(t, want)
	}
	// Okta answers again, and refuses: the second refusal in a row, as
	// without the outage between them (two minutes, not an hour).
	in.srv.ClearFaults(t)
	in.srv.Inject(t, refuse)
	src, err := rec.Attempt(ctx, connID, types, "k1")
	if err == nil || src.HookFailures != 2 || src.HookOutages != 0 || !about(src.HookRetryAt.Sub(in.srv.Now()), 2*time.Minute) {
		t.Errorf("a refusal after the outage: %v; %d failures, %d outages, next in %s; want 2, 0, 2m",
			err, src.HookFailures, src.HookOutages, src.HookRetryAt.Sub(in.srv.Now()))
	}
	// Another outage for another key starts over.
	in.srv.Inject(t, outages[0])
	if src, _ := rec.Attempt(ctx, connID, types, "k2"); src.HookOutages != 1 || src.HookFailures != 0 || !about(src.HookRetryAt.Sub(in.srv.Now()), time.Minute) {
		t.Errorf("an outage for another key: %d outages, %d failures, next in %s; want 1, 0, 1m", src.HookOutages, src.HookFailures, src.HookRetryAt.Sub(in.srv.Now()))
	}
	in.srv.ClearFaults(t)
	if src, err := rec.Attempt(ctx, connID, types, "k2"); err != nil || src.HookStatus != store.HookActive || src.HookOutages != 0 || !src.HookRetryAt.IsZero() || src.HookRemedy != "" {
		t.Errorf("an attempt that worked: %v, %+v; want active, no backoff", err, src)
	}
}

// about reports whether the wait got is want, less the moments the attempt
// took (the org's clock runs on).
func about(got, want time.Duration) bool { return got > want-time.Second && got <= want }

// TestCheckShowsAHookTheConnectionMayNoLongerRead: the connection's
// okta.eventHooks.manage was taken away at Okta (or an org forgot its
// grants) after its hook was registered. The check cannot read the hook
// (403 insufficient scope), and the hook is shown in error with the scope
// to grant, with events.hook_failing, rather than staying "active" while
// its flows are said to get their events from it; once the scope is back,
// a round's attempt makes it active again.
func TestCheckShowsAHookTheConnectionMayNoLongerRead(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	ctx := t.Context()
	rec, outbox := notifyingReconciler(t, in)
	if src, err := rec.Reconcile(ctx, connID, []string{"device.user.remove"}); err != nil || src.HookStatus != store.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}

	noScope := &Reconciler{Store: in.st, Orgs: bearerOrgs{srv: in.srv, token: accessToken(t, in.srv, "okta.logs.read")},
		Keyring: in.kr, PublicURL: in.hook.URL, Outbox: outbox}
	if _, err := noScope.Check(ctx, connID); err != nil {
		t.Fatalf("check without the scope: %v; want the hook's status stored, no error", err)
	}
	stored, err := in.st.GetEventSource(ctx, connID)
	if err != nil || stored.HookStatus != store.HookError || !strings.Contains(stored.HookReason, "okta.eventHooks.manage") ||
		!strings.Contains(stored.HookRemedy, "grant okta.eventHooks.manage") {
		t.Fatalf("stored source after the check without the scope: %v; status %q reason %q remedy %q; want error naming the scope", err, stored.HookStatus, stored.HookReason, stored.HookRemedy)
	}

	if src, err := rec.Attempt(ctx, connID, []string{"device.user.remove"}, "flows"); err != nil || src.HookStatus != store.HookActive || src.HookReason != "" {
		t.Fatalf("attempt with the scope granted again: %v %+v; want active", err, src)
	}
	wantNotifications(t, in.st, notify.TypeHookFailing, notify.TypeHookRecovered)
}

// notifyingReconciler is a Reconciler of in's org whose notices go to an
// outbox of one receiver, and that outbox.
func notifyingReconciler(t *testing.T, in *intake) (*Reconciler, *notify.Outbox) {
	t.Helper()
	receivers, err := notify.ParseReceivers([]string{"https://alerts.example.com/cardflow"})
	if err != nil {
		t.Fatal(err)
	}
	outbox := &notify.Outbox{Store: in.st, Receivers: receivers}
	return &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL, Outbox: outbox}, outbox
}

// wantNotifications checks the types of the notifications st holds,
// oldest first.
func wantNotifications(t *testing.T, st store.Store, want ...string) {
	t.Helper()
	ns, err := st.ListNotifications(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, n := range slices.Backward(ns) { // newest first
		types = append(types, n.Type)
	}
	if !slices.Equal(types, want) {
		t.Errorf("notifications: %v; want %v", types, want)
	}
}

// TestHookFailingNamesTheFlows: events.hook_failing of a hook deleted at
// Okta (and not registered anew: Okta verifies no new one) names the connection's flows that start no runs meanwhile (delivery
// hook) and those that get their events from the System Log polls alone
// (hook+poll), once each: before, it said both of "its flows with delivery
// hook" whether it had any or not, and said of hook+poll flows twice (the
// remedy's clause and the message's own).
func TestHookFailingNamesTheFlows(t *testing.T) {
	for _, tt := range []struct {
		name  string
		flows PollFlows
		want  string
	}{
		{"hook+poll flows only", PollFlows{HookPoll: []string{"quarantine"}},
			"does not work, so its flows with delivery hook+poll (quarantine) get their events from the System Log polls alone meanwhile: the event hook "},
		{"both kinds", PollFlows{Hook: []string{"fast"}, HookPoll: []string{"quarantine", "audit"}, Poll: []string{"slow"}},
			"does not work, so its flows with delivery hook (fast) start no runs meanwhile, and those with delivery hook+poll (quarantine, audit) get their events from the System Log polls alone: the event hook "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 1})
			ctx := t.Context()
			rec, _ := notifyingReconciler(t, in)
			rec.Flows = func(id string) PollFlows {
				if id != connID {
					t.Errorf("flows of %q; want %q", id, connID)
				}
				return tt.flows
			}
			src, err := rec.Reconcile(ctx, connID, []string{"device.user.remove"})
			if err != nil || src.HookStatus != store.HookActive {
				t.Fatalf("reconcile: %v %+v", err, src)
			}
			cl, _ := emuOrgs{in.srv}.Client(ctx, connID)
			if _, err := cl.HookLifecycle(ctx, src.HookID, "deactivate"); err != nil {
				t.Fatal(err)
			}
			if err := cl.DeleteEventHook(ctx, src.HookID); err != nil {
				t.Fatal(err)
			}
			// Okta verifies no new hook: it stays failing.
			in.srv.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", Status: 400, Count: 100})
			if got, err := rec.Check(ctx, connID); err == nil || got.HookStatus != store.HookError {
				t.Fatalf("check of a deleted hook that cannot be registered anew: %v %+v", err, got)
			}
			ns, err := in.st.ListNotifications(ctx, 10)
			if err != nil || len(ns) != 1 || ns[0].Type != notify.TypeHookFailing {
				t.Fatalf("notifications: %v %+v; want one %s", err, ns, notify.TypeHookFailing)
			}
			var m notify.Message
			if err := json.Unmarshal(ns[0].Body, &m); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.Message, tt.want) || !strings.Contains(m.Message, "is gone from the org (deleted in the Admin Console or by another tool), and a new one could not be registered: Okta could not verify the event hook") {
				t.Errorf("message:\n%s\nwant it to hold\n%s\nand both reasons", m.Message, tt.want)
			}
			if n := strings.Count(m.Message, "hook+poll"); n != 1 {
				t.Errorf("message says hook+poll %d times; want once:\n%s", n, m.Message)
			}
		})
	}
}

// TestHookDeletedAtOktaIsRegisteredAnew: a hook deleted at Okta is
// registered anew by the check that finds it gone, with one
// events.hook_reregistered naming both hooks and the flows that missed the
// events meanwhile (delivery hook), where the check stored it failing,
// with events.hook_failing, and the round's next step registered a new
// one, with events.hook_recovered: two alarms within 70 ms for nothing.
func TestHookDeletedAtOktaIsRegisteredAnew(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	ctx := t.Context()
	rec, _ := notifyingReconciler(t, in)
	rec.Flows = func(string) PollFlows { return PollFlows{Hook: []string{"fast"}, HookPoll: []string{"quarantine"}} }
	src, err := rec.Reconcile(ctx, connID, []string{"device.user.remove"})
	if err != nil || src.HookStatus != store.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	old := src.HookID
	cl, _ := emuOrgs{in.srv}.Client(ctx, connID)
	if _, err := cl.HookLifecycle(ctx, old, "deactivate"); err != nil {
		t.Fatal(err)
	}
	if err := cl.DeleteEventHook(ctx, old); err != nil {
		t.Fatal(err)
	}
	got, err := rec.Check(ctx, connID)
	if err != nil || got.HookStatus != store.HookActive || got.HookID == old || got.HookID == "" {
		t.Fatalf("check of a deleted hook: %v %+v; want a new hook, active", err, got)
	}
	ns, err := in.st.ListNotifications(ctx, 10)
	if err != nil || len(ns) != 1 || ns[0].Type != notify.TypeHookReregistered {
		t.Fatalf("notifications: %v %+v; want one %s", err, ns, notify.TypeHookReregistered)
	}
	var m notify.Message
	if err := json.Unmarshal(ns[0].Body, &m); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"the Okta event hook " + old + " of connection ",
		"was gone from the org (deleted in the Admin Console or by another tool); cardflow registered a new one, " + got.HookID + ", which works",
		"its flows with delivery hook (fast) did not get the events published while it was gone",
		"unless it was deleted on purpose: then disable the flows that use it",
	} {
		if !strings.Contains(m.Message, want) {
			t.Errorf("message:\n%s\nwant it to hold %q", m.Message, want)
		}
	}
	// Checked again: it works, nothing more is said.
	if got, err := rec.Check(ctx, connID); err != nil || got.HookStatus != store.HookActive {
		t.Fatalf("second check: %v %+v", err, got)
	}
	wantNotifications(t, in.st, notify.TypeHookReregistered)
}

// TestCheckAttemptBacksOff: what the round's check sets up anew at Okta
// and Okta will not verify (the channel of a hook changed at Okta, a hook
// pointed at this server's new public URL) backs off for the round's key,
// so that the round's own Attempt, right after, does not try it again.
func TestCheckAttemptBacksOff(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(t *testing.T, in *intake, src *store.EventSource) string // the public URL after it
	}{
		{"channel changed at Okta", func(t *testing.T, in *intake, src *store.EventSource) string {
			cl, _ := emuOrgs{in.srv}.Client(t.Context(), connID)
			changed := okta.NewEventHook("cardflow "+connID, in.hook.URL+HookPathPrefix+src.HookPath, "a secret typed in the Admin Console", src.HookTypes)
			if h, err := cl.ReplaceEventHook(t.Context(), src.HookID, changed); err != nil || h.VerificationStatus == "VERIFIED" {
				t.Fatalf("changing the hook's secret at Okta: %v %+v; want it unverified", err, h)
			}
			return in.hook.URL
		}},
		{"server's public URL changed", func(t *testing.T, in *intake, src *store.EventSource) string {
			return in.hook.URL + "/moved"
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 1})
			ctx := t.Context()
			rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL, Now: in.srv.Now}
			src, err := rec.Reconcile(ctx, connID, []string{"device.enrollment.create"})
			if err != nil || src.HookStatus != store.HookActive {
				t.Fatalf("reconcile: %v %+v", err, src)
			}
			rec.PublicURL = tt.change(t, in, src)
			in.srv.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/api/v1/eventHooks/{eventHookId}/lifecycle/verify", Status: 400, Count: 100})
			src, err = rec.CheckAttempt(ctx, connID, "k1")
			if err == nil || src.HookStatus != store.HookError {
				t.Fatalf("check: %v, status %q; want Okta's refusal to verify, in error", err, src.HookStatus)
			}
			stored, err := in.st.GetEventSource(ctx, connID)
			if err != nil {
				t.Fatal(err)
			}
			if Due(stored, "k1", in.srv.Now()) || stored.HookFailures != 1 || stored.HookRetryKey != "k1" {
				t.Errorf("after the check's failed verification: due again for the round's key %t, %d failures for key %q; want not due, 1 failure for k1",
					Due(stored, "k1", in.srv.Now()), stored.HookFailures, stored.HookRetryKey)
			}
		})
	}
}
