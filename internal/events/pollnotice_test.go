package events

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestPollFailingNamesTheFlowsItLeavesWithoutEvents: events.poll_failing
// names the flows with delivery poll as those that start no runs, and
// those with delivery hook+poll as still getting the events the event
// hook delivers, rather than saying "its flows delivered by poll" of both.
func TestPollFailingNamesTheFlowsItLeavesWithoutEvents(t *testing.T) {
	tests := []struct {
		name         string
		flows        PollFlows
		want, refuse []string
	}{
		{name: "poll alone", flows: PollFlows{Poll: []string{"quarantine"}},
			want:   []string{"its flows with delivery poll (quarantine) start no runs"},
			refuse: []string{"hook"}},
		{name: "poll and hook+poll", flows: PollFlows{Poll: []string{"quarantine", "audit-removals"}, HookPoll: []string{"notify-owner"}},
			want: []string{"its flows with delivery poll (quarantine, audit-removals) start no runs",
				"those with delivery hook+poll (notify-owner) start runs only for the events its event hook delivers"}},
		{name: "hook+poll alone", flows: PollFlows{HookPoll: []string{"notify-owner"}},
			want:   []string{"its flows with delivery hook+poll (notify-owner) start runs only for the events its event hook delivers"},
			refuse: []string{"start no runs"}},
		{name: "many", flows: PollFlows{Poll: []string{"f1", "f2", "f3", "f4", "f5", "f6", "f7"}},
			want: []string{"(f1, f2, f3, f4, f5 and 2 more) start no runs"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 1})
			receivers, err := notify.ParseReceivers([]string{"https://hooks.example.com/cardflow"})
			if err != nil {
				t.Fatal(err)
			}
			now := in.srv.Org.Now
			in.poller.Now, in.poller.AlertAfter = now, 15*time.Minute
			in.poller.Outbox = &notify.Outbox{Store: in.st, Receivers: receivers, Now: now}
			in.poller.Flows = func(id string) PollFlows {
				if id != connID {
					t.Errorf("Flows(%q); want %q", id, connID)
				}
				return tt.flows
			}
			in.srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/logs", Status: 200, Body: "truncated", Count: 1000})
			for range 2 {
				if _, err := in.poller.Poll(t.Context(), connID, now().Add(-time.Hour)); err == nil {
					t.Fatal("a poll of a System Log cut short worked")
				}
				in.srv.AdvanceClock(t, 16*time.Minute)
			}
			ns, err := in.st.ListNotifications(t.Context(), 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(ns) != 1 || ns[0].Type != notify.TypePollFailing {
				t.Fatalf("%d notifications; want one events.poll_failing", len(ns))
			}
			var m struct{ Message string }
			if err := json.Unmarshal(ns[0].Body, &m); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(m.Message, w) {
					t.Errorf("message %q; want %q", m.Message, w)
				}
			}
			for _, r := range append(tt.refuse, "delivered by poll") {
				if strings.Contains(m.Message, r) {
					t.Errorf("message %q; want no %q", m.Message, r)
				}
			}
		})
	}
}

// TestStartedNoRunsNamesTheFlows: the notices of events gone at Okta
// unread (events.poll_restarted, an events.poll_recovered after 90 days)
// say that they started no run of the flows with delivery poll, and of
// those with hook+poll only when the event hook did not deliver them.
func TestStartedNoRunsNamesTheFlows(t *testing.T) {
	tests := []struct {
		flows PollFlows
		want  string
	}{
		{PollFlows{Poll: []string{"a"}}, "started no run of its flows with delivery poll (a)"},
		{PollFlows{Poll: []string{"a"}, HookPoll: []string{"b"}}, "started no run of its flows with delivery poll (a), nor of those with delivery hook+poll (b) unless its event hook delivered them"},
		{PollFlows{HookPoll: []string{"b"}}, "started no run of its flows with delivery hook+poll (b) unless its event hook delivered them"},
		{PollFlows{}, "started no run of its flows delivered by poll"},
	}
	for _, tt := range tests {
		if got := tt.flows.startedNoRuns(); got != tt.want {
			t.Errorf("%+v.startedNoRuns() = %q; want %q", tt.flows, got, tt.want)
		}
	}
}
