package main

import (
	"testing"
	"time"
)

// TestWhenNamesTheZone: a time is shown in a zone (when: the local one)
// with its name,
// so that a flow's next run at 02:00 Berlin time does not read as 01:00
// of an unnamed zone; the zero time is "-".
func TestWhenNamesTheZone(t *testing.T) {
	cet := time.FixedZone("CET", 3600)
	if got, want := whenIn(time.Date(2026, 12, 6, 1, 0, 0, 0, time.UTC), cet), "2026-12-06 02:00:00 CET"; got != want {
		t.Errorf("whenIn = %q; want %q", got, want)
	}
	if got := whenIn(time.Time{}, cet); got != "-" {
		t.Errorf("whenIn(zero) = %q; want -", got)
	}
}
