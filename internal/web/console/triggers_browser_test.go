package console_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

const nightlyFlow = `name: nightly-read
description: Read the org's devices every night
inputs:
  since: {type: string, required: true}
on:
  schedule:
    cron: "0 2 * * *"
    timezone: Europe/Berlin
  inputs:
    since: ${{ string(trigger.time - duration("24h")) }}
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      search: 'lastUpdated gt "${{ inputs.since }}"'
`

// TestBrowserFlowTrigger: the flows list shows a flow's trigger, state,
// next run and last run; the flow page enables and disables it.
func TestBrowserFlowTrigger(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	if code, body := e.api(t, http.MethodPost, "/api/v1/flows", "application/yaml", nightlyFlow); code != http.StatusCreated {
		t.Fatalf("store the flow: %d %s", code, body)
	}
	b := newTab(t, e)
	b.signIn()
	b.open("/flows")
	row := `//table[.//th[normalize-space(.)="Trigger"]]//tr[.//a[normalize-space(.)="nightly-read"]]`
	if got := b.text(row); !strings.Contains(got, "cron 0 2 * * * (Europe/Berlin)") || !strings.Contains(got, "disabled") || !strings.Contains(got, "never run") {
		t.Errorf("flows row = %q; want the cron, disabled, never run", got)
	}

	b.click(link("nightly-read"))
	b.wantText("Trigger", "Disabled", "it starts no runs until enabled")
	// The next tick's run, planned before the flow is enabled: since is a
	// day before the tick, as on.inputs computes it.
	before := time.Now()
	b.click(button("Plan the next scheduled run"))
	got := b.text(`//*[@id="plan-trigger"]`)
	m := regexp.MustCompile(`since\s*=\s*(\S+)\s`).FindStringSubmatch(got)
	if !strings.HasPrefix(got, "As the scheduled run of ") || m == nil {
		b.fatalf("the plan of the next scheduled run reads %q; want the tick and the computed since", got)
	}
	if since, err := time.Parse(time.RFC3339, m[1]); err != nil || !since.Add(24*time.Hour).After(before) || since.After(before) {
		t.Errorf("since = %q (%v); want the day before a tick in the next 24 hours", m[1], err)
	}
	b.wantText("Step find")
	b.screenshot("flow-plan-scheduled")
	b.click(button("Enable"))
	if got := b.text(`//section[@aria-labelledby="trigger-title"]`); !strings.Contains(got, "Enabled") || !strings.Contains(got, "next run") {
		b.fatalf("after Enable the trigger section reads %q; want Enabled with the next run", got)
	}
	b.screenshot("flow-trigger-enabled")
	b.open("/flows")
	if got := b.text(row); !strings.Contains(got, "enabled") || strings.Contains(got, "disabled") {
		t.Errorf("flows row after enabling = %q; want enabled", got)
	}

	b.click(link("nightly-read"))
	b.click(button("Disable"))
	if got := b.text(`//section[@aria-labelledby="trigger-title"]`); !strings.Contains(got, "Disabled") {
		b.fatalf("after Disable the trigger section reads %q; want Disabled", got)
	}
	// A manual run is listed as started by hand and shows as the last run.
	b.fill("since", "2025-01-01T00:00:00Z")
	b.click(button("Run"))
	b.open("/flows")
	if got := b.text(row); strings.Contains(got, "never run") {
		t.Errorf("flows row after a run = %q; want its last run", got)
	}
	if got := b.text(`//table[.//th[normalize-space(.)="Started by"]]`); !strings.Contains(got, "bootstrap admin") {
		t.Errorf("recent runs = %q; want the manual run", got)
	}
}
