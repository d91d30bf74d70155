package console_test

import (
	"regexp"
	"strings"
	"testing"
)

// TestFlowsPageHeadsFlowsOnce: the Flows page has one heading saying
// Flows, its title, where a Flows heading of the list's card followed it
// directly.
func TestFlowsPageHeadsFlowsOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, page := get(t, c, e.url+"/flows")
	headings := regexp.MustCompile(`<h[1-6][^>]*>\s*Flows\s*</h[1-6]>`).FindAllString(page, -1)
	if len(headings) != 1 || !strings.HasPrefix(headings[0], "<h1") {
		t.Errorf("the Flows page's headings saying Flows are %q; want its <h1> only", headings)
	}
}
