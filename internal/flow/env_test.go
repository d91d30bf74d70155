package flow

import (
	"context"
	"strings"

	"github.com/cardflow/cardflow/internal/problem"
)

// testEnv is a ValidateEnv listing the nine okta-devices cards and a set of
// connections.
type testEnv struct {
	conns []ConnInfo
}

func deviceInput() []InputInfo {
	return []InputInfo{{Name: "deviceId", Type: "string", Required: true}}
}

var (
	str       = &Shape{Kind: "string"}
	number    = &Shape{Kind: "number"}
	boolean   = &Shape{Kind: "bool"}
	devStatus = &Shape{Kind: "string", Enum: []string{"ACTIVE", "CREATED", "DEACTIVATED", "SUSPENDED", "DELETED"}}
)

var lifecycleOutput = object([]string{"deviceId", "status", "changed", "basis", "note"},
	map[string]*Shape{"deviceId": str, "status": devStatus, "changed": boolean, "basis": {Kind: "string", Enum: []string{"known", "read"}}, "note": str})

// testDevice is the shape of a device, as card.DeviceValue makes it.
var testDevice = object([]string{"id", "status", "created", "lastUpdated", "profile", "resourceType", "resourceId", "resourceAlternateId", "resourceDisplayName", "_embedded"},
	map[string]*Shape{"profile": object([]string{"displayName", "platform", "registered", "manufacturer", "model", "osVersion", "serialNumber"},
		map[string]*Shape{"displayName": str, "platform": {Kind: "string", Enum: []string{"ANDROID", "IOS", "MACOS", "WINDOWS"}}, "registered": boolean,
			"manufacturer": str, "model": str, "osVersion": str, "serialNumber": str}),
		"id": str, "status": devStatus, "created": str, "lastUpdated": str})

func object(keys []string, values map[string]*Shape) *Shape {
	return &Shape{Keys: keys, Values: values}
}

// lifecycleInput: the device and, optionally, its known status.
func lifecycleInput() []InputInfo {
	return []InputInfo{{Name: "deviceId", Type: "string", Required: true}, {Name: "status", Type: "string"}}
}

var testCards = map[string]CardInfo{
	"okta-devices/search-devices": {Mode: ModeRead, Scope: "okta.devices.read", Inputs: []InputInfo{
		{Name: "status", Type: "string"}, {Name: "platform", Type: "string"}, {Name: "manufacturer", Type: "string"},
		{Name: "model", Type: "string"}, {Name: "osVersion", Type: "string"}, {Name: "registered", Type: "bool"},
		{Name: "secureHardwarePresent", Type: "bool"}, {Name: "diskEncryptionType", Type: "string"},
		{Name: "search", Type: "string", Filter: true}, {Name: "expand", Type: "string"}, {Name: "resultSet", Type: "string"},
	}, Output: object([]string{"devices", "count"}, map[string]*Shape{"devices": {Item: testDevice}, "count": number})},
	"okta-devices/read-device":       {Mode: ModeRead, Scope: "okta.devices.read", Inputs: deviceInput(), Output: object([]string{"device"}, map[string]*Shape{"device": testDevice})},
	"okta-devices/list-device-users": {Mode: ModeRead, Scope: "okta.devices.read", Inputs: deviceInput(), Output: object([]string{"users", "count"}, nil)},
	"okta-devices/activate-device":   {Mode: ModeManage, Scope: "okta.devices.manage", Inputs: lifecycleInput(), Output: lifecycleOutput},
	"okta-devices/deactivate-device": {Mode: ModeManage, Scope: "okta.devices.manage", Inputs: lifecycleInput(), Output: lifecycleOutput},
	"okta-devices/suspend-device":    {Mode: ModeManage, Scope: "okta.devices.manage", Inputs: lifecycleInput(), Output: lifecycleOutput},
	"okta-devices/unsuspend-device":  {Mode: ModeManage, Scope: "okta.devices.manage", Inputs: lifecycleInput(), Output: lifecycleOutput},
	"okta-devices/delete-device": {Mode: ModeManage, Scope: "okta.devices.manage", Inputs: []InputInfo{
		{Name: "deviceId", Type: "string", Required: true}, {Name: "status", Type: "string"}, {Name: "deactivateFirst", Type: "bool"},
	}},
	"okta-devices/custom-api-action": {Mode: ModeManage, Inputs: []InputInfo{
		{Name: "method", Type: "string", Required: true}, {Name: "url", Type: "string", Required: true},
		{Name: "query", Type: "object"}, {Name: "headers", Type: "object"}, {Name: "body", Type: "object"},
	}},
}

func (e *testEnv) Card(ref string) (CardInfo, bool) {
	c, ok := testCards[ref]
	c.Ref = ref
	return c, ok
}

func (e *testEnv) Connection(_ context.Context, connector, nameOrID string) (ConnInfo, error) {
	if connector != "okta-devices" {
		return ConnInfo{}, problem.New(problem.NotFound, "no connector %q", connector)
	}
	for _, c := range e.conns {
		if c.ID == nameOrID || strings.EqualFold(c.Nickname, nameOrID) {
			return c, nil
		}
	}
	return ConnInfo{}, problem.New(problem.NotFound, "no connection %q", nameOrID)
}

// demoEnv has the connection the examples use, with both device scopes.
func demoEnv() *testEnv {
	return &testEnv{conns: []ConnInfo{
		{ID: "conn_demo", Nickname: "Demo org", Status: "active", GrantedScopes: []string{"openid", "okta.devices.read", "okta.devices.manage"}},
		{ID: "conn_ro", Nickname: "Read only", Status: "active", GrantedScopes: []string{"openid", "okta.devices.read"}},
		{ID: "conn_old", Nickname: "Old org", Status: "needs_reauthorization", GrantedScopes: []string{"okta.devices.read", "okta.devices.manage"}},
	}}
}
