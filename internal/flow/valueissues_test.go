package flow

import (
	"context"
	"testing"
)

// TestBadValueHidesNothing: a value that is wrong but leaves the document
// whole (a delivery none of the three, a cron, zone or startingDeadline
// that does not parse, a step's concurrency of 0, a card that is no reference) is reported with
// the trigger's and the steps' other problems, each at its line, so that an
// admin sees every problem in one round rather than one after the other.
func TestBadValueHidesNothing(t *testing.T) {
	env := eventEnv{&testEnv{conns: append(demoEnv().conns, ConnInfo{ID: "conn_ev", Nickname: "Events org", Status: "active",
		GrantedScopes: []string{"okta.devices.read", "okta.devices.manage", "okta.logs.read"}})}}
	tests := []struct {
		name string
		src  string
		want []wantIssue
	}{
		{"bad delivery", `name: quarantine
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Events org
    delivery: push
    if: ${{ trigger.event.user.lgin == "x" }}
  inputs:
    deviceId: ${{ trigger.event.device.id }}
    reason: x
steps:
  - id: suspend
    card: okta-devices/suspend-devic
    connection: Events org
    input:
      deviceId: ${{ inputs.devceId }}
  - id: read
    card: okta-devices/read-device
    connection: Nope org
    input:
      deviceId: ${{ inputs.deviceId }}
`, []wantIssue{
			{8, 15, "", `delivery "push" is not one of hook, poll and hook+poll`},
			{9, 31, "", `on.event.if: trigger.event.user has no field "lgin"`},
			{12, 13, "", `on.inputs.reason: the flow has no input "reason"`},
			{15, 11, "suspend", `unknown card "okta-devices/suspend-devic"`},
			{18, 21, "suspend", `inputs.devceId`},
			{21, 17, "read", `there is no okta-devices connection "Nope org"`},
		}},
		{"bad delivery and the trigger's connection", `name: quarantine
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Other org
    delivery: hook+pull
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Events org
    input:
      deviceId: ${{ inputs.deviceId }}
`, []wantIssue{
			{5, 3, "", `on.event: there is no okta-devices connection "Other org"`},
			{8, 15, "", `delivery "hook+pull" is not one of`},
		}},
		{"event card, connection and if that are no values", `name: quarantine
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: device.user.remove
    connection: ${{ inputs.conn }}
    if: sometimes
  inputs:
    deviceId: ${{ trigger.event.device.id }}
    deviceID: x
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Events org
    concurrency: 0
    input:
      deviceId: ${{ inputs.deviceId }}
      stauts: ACTIVE
`, []wantIssue{
			{6, 5, "", `card "device.user.remove" is not an event card reference`},
			{7, 5, "", `on.event.connection cannot hold an expression`},
			{8, 5, "", `on.event.if must be true, false or one ${{ }} expression`},
			{11, 15, "", `on.inputs.deviceID: the flow has no input "deviceID"`},
			{16, 18, "suspend", `concurrency is 0; use a number from 1 to`},
			{19, 15, "suspend", `card okta-devices/suspend-device has no input "stauts"`},
		}},
		{"bad cron and zone", `name: nightly
inputs:
  since: {type: string, required: true}
on:
  schedule:
    cron: "0 25 * * *"
    timezone: Europe/Berln
  inputs:
    snce: ${{ string(trigger.time) }}
steps:
  - id: stale
    card: okta-devices/search-devices
    connection: Demo orgg
    input:
      search: 'lastUpdated lt "${{ inputs.since }}"'
      resultSte: all
`, []wantIssue{
			{4, 1, "", `triggered runs have no value for required input since: give it under on.inputs`},
			{6, 11, "", `cron "0 25 * * *": the hour field "25"`},
			{7, 15, "", `timezone "Europe/Berln" is not a known zone`},
			{9, 11, "", `on.inputs.snce: the flow has no input "snce"`},
			{13, 17, "stale", `there is no okta-devices connection "Demo orgg"`},
			{16, 18, "stale", `has no input "resultSte"`},
		}},
		{"bad interval", `name: hourly
on:
  schedule:
    every: 30s
  inputs:
    since: ${{ trigger.time }}
steps:
  - id: stale
    card: okta-devices/search-devices
    connection: Demo org
    if: ${{ trigger.event.uuid != "" }}
`, []wantIssue{
			{4, 12, "", `every is 30s; the shortest interval is 1m`},
			{6, 12, "", `on.inputs.since: the flow has no input "since"`},
			{11, 20, "stale", `a flow started by on.schedule has no trigger.event`},
		}},
		{"bad starting deadline", `name: nightly
inputs:
  since: {type: string, required: true}
on:
  schedule:
    cron: "0 2 * * *"
    startingDeadline: 30s
  inputs:
    snce: ${{ string(trigger.time) }}
steps:
  - id: stale
    card: okta-devices/search-devices
    connection: Demo orgg
`, []wantIssue{
			{4, 1, "", `triggered runs have no value for required input since: give it under on.inputs`},
			{7, 23, "", `startingDeadline is 30s; the shortest is 1m`},
			{9, 11, "", `on.inputs.snce: the flow has no input "snce"`},
			{13, 17, "stale", `there is no okta-devices connection "Demo orgg"`},
		}},
		{"an input's type and default", `name: inputs
inputs:
  login: {type: strng, required: true}
  days: {type: number, default: "ninety"}
  since: {type: string, required: true, default: x}
  note: {description: a note}
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo orgg
    input:
      search: 'profile.displayName eq "${{ inputs.login }}" and x eq "${{ inputs.days + 1.0 }}${{ inputs.note }}${{ inputs.since }}"'
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    input:
      deviceId: ${{ item.id }}
`, []wantIssue{
			{3, 11, "", `input "login" has type "strng"; the types are string, number, bool and list (did you mean "string"?)`},
			{4, 24, "", `the default of input "days": got a string; want a number`},
			{5, 41, "", `input "since" is required and has a default`},
			{6, 3, "", `input "note" has no type`},
			{10, 17, "find", `there is no okta-devices connection "Demo orgg"`},
			{17, 21, "suspend", `item`},
		}},
		{"cron and every", `name: b3
inputs:
  since: {type: string, required: true}
on:
  schedule:
    cron: "0 2 * * 1-5"
    every: 1h
    timezone: Europe/Berlin
  inputs:
    snce: x
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo orgg
`, []wantIssue{
			{4, 1, "", `triggered runs have no value for required input since`},
			{5, 3, "", `on.schedule has both cron and every; keep one`},
			{10, 11, "", `on.inputs.snce: the flow has no input "snce"`},
			{14, 17, "find", `there is no okta-devices connection "Demo orgg"`},
		}},
		{"neither cron nor every", `name: b4
on:
  schedule:
    timezone: Europe/Berlin
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo orgg
`, []wantIssue{
			{3, 3, "", `on.schedule has neither cron nor every`},
			{8, 17, "find", `there is no okta-devices connection "Demo orgg"`},
		}},
		{"a step's card and connection that are no values, and a name", `name: a/b
inputs:
  login: {type: string, required: maybe}
steps:
  - id: find
    card: search devices
    connection: ""
    input:
      search: ${{ inputs.lgin }}
  - id: read
    card: okta-devices/read-device
    connection: Demo org
    if: sometimes
    input: {deviceId: "${{ steps.find.output.devices[0].id }}", extra: 1}
`, []wantIssue{
			{1, 1, "", `name "a/b" looks like a path`},
			{3, 25, "", `required of input "login" must be true or false`},
			{6, 5, "find", `card "search devices" is not a card reference`},
			{7, 5, "find", `connection is empty`},
			{9, 19, "find", `inputs.lgin`},
			{13, 5, "read", `if must be true, false or one ${{ }} expression`},
			{14, 72, "read", `card okta-devices/read-device has no input "extra"`},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(context.Background(), []byte(tt.src), env)
			checkIssues(t, err, tt.want)
		})
	}
}
