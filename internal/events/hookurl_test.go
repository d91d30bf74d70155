package events

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestServersWithTwoPublicURLsLeaveTheHookToOne: two servers on one
// database started with different public URLs (the second without
// -public-url, or with one Okta cannot reach). Each server's check, once
// a round, pointed the hook at its own URL: moved to and fro every round,
// audited each time, and with a URL Okta cannot reach failing and
// recovering, two notifications a round. The second server now leaves the
// hook at the first one's URL while that server keeps finding it working,
// says why and what to set, and changes nothing at Okta; the hook moves
// to another server's once the first server has stopped (a clean stop
// gives it up; a crashed server's URL fails Okta's verification).
func TestServersWithTwoPublicURLsLeaveTheHookToOne(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	ctx := t.Context()
	clock := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return clock }
	_, outbox := notifyingReconciler(t, in)
	second := httptest.NewServer(in.hook.Config.Handler)
	t.Cleanup(second.Close)
	const lease = 2 * time.Minute
	a := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL, Now: now, Outbox: outbox, URLLease: lease}
	// The second's URL is one Okta cannot reach: its verifications fail.
	b := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: "http://127.0.0.1:1", Now: now, Outbox: outbox, URLLease: lease}

	src, err := a.Reconcile(ctx, connID, []string{"device.user.remove"})
	if err != nil || src.HookStatus != store.HookActive {
		t.Fatalf("reconcile: %v %+v", err, src)
	}
	cl, _ := emuOrgs{in.srv}.Client(ctx, connID)
	uri := func() string {
		t.Helper()
		h, err := cl.GetEventHook(ctx, src.HookID)
		if err != nil {
			t.Fatal(err)
		}
		return h.Channel.Config.URI
	}
	audits := func() int {
		t.Helper()
		evs, err := in.st.ListAudit(ctx, store.AuditFilter{Action: store.ActionConnectionEventHook, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	wantURI, wantAudits := uri(), audits()
	if !strings.HasPrefix(wantURI, in.hook.URL+HookPathPrefix) {
		t.Fatalf("hook URI %s; want it at %s", wantURI, in.hook.URL)
	}

	for round := range 3 {
		clock = clock.Add(30 * time.Second)
		got, err := b.Check(ctx, connID)
		var other *OtherPublicURLError
		if !errors.As(err, &other) || other.HookURL != in.hook.URL || other.PublicURL != b.PublicURL {
			t.Fatalf("round %d: the second server's check: %v; want an OtherPublicURLError naming %s and %s", round, err, in.hook.URL, b.PublicURL)
		}
		for _, want := range []string{in.hook.URL, b.PublicURL, "same -public-url"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("round %d: %q does not say %q", round, err, want)
			}
		}
		if got.HookStatus != store.HookActive || uri() != wantURI || audits() != wantAudits {
			t.Fatalf("round %d: after the second server's check: status %s, URI %s, %d audit events; want active, %s, %d",
				round, got.HookStatus, uri(), audits(), wantURI, wantAudits)
		}
		if got, err := a.Check(ctx, connID); err != nil || got.HookStatus != store.HookActive || uri() != wantURI {
			t.Fatalf("round %d: the first server's check: %v %+v, URI %s", round, err, got, uri())
		}
		// A flow change the second server reconciles: the hook's types
		// change, at the first server's URL.
		types := []string{"device.user.remove"}
		if round%2 == 0 {
			types = append(types, "device.user.add")
		}
		if got, err := b.Reconcile(ctx, connID, types); err != nil || got.HookStatus != store.HookActive || uri() != wantURI {
			t.Fatalf("round %d: the second server's reconcile: %v %+v, URI %s; want active at %s", round, err, got, uri(), wantURI)
		}
		wantAudits = audits()
	}
	wantNotifications(t, in.st)

	// The first server stops cleanly: the hook moves to a third one's
	// URL at once.
	third := httptest.NewServer(in.hook.Config.Handler)
	t.Cleanup(third.Close)
	c := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: third.URL, Now: now, Outbox: outbox, URLLease: lease}
	if err := a.ReleaseURL(ctx, connID); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(time.Second)
	if got, err := c.Check(ctx, connID); err != nil || got.HookStatus != store.HookActive || !strings.HasPrefix(uri(), third.URL+HookPathPrefix) {
		t.Fatalf("the third server's check after the first stopped: %v %+v, URI %s; want active at %s", err, got, uri(), third.URL)
	}
	// The third server crashes (its lease stays): the first one's check,
	// started again, finds that Okta cannot verify the hook at the third's
	// URL any more, and points the hook at its own at once.
	third.Close()
	clock = clock.Add(time.Second)
	if got, err := a.Check(ctx, connID); err != nil || got.HookStatus != store.HookActive || uri() != wantURI {
		t.Fatalf("the first server's check after the third crashed: %v %+v, URI %s; want active at %s", err, got, uri(), wantURI)
	}
	wantNotifications(t, in.st)
}
