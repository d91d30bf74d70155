package web

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/intake"
	"github.com/cardflow/cardflow/internal/store"
)

// TestEventWaitReason: each reason an event waits names what holds it and
// what to do about it: the connection to reauthorize (its own remedy when
// it has one), or the connection through which the org is asked its time,
// which, when it cannot run cards, is to be reauthorized first.
func TestEventWaitReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    intake.EventHold
		want []string
	}{
		{"next round", intake.EventHold{Code: intake.EventWaitNextRound}, []string{"the next dispatch round, within seconds, starts its runs"}},
		{"connection", intake.EventHold{Code: intake.EventWaitConnection, Flows: []string{"quarantine"}, Connection: "Prod", Status: store.StatusNeedsReauthorization, Remedy: "reauthorize the connection.", Started: true},
			[]string{"the run of flow quarantine waits for the connection Prod, which needs reauthorization (its runs of other flows have started): reauthorize the connection; it starts once it is active again"}},
		{"connection, two flows, no remedy", intake.EventHold{Code: intake.EventWaitConnection, Flows: []string{"a", "b"}, Connection: "Prod", Status: store.StatusError},
			[]string{"the runs of flows a, b wait for the connection Prod, which is in error: reauthorize it: cardflow connections reauthorize Prod, or Reauthorize on its page in the console; they start once it is active again"}},
		{"org clock", intake.EventHold{Code: intake.EventWaitOrgClock, Flows: []string{"welcome"}, Connection: "Prod", Status: store.StatusActive},
			[]string{"flow welcome was enabled, and cardflow has not yet asked the org its time", "the next round at Okta asks it, through the connection Prod", "cardflow connections test Prod"}},
		{"org clock, connection inactive", intake.EventHold{Code: intake.EventWaitOrgClock, Flows: []string{"welcome"}, Connection: "Prod", Status: store.StatusNeedsReauthorization, Remedy: "reauthorize the connection"},
			[]string{"it is asked through the connection Prod, which needs reauthorization: reauthorize the connection"}},
		{"behind", intake.EventHold{Code: intake.EventWaitBehind, Flows: []string{"welcome"}, Connection: "Prod", Status: store.StatusActive, Behind: "device.enrollment.create"},
			[]string{"an earlier device.enrollment.create event waits for the org's time of the enabling of flow welcome, and the later events wait behind it", "cardflow connections test Prod"}},
		{"rerun first", intake.EventHold{Code: intake.EventWaitRerun, Flows: []string{"quarantine"}, Run: "fr_1", Connection: "Robot"},
			[]string{"the run of flow quarantine waits for flow run fr_1 of an earlier event, which its connection stopped, to run again first, so that the flow's events run in order: it runs again by itself once connection Robot is active again; it starts once that run has ended"}},
		{"rerun waiting", intake.EventHold{Code: intake.EventWaitRerun, Flows: []string{"quarantine"}, Run: "fr_1", Connection: "Robot", Status: store.StatusError, Remedy: "give the app the Super Administrator role."},
			[]string{"it runs again by itself once connection Robot, which is in error, is active again: give the app the Super Administrator role; it starts once that run has ended"}},
		{"rerun running", intake.EventHold{Code: intake.EventWaitRerun, Flows: []string{"quarantine"}, Run: "fr_2", Started: true},
			[]string{"waits for flow run fr_2 of an earlier event, which its connection stopped, to run again first (its runs of other flows have started), so that the flow's events run in order: it is running again now;"}},
	} {
		got := EventWaitReason(tc.h)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q lacks %q", tc.name, got, w)
			}
		}
	}
}
