package events

import (
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestPollKeepsItsCursorWithTheOrgAhead: with the org's clock an hour
// ahead of the server's, a poll for flows enabled (by the server's clock)
// before its cursor was moved follows the cursor, reading each event once,
// though the enabling by the org's clock, where the poll starts, is later
// than the cursor's time by the server's: the cursor's time was compared
// with the org's, and every poll read all the events since the enabling
// again.
func TestPollKeepsItsCursorWithTheOrgAhead(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 3})
	in.srv.AdvanceClock(t, time.Hour)
	server := func() time.Time { return in.srv.Now().Add(-time.Hour) }
	in.poller.Now = server
	enabledAt := server()
	since := enabledAt.Add(time.Hour) // the enabling by the org's clock
	in.srv.AdvanceClock(t, time.Second)
	in.enroll(t, 2) // four events
	for i, want := range []int{4, 0, 0} {
		res, err := in.poller.PollEnabled(t.Context(), connID, since, enabledAt)
		if err != nil {
			t.Fatal(err)
		}
		if res.Events != want {
			t.Errorf("poll %d read %d events; want %d", i+1, res.Events, want)
		}
		in.srv.AdvanceClock(t, time.Second)
	}
	if n := len(in.inbox(t)); n != 4 {
		t.Errorf("%d events in the inbox; want 4", n)
	}
}
