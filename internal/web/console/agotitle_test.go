package console_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestRelativeTimesCarryTheExactTime: a time said roughly ("1 min ago") in
// the Flows, People and Connections lists is a <time> whose datetime and
// title (shown on hover) are the exact time, where only the Connections
// list carried it.
func TestRelativeTimesCarryTheExactTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, missingDeviceFlow)
	code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/runs?wait=true", "application/json", `{}`)
	var run struct{ Status string }
	if err := json.Unmarshal([]byte(out), &run); code != http.StatusOK || err != nil {
		t.Fatalf("run the flow: %d %s", code, out)
	}
	now := time.Now()
	if err := e.store.CreateSession(t.Context(), &store.Session{ID: "s-ada", Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Role: "viewer", CSRF: "x",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastSeen: now}); err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/flows")
	exact := regexp.MustCompile(`<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ" title="\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC">(just now|\d+ min ago)</time>`)
	for _, page := range []struct{ path, cell string }{
		{"/flows", `data-label="Last run"`},
		{"/people", `data-label="Console sessions"`},
		{"/people", `data-label="Last active"`},
		{"/connections", `data-label="Last used"`},
	} {
		_, body := get(t, c, e.url+page.path)
		cell := regexp.MustCompile(`<td role="cell" ` + regexp.QuoteMeta(page.cell) + `>.*?</td>`).FindString(body)
		if !exact.MatchString(cell) {
			t.Errorf("%s: the cell %s is %q; want its rough time in a <time> with the exact time as datetime and title", page.path, page.cell, cell)
		}
	}
}
