package events

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TestPollWithTheOrgMovedPastItsRetention: the org's clock moves 91 days
// ahead of the server's (an emulated org's clock moved ahead) between two
// polls. Okta still serves the cursor, but leaves out the events after it
// that are older than the 90 days it keeps: the poll says so in an
// events.poll_restarted notice naming the stretch that is gone, by the
// org's clock, and stores what Okta keeps, where it went on from the
// cursor without a word, the server's clock telling it nothing was old.
func TestPollWithTheOrgMovedPastItsRetention(t *testing.T) {
	// The org's clock moves only when the test moves it: on the wall
	// clock, the poll's answer could come a second after orgNow is read.
	clock := emutest.NewClock(time.Date(2026, 3, 2, 9, 0, 30, 0, time.UTC))
	in := newIntake(t, oktaemu.Config{Devices: 1, Now: clock.Now})
	in.withNotices(t)
	server := in.srv.Now()
	in.poller.Now = func() time.Time { return server }
	since := server.Add(-time.Minute)
	if _, err := in.poller.Poll(t.Context(), connID, since); err != nil {
		t.Fatal(err)
	}
	src, err := in.st.GetEventSource(t.Context(), connID)
	if err != nil || src.Poll.ReadTo.IsZero() || src.PollNext == "" {
		t.Fatalf("after the first poll: %+v, %v; want a cursor and how far it read", src, err)
	}
	in.srv.AdvanceClock(t, time.Second)
	in.enroll(t, 1) // gone at Okta by the next poll
	in.srv.AdvanceClock(t, 91*24*time.Hour)
	in.enroll(t, 1)
	orgNow := in.srv.Now()

	res, err := in.poller.Poll(t.Context(), connID, since)
	if err != nil {
		t.Fatal(err)
	}
	if res.New != 2 || len(in.inbox(t)) != 2 {
		t.Errorf("the poll after the org's clock moved stored %d new events (inbox %d); want the 2 of the enrollment Okta keeps", res.New, len(in.inbox(t)))
	}
	ns := in.notices(t, "events.poll_restarted")
	if len(ns) != 1 {
		t.Fatalf("%d events.poll_restarted notices; want 1", len(ns))
	}
	gone := "any event published from " + timetext.Format(src.Poll.ReadTo) + " to " + timetext.Format(orgNow.Add(-LogRetention).Truncate(time.Second))
	if !strings.Contains(ns[0].Message, gone) {
		t.Errorf("events.poll_restarted says:\n%s\nwant it to name %q", ns[0].Message, gone)
	}
	// The next poll follows the new cursor, saying nothing more.
	in.srv.AdvanceClock(t, time.Second)
	in.enroll(t, 1)
	if res, err := in.poller.Poll(t.Context(), connID, since); err != nil || res.New != 2 || len(in.notices(t, "events.poll_restarted")) != 1 {
		t.Errorf("the poll after it: %+v, %v, %d notices; want the 2 new events, no other notice", res, err, len(in.notices(t, "events.poll_restarted")))
	}
}
