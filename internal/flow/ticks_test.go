package flow

import (
	"fmt"
	"testing"
	"time"
)

// TestLatestAndTicks: the latest due tick and the count of the ticks
// before it, computed without going through every tick, are those of
// going through them with Next, for crons in zones whose clocks move
// (by an hour, by half an hour in Australia/Lord_Howe) and intervals,
// over a stretch of more than a year from several starts.
func TestLatestAndTicks(t *testing.T) {
	type sched struct{ spec, zone string }
	var scheds []sched
	for _, spec := range []string{"* * * * *", "*/7 * * * *", "30 2 * * *", "0 * * * 1-5", "* 3 * * *", "15 1,2,3 * * *", "0 0 29 2 *", "0 9 1 * 1", "45 23 * 3,10 0"} {
		for _, zone := range []string{"UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"} {
			scheds = append(scheds, sched{spec, zone})
		}
	}
	for _, tt := range scheds {
		t.Run(fmt.Sprintf("%s %s", tt.spec, tt.zone), func(t *testing.T) {
			sch, err := ScheduleFromSpec([]byte(`{"kind":"schedule","cron":"` + tt.spec + `","timezone":"` + tt.zone + `"}`))
			if err != nil {
				t.Fatal(err)
			}
			for _, start := range []time.Time{
				time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
				time.Date(2026, 3, 28, 23, 17, 30, 0, time.UTC), // near spring changes
				time.Date(2026, 10, 24, 22, 59, 0, 0, time.UTC), // near autumn changes
			} {
				first := sch.Next(start)
				var ticks []time.Time // one by one, over 400 days or 20 000 ticks
				end := first.Add(400 * 24 * time.Hour)
				for tk := first; !tk.IsZero() && !tk.After(end); tk = sch.Next(tk) {
					ticks = append(ticks, tk)
					if len(ticks) == 20_000 {
						end = tk
					}
				}
				// Probe "now" at ticks, just before and after them, and
				// between them.
				for i := 0; i < len(ticks); i += max(1, len(ticks)/53) {
					for _, now := range []time.Time{ticks[i], ticks[i].Add(-time.Nanosecond), ticks[i].Add(time.Second), ticks[i].Add(17 * time.Hour)} {
						if now.Before(first) {
							continue
						}
						j := i
						for j+1 < len(ticks) && !ticks[j+1].After(now) {
							j++
						}
						for j > 0 && ticks[j].After(now) {
							j--
						}
						if j+1 == len(ticks) && now.After(end) {
							continue
						}
						if got := sch.Latest(first, now); !got.Equal(ticks[j]) {
							t.Fatalf("Latest(%v, %v) = %v; want %v", first, now, got, ticks[j])
						}
						if got := sch.Ticks(first, now); got != j+1-boolInt(!ticks[j].Before(now)) {
							t.Fatalf("Ticks(%v, %v) = %d; want %d", first, now, got, j+1-boolInt(!ticks[j].Before(now)))
						}
					}
				}
			}
		})
	}
	every, err := ScheduleFromSpec([]byte(`{"kind":"schedule","every":"1m","timezone":"UTC"}`))
	if err != nil {
		t.Fatal(err)
	}
	first := every.Next(time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC))
	now := first.Add(30*24*time.Hour + 30*time.Second)
	if got, want := every.Latest(first, now), first.Add(30*24*time.Hour); !got.Equal(want) {
		t.Errorf("every 1m: Latest = %v; want %v", got, want)
	}
	if got := every.Ticks(first, first.Add(30*24*time.Hour)); got != 43_200 {
		t.Errorf("every 1m: Ticks over 30 days = %d; want 43200", got)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
