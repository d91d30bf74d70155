package card

import "strings"

// Shape describes a card output value for checking flows before they run:
// an object's keys, in order, or a list's items. A nil *Shape, or one with
// neither, is a value not described further (a string, a number, or
// something whose keys are not known in advance, such as a Custom API
// Action's body). Shapes are shared and never change.
type Shape struct {
	fields []field
	item   *Shape
	kind   string // of a value with neither: KindString, KindNumber, KindBool or "" (not known)
	enum   []string
}

// The kinds of a value that is neither an object nor a list (Shape.Kind).
const (
	KindString = "string"
	KindNumber = "number"
	KindBool   = "bool"
)

// Leaf shapes: a value known to be a string (or null), a number, a bool.
var (
	str     = &Shape{kind: KindString}
	number  = &Shape{kind: KindNumber}
	boolean = &Shape{kind: KindBool}
)

// Kind is the kind of a value that is neither an object nor a list:
// KindString, KindNumber or KindBool; "" when not known (or s is an object
// or a list). A value of a kind may also be null.
func (s *Shape) Kind() string {
	if s == nil {
		return ""
	}
	return s.kind
}

// Enum lists every value a string takes (Okta's enumeration, such as a
// device's statuses); nil when any string may be.
func (s *Shape) Enum() []string {
	if s == nil {
		return nil
	}
	return s.enum
}

// oneOf is the shape of a string that is one of values.
func oneOf(values ...string) *Shape { return &Shape{kind: KindString, enum: values} }

// kinds sets the shape of each key of names, which s must have, to leaf.
func (s *Shape) kinds(leaf *Shape, names ...string) *Shape {
	for _, n := range names {
		s.with(n, leaf)
	}
	return s
}

// field is one key of an object and the shape of its value. A key may be
// absent from some values (an empty profile field is left out), but no
// value has a key its shape does not list.
type field struct {
	name  string
	value *Shape
}

// object is the Shape of an object with the given keys, none described
// further.
func object(names ...string) *Shape {
	s := &Shape{}
	for _, n := range names {
		s.fields = append(s.fields, field{name: n})
	}
	return s
}

// with sets the shape of key name, which s must have.
func (s *Shape) with(name string, v *Shape) *Shape {
	for i := range s.fields {
		if s.fields[i].name == name {
			s.fields[i].value = v
			return s
		}
	}
	panic("card: shape has no key " + name)
}

// listOf is the Shape of a list of item.
func listOf(item *Shape) *Shape { return &Shape{item: item} }

// Names lists the keys of an object shape, in order; nil when s is not an
// object with known keys.
func (s *Shape) Names() []string {
	if s == nil || len(s.fields) == 0 {
		return nil
	}
	out := make([]string, len(s.fields))
	for i, f := range s.fields {
		out[i] = f.name
	}
	return out
}

// Field returns the shape of key name and whether s has that key.
func (s *Shape) Field(name string) (*Shape, bool) {
	if s == nil {
		return nil, false
	}
	for _, f := range s.fields {
		if f.name == name {
			return f.value, true
		}
	}
	return nil, false
}

// Item is the shape of a list's items; nil when s is not a list of
// described items.
func (s *Shape) Item() *Shape {
	if s == nil {
		return nil
	}
	return s.item
}

// The values Okta gives a device's status (DeviceStatus: DELETED only in
// the answer to a delete), its platform, and a device user's management
// status and screen lock.
var (
	deviceStatus     = oneOf("ACTIVE", "CREATED", "DEACTIVATED", "SUSPENDED", "DELETED")
	platform         = oneOf("ANDROID", "IOS", "MACOS", "WINDOWS")
	managementStatus = oneOf("MANAGED", "NOT_MANAGED")
	screenLockType   = oneOf("NONE", "PASSCODE", "BIOMETRIC")
	// basis is a manage card's output "basis".
	basis = oneOf(BasisKnown, BasisRead)
)

// The shapes of what DeviceValue and DeviceUserValue build: they and these
// change together (the card tests check every output against its card's
// shape).
var (
	deviceUserShape = object("user", "created", "managementStatus", "screenLockType").
			with("user", object("id", "status", "realmId", "created", "activated", "statusChanged", "lastLogin",
			"lastUpdated", "passwordChanged", "profile").
			kinds(str, "id", "status").
			with("profile", object("login", "email", "firstName", "lastName", "displayName", "secondEmail", "mobilePhone").
				kinds(str, "login", "email", "firstName", "lastName", "displayName"))).
		with("managementStatus", managementStatus).with("screenLockType", screenLockType)
	deviceShape = object("id", "status", "created", "lastUpdated", "profile", "resourceType", "resourceId",
		"resourceAlternateId", "resourceDisplayName", "_embedded").
		kinds(str, "id", "created", "lastUpdated", "resourceType", "resourceId", "resourceAlternateId").
		with("status", deviceStatus).
		with("profile", object("displayName", "platform", "registered", "manufacturer", "model", "osVersion",
			"serialNumber", "imei", "meid", "udid", "sid", "tpmPublicKeyHash", "diskEncryptionType",
			"secureHardwarePresent", "integrityJailbreak", "managed").
			kinds(str, "displayName", "manufacturer", "model", "osVersion", "serialNumber", "imei", "meid",
				"udid", "sid", "tpmPublicKeyHash", "diskEncryptionType").
			kinds(boolean, "registered", "secureHardwarePresent", "integrityJailbreak", "managed").
			with("platform", platform)).
		with("resourceDisplayName", object("value", "sensitive").kinds(str, "value").kinds(boolean, "sensitive")).
		with("_embedded", object("users").with("users", listOf(deviceUserShape)))
)

// outputsText is an output shape's keys as the Outputs text of a card.
func outputsText(s *Shape) string { return strings.Join(s.Names(), ", ") }
