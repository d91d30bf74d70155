package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestFlowPageSteps: a flow's page marks its manage steps and says when a
// step with an if runs: once, only if it holds, or, for a for_each step,
// an item only if it holds.
func TestFlowPageSteps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	id := e.storeFlow(t, `name: left-without-users
inputs:
  deviceId: {type: string, required: true}
steps:
  - id: users
    card: okta-devices/list-device-users
    connection: Prod
    input: {deviceId: "${{ inputs.deviceId }}"}
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    if: ${{ steps.users.output.count == 0 }}
    input: {deviceId: "${{ inputs.deviceId }}"}
  - id: active
    card: okta-devices/search-devices
    connection: Prod
    input: {status: ACTIVE}
  - id: deactivate
    card: okta-devices/deactivate-device
    connection: Prod
    for_each: ${{ steps.active.output.devices }}
    concurrency: 2
    if: ${{ item.profile.platform == "IOS" }}
    input: {deviceId: "${{ item.id }}"}
`)
	c, _, _ := signInHTTP(t, e.url, "/flows")
	resp, body := get(t, c, e.url+"/flows/"+id)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("flow page: %d", resp.StatusCode)
	}
	_, steps, _ := strings.Cut(body, `aria-label="Steps"`)
	steps, _, _ = strings.Cut(steps, "</table>")
	rows := strings.Split(steps, `<tr role="row">`)[2:] // the head's row, then the steps'
	if len(rows) != 4 {
		t.Fatalf("the steps table has %d rows; want 4\n%s", len(rows), steps)
	}
	for i, want := range []struct{ manage, runs string }{
		{"", `data-label="Runs">once</td>`},
		{`<span class="tag">manage</span>`, `data-label="Runs">once, only if <code>steps.users.output.count == 0</code></td>`},
		{"", `data-label="Runs">once</td>`},
		{`<span class="tag">manage</span>`, `data-label="Runs">for each item, 2 at a time; an item only if <code>item.profile.platform == &#34;IOS&#34;</code></td>`},
	} {
		if got := strings.Contains(rows[i], `<span class="tag">manage</span>`); got != (want.manage != "") {
			t.Errorf("step %d marked manage: %v; want %v\n%s", i+1, got, want.manage != "", rows[i])
		}
		if !strings.Contains(rows[i], want.runs) {
			t.Errorf("step %d's row lacks %s\n%s", i+1, want.runs, rows[i])
		}
	}
}
