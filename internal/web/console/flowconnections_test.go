package console_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

const enrollQuarantineFlow = `name: quarantine-on-enroll
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-enrolled
    connection: Prod
    delivery: poll
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: read
    card: okta-devices/read-device
    connection: Reader
    input: {deviceId: "${{ inputs.deviceId }}"}
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    input: {deviceId: "${{ inputs.deviceId }}"}
`

// TestFlowPageNamesItsBrokenConnections: an enabled flow whose connection
// needs reauthorization showed only "Enabled" while each run failed. The
// flow page names the connection, its state, what of the flow uses it and
// the fix, and the flows list names it beside "enabled"; a connection of
// the flow that works is not named.
func TestFlowPageNamesItsBrokenConnections(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	e.connect(t, "Reader", nil)
	flowID := e.storeFlow(t, enrollQuarantineFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, out)
	}
	c, _, _ := signInHTTP(t, e.url, "/flows")
	problems := regexp.MustCompile(`(?s)<div class="flash flash-error" role="status" id="connection-problems">.*?</div>`)
	_, body := get(t, c, e.url+"/flows/"+flowID)
	if got := problems.FindString(body); got != "" {
		t.Fatalf("the flow's connections work, yet its page reads %s", got)
	}
	_, body = get(t, c, e.url+"/flows")
	if row := rowOf(body, "quarantine-on-enroll"); !strings.Contains(row, "enabled") || strings.Contains(row, "connection") {
		t.Errorf("the flows list reads %q for the enabled flow whose connections work; want enabled, no connection named", row)
	}

	// Prod loses its tokens, as when Okta refuses its refresh token.
	if err := e.store.UpdateConnection(context.Background(), prod.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "Okta refused the refresh token (invalid_grant)", "reauthorize the connection"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	v, err := e.manager.Get(context.Background(), prod.ID)
	if err != nil || v.Remedy == "" {
		t.Fatalf("Prod: %+v, %v; want a remedy", v, err)
	}
	_, body = get(t, c, e.url+"/flows/"+flowID)
	got := problems.FindString(body)
	text := strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(got, "")), " ")
	for _, want := range []string{
		`href="/connections/` + prod.ID + `"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the flow page's connection problems %s; want %s", got, want)
		}
	}
	for _, want := range []string{
		"Connection Prod (Needs reauthorization):",
		"This flow uses it for its trigger's events and step suspend: its runs fail until the connection works again.",
		"How to fix it: Reauthorize the connection.",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the flow page's connection problems read %q; want %q", text, want)
		}
	}
	if strings.Contains(text, "Reader") {
		t.Errorf("the flow page names the working connection Reader among its problems: %q", text)
	}
	_, body = get(t, c, e.url+"/flows")
	if row := rowOf(body, "quarantine-on-enroll"); !strings.Contains(row, "enabled connection Prod: needs reauthorization") || strings.Contains(row, "Reader") {
		t.Errorf("the flows list reads %q for the enabled flow; want it to name Prod, which needs reauthorization, and only Prod", row)
	}

	// A connection deleted while the flow names it.
	if code, out := e.api(t, http.MethodDelete, "/api/v1/connections/Reader", "", ""); code >= 300 {
		t.Fatalf("delete Reader: %d %s", code, out)
	}
	_, body = get(t, c, e.url+"/flows/"+flowID)
	text = html.UnescapeString(strings.Join(strings.Fields(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(problems.FindString(body), "")), " "))
	if want := `Connection Reader: No connection has this id or nickname. This flow uses it for step read: its runs fail until one of that name exists. How to fix it: Create a connection named "Reader", or store a version of the flow that names one that exists.`; !strings.Contains(text, want) {
		t.Errorf("after Reader was deleted the flow page's connection problems read %q; want %q", text, want)
	}
}
