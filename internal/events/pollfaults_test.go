package events

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestPollerAfterFaultyAnswers: a System Log page that fails (an outage
// beyond the retries, an answer cut off or that is not JSON) stores none
// of its events and moves no cursor; the poll says what happened in plain
// words, and the next polls read every event exactly once.
func TestPollerAfterFaultyAnswers(t *testing.T) {
	tests := []struct {
		name    string
		fault   emutest.FaultSpec
		wantErr string // "": the poll gets past the fault
		stored  int    // events the failed poll stored; 0 means the first page's 100
	}{
		{name: "second page 503 beyond the retries", fault: emutest.FaultSpec{Status: 503, Count: 10},
			wantErr: "Okta answered 503 to the System Log request"},
		{name: "second page an HTML error page", fault: emutest.FaultSpec{Status: 502, Body: "html", Count: 10},
			wantErr: "Okta answered 502 to the System Log request: Bad Gateway"},
		{name: "second page 200 cut short", fault: emutest.FaultSpec{After: true, Body: "truncated"},
			wantErr: "could not read Okta's answer to the System Log request: Okta answered 200 with JSON that breaks off midway"},
		{name: "second page 200 as HTML", fault: emutest.FaultSpec{Status: 200, Body: "html"},
			wantErr: "could not read Okta's answer to the System Log request: Okta answered 200 with text/html instead of JSON"},
		// Its events are kept (each once), its cursor is not moved.
		{name: "second page without its next link", fault: emutest.FaultSpec{After: true, Headers: map[string]string{"Link": ""}},
			wantErr: "Okta answered the System Log request without the next link of a polling request", stored: 200},
		{name: "second page cut off by the network", fault: emutest.FaultSpec{After: true, Body: "cut"}},
		{name: "second page reset", fault: emutest.FaultSpec{Body: "reset"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 5})
			since := in.srv.Org.Now()
			in.enroll(t, 150) // 300 events: three pages of 100
			f := tt.fault
			f.Method, f.Path, f.Skip = "GET", "/api/v1/logs", 1
			in.srv.Inject(t, f)
			res, err := in.poller.Poll(t.Context(), connID, since)
			src, serr := in.st.GetEventSource(t.Context(), connID)
			if serr != nil {
				t.Fatal(serr)
			}
			if tt.wantErr == "" {
				if err != nil || src.Poll.Error != "" {
					t.Fatalf("poll: %v (status %q); want it past the fault", err, src.Poll.Error)
				}
			} else {
				if err == nil {
					t.Fatalf("poll read %+v; want the second page to fail it", res)
				}
				if !strings.Contains(src.Poll.Error, tt.wantErr) || strings.ContainsAny(src.Poll.Error+src.Poll.Remedy, "<>") {
					t.Errorf("poll status %q (%s); want %q and no HTML", src.Poll.Error, src.Poll.Remedy, tt.wantErr)
				}
				want := tt.stored
				if want == 0 {
					want = 100
				}
				if res.Events != want || len(in.inbox(t)) != want {
					t.Errorf("the failed poll stored %d events (inbox %d); want %d", res.Events, len(in.inbox(t)), want)
				}
				in.srv.ClearFaults(t)
			}
			in.pollUntilQuiet(t, since)
			want, got := in.logged(t, since), in.inbox(t)
			if len(want) != 300 || len(got) != 300 {
				t.Fatalf("the org logged %d events, the inbox holds %d; want 300 each", len(want), len(got))
			}
			for uuid := range want {
				if got[uuid] == nil {
					t.Errorf("event %s skipped", uuid)
				}
			}
			if src, _ := in.st.GetEventSource(t.Context(), connID); src.Poll.Error != "" {
				t.Errorf("poll status %q after the org recovered; want none", src.Poll.Error)
			}
		})
	}
}
