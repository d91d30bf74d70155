package console_test

import (
	"context"
	"strings"
	"testing"
)

// retireFlow reads a device and deactivates it: its second step cannot be
// undone.
const retireFlow = `name: retire-device
inputs:
  deviceId:
    type: string
    required: true
steps:
  - id: look
    card: okta-devices/read-device
    connection: Prod
    input:
      deviceId: ${{ inputs.deviceId }}
  - id: retire
    card: okta-devices/deactivate-device
    connection: Prod
    input:
      deviceId: ${{ inputs.deviceId }}
      status: ${{ steps.look.output.device.status }}
`

// TestBrowserFlowRunAsksFirst: Run of a flow with a step that cannot be
// undone (Deactivate Device) asks first, as the card's own Run does, and
// shows what the run would change (the plan, with the inputs given)
// before anything changes at the org; the question's own Run button
// starts the run with the same inputs. A flow whose steps can all be
// undone runs at once, and a run the plan refuses (a missing input) says
// why without asking.
func TestBrowserFlowRunAsksFirst(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	dev := e.activeDevices(t)[0]
	flowID := e.storeFlow(t, retireFlow)
	const deactivate = "POST /api/v1/devices/{deviceId}/lifecycle/deactivate"
	flowRuns := func() int {
		t.Helper()
		runs, err := e.store.ListFlowRuns(context.Background(), flowID, 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(runs)
	}

	b := newTab(t, e)
	b.signIn()
	b.open("/flows/" + flowID)
	if help := b.text(`//*[@id="run-help"]`); !strings.Contains(help, "Run asks first, with the plan: what step retire does cannot be undone.") {
		t.Errorf("the Run form's help %q; want it to say Run asks first", help)
	}
	b.click(button("Run"))
	if n := e.emu.Stats(t)[deactivate]; n != 0 || flowRuns() != 0 {
		t.Fatalf("Run without an input: %d deactivate calls, %d flow runs; want none", n, flowRuns())
	}
	if got := b.text("main"); !strings.Contains(got, "deviceId") || strings.Contains(got, "Run retire-device?") {
		t.Errorf("Run without the required input: the page says %q; want the input's error and no question", got)
	}

	b.fill("deviceId", dev.ID)
	b.click(button("Run"))
	ask := b.text(`//*[@id="confirm"]`)
	b.screenshot("flow-confirm-desktop")
	for _, want := range []string{"Run retire-device?", "Step retire (okta-devices/deactivate-device): Deactivating removes the device's users", dev.ID} {
		if !strings.Contains(ask, want) {
			t.Errorf("the question lacks %q:\n%s", want, ask)
		}
	}
	if plan := b.text(`//*[@id="plan"]`); !strings.Contains(plan, "1 change") || !strings.Contains(plan, "DEACTIVATED") {
		t.Errorf("the plan beside the question: %q; want the one change to DEACTIVATED", plan)
	}
	if n := e.emu.Stats(t)[deactivate]; n != 0 || flowRuns() != 0 {
		t.Fatalf("after the question: %d deactivate calls, %d flow runs; want none", n, flowRuns())
	}
	b.setWidth(phoneWidth)
	b.checkPage("flow-confirm")

	b.click(button("Run retire-device"))
	loc := b.location()
	if !strings.Contains(loc, "/flow-runs/") {
		t.Fatalf("after Run retire-device: at %s; want the flow run's page", loc)
	}
	e.waitFlowRunEnd(t, loc)
	if n := e.emu.Stats(t)[deactivate]; n != 1 {
		t.Errorf("after Run retire-device: %d deactivate calls; want 1", n)
	}
	runs, err := e.store.ListFlowRuns(context.Background(), flowID, 10)
	if err != nil || len(runs) != 1 || runs[0].Status != "succeeded" || !strings.Contains(string(runs[0].Inputs), dev.ID) {
		t.Errorf("flow runs %+v %v; want one succeeded run with the device's id as its input", runs, err)
	}

	// Suspending can be undone: Run runs at once.
	suspendID := e.storeFlow(t, strings.NewReplacer("retire-device", "pause-device", "deactivate-device", "suspend-device").Replace(retireFlow))
	b.open("/flows/" + suspendID)
	b.fill("deviceId", e.activeDevices(t)[0].ID)
	b.click(button("Run"))
	if loc := b.location(); !strings.Contains(loc, "/flow-runs/") {
		t.Errorf("Run of a flow that only suspends: at %s; want its run's page at once", loc)
	} else {
		e.waitFlowRunEnd(t, loc)
	}
}
