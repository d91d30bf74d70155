package flow

import (
	"context"
	"strings"
	"testing"
)

// outputsFlow is a flow whose if (line 13, its expression from column 13)
// sees a search's devices as item, its output as steps.find.output and
// steps["find-all"].output, and a for_each step's outputs.
func outputsFlow(cond string) string {
	return `name: f
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
  - id: find-all
    card: okta-devices/search-devices
    connection: Demo org
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    if: ${{ ` + cond + ` }}
    input:
      deviceId: ${{ item.id }}
  - id: after
    card: okta-devices/read-device
    connection: Demo org
    for_each: ${{ steps.suspend.outputs }}
    input:
      deviceId: ${{ item.deviceId }}
`
}

// TestOutputTypesRefused checks that comparisons and operations on a
// card's output that a run could never match or could not do are refused
// at validation, at the operator's line and column, with the fix.
func TestOutputTypesRefused(t *testing.T) {
	tests := []struct {
		cond string
		col  int
		want string
	}{
		{`item.status == 1`, 25, `if: item.status is a string and 1 a number, so item.status == 1 is never true; it is one of ACTIVE, CREATED, DEACTIVATED, SUSPENDED, DELETED: compare with a string, e.g. "ACTIVE"`},
		{`item.status != 1`, 25, `so item.status != 1 is always true`},
		{`item.status in [1, 2]`, 25, `item.status is a string and [1, 2] holds numbers, so item.status in [1, 2] is never true`},
		{`item["status"] == 1`, 28, `item["status"] is a string and 1 a number`},
		{`steps.find.output.count == "3"`, 37, `steps.find.output.count is a number and "3" a string, so steps.find.output.count == "3" is never true; compare with the number 3, without quotes`},
		{`steps["find-all"].output.count == "3"`, 44, `is a number and "3" a string`},
		{`steps.find.output.count + 1 > 2.0`, 37, `steps.find.output.count is a number, a double as every number of an input or a card, and 1 an int: steps.find.output.count + 1 needs two of a kind, so the run would fail there; write 1.0`},
		{`item.profile.registered == "true"`, 37, `item.profile.registered is a bool and "true" a string, so item.profile.registered == "true" is never true; compare with true, without quotes`},
		{`item.profile.osVersion == 14`, 36, `compare with a string, e.g. "14"`},
		{`item.profile.osVersion >= 14`, 36, `item.profile.osVersion is a string and 14 a number: >= cannot compare them, so the run would fail there; convert it with int(item.profile.osVersion) or double(item.profile.osVersion) where it always holds a number (strings compare as text: "9" > "14")`},
		{`item.lastUpdated < timestamp("2024-01-01T00:00:00Z")`, 30, `item.lastUpdated is a time written as text: compare timestamp(item.lastUpdated)`},
		{`item.status && true`, 17, `item.status is a string, not a bool (true or false), so the run would fail there: compare it, e.g. item.status == "ACTIVE"`},
		{`steps.find.output.devices.exists(d, d.status == 1)`, 58, `d.status is a string and 1 a number`},
		{`item.status == "active"`, 28, `item.status is one of ACTIVE, CREATED, DEACTIVATED, SUSPENDED, DELETED; "active" is none of them, so item.status == "active" is never true (did you mean "ACTIVE"? values are case-sensitive)`},
		{`item.status != "SUSPENDD"`, 28, `"SUSPENDD" is none of them, so item.status != "SUSPENDD" is always true (did you mean "SUSPENDED"?)`},
		{`"macOS" == item.profile.platform`, 13, `item.profile.platform is one of ANDROID, IOS, MACOS, WINDOWS; "macOS" is none of them, so "macOS" == item.profile.platform is never true (did you mean "MACOS"?`},
		{`item.status in ["ACTIVE", "Suspended"]`, 39, `"Suspended" is none of them, so item.status in ["ACTIVE", "Suspended"] is never true (did you mean "SUSPENDED"?`},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			_, err := Check(context.Background(), []byte(outputsFlow(tt.cond)), demoEnv())
			checkIssues(t, err, []wantIssue{{13, tt.col, "suspend", tt.want}})
		})
	}
	t.Run("a field of a list", func(t *testing.T) {
		src := outputsFlow("true") + "  - id: one\n    card: okta-devices/read-device\n    connection: Demo org\n    input:\n      deviceId: ${{ steps.find.output.devices.id }}\n"
		_, err := Check(context.Background(), []byte(src), demoEnv())
		checkIssues(t, err, []wantIssue{{26, 46, "one", `steps.find.output.devices.id: steps.find.output.devices is a list, which has no field "id": select from one of its items (steps.find.output.devices[0].id), or take the field of each with steps.find.output.devices.map(x, x.id)`}})
	})
	t.Run("a device's id and a manage card's deviceId", func(t *testing.T) {
		src := strings.Replace(outputsFlow("item.deviceId != \"\""), "deviceId: ${{ item.deviceId }}", "deviceId: ${{ item.id }}", 1)
		_, err := Check(context.Background(), []byte(src), demoEnv())
		checkIssues(t, err, []wantIssue{{13, 13, "suspend", `item has no field "deviceId" (did you mean "id"?)`}, {21, 21, "after", `item has no field "id" (did you mean "deviceId"?)`}})
	})
	t.Run("a for_each step's outputs", func(t *testing.T) {
		src := outputsFlow("true") + "    if: ${{ steps.suspend.outputs.exists(o, o.changed == 1) }}\n"
		_, err := Check(context.Background(), []byte(src), demoEnv())
		checkIssues(t, err, []wantIssue{{22, 55, "after", `o.changed is a bool and 1 a number, so o.changed == 1 is never true; compare with true`}})
	})
	t.Run("a later step's item", func(t *testing.T) {
		src := outputsFlow("true") + "    if: ${{ item.changed == \"true\" }}\n"
		_, err := Check(context.Background(), []byte(src), demoEnv())
		checkIssues(t, err, []wantIssue{{22, 26, "after", `item.changed is a bool and "true" a string, so item.changed == "true" is never true; compare with true, without quotes`}})
	})
}

// TestOutputTypesAllowed checks expressions on outputs that runs do as
// meant: numbers compared whatever their kind, null and has() for keys Okta
// leaves out, outputs as maps, and values nothing is known of.
func TestOutputTypesAllowed(t *testing.T) {
	for _, cond := range []string{
		`steps.find.output.count == 3`,
		`steps.find.output.count != 0 && steps.find.output.count > 2`,
		`steps.find.output.count in [1, 2]`,
		`item.status == "ACTIVE"`,
		`item.status in ["ACTIVE", "SUSPENDED"]`,
		`item.status != "" && item.profile.platform == "MACOS" && steps.find.output.devices.exists(d, d.status == "CREATED")`,
		`item.status == null || item.profile.displayName == ""`,
		`has(item.profile.serialNumber) && item.profile.serialNumber.startsWith("C02")`,
		`item.profile.registered`,
		`!item.profile.registered || item.profile.registered == true`,
		`item.profile["platform"] == "MACOS"`,
		`"serialNumber" in item.profile`,
		`size(item.status) > 0 && int(steps.find.output.count) == 3`,
		`item.profile.registered ? item.status == "ACTIVE" :false`,
		`timestamp(item.lastUpdated) < timestamp("2024-01-01T00:00:00Z")`,
		`item.profile.displayName + " (" + item.id + ")" != ""`,
		`string(steps.find.output.count) != ""`,
		`steps["find-all"].output.devices.exists(d, d.id == item.id)`,
		`index < 3 && int(item.profile.osVersion.split(".")[0]) >= 14 && item.profile.osVersion.matches("^[0-9]+")`,
	} {
		t.Run(cond, func(t *testing.T) {
			if _, err := Check(context.Background(), []byte(outputsFlow(cond)), demoEnv()); err != nil {
				t.Errorf("Check: %v; want none", err)
			}
		})
	}
}
