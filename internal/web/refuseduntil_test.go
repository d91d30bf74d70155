package web

import (
	"testing"
	"time"
)

// TestRefusedUntilIsNeverEarly: the time a refused address is told to wait
// for is the refusal's end rounded up to the second as it is written, and
// the same whenever in the refusal it is asked, where the wait alone was
// rounded up and the time written could be a second before the end (and
// a second later at the next request); the wait is the whole seconds to
// the end, so a minute's refusal says 1m0s.
func TestRefusedUntilIsNeverEarly(t *testing.T) {
	end := time.Date(2026, 3, 1, 10, 1, 0, 300_000_000, time.UTC)
	for _, now := range []time.Time{
		time.Date(2026, 3, 1, 10, 0, 0, 300_000_000, time.UTC),
		time.Date(2026, 3, 1, 10, 0, 30, 900_000_000, time.UTC),
		time.Date(2026, 3, 1, 10, 0, 59, 0, time.UTC),
	} {
		wait, until := RefusedUntil(now, end.Sub(now))
		if got, want := until.Format(UntilLayout), "10:01:01 UTC"; got != want {
			t.Errorf("at %s: until %s; want %s, the end (%s) rounded up", now.Format("15:04:05.0"), got, want, end.Format("15:04:05.0"))
		}
		if wait%time.Second != 0 || now.Add(wait).Before(end) || wait-end.Sub(now) >= time.Second {
			t.Errorf("at %s: wait %s; want the whole seconds that reach the end (%s), no more", now.Format("15:04:05.0"), wait, end.Format("15:04:05.0"))
		}
	}
}
