// Package counttext is the one way cardflow writes a count of things into
// a text for people: "1 item", "3 items", "0 items". The CLI, the console,
// the API's messages and the audit events count alike.
package counttext

import "strconv"

// Format writes n and the noun, plural (the noun and "s") unless n is 1:
// Format(1, "flow run") is "1 flow run", Format(2, "flow run") "2 flow runs".
func Format(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
