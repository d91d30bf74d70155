package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TestPollRecoveredAfterOktasRetention: the events.poll_recovered notice
// of polls that failed for longer than Okta keeps the System Log says
// that the events of before its 90 days are gone, and since when events
// are read again, rather than that every missed event is read now.
func TestPollRecoveredAfterOktasRetention(t *testing.T) {
	for _, tt := range []struct {
		name    string
		failFor time.Duration
		gone    bool
	}{
		{name: "failing for a day", failFor: 24 * time.Hour},
		{name: "failing for 100 days", failFor: 100 * 24 * time.Hour, gone: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 1})
			receivers, err := notify.ParseReceivers([]string{"https://hooks.example.com/cardflow"})
			if err != nil {
				t.Fatal(err)
			}
			in.poller.Now = in.srv.Now
			in.poller.Outbox = &notify.Outbox{Store: in.st, Receivers: receivers, Now: in.srv.Now}
			since := in.srv.Now()
			in.enroll(t, 1)
			in.pollUntilQuiet(t, since)

			in.srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/logs", Status: 503, Count: 1000})
			var failingSince time.Time // the first failed poll's time, as the poller stored it
			for _, wait := range []time.Duration{0, time.Hour, tt.failFor - time.Hour} {
				in.srv.AdvanceClock(t, wait)
				if _, err := in.poller.Poll(t.Context(), connID, since); err == nil {
					t.Fatal("a poll worked while the System Log answered 503")
				}
				if failingSince.IsZero() {
					src, err := in.st.GetEventSource(t.Context(), connID)
					if err != nil {
						t.Fatal(err)
					}
					if failingSince = src.Poll.FailingSince; failingSince.IsZero() {
						t.Fatal("a failed poll stored no time since when the polls fail")
					}
				}
			}
			in.srv.ClearFaults(t)
			in.enroll(t, 1)
			// The org's clock runs on: the start of Okta's 90 days, as the
			// poll saw it, is a second of the poll's.
			before := in.srv.Now()
			if _, err := in.poller.Poll(t.Context(), connID, since); err != nil {
				t.Fatalf("poll once the System Log answers: %v", err)
			}
			after := in.srv.Now()
			ns, err := in.st.ListNotifications(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			var recovered string
			for _, n := range ns {
				if n.Type == notify.TypePollRecovered {
					var m notify.Message
					if err := json.Unmarshal(n.Body, &m); err != nil {
						t.Fatal(err)
					}
					recovered = m.Message
				}
			}
			if recovered == "" {
				t.Fatalf("no %s notification among %d", notify.TypePollRecovered, len(ns))
			}
			if tt.gone {
				from := "published from " + timetext.Format(failingSince) + " to "
				gone := from + timetext.Format(before.Add(-LogRetention))
				if !strings.Contains(recovered, gone) {
					gone = from + timetext.Format(after.Add(-LogRetention))
				}
				if !strings.Contains(recovered, gone) || strings.Contains(recovered, "the events it missed meanwhile are read now") {
					t.Errorf("recovered notice %q; want it to say that the events %s are gone at Okta", recovered, gone)
				}
			} else if !strings.Contains(recovered, "the events it missed meanwhile are read now") || !strings.Contains(recovered, timetext.Format(failingSince)) {
				t.Errorf("recovered notice %q; want the events of the outage read now", recovered)
			}
		})
	}
}
