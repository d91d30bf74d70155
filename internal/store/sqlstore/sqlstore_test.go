package sqlstore

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	dollar := &Store{d: Dialect{Placeholder: func(n int) string { return "$" + strconv.Itoa(n) }}}
	question := &Store{}
	tests := []struct {
		name string
		s    *Store
		in   string
		want string
	}{
		{name: "dollar", s: dollar, in: "SELECT a FROM t WHERE b = ? AND c IN (?, ?)", want: "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)"},
		{name: "dollar, none", s: dollar, in: "SELECT 1", want: "SELECT 1"},
		{name: "question kept", s: question, in: "WHERE b = ?", want: "WHERE b = ?"},
		{name: "ten or more", s: dollar, in: "?,?,?,?,?,?,?,?,?,?,?", want: "$1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.rebind(tt.in); got != tt.want {
				t.Errorf("rebind(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestTimestamps(t *testing.T) {
	tests := []struct {
		name string
		in   time.Time
		want int64
	}{
		{name: "zero", in: time.Time{}, want: 0},
		{name: "epoch plus a nanosecond", in: time.Unix(0, 1), want: 1},
		{name: "zone and nanos", in: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -7*3600)), want: time.Date(2026, 1, 2, 10, 4, 5, 6, time.UTC).UnixNano()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ts(tt.in)
			if got != tt.want {
				t.Fatalf("ts = %d; want %d", got, tt.want)
			}
			back := fromTS(got)
			if !back.Equal(tt.in) || (!back.IsZero() && back.Location() != time.UTC) {
				t.Errorf("fromTS(ts(%v)) = %v; want the same instant in UTC", tt.in, back)
			}
		})
	}
}

func TestFoldNickname(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{a: "Prod Devices", b: "prod devices", same: true},
		{a: "ÄRGER", b: "ärger", same: true},
		{a: "Σίσυφος", b: "ΣΊΣΥΦΟΣ", same: true},
		{a: "straße", b: "strasse", same: false},
		{a: "prod", b: "prod ", same: false},
	}
	for _, tt := range tests {
		if got := foldNickname(tt.a) == foldNickname(tt.b); got != tt.same {
			t.Errorf("fold(%q) == fold(%q) is %v; want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

// TestFoldName: flow names have one key exactly when strings.EqualFold
// finds them equal, the rule flowrun checks, whatever the letters.
func TestFoldName(t *testing.T) {
	tests := []struct {
		a, b string
	}{
		{a: "Offboard", b: "offboard"},
		{a: "ÄRGER", b: "ärger"},
		{a: "Σίσυφος", b: "ΣΊΣΥΦΟΣ"},
		{a: "\u212a-rotate", b: "k-rotate"}, // KELVIN SIGN
		{a: "İstanbul", b: "istanbul"},      // a dotted capital I is not i's
		{a: "ırmak", b: "Irmak"},            // nor a dotless i I's
		{a: "straße", b: "strasse"},
		{a: "Ｐrod", b: "Prod"},
		{a: "prod", b: "prod "},
	}
	for _, tt := range tests {
		if got, want := foldName(tt.a) == foldName(tt.b), strings.EqualFold(tt.a, tt.b); got != want {
			t.Errorf("fold(%q) == fold(%q) is %v; want %v, as strings.EqualFold", tt.a, tt.b, got, want)
		}
	}
}
