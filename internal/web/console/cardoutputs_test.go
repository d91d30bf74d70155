package console_test

import (
	"strings"
	"testing"
)

// TestCardsPageShowsOutputs: the Cards page says what each card outputs
// (the keys a flow reads from steps.ID.output) and what an event card
// gives its flow, which a flow's author needs and the page did not say.
func TestCardsPageShowsOutputs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, _ := signInHTTP(t, e.url, "/cards")
	_, page := get(t, c, e.url+"/cards")
	for _, w := range []string{
		"Outputs (<code>steps.ID.output</code>): devices, count",
		"Outputs (<code>steps.ID.output</code>): deviceId, status, changed, basis, note",
		"An event card's flow reads the event in its expressions as <code>trigger.event: uuid, eventType,",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("the Cards page lacks %s", w)
		}
	}
}
