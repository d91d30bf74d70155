package console_test

import (
	"strings"
	"testing"
)

// TestFlowPageSaysTheStartingDeadline: a schedule's startingDeadline is
// said with its trigger on the flow's page, in words: how late a missed
// tick may be before it is skipped. The Flows list keeps to the schedule.
func TestFlowPageSaysTheStartingDeadline(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	id := e.storeFlow(t, `name: nightly-read
on:
  schedule:
    cron: "0 2 * * *"
    timezone: Europe/Berlin
    startingDeadline: 90m
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
`)
	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, body := get(t, c, e.url+"/flows/"+id)
	if want := "cron 0 2 * * * (Europe/Berlin), skipping a missed tick more than 1h30m late · "; !strings.Contains(body, want) {
		t.Errorf("the flow's page does not say %q:\n%s", want, body)
	}
	if _, list := get(t, c, e.url+"/flows"); !strings.Contains(list, "cron 0 2 * * * (Europe/Berlin)</td>") {
		t.Errorf("the Flows list's trigger is not the schedule alone:\n%s", list)
	}
}
