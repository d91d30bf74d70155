package console_test

import (
	"context"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/store"
)

// TestFlowRunShowsItsEvent: the page of a run an Okta event started said
// only "event (T)"; it names the event (its card, type, device and user),
// and links to the events of its connection.
func TestFlowRunShowsItsEvent(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, func(c *app.Config, _ string) { c.EventPollInterval = 200 * time.Millisecond })
	prod := e.connect(t, "Prod", nil)
	e.removeUserEvent(t, prod.ID)
	evs, err := e.store.ListEvents(context.Background(), store.EventFilter{})
	if err != nil {
		t.Fatal(err)
	}
	runID := ""
	for _, ev := range evs {
		if ev.EventType == "device.user.remove" && len(ev.FlowRuns) == 1 {
			runID = ev.FlowRuns[0]
		}
	}
	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, body := get(t, c, e.url+"/flow-runs/"+runID)
	dd := regexp.MustCompile(`(?s)<dd id="flow-run-event">.*?</dd>`).FindString(body)
	text := html.UnescapeString(strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(dd, "")), " "))
	if want := "Device Removed from User device.user.remove: device Jonas's Pixel, user jonas.berg@example.com, published "; !strings.HasPrefix(text, want) {
		t.Errorf("the run's event reads %q; want it to start %q", text, want)
	}
	if !strings.Contains(dd, `href="/events?connection=`+prod.ID+`"`) {
		t.Errorf("the run's event %s; want a link to the events of Prod", dd)
	}
}
