package console_test

import (
	"strings"
	"testing"
)

// TestFlowPageOfAnEventOnlyFlow: an event flow whose step reads its event
// has no Run form (a run started by hand has no event and is refused);
// its page says which step reads the event and how to see what it would
// do. A flow that takes its event through on.inputs keeps the form.
func TestFlowPageOfAnEventOnlyFlow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	e.connect(t, "Reader", nil)
	only := e.storeFlow(t, `name: suspend-on-enroll
on:
  event: {card: okta-devices/device-enrolled, connection: Prod, delivery: poll}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    input: {deviceId: "${{ trigger.event.device.id }}"}
`)
	withInputs := e.storeFlow(t, enrollQuarantineFlow)
	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, body := get(t, c, e.url+"/flows/"+only)
	if strings.Contains(body, `action="/flows/`+only+`/runs"`) {
		t.Error("the page of a flow that reads its event offers a Run form")
	}
	for _, want := range []string{`id="by-hand"`, "its step <code>suspend</code> reads the event", "<code>${{ trigger.event.device.id }}</code>, line 8",
		`<code class="cmd"><span>cardflow</span> <span>flows</span> <span>plan</span> <span>suspend-on-enroll</span> <span>--event</span> <span>UUID</span></code>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the flow page lacks %q", want)
		}
	}
	_, body = get(t, c, e.url+"/flows/"+withInputs)
	if !strings.Contains(body, `action="/flows/`+withInputs+`/runs"`) || strings.Contains(body, `id="by-hand"`) {
		t.Error("the page of a flow that takes its event through on.inputs has no Run form, or says it cannot run by hand")
	}
}
