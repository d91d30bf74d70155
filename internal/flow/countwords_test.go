package flow

import "testing"

// TestTriggerInputsCountInWords: the required inputs a trigger does not
// give are said as one input or as several, not "input(s)".
func TestTriggerInputsCountInWords(t *testing.T) {
	const steps = "steps:\n  - id: s\n    card: okta-devices/search-devices\n    connection: Demo org\n"
	_, err := Parse([]byte("name: t\ninputs:\n  since: {type: string, required: true}\non:\n  schedule: {every: 1h}\n" + steps))
	checkIssues(t, err, []wantIssue{{4, 1, "", "triggered runs have no value for required input since: give it under on.inputs"}})
	_, err = Parse([]byte("name: t\ninputs:\n  since: {type: string, required: true}\n  until: {type: string, required: true}\non:\n  schedule: {every: 1h}\n" + steps))
	checkIssues(t, err, []wantIssue{{5, 1, "", "triggered runs have no value for required inputs since, until: give them under on.inputs"}})
}
