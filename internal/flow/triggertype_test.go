package flow

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// issueAt is the wantIssue of a misspelt selection: at the dot before the
// first occurrence of sel in src.
func issueAt(t *testing.T, src, sel, step, contains string) wantIssue {
	t.Helper()
	for n, line := range strings.Split(src, "\n") {
		if i := strings.Index(line, sel); i >= 0 {
			return wantIssue{n + 1, i + 1, step, contains}
		}
	}
	t.Fatalf("%q is not in the document", sel)
	return wantIssue{}
}

// TestTriggerFieldsChecked: a field of trigger that runs do not have is
// refused when the flow is parsed, with its position and the fields there
// are, rather than failing every run of a flow nobody watches.
func TestTriggerFieldsChecked(t *testing.T) {
	event := strings.ReplaceAll(eventFlow, "DELIVERY", "poll")
	schedule := `name: nightly
inputs:
  since: {type: string, required: true}
on:
  schedule: {every: 1h}
  inputs:
    since: ${{ string(trigger.time) }}
` + triggerSteps
	manual := "name: manual\ninputs:\n  since: {type: string}\n" + triggerSteps
	tests := []struct {
		name, doc, old, new string
		sel, step, want     string
	}{
		{"misspelt field of trigger.event.device in on.inputs", event, "trigger.event.device.id", "trigger.event.device.nme",
			".nme", "", `on.inputs: trigger.event.device has no field "nme"; its fields are id, displayName`},
		{"misspelt event in on.event.if", event, "trigger.event.user.login.endsWith", "trigger.evnt.user.login.endsWith",
			".evnt", "", `on.event.if: trigger has no field "evnt"; its fields are kind, time, eventUuid, event (did you mean "event"?)`},
		{"misspelt field of trigger.event.user in a step", event, `trigger.kind == "event" ? "ACTIVE" : ""`, `trigger.event.user.logn`,
			".logn", "suspend", `input: trigger.event.user has no field "logn"; its fields are id, login (did you mean "login"?)`},
		{"misspelt field of the actor, by case", event, "trigger.event.device.id", "trigger.event.actor.alternateID",
			".alternateID", "", `trigger.event.actor has no field "alternateID"; its fields are id, alternateId, displayName, type (did you mean "alternateId"?)`},
		// has() is placed at its parenthesis.
		{"misspelt field of trigger.event in has()", event, "trigger.event.device.id", "string(has(trigger.event.devise))",
			"(trigger.event.devise", "", `trigger.event has no field "devise"; its fields are uuid, eventType, published, displayMessage, actor, device, user, raw (did you mean "device"?)`},
		{"a field of trigger.time", event, "trigger.event.device.id", "string(trigger.time.foo)",
			".foo", "", "type 'timestamp' does not support field selection; trigger.time is a timestamp"},
		{"a misspelt field of trigger", event, "trigger.event.device.id", "trigger.tme",
			".tme", "", `trigger has no field "tme"; its fields are kind, time, eventUuid, event (did you mean "time"?)`},
		{"trigger.event in a schedule flow's on.inputs", schedule, "string(trigger.time)", "trigger.event.uuid",
			".event.", "", "on.inputs: a flow started by on.schedule has no trigger.event (its runs have trigger.kind and trigger.time); trigger.event exists only in a flow started by Okta events (on.event)"},
		{"trigger.event in a schedule flow's step", schedule, "inputs.since }}", "trigger.event.device.id }}",
			".event.", "stale", "input: a flow started by on.schedule has no trigger.event"},
		{"trigger.event in a flow without a trigger", manual, "inputs.since }}", "trigger.event.device.id }}",
			".event.", "stale", "input: this flow has no trigger (no on:), so trigger.event does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.doc, tt.old) {
				t.Fatalf("%q is not in the document", tt.old)
			}
			src := strings.Replace(tt.doc, tt.old, tt.new, 1)
			want := issueAt(t, src, tt.sel, tt.step, tt.want)
			_, err := Parse([]byte(src))
			checkIssues(t, err, []wantIssue{want})
		})
	}
}

// TestTriggerFieldsValid: every field a run has passes the checker, raw
// stays dynamic, and the values expressions get are the maps they were.
func TestTriggerFieldsValid(t *testing.T) {
	doc := mustParse(t, `name: shapes
inputs:
  deviceId: {type: string}
  event: {type: list}
  actor: {type: list}
  time: {type: string}
  target: {type: string}
  uuid: {type: string}
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Events org
    if: ${{ trigger.kind == "event" && trigger.event.eventType.startsWith("device.") && trigger.event.displayMessage != "" && trigger.event.published != "" && trigger.event.raw.target.exists(t, t.type == "UDDevice") }}
  inputs:
    deviceId: '${{ has(trigger.event) ? trigger.event.device.id + trigger.event.device.displayName + trigger.event.user.id + trigger.event.user.login : "manual" }}'
    event: ${{ [trigger.event] }}
    actor: ${{ [trigger.event.actor] }}
    time: ${{ trigger.time - duration("24h") }}
    target: ${{ trigger.event.raw.target[0].alternateId }}
    uuid: ${{ trigger.eventUuid + trigger.event.uuid + trigger.event.actor.id + trigger.event.actor.alternateId + trigger.event.actor.displayName + trigger.event.actor.type }}
steps:
  - id: read
    card: okta-devices/read-device
    connection: Events org
    input: {deviceId: "${{ trigger.event.device.id }}"}
`)
	raw := map[string]any{"eventType": "device.user.remove",
		"target": []any{map[string]any{"id": "guo1", "type": "UDDevice", "alternateId": "laptop-1"}}}
	ev := map[string]any{"uuid": "e-1", "eventType": "device.user.remove", "published": "2025-05-01T09:00:00Z",
		"displayMessage": "Remove device from user",
		"actor":          map[string]any{"id": "00a", "alternateId": "admin@example.com", "displayName": "Admin", "type": "User"},
		"device":         map[string]any{"id": "guo1", "displayName": "Laptop"},
		"user":           map[string]any{"id": "00u1", "login": "ann@example.com"},
		"raw":            raw,
	}
	f := Firing{Kind: KindEvent, Time: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC), EventUUID: "e-1", Event: ev}
	ok, err := doc.TriggerMatches(context.Background(), f)
	if err != nil || !ok {
		t.Fatalf("TriggerMatches = %v, %v; want true", ok, err)
	}
	got, err := doc.TriggerInputs(context.Background(), f)
	if err != nil {
		t.Fatalf("TriggerInputs: %v", err)
	}
	want := map[string]any{
		"deviceId": "guo1Laptop00u1ann@example.com",
		"event":    []any{ev},
		"actor":    []any{ev["actor"]},
		"time":     "2025-04-30T09:00:00Z",
		"target":   "laptop-1",
		"uuid":     "e-1e-100aadmin@example.comAdminUser",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("TriggerInputs (-want +got):\n%s", diff)
	}

	// A run started by hand has no trigger.event: has() sees that.
	got, err = doc.TriggerInputs(context.Background(), Firing{Kind: KindManual, Time: f.Time})
	if err == nil || got != nil {
		t.Fatalf("TriggerInputs of a manual firing = %v, %v; want the error of trigger.event", got, err)
	}
	doc = mustParse(t, `name: manual-too
inputs:
  deviceId: {type: string}
on:
  event: {card: okta-devices/device-removed-from-user, connection: Events org}
  inputs:
    deviceId: '${{ has(trigger.event) ? trigger.event.device.id : trigger.kind }}'
steps:
  - id: read
    card: okta-devices/read-device
    connection: Events org
    input: {deviceId: "${{ inputs.deviceId }}"}
`)
	got, err = doc.TriggerInputs(context.Background(), Firing{Kind: KindManual, Time: f.Time})
	if err != nil || got["deviceId"] != "manual" {
		t.Errorf("TriggerInputs of a manual firing = %v, %v; want deviceId manual", got, err)
	}
}

// TestTriggerKindsChecked: an on.event.if, or a value of on.inputs, whose
// kind the checker knows and is not the one wanted is refused when the
// flow is parsed, as a step's if is, rather than failing the run of every
// event (or tick) of a flow stored and enabled without a word.
func TestTriggerKindsChecked(t *testing.T) {
	event := strings.ReplaceAll(eventFlow, "DELIVERY", "poll")
	numbers := strings.Replace(event, "  deviceId: {type: string, required: true}\n",
		"  deviceId: {type: string, required: true}\n  count: {type: number}\n  quiet: {type: bool}\n  logins: {type: list}\n", 1)
	tests := []struct {
		name, doc, old, new string
		sel, want           string
	}{
		{"an if giving a string", event, `!trigger.event.user.login.endsWith("@contractors.example.com")`, "trigger.event.device.displayName",
			"${{ trigger.event.device.displayName", `on.event.if: ${{ trigger.event.device.displayName }} gives a string; it must give true or false`},
		{"an if giving a timestamp", event, `!trigger.event.user.login.endsWith("@contractors.example.com")`, "trigger.time",
			"${{ trigger.time }}", "on.event.if: ${{ trigger.time }} gives a timestamp; it must give true or false"},
		{"a string input given an object", event, "trigger.event.device.id", "trigger.event.device",
			"${{ trigger.event.device }}", "on.inputs.deviceId: ${{ trigger.event.device }} gives an object; input deviceId is a string"},
		{"a number input given a string", numbers, "deviceId: ${{ trigger.event.device.id }}", "deviceId: ${{ trigger.event.device.id }}\n    count: ${{ trigger.event.uuid }}",
			"${{ trigger.event.uuid", "on.inputs.count: ${{ trigger.event.uuid }} gives a string; input count is a number"},
		{"a bool input given a string", numbers, "deviceId: ${{ trigger.event.device.id }}", "deviceId: ${{ trigger.event.device.id }}\n    quiet: ${{ trigger.kind }}",
			"${{ trigger.kind", "on.inputs.quiet: ${{ trigger.kind }} gives a string; input quiet is a bool"},
		{"a list input given a string", numbers, "deviceId: ${{ trigger.event.device.id }}", "deviceId: ${{ trigger.event.device.id }}\n    logins: ${{ trigger.event.user.login }}",
			"${{ trigger.event.user.login }}", "on.inputs.logins: ${{ trigger.event.user.login }} gives a string; input logins is a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tt.doc, tt.old) {
				t.Fatalf("%q is not in the document", tt.old)
			}
			src := strings.Replace(tt.doc, tt.old, tt.new, 1)
			want := issueAt(t, src, tt.sel, "", tt.want)
			_, err := Parse([]byte(src))
			checkIssues(t, err, []wantIssue{want})
		})
	}

	// What a run gives the input as it wants it, or as it may be, passes:
	// a timestamp as its text, a number, a bool, a list, null, a field of
	// raw (whose kind the checker cannot know), text around an expression.
	ok := strings.Replace(numbers, "deviceId: ${{ trigger.event.device.id }}", `deviceId: ${{ trigger.time }}
    count: ${{ double(trigger.time.getHours()) }}
    quiet: ${{ trigger.event.raw.debugContext.quiet }}
    logins: ${{ [trigger.event.user.login] }}`, 1)
	ok = strings.Replace(ok, `!trigger.event.user.login.endsWith("@contractors.example.com")`, "trigger.event.raw.outcome.result", 1)
	if _, err := Parse([]byte(ok)); err != nil {
		t.Errorf("Parse: %v", err)
	}
	for _, v := range []string{"${{ null }}", "${{ trigger.event.raw.target }}", "${{ int(1) }}", `id-${{ trigger.event.device.id }}`} {
		src := strings.Replace(numbers, "deviceId: ${{ trigger.event.device.id }}", "deviceId: x\n    count: "+v, 1)
		if strings.HasPrefix(v, "id-") {
			src = strings.Replace(numbers, "deviceId: ${{ trigger.event.device.id }}", "deviceId: "+v, 1)
		}
		if _, err := Parse([]byte(src)); err != nil {
			t.Errorf("on.inputs %s: Parse: %v", v, err)
		}
	}
}
