package console_test

import (
	"strings"
	"testing"
)

// TestBrowserFlowQuestionSaysThePlanFails: the question before a run of a
// flow that cannot be undone says, above its Run button, that the run
// would fail when the plan it shows has failures, naming the steps with
// links to them in the plan, where the question asked the same as for a
// plan that would work and only the red lines further down the page said
// that a device of that id did not exist. A plan without failures gets
// no such line.
func TestBrowserFlowQuestionSaysThePlanFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	dev := e.activeDevices(t)[0]
	flowID := e.storeFlow(t, retireFlow)
	b := newTab(t, e)
	b.signIn()
	b.open("/flows/" + flowID)
	b.fill("deviceId", "guo0000000000notthere")
	b.click(button("Run"))
	b.wantText("Run retire-device?")
	got := eval[string](b, "read the question's warning", `document.querySelector('#confirm #confirm-failing')?.innerText ?? ''`)
	if want := "This run would fail: in the plan below, steps look, retire have failures, and a run now fails the same way."; !strings.HasPrefix(got, want) {
		t.Errorf("the question's warning reads %q; want it to start %q", got, want)
	}
	if href := eval[string](b, "the link to the step", `document.querySelector('#confirm-failing a')?.getAttribute('href') ?? ''`); href != "#plan-step-look" ||
		!strings.HasPrefix(b.text(`//*[@id="plan-step-look"]`), "Step look") {
		t.Errorf("the warning's first link goes to %q; want #plan-step-look, the heading of step look in the plan", href)
	}
	b.screenshot("flow-confirm-fails-desktop")
	b.setWidth(phoneWidth)
	b.screenshot("flow-confirm-fails-phone")
	if w := eval[[]int](b, "measure the page", `[document.documentElement.scrollWidth, document.documentElement.clientWidth]`); w[0] > w[1] {
		t.Errorf("at %d px the page is %d px wide; want it to fit", w[1], w[0])
	}

	b.open("/flows/" + flowID)
	b.fill("deviceId", dev.ID)
	b.click(button("Run"))
	b.wantText("Run retire-device?")
	if n := eval[int](b, "count the warnings", `document.querySelectorAll('#confirm-failing').length`); n != 0 {
		t.Errorf("the question of a plan without failures has %d warnings that the run would fail; want none", n)
	}
}
