package flow

import "testing"

// TestStepCondition: a step's if as written, for a page to show: the
// expression inside ${{ }}, a literal as itself, nothing without an if.
func TestStepCondition(t *testing.T) {
	doc, err := Parse([]byte(`name: conditions
steps:
  - id: plain
    card: okta-devices/search-devices
    connection: Demo org
  - id: expr
    card: okta-devices/search-devices
    connection: Demo org
    if: ${{  steps.plain.output.count > 0 }}
  - id: literal
    card: okta-devices/search-devices
    connection: Demo org
    if: false
`))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"plain": "", "expr": "steps.plain.output.count > 0", "literal": "false"} {
		st, _ := doc.Step(id)
		if got := st.Condition(); got != want {
			t.Errorf("step %s: Condition() = %q; want %q", id, got, want)
		}
	}
}
