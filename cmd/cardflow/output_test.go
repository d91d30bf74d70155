package main

import (
	"testing"
	"time"
)

// TestWhenNamesTheZone: a time is shown in the local zone with its name,
// so that a flow's next run at 02:00 Berlin time does not read as 01:00
// of an unnamed zone; the zero time is "-".
func TestWhenNamesTheZone(t *testing.T) {
	local := time.Local
	t.Cleanup(func() { time.Local = local })
	time.Local = time.FixedZone("CET", 3600)
	if got, want := when(time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC)), "2026-12-06 02:00:00 CET"; got != want {
		t.Errorf("when = %q; want %q", got, want)
	}
	if got := when(time.Time{}); got != "-" {
		t.Errorf("when(zero) = %q; want -", got)
	}
}
