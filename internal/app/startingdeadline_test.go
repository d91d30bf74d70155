package app

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestStartingDeadlineSkipsALateTick: a nightly 02:00 flow with
// startingDeadline 2h whose tick was missed until 17:00 (no server could
// fire it) does not run in the afternoon: the tick is skipped and counted,
// and the flow runs at its next 02:00. Without the deadline the tick ran
// at 17:00, being the latest due and less than a day old.
func TestStartingDeadlineSkipsALateTick(t *testing.T) {
	t.Parallel()
	clock := emutest.NewClock(time.Date(2025, 6, 1, 10, 0, 30, 0, time.UTC))
	h := startHarness(t, oktaemu.Config{Devices: 2}, func(c *Config) {
		c.Now, c.SchedulePoll = clock.Now, 20*time.Millisecond
	})
	h.connect("Prod")
	doc := strings.Replace(strings.Replace(scheduledFlow, "name: minutely-read", "name: nightly-read", 1),
		"    every: 1m\n", "    cron: \"0 2 * * *\"\n    startingDeadline: 2h\n", 1)
	var put putAnswer
	if code, data := h.postYAML("/api/v1/flows", doc, &put); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	if got := put.Flow.Trigger["startingDeadline"]; got != "2h" {
		t.Errorf("trigger %v; want startingDeadline 2h, as the document writes it", put.Flow.Trigger)
	}
	fl := put.Flow
	if code, data := h.call("POST", "/api/v1/flows/"+fl.ID+"/enable", nil, nil); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, data)
	}

	// Every server down from before 02:00 until 17:00.
	clock.Advance(time.Date(2025, 6, 2, 17, 0, 0, 0, time.UTC).Sub(clock.Now()))
	schedulerPass(t, h)
	if runs := h.runsOf(fl.ID); len(runs) != 0 {
		t.Fatalf("the 02:00 tick ran 15 hours late: %+v", runs)
	}
	if got, want := grepLines(h.metrics(), `cardflow_schedule_ticks_total{outcome="skipped"}`), `cardflow_schedule_ticks_total{outcome="skipped"} 1`; got != want {
		t.Errorf("metric %q; want %q", got, want)
	}
	next := time.Date(2025, 6, 3, 2, 0, 0, 0, time.UTC)
	var got flowJSON
	h.call("GET", "/api/v1/flows/"+fl.ID, nil, &got)
	if got.Trigger["nextRunAt"] != next.Format(time.RFC3339) {
		t.Errorf("next run %v; want %v, the next night", got.Trigger["nextRunAt"], next)
	}

	// The next night's tick, on time, runs.
	clock.Advance(next.Add(5 * time.Second).Sub(clock.Now()))
	schedulerPass(t, h)
	runs := h.runsOf(fl.ID)
	if len(runs) != 1 || !runs[0].Trigger.Time.Equal(next) {
		t.Fatalf("runs %s; want one, of the tick at %v", fmt.Sprint(runs), next)
	}
}
