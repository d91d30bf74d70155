package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIFlowMistakes: the mistakes a person makes writing a flow's YAML
// are refused by flows validate (and so before a run) at the line and
// column to fix, saying what to do. A literal that is not one of a card
// input's values (resultSet: everything) was accepted as valid and
// stored, and refused only when a run or a plan reached the step; a key
// indented once too often was reported at the line above it as "mapping
// value is not allowed in this context; fix the YAML syntax".
func TestCLIFlowMistakes(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	const find = "name: mistake\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Demo org\n"
	tests := []struct {
		name, src, want string
	}{
		{"a value the input does not take", find + "    input:\n      resultSet: everything\n",
			`:7:18: step find: input "resultSet" of card okta-devices/search-devices must be one of first, first200, all, not "everything"`},
		{"a misspelt value", find + "    input:\n      expand: userSumary\n",
			`:7:15: step find: input "expand" of card okta-devices/search-devices must be one of user, userSummary, not "userSumary" (did you mean "userSummary"?)`},
		{"a key indented once too often", "name: mistake\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Demo org\n     input:\n      status: ACTIVE\n",
			`:6:6: YAML syntax error: mapping value is not allowed in this context; "input:" is indented 5 spaces, where "connection:" on line 5 is indented 4: indent the keys of one mapping by the same number of spaces`},
		{"a flow input outside the quotes of a filter", "name: mistake\ninputs:\n  name: {type: string, required: true}\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Demo org\n    input:\n      search: profile.displayName eq ${{ inputs.name }}\n",
			`:9:38: step find: input "search" of card okta-devices/search-devices: ${{ inputs.name }} after eq is outside double quotes, so its value would be read as filter text`},
		{"a card input beside input:", find + "    input:\n    status: ACTIVE\n",
			`:7:5: step find: unknown key "status"; a step has id, card, connection, input, for_each, concurrency, if; if status is an input of the card, indent it under input: (further than input: on line 6)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "mistake.yaml")
			writeFile(t, file, tt.src)
			code, out, errOut := runCLI(t, s.vars, "flows", "validate", file)
			if code != exitFailure || !strings.Contains(out, "mistake.yaml"+tt.want) {
				t.Errorf("flows validate: exit %d\n%s%s\nwant exit %d and %q", code, out, errOut, exitFailure, tt.want)
			}
			if code, out, errOut := runCLI(t, s.vars, "flows", "store", file); code == exitOK {
				t.Errorf("flows store: exit 0\n%s%s; want it refused", out, errOut)
			}
		})
	}
	// Values are compared ignoring case, as the card does when it runs.
	file := filepath.Join(t.TempDir(), "fine.yaml")
	writeFile(t, file, find+"    input:\n      status: active\n      resultSet: ALL\n")
	if code, out, errOut := runCLI(t, s.vars, "flows", "validate", file); code != exitOK {
		t.Errorf("flows validate of values in other capitals: exit %d\n%s%s; want it valid", code, out, errOut)
	}
}

// TestCLIStoredFlowGivenAsAFile: flows run and plan of a file that is not
// there, named after a stored flow (offboard-user-devices.yml), say that
// the stored flow is used by its name alone, where they said only that
// the file is not there.
func TestCLIStoredFlowGivenAsAFile(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", "../../examples/offboard-user-devices.yaml"); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	for _, cmd := range []string{"run", "plan"} {
		code, out, errOut := runCLI(t, s.vars, "flows", cmd, "offboard-user-devices.yml", "--input", "login=user@example.com")
		const want = "no such file or directory (a path relative to the current directory, "
		const hint = "; a stored flow is named offboard-user-devices: give its name alone to use it\n"
		if code != exitUsage || !strings.Contains(errOut, want) || !strings.HasSuffix(errOut, hint) {
			t.Errorf("flows %s offboard-user-devices.yml: exit %d\n%s%s\nwant exit %d ending in %q", cmd, code, out, errOut, exitUsage, hint)
		}
	}
	if code, _, errOut := runCLI(t, s.vars, "flows", "run", "nothing-stored.yaml"); code != exitUsage || strings.Contains(errOut, "a stored flow") {
		t.Errorf("flows run nothing-stored.yaml: exit %d\n%s; want exit %d naming no stored flow", code, errOut, exitUsage)
	}
}
