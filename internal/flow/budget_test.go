package flow

import (
	"context"
	"os"
	"strings"
	"testing"
)

// costlyFlow suspends a search's devices under an if that loops over 300
// numbers for each device (some 2 000 cost units), then reads a device.
const costlyFlow = `name: costly
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    if: ${{ item.status == "ACTIVE" && !lists.range(300).exists(i, i == 1000) }}
    input:
      deviceId: ${{ item.id }}
  - id: after
    card: okta-devices/read-device
    connection: Demo org
    input:
      deviceId: guo0000
`

// TestCostBudgetSpentStopsTheRun checks that once the expressions of a run
// have spent Runner.CostBudget, the item that spent it fails naming the
// step, the budget and the fix, no other item of its step starts (none of
// their cards is called), and the steps after it do not run.
func TestCostBudgetSpentStopsTheRun(t *testing.T) {
	doc := validated(t, costlyFlow)
	cards := newDeviceCards(40)
	r := &Runner{Cards: cards, State: newMemState(), CostBudget: 20_000}
	res, err := r.Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Status != StatusFailed {
		t.Errorf("run status = %s; want failed", res.Status)
	}
	suspend, after := res.Steps[1], res.Steps[2]
	const spent = `the flow's expressions went over the budget of one plan or run (20 000 CEL cost units in all) in step "suspend"; make the step's expressions cheaper`
	if suspend.Status != StatusFailed || suspend.Failed != 1 || !strings.Contains(suspend.Error, spent) || !strings.Contains(suspend.Error, "items were left undone") {
		t.Errorf("step suspend = %+v; want failed, 1 item failed, saying %q and how many items were left undone", suspend, spent)
	}
	if done := suspend.Succeeded + suspend.Failed + suspend.Skipped; done == 0 || done >= 40 {
		t.Errorf("step suspend finished %d of its 40 items; want the budget to stop it part way", done)
	}
	if got := cards.totalRunCalls(); got >= 20 {
		t.Errorf("%d suspensions were sent; want those of the items before the budget was spent (under 20 of the 20 active devices)", got)
	}
	if after.Status != StatusSkipped || !strings.Contains(after.Error, "not run: "+spent) {
		t.Errorf("step after = %+v; want skipped, not run, naming the budget spent in step suspend", after)
	}

	plan, err := (&Runner{Cards: newDeviceCards(40), CostBudget: 20_000}).Plan(context.Background(), doc, nil)
	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	errs := plan.Steps[1].Errors
	if len(errs) != 2 || !strings.Contains(errs[0].Message, spent) || errs[1].Index != -1 || !strings.Contains(errs[1].Message, "items were left undone") {
		t.Errorf("plan errors of suspend = %+v; want the item that spent the budget and one line for the items left undone", errs)
	}
	if e := plan.Steps[2].Errors; len(e) != 1 || !strings.Contains(e[0].Message, "not run: "+spent) {
		t.Errorf("plan errors of after = %+v; want not run", e)
	}
}

// TestCostBudgetFitsBigFlows checks that the examples, over 1 000 devices
// each with two users, spend under a 500th of RunCostBudget: the same flows
// over 100 000 devices spend under a fifth of it, and so does any one
// evaluation of theirs (the offboarding filter() over every device), which
// costLimit bounds.
func TestCostBudgetFitsBigFlows(t *testing.T) {
	for _, f := range []string{"offboard-user-devices.yaml", "stale-device-cleanup.yaml"} {
		t.Run(f, func(t *testing.T) {
			src, err := os.ReadFile("../../examples/" + f)
			if err != nil {
				t.Fatal(err)
			}
			doc := validated(t, string(src))
			cards := newDeviceCards(1000)
			for _, d := range cards.devices {
				d["_embedded"] = map[string]any{"users": []any{
					map[string]any{"user": map[string]any{"profile": map[string]any{"login": "someone.else@example.com"}}},
					map[string]any{"user": map[string]any{"profile": map[string]any{"login": "leaver@example.com"}}},
				}}
			}
			inputs := map[string]any{"login": "Leaver@example.com", "since": "2024-01-01T00:00:00.000Z"}
			if f == "stale-device-cleanup.yaml" {
				delete(inputs, "login")
			} else {
				delete(inputs, "since")
			}
			res, err := (&Runner{Cards: cards, State: newMemState(), CostBudget: RunCostBudget / 500}).Run(context.Background(), "r", doc, inputs)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for _, st := range res.Steps {
				if strings.Contains(st.Error, "budget") {
					t.Errorf("step %s: %s; want the flow over 1 000 devices within a 500th of the budget", st.ID, st.Error)
				}
			}
		})
	}
}
