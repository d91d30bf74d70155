// Package spelling finds the known words nearest to a misspelt one, for the
// "did you mean" of validation messages and of the command line.
package spelling

import (
	"math"
	"slices"
	"strings"
)

// Distance is the edit distance of a and b in bytes: insertions,
// deletions, substitutions and swaps of two neighbours (the optimal string
// alignment distance), since a swap ("plna") is the commonest slip of the
// fingers; math.MaxInt when either is longer than 64 bytes, which nothing
// is worth comparing at that length.
func Distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return math.MaxInt
	}
	// Three rows of the table: the one before the last (for swaps), the
	// last, and the current.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Closest returns the known words that word probably meant, ignoring case,
// in the order of known: those nearest to it within two edits (and fewer
// edits than word has letters, so that "x" does not suggest "ok"); failing
// those, the ones word begins (at least three letters of it), so that
// "suspend" finds "suspend-device". None when nothing is that near.
func Closest(word string, known []string) []string {
	w := strings.ToLower(word)
	best, bestDist := []string(nil), 2
	for _, k := range known {
		d := Distance(w, strings.ToLower(k))
		if d >= len(w) || d > bestDist || slices.Contains(best, k) {
			continue
		}
		if d < bestDist {
			best, bestDist = nil, d
		}
		best = append(best, k)
	}
	if best != nil || len(w) < 3 {
		return best
	}
	for _, k := range known {
		if strings.HasPrefix(strings.ToLower(k), w) && !slices.Contains(best, k) {
			best = append(best, k)
		}
	}
	return best
}
