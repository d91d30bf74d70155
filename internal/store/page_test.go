package store

import (
	"slices"
	"testing"
)

// TestReadNamePage: a page holds at most Limit records, the list is asked
// for one more, and more says whether another page follows.
func TestReadNamePage(t *testing.T) {
	all := []string{"a", "b", "c"}
	list := func(p NamePage) ([]string, error) { return all[:min(p.Limit, len(all))], nil }
	for _, tt := range []struct {
		limit int
		want  []string
		more  bool
	}{{2, []string{"a", "b"}, true}, {3, all, false}, {5, all, false}} {
		got, more, err := ReadNamePage(NamePage{Limit: tt.limit}, list)
		if err != nil || !slices.Equal(got, tt.want) || more != tt.more {
			t.Errorf("limit %d: %v, more %v, %v; want %v, more %v", tt.limit, got, more, err, tt.want, tt.more)
		}
	}
}
