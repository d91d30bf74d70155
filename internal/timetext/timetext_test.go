package timetext

import (
	"testing"
	"time"
)

func TestFormat(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		want string
	}{
		{"UTC", time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC), "2026-12-07 10:00:00 UTC"},
		{"another zone is written in UTC", time.Date(2026, 12, 7, 11, 30, 5, 0, time.FixedZone("CET", 3600)), "2026-12-07 10:30:05 UTC"},
		{"fractions of a second are left off", time.Date(2026, 12, 7, 10, 0, 0, 999_000_000, time.UTC), "2026-12-07 10:00:00 UTC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Format(tt.t); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
}
