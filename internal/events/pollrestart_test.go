package events

import (
	"encoding/json"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// withNotices gives in's poller the emulator's clock and an outbox with
// one receiver.
func (in *intake) withNotices(t *testing.T) {
	t.Helper()
	receivers, err := notify.ParseReceivers([]string{"https://hooks.example.com/cardflow"})
	if err != nil {
		t.Fatal(err)
	}
	in.poller.Now = in.srv.Now
	in.poller.Outbox = &notify.Outbox{Store: in.st, Receivers: receivers, Now: in.srv.Now}
}

// notices returns the messages of type kind in the outbox, oldest first.
func (in *intake) notices(t *testing.T, kind string) []notify.Message {
	t.Helper()
	ns, err := in.st.ListNotifications(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []notify.Message
	for i := len(ns) - 1; i >= 0; i-- {
		if ns[i].Type != kind {
			continue
		}
		var m notify.Message
		if err := json.Unmarshal(ns[i].Body, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// audits returns the summaries of the connection.event-poll audit events.
func (in *intake) audits(t *testing.T) []string {
	t.Helper()
	evs, err := in.st.ListAudit(t.Context(), store.AuditFilter{Action: store.ActionConnectionEventPoll})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range evs {
		out = append(out, e.InputSummary)
	}
	return out
}

// TestPollCursorRefusedByOkta: a stored System Log cursor that Okta
// refuses (400: one it never served, or one served more than 180 days
// ago, kept by a version that did not record how far its polls had read)
// does not fail every poll from then on: the same poll reads on from a
// point in time (just before where the polls had read to, or as far back
// as Okta keeps events), stores every event published since exactly once,
// and says so in an events.poll_restarted notice and the audit log, naming
// the stretch of events that are gone, if any. The polls after it read on
// from the new cursor, without a second notice.
func TestPollCursorRefusedByOkta(t *testing.T) {
	for _, tt := range []struct {
		name  string
		spoil func(t *testing.T, in *intake)
		gone  bool // the notice names events that are gone
	}{
		{name: "a cursor Okta never served", spoil: func(t *testing.T, in *intake) {
			if err := in.st.SetPollCursor(t.Context(), connID, "", "/api/v1/logs?limit=100&after=bm90LWEtY3Vyc29y", in.srv.Now()); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "a cursor served 200 days ago, from before polls recorded how far they read", gone: true, spoil: func(t *testing.T, in *intake) {
			src, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil {
				t.Fatal(err)
			}
			st := src.Poll
			st.ReadTo = time.Time{}
			if err := in.st.SetPollStatus(t.Context(), connID, "", st, in.srv.Now(), nil); err != nil {
				t.Fatal(err)
			}
			in.srv.AdvanceClock(t, 200*24*time.Hour)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 1})
			in.withNotices(t)
			since := in.srv.Now()
			in.enroll(t, 1)
			in.pollUntilQuiet(t, since)
			tt.spoil(t, in)
			in.srv.AdvanceClock(t, time.Minute)
			in.enroll(t, 2)

			before := in.srv.Now()
			res, err := in.poller.Poll(t.Context(), connID, since)
			after := in.srv.Now()
			if err != nil {
				t.Fatalf("poll with a refused cursor: %v; want it to read on from a point in time", err)
			}
			if res.New != 4 {
				t.Errorf("the poll stored %d new events; want the 4 of the enrollments after the cursor", res.New)
			}
			src, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil || src.Poll.Error != "" || strings.Contains(src.PollNext, "bm90LWEtY3Vyc29y") {
				t.Fatalf("event source after the poll: %+v, %v; want a new cursor and no poll error", src, err)
			}
			notices := in.notices(t, notify.TypePollRestarted)
			if len(notices) != 1 {
				t.Fatalf("%d %s notices; want 1", len(notices), notify.TypePollRestarted)
			}
			msg := notices[0].Message
			if !strings.Contains(msg, "Okta refused the System Log position") {
				t.Errorf("notice %q; want it to say that Okta refused the cursor", msg)
			}
			if tt.gone {
				checkGone(t, msg, since, before, after)
			} else if !strings.Contains(msg, "no event is missed") {
				t.Errorf("notice %q; want it to say that no event is missed", msg)
			}
			if a := in.audits(t); len(a) != 1 || a[0] != msg {
				t.Errorf("audit %q; want the notice's words once", a)
			}

			in.srv.AdvanceClock(t, time.Minute)
			in.enroll(t, 1)
			if res, err := in.poller.Poll(t.Context(), connID, since); err != nil || res.New != 2 {
				t.Errorf("next poll: %+v, %v; want the 2 new events", res, err)
			}
			if n := len(in.notices(t, notify.TypePollRestarted)); n != 1 {
				t.Errorf("%d %s notices after the next poll; want still 1", n, notify.TypePollRestarted)
			}
		})
	}
}

// TestPollResumedAfterOktasRetention: a connection whose System Log was
// last read longer ago than Okta keeps events (every server down for 100
// days) reads what Okta still keeps, and an events.poll_restarted notice,
// the audit log and a warning name the stretch of events that are gone and
// started no runs, from where the polls had read to; it did not follow its
// cursor past them without a word.
func TestPollResumedAfterOktasRetention(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	in.withNotices(t)
	since := in.srv.Now()
	in.enroll(t, 1)
	in.pollUntilQuiet(t, since)
	src, err := in.st.GetEventSource(t.Context(), connID)
	if err != nil {
		t.Fatal(err)
	}
	readTo := src.Poll.ReadTo
	if d := in.srv.Now().Sub(readTo); d < 0 || d > time.Minute {
		t.Fatalf("the polls read to %s, %s before now; want the last poll's time", readTo, d)
	}

	// Every server is down.
	in.srv.AdvanceClock(t, time.Hour)
	in.enroll(t, 1) // gone by the time a server is back
	in.srv.AdvanceClock(t, 100*24*time.Hour)
	in.enroll(t, 1)

	before := in.srv.Now()
	res, err := in.poller.Poll(t.Context(), connID, since)
	after := in.srv.Now()
	if err != nil {
		t.Fatalf("poll after 100 days: %v", err)
	}
	if res.New != 2 {
		t.Errorf("the poll stored %d new events; want the 2 Okta still keeps", res.New)
	}
	notices := in.notices(t, notify.TypePollRestarted)
	if len(notices) != 1 {
		t.Fatalf("%d %s notices; want 1", len(notices), notify.TypePollRestarted)
	}
	msg := notices[0].Message
	checkGone(t, msg, readTo, before, after)
	if !strings.Contains(msg, "longer ago than Okta keeps events") {
		t.Errorf("notice %q; want it to say why", msg)
	}
	if a := in.audits(t); len(a) != 1 {
		t.Errorf("audit %q; want one event", a)
	}
	in.srv.AdvanceClock(t, time.Minute)
	if _, err := in.poller.Poll(t.Context(), connID, since); err != nil {
		t.Fatal(err)
	}
	if n := len(in.notices(t, notify.TypePollRestarted)); n != 1 {
		t.Errorf("%d %s notices after the next poll; want still 1", n, notify.TypePollRestarted)
	}
}

// TestPollLogsRecoveryOnlyAfterFailing: the log says a connection's System
// Log poll works again only after polls failed, once; not of its first
// poll, nor when a working poll stores how far it read (hourly), where it
// said so and warned that events older than Okta's 90 days were lost.
func TestPollLogsRecoveryOnlyAfterFailing(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	var logs syncBuffer
	in.poller.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	since := in.srv.Now()
	in.enroll(t, 1)
	poll := func(wantErr bool) {
		t.Helper()
		if _, err := in.poller.Poll(t.Context(), connID, since); (err != nil) != wantErr {
			t.Fatalf("poll: %v; want an error: %v", err, wantErr)
		}
	}
	poll(false)
	in.srv.AdvanceClock(t, 2*time.Hour) // the next poll stores how far it read
	poll(false)
	if l := logs.String(); strings.Contains(l, "works again") || strings.Contains(l, "level=WARN") {
		t.Fatalf("polls that never failed logged:\n%s", l)
	}
	in.fault(t, `{"method":"GET","path":"/api/v1/logs","status":403,"count":1}`)
	poll(true)
	in.srv.AdvanceClock(t, time.Minute)
	poll(false)
	poll(false)
	if l := logs.String(); strings.Count(l, "works again") != 1 || strings.Contains(l, "longer than Okta keeps events") {
		t.Errorf("after one failed poll and two that worked the log reads:\n%s\nwant one line saying it works again, and no loss", l)
	}
}

// checkGone checks that the notice msg names the events published from
// from to where Okta's 90 days began when the poll ran, between before and
// after on the org's clock (which moves on while the poll runs), as gone.
func checkGone(t *testing.T, msg string, from, before, after time.Time) {
	t.Helper()
	m := regexp.MustCompile(`any event published from (.+?) to (.+?) that cardflow had not read yet is gone`).FindStringSubmatch(msg)
	var to time.Time
	var err error
	if m != nil {
		to, err = time.Parse(timetext.Layout, m[2])
	}
	earliest := before.Add(-LogRetention).Truncate(time.Second)
	if m == nil || err != nil || m[1] != timetext.Format(from) || to.Before(earliest) || to.After(after.Add(-LogRetention)) {
		t.Errorf("notice %q; want the events published from %s to between %s and %s gone", msg, timetext.Format(from), timetext.Format(earliest), timetext.Format(after.Add(-LogRetention)))
	}
}

// TestPollRestartByTheOrgsClock: the org's clock is more than Okta's 90 days
// ahead of this host's (an emulated org's clock moved 200 days ahead), so
// the cursor is refused and so is the point in time the host's clock gives
// for reading anew (400: since too far back). The same poll reads from as
// far back as Okta keeps events by the org's clock (the refusal's Date),
// stores what is published since, and says what is gone, rather than every
// poll failing from then on with a remedy that says to wait.
func TestPollRestartByTheOrgsClock(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 1})
	in.withNotices(t)
	start := in.srv.Now()
	in.poller.Now = func() time.Time { return start } // the host's clock stays behind
	since := start
	in.enroll(t, 1)
	in.pollUntilQuiet(t, since)

	in.srv.AdvanceClock(t, 200*24*time.Hour)
	in.enroll(t, 1)
	res, err := in.poller.Poll(t.Context(), connID, since)
	if err != nil {
		t.Fatalf("poll with the org 200 days ahead: %v; want it to read from as far back as Okta keeps events", err)
	}
	if res.New != 2 {
		t.Errorf("the poll stored %d new events; want the 2 of the enrollment after the jump", res.New)
	}
	src, err := in.st.GetEventSource(t.Context(), connID)
	if err != nil || src.Poll.Error != "" {
		t.Fatalf("event source after the poll: %+v, %v; want no poll error", src, err)
	}
	notices := in.notices(t, notify.TypePollRestarted)
	if len(notices) != 1 || !strings.Contains(notices[0].Message, "is gone") {
		t.Fatalf("%s notices %+v; want 1 naming what is gone", notify.TypePollRestarted, notices)
	}

	in.srv.AdvanceClock(t, time.Minute)
	in.enroll(t, 1)
	if res, err := in.poller.Poll(t.Context(), connID, since); err != nil || res.New != 2 {
		t.Errorf("next poll: %+v, %v; want the 2 new events", res, err)
	}
}
