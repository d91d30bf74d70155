package events

import (
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestFirstPollHalfAYearAfterEnabling: a connection whose System Log was
// never read since its flows were enabled (its polls failed, say for want
// of an admin role, and nobody came for half a year) starts reading where
// Okta still keeps events once it can, instead of asking for a since that
// Okta refuses (over 180 days back) at every poll for good.
func TestFirstPollHalfAYearAfterEnabling(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	in.poller.Now = in.srv.Now
	enabledAt := in.srv.Now()
	in.enroll(t, 1) // published at enabling: past Okta's retention by the first poll
	in.srv.AdvanceClock(t, 200*24*time.Hour)
	in.enroll(t, 2)

	res, err := in.poller.Poll(t.Context(), connID, enabledAt)
	if err != nil {
		t.Fatalf("first poll 200 days after enabling: %v", err)
	}
	if res.New != 4 {
		t.Errorf("first poll stored %d new events; want the 4 of the recent enrollments", res.New)
	}
	src, err := in.st.GetEventSource(t.Context(), connID)
	if err != nil || src.PollNext == "" || src.Poll.Error != "" {
		t.Fatalf("event source after the poll: %+v, %v; want a cursor and no poll error", src, err)
	}
	// From the stored cursor on, the gap does not matter.
	in.srv.AdvanceClock(t, time.Hour)
	in.enroll(t, 1)
	if res, err := in.poller.Poll(t.Context(), connID, enabledAt); err != nil || res.New != 2 {
		t.Errorf("next poll: %+v, %v; want the 2 new events", res, err)
	}
}

// TestPollEnabledAgainMonthsLater: a connection whose poll flows were all
// disabled for two months, and one enabled again, reads its System Log
// from the enabling on, not on from the cursor it stopped at: the events
// of the months in between (which start no run of a flow enabled after
// them) are not read into the inbox, where they would wait for the purge.
func TestPollEnabledAgainMonthsLater(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	in.poller.Now = in.srv.Now
	in.enroll(t, 1)
	in.pollUntilQuiet(t, in.srv.Now().Add(-time.Minute))
	before := len(in.inbox(t))

	// Disabled: nobody polls while the org goes on.
	in.srv.AdvanceClock(t, time.Hour)
	in.enroll(t, 3)
	in.srv.AdvanceClock(t, 60*24*time.Hour)
	enabledAgain := in.srv.Now()
	in.srv.AdvanceClock(t, time.Second)
	in.enroll(t, 1)

	in.pollUntilQuiet(t, enabledAgain)
	if got := len(in.inbox(t)) - before; got != 2 {
		t.Errorf("the poll after enabling again stored %d events; want the 2 of the enrollment after it", got)
	}
}
