package card

import (
	"context"
	"maps"
	"slices"
	"strings"
)

// Card modes: a read card never changes the org; a manage card may; an
// event card does not run but starts flows (on.event).
const (
	ModeRead   = "read"
	ModeManage = "manage"
	ModeEvent  = "event"
)

// Card kinds, as GET /api/v1/connectors lists them.
const (
	KindAction = "action"
	KindEvent  = "event"
)

// The Okta Devices connector and its scopes.
const (
	ConnectorID   = "okta-devices"
	ConnectorName = "Okta Devices"
	ScopeRead     = "okta.devices.read"
	ScopeManage   = "okta.devices.manage"
	// ScopeEventHooks lets event cards register an Okta event hook
	// (hook delivery); ScopeLogs lets them read the System Log (poll).
	ScopeEventHooks = "okta.eventHooks.manage"
	ScopeLogs       = "okta.logs.read"
)

// Event deliveries.
const (
	DeliveryHook     = "hook"
	DeliveryPoll     = "poll"
	DeliveryHookPoll = "hook+poll"
)

// Input types.
const (
	TypeString = "string"
	TypeBool   = "bool"
	TypeNumber = "number"
	TypeList   = "list"
	TypeObject = "object"
	TypeAny    = "any"
)

// Connector is one connector: its cards and the Okta API scopes they use.
// The API serves the catalogue as api.Connector.
type Connector struct {
	ID            string
	Name          string
	Description   string
	Scopes        []ScopeInfo
	DefaultScopes []string
	Cards         []Card
}

// ScopeInfo is one Okta API scope of a connector's catalogue and what it
// enables.
type ScopeInfo struct {
	Name        string
	Description string
}

// Card describes one card. Scope is the Okta API scope it needs; it is
// empty for custom-api-action, whose scope depends on the path it calls
// (see RequiredScope), and for event cards, whose scopes depend on the
// delivery (DeliveryScopes). Mode is ModeRead, ModeManage or ModeEvent;
// Kind is KindAction or KindEvent. EventType is the Okta System Log event
// type an event card reacts to. Output is, for an action card, the shape
// of its output (every key it may have, some only in some answers, such as
// note); Outputs describes the output for people: for an action card, the
// keys of Output.
type Card struct {
	ID             string
	Ref            string
	Name           string
	Description    string
	Kind           string
	Scope          string
	Mode           string
	Inputs         []Input
	Outputs        string
	Output         *Shape
	EventType      string
	DeliveryScopes map[string]string
	// EventUser is set on an event card whose Okta events name a user (a
	// User target): trigger.event.user is empty in the others' runs.
	EventUser bool

	run  func(context.Context, *invocation) (map[string]any, error)
	plan func(context.Context, *invocation) (*Change, map[string]any, error)
	// check, when set, checks the input CheckInput has normalised further
	// (what no single input's spec says), so that its problems refuse the
	// request before a run is recorded.
	check func(in map[string]any) error
}

// Input describes one input of a card, for forms and validation. Default
// is applied when the input is absent; Enum, when set, lists the accepted
// values; Remedy, when set, says how to give a required input that is
// missing or empty (else "give NAME" and the kind of value it takes).
type Input struct {
	Name        string
	Type        string
	Required    bool
	Description string
	Enum        []string
	Default     any
	Remedy      string
	// Filter marks an Okta filter expression (search-devices' search): a
	// flow's ${{ }} written between its double quotes has its result's "
	// and \ escaped, so that the value stays one string of the filter.
	Filter bool
}

// deviceIDRemedy says where a device's id comes from.
const deviceIDRemedy = "give the device's Okta id (such as guo1a2b3c4D5e6F7g8h9), as Search Devices answers it or the device's page in the Admin Console shows it"

var deviceID = Input{Name: "deviceId", Type: TypeString, Required: true,
	Description: "The id of the device in Okta (guo...).", Remedy: deviceIDRemedy}

// connectors is the registry. It is built once and never changed; every
// exported accessor returns copies.
var connectors = []Connector{{
	ID:          ConnectorID,
	Name:        ConnectorName,
	Description: "Search, read and manage the lifecycle of the devices registered in an Okta org.",
	Scopes: []ScopeInfo{
		{Name: ScopeRead, Description: "Read devices and their users: Search Devices, Read Device, List Device Users, and GET calls of Custom API Action under /api/v1/devices."},
		{Name: ScopeManage, Description: "Change device lifecycle: Activate, Deactivate, Suspend, Unsuspend and Delete Device, and other Custom API Action calls under /api/v1/devices (it also allows everything okta.devices.read does)."},
		{Name: ScopeEventHooks, Description: "Event cards with hook delivery: cardflow registers, verifies, updates and deletes one Okta event hook per connection."},
		{Name: ScopeLogs, Description: "Event cards with poll delivery: cardflow reads the device events from the System Log."},
	},
	DefaultScopes: []string{ScopeRead, ScopeManage, ScopeEventHooks, ScopeLogs},
	Cards: []Card{
		searchDevicesCard(),
		{ID: "read-device", Name: "Read Device", Scope: ScopeRead, Mode: ModeRead,
			Description: "Read one device, fresh from Okta.",
			Inputs:      []Input{deviceID}, Output: object("device").with("device", deviceShape), run: readDevice},
		{ID: "list-device-users", Name: "List Device Users", Scope: ScopeRead, Mode: ModeRead,
			Description: "List every user of a device (all of them, not only the first 20).",
			Inputs:      []Input{deviceID}, Output: object("users", "count").with("users", listOf(deviceUserShape)).with("count", number), run: listDeviceUsers},
		lifecycleCard("activate-device", "Activate Device", "Activate a device (from CREATED or DEACTIVATED to ACTIVE)."),
		lifecycleCard("deactivate-device", "Deactivate Device", "Deactivate a device (from ACTIVE or SUSPENDED to DEACTIVATED); this removes its users."),
		lifecycleCard("suspend-device", "Suspend Device", "Suspend a device (from ACTIVE to SUSPENDED)."),
		lifecycleCard("unsuspend-device", "Unsuspend Device", "Unsuspend a device (from SUSPENDED to ACTIVE)."),
		{ID: "delete-device", Name: "Delete Device", Scope: ScopeManage, Mode: ModeManage,
			Description: "Delete a device. Okta deletes only DEACTIVATED devices; set deactivateFirst to deactivate an ACTIVE or SUSPENDED one first.",
			Inputs: []Input{deviceID, knownStatus, {Name: "deactivateFirst", Type: TypeBool, Default: false,
				Description: "Deactivate the device first when it is ACTIVE or SUSPENDED."}},
			Output: object("deviceId", "deleted", "deactivated", "basis", "note").
				kinds(str, "deviceId", "note").with("basis", basis).kinds(boolean, "deleted", "deactivated"), run: deleteDevice, plan: planDelete},
		customAPIActionCard(),
		eventCard("device-activated", "Device Activated", "device.lifecycle.activate", "a device is activated", false),
		eventCard("device-deactivated", "Device Deactivated", "device.lifecycle.deactivate", "a device is deactivated", false),
		eventCard("device-suspended", "Device Suspended", "device.lifecycle.suspend", "a device is suspended", false),
		eventCard("device-unsuspended", "Device Unsuspended", "device.lifecycle.unsuspend", "a device is unsuspended", false),
		eventCard("device-deleted", "Device Deleted", "device.lifecycle.delete", "a device is deleted", false),
		eventCard("device-enrolled", "Device Enrolled", "device.enrollment.create", "a device is enrolled (registered by a user in Okta Verify)", true),
		eventCard("device-added-to-user", "Device Added to User", "device.user.add", "a user is added to a device", true),
		eventCard("device-removed-from-user", "Device Removed from User", "device.user.remove", "a user is removed from a device", true),
	},
}}

// eventCard is an event card: on.event.card of flows that start when the
// org reports eventType; user says that the event names a user.
func eventCard(id, name, eventType, when string, user bool) Card {
	return Card{ID: id, Name: name, Kind: KindEvent, Mode: ModeEvent, EventType: eventType, EventUser: user,
		Description:    "Starts a flow when " + when + " (Okta event " + eventType + ").",
		Inputs:         []Input{},
		Outputs:        "trigger.event: uuid, eventType, published, displayMessage, actor {id, alternateId, displayName, type}, device {id, displayName}, user {id, login}, raw",
		DeliveryScopes: map[string]string{DeliveryHook: ScopeEventHooks, DeliveryPoll: ScopeLogs}}
}

func init() {
	for ci := range connectors {
		for i := range connectors[ci].Cards {
			c := &connectors[ci].Cards[i]
			c.Ref = connectors[ci].ID + "/" + c.ID
			if c.Kind == "" {
				c.Kind = KindAction
			}
			if c.Kind == KindAction {
				c.Outputs = outputsText(c.Output)
			}
		}
	}
}

// EventCards returns the connector's event cards.
func EventCards(connectorID string) []Card {
	var out []Card
	if c := connector(connectorID); c != nil {
		for _, cd := range c.Cards {
			if cd.Kind == KindEvent {
				out = append(out, cd.clone())
			}
		}
	}
	return out
}

// DeliveryScopesOf returns the scopes an event card needs with delivery
// (hook, poll or hook+poll).
func (c Card) DeliveryScopesOf(delivery string) []string {
	switch delivery {
	case DeliveryHook, DeliveryPoll:
		return []string{c.DeliveryScopes[delivery]}
	case DeliveryHookPoll:
		return []string{c.DeliveryScopes[DeliveryHook], c.DeliveryScopes[DeliveryPoll]}
	}
	return nil
}

// Connectors returns every connector with its cards.
func Connectors() []Connector {
	out := make([]Connector, len(connectors))
	for i, c := range connectors {
		out[i] = c
		out[i].Scopes = slices.Clone(c.Scopes)
		out[i].DefaultScopes = slices.Clone(c.DefaultScopes)
		out[i].Cards = make([]Card, len(c.Cards))
		for j, cd := range c.Cards {
			out[i].Cards[j] = cd.clone()
		}
	}
	return out
}

func (c Card) clone() Card {
	c.DeliveryScopes = maps.Clone(c.DeliveryScopes)
	c.Inputs = slices.Clone(c.Inputs)
	for i := range c.Inputs {
		c.Inputs[i].Enum = slices.Clone(c.Inputs[i].Enum)
	}
	return c
}

// Lookup returns the card with reference ref ("okta-devices/suspend-device").
func Lookup(ref string) (Card, bool) {
	c := lookup(ref)
	if c == nil {
		return Card{}, false
	}
	return c.clone(), true
}

func lookup(ref string) *Card {
	conn, id, ok := strings.Cut(ref, "/")
	if !ok {
		return nil
	}
	for ci := range connectors {
		if connectors[ci].ID != conn {
			continue
		}
		for i := range connectors[ci].Cards {
			if connectors[ci].Cards[i].ID == id {
				return &connectors[ci].Cards[i]
			}
		}
	}
	return nil
}

func connector(id string) *Connector {
	for i := range connectors {
		if connectors[i].ID == id {
			return &connectors[i]
		}
	}
	return nil
}

// DefaultScopes returns the Okta API scopes the connector's cards need (its
// "default scopes"); ok is false for an unknown connector.
func DefaultScopes(connectorID string) (scopes []string, ok bool) {
	c := connector(connectorID)
	if c == nil {
		return nil, false
	}
	return slices.Clone(c.DefaultScopes), true
}

// Scopes returns the connector's scope catalogue, for custom scopes.
func Scopes(connectorID string) []ScopeInfo {
	if c := connector(connectorID); c != nil {
		return slices.Clone(c.Scopes)
	}
	return nil
}

// CardsNeeding returns the references of the connector's cards that need
// scope (and so fail with insufficient_scope without it, unless a scope
// that implies it is granted).
func CardsNeeding(connectorID, scope string) []string {
	var out []string
	if c := connector(connectorID); c != nil {
		for _, cd := range c.Cards {
			if cd.Scope == scope || slices.Contains(slices.Collect(maps.Values(cd.DeliveryScopes)), scope) {
				out = append(out, cd.Ref)
			}
		}
	}
	return out
}

// ScopeGranted reports whether granted covers required: the scope itself,
// or for an okta.*.read scope the matching okta.*.manage scope.
func ScopeGranted(required string, granted []string) bool {
	if required == "" || slices.Contains(granted, required) {
		return true
	}
	if base, ok := strings.CutSuffix(required, ".read"); ok {
		return slices.Contains(granted, base+".manage")
	}
	return false
}
