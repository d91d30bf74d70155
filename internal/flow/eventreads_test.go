package flow

import (
	"strings"
	"testing"
)

// TestEventReads: the steps of an event flow that read trigger.event or
// trigger.eventUuid are found with their place, since a run started by
// hand has no event; reads in on.inputs (inputs a person can give), reads
// guarded by has(), and flows of other kinds are not.
func TestEventReads(t *testing.T) {
	const head = `name: quarantine
on:
  event: {card: okta-devices/device-removed-from-user, connection: Events org}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Events org
    input:
`
	tests := []struct {
		name, doc string
		want      []EventRead
	}{
		{"a step reads the event", head + "      deviceId: ${{ trigger.event.device.id }}\n",
			[]EventRead{{Step: "suspend", Pos: Pos{Line: 9, Column: 28}, Expr: "trigger.event.device.id"}}},
		{"a step reads the event's uuid", head + "      deviceId: x-${{ trigger.eventUuid }}\n",
			[]EventRead{{Step: "suspend", Pos: Pos{Line: 9, Column: 30}, Expr: "trigger.eventUuid"}}},
		{"guarded by has()", head + "      deviceId: '${{ has(trigger.event.device) ? trigger.event.device.id : \"none\" }}'\n", nil},
		{"inputs computed by on.inputs", strings.ReplaceAll(eventFlow, "DELIVERY", "poll"), nil},
		{"a flow without on:", "name: manual\nsteps:\n  - id: s\n    card: okta-devices/read-device\n    connection: c\n    input: {deviceId: x}\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustParse(t, tt.doc).EventReads()
			if len(got) != len(tt.want) {
				t.Fatalf("EventReads = %+v; want %+v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("EventReads[%d] = %+v; want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}
