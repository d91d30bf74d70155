package spelling

import (
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"plan", "plan", 0},
		{"plna", "plan", 1},
		{"ab", "ba", 1},
		{"abc", "ca", 3},
		{"jsn", "json", 1},
		{"kitten", "sitting", 3},
		{"", "abc", 3},
		{strings.Repeat("a", 65), "a", math.MaxInt},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d; want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	commands := []string{"connectors", "connections", "run", "runs", "flows", "plan", "list", "login", "logout"}
	tests := []struct {
		name  string
		word  string
		known []string
		want  []string
	}{
		{name: "one letter left out", word: "conections", known: commands, want: []string{"connections"}},
		{name: "swapped letters", word: "plna", known: commands, want: []string{"plan"}},
		{name: "case is ignored", word: "deviceID", known: []string{"deviceId", "status"}, want: []string{"deviceId"}},
		{name: "the nearest win", word: "rnu", known: commands, want: []string{"run"}},
		{name: "ties are all given", word: "logn", known: commands, want: []string{"login"}},
		{name: "two as near", word: "logot", known: []string{"login", "logout", "logon"}, want: []string{"logout", "logon"}},
		{name: "a beginning", word: "suspend", known: []string{"read-device", "suspend-device", "unsuspend-device"}, want: []string{"suspend-device"}},
		{name: "a beginning shared", word: "conn", known: commands, want: []string{"connectors", "connections"}},
		{name: "nothing near", word: "frobnicate", known: commands, want: nil},
		{name: "a short word suggests nothing far", word: "x", known: []string{"ok", "run"}, want: nil},
		{name: "the same word twice", word: "rn", known: []string{"run", "run"}, want: []string{"run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Closest(tt.word, tt.known)); diff != "" {
				t.Errorf("Closest(%q) (-want +got):\n%s", tt.word, diff)
			}
		})
	}
}
