package flow

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// objectShape declares the fields of one object of `trigger` (trigger
// itself, trigger.event, trigger.event.actor, ...) to the CEL checker, so
// that a misspelt field is refused when the flow is validated rather than
// on every run. The values stay the plain maps of Firing.activation: the
// shapes declare no accessors, and CEL selects a map's keys as it did.
type objectShape struct {
	typeName string // the CEL type name, e.g. "cardflow.Event"
	path     string // how expressions reach it, e.g. "trigger.event"
	fields   []shapeField
	// absent explains fields this kind of flow does not have (a schedule
	// flow's trigger.event): the field's name to why.
	absent map[string]string
}

type shapeField struct {
	name  string
	typ   *cel.Type
	shape *objectShape // for an object field
}

func (s *objectShape) field(name string) (shapeField, bool) {
	for _, f := range s.fields {
		if f.name == name {
			return f, true
		}
	}
	return shapeField{}, false
}

func (s *objectShape) fieldNames() []string {
	names := make([]string, len(s.fields))
	for i, f := range s.fields {
		names[i] = f.name
	}
	return names
}

// objectField is a field holding the object of shape s.
func objectField(name string, s *objectShape) shapeField {
	return shapeField{name: name, typ: cel.ObjectType(s.typeName), shape: s}
}

func stringFields(names ...string) []shapeField {
	out := make([]shapeField, len(names))
	for i, n := range names {
		out[i] = shapeField{name: n, typ: cel.StringType}
	}
	return out
}

// triggerShape is what `trigger` holds in a flow whose on: section is of
// kind (KindSchedule, KindEvent, or "" for a flow without a trigger): see
// Firing.activation and what events.FiringOf puts in trigger.event.
func triggerShape(kind string) *objectShape {
	common := []shapeField{{name: "kind", typ: cel.StringType}, {name: "time", typ: cel.TimestampType}}
	switch kind {
	case KindEvent:
		event := &objectShape{typeName: "cardflow.Event", path: "trigger.event"}
		event.fields = append(stringFields("uuid", "eventType", "published", "displayMessage"),
			objectField("actor", &objectShape{typeName: "cardflow.EventActor", path: "trigger.event.actor",
				fields: stringFields("id", "alternateId", "displayName", "type")}),
			objectField("device", &objectShape{typeName: "cardflow.EventDevice", path: "trigger.event.device",
				fields: stringFields("id", "displayName")}),
			objectField("user", &objectShape{typeName: "cardflow.EventUser", path: "trigger.event.user",
				fields: stringFields("id", "login")}),
			shapeField{name: "raw", typ: cel.DynType}, // Okta's LogEvent, as Okta wrote it
		)
		return &objectShape{typeName: "cardflow.EventTrigger", path: "trigger",
			fields: append(common, shapeField{name: "eventUuid", typ: cel.StringType}, objectField("event", event))}
	case KindSchedule:
		why := "a flow started by on.schedule has no trigger.%s (its runs have trigger.kind and trigger.time); trigger.event exists only in a flow started by Okta events (on.event)"
		return &objectShape{typeName: "cardflow.ScheduleTrigger", path: "trigger", fields: common,
			absent: map[string]string{"event": fmt.Sprintf(why, "event"), "eventUuid": fmt.Sprintf(why, "eventUuid")}}
	}
	why := "this flow has no trigger (no on:), so trigger.%s does not exist: its runs are started by hand and have trigger.kind and trigger.time; trigger.event exists only in a flow started by Okta events (on.event)"
	return &objectShape{typeName: "cardflow.ManualTrigger", path: "trigger", fields: common,
		absent: map[string]string{"event": fmt.Sprintf(why, "event"), "eventUuid": fmt.Sprintf(why, "eventUuid")}}
}

// triggerTypes is the CEL type provider of an environment whose `trigger`
// has the shape root: it declares root's object types over the standard
// registry. The types cannot be built in expressions (cardflow.Event{}).
type triggerTypes struct {
	*types.Registry
	root   *objectShape
	shapes map[string]*objectShape
}

func newTriggerTypes(root *objectShape) *triggerTypes {
	tt := &triggerTypes{Registry: mustRegistry(), root: root, shapes: map[string]*objectShape{}}
	var add func(s *objectShape)
	add = func(s *objectShape) {
		tt.shapes[s.typeName] = s
		for _, f := range s.fields {
			if f.shape != nil {
				add(f.shape)
			}
		}
	}
	add(root)
	return tt
}

// FindStructType implements types.Provider.
func (tt *triggerTypes) FindStructType(name string) (*types.Type, bool) {
	if _, ok := tt.shapes[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return tt.Registry.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (tt *triggerTypes) FindStructFieldNames(name string) ([]string, bool) {
	if s, ok := tt.shapes[name]; ok {
		return s.fieldNames(), true
	}
	return tt.Registry.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider. The field types have no
// IsSet and GetFrom, so the interpreter selects map keys as it would from
// a map.
func (tt *triggerTypes) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if s, ok := tt.shapes[name]; ok {
		f, ok := s.field(field)
		if !ok {
			return nil, false
		}
		return &types.FieldType{Type: f.typ}, true
	}
	return tt.Registry.FindStructFieldType(name, field)
}

// NewValue implements types.Provider.
func (tt *triggerTypes) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := tt.shapes[name]; ok {
		return types.NewErr("%s cannot be built in an expression", name)
	}
	return tt.Registry.NewValue(name, fields)
}

// explainField rewrites a checker message about a field selected from
// trigger or one of its objects at (line, col) of src: "undefined field
// 'nme'" says what has no such field and the fields it has, and a field
// selected from trigger.time says that it is a timestamp.
func explainField(env *cel.Env, src, msg string, line, col int) string {
	tt, ok := env.CELTypeProvider().(*triggerTypes)
	if !ok {
		return msg
	}
	if strings.Contains(msg, "'_[_]' applied to '(cardflow.") {
		return msg + "; select the fields of trigger with a dot, e.g. trigger.event.device.id"
	}
	name, undefined := strings.CutPrefix(msg, "undefined field '")
	name = strings.TrimSuffix(name, "'")
	if !undefined && msg != "type 'timestamp' does not support field selection" {
		return msg
	}
	parsed, iss := env.Parse(src)
	if iss.Err() != nil {
		return msg
	}
	info := parsed.NativeRep().SourceInfo()
	var operand celast.Expr
	celast.PostOrderVisit(parsed.NativeRep().Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		if operand != nil || x.Kind() != celast.SelectKind || (undefined && x.AsSelect().FieldName() != name) {
			return
		}
		if loc := info.GetStartLocation(x.ID()); loc.Line() == line && loc.Column() == col {
			operand = x.AsSelect().Operand()
		}
	}))
	path, ok := triggerPath(operand)
	if !ok {
		return msg
	}
	if !undefined {
		if len(path) == 1 && path[0] == "time" {
			return msg + `; trigger.time is a timestamp: use string(trigger.time), trigger.time - duration("24h") or its functions, such as trigger.time.getHours()`
		}
		return msg
	}
	shape := tt.root
	for _, p := range path {
		f, ok := shape.field(p)
		if !ok || f.shape == nil {
			return msg
		}
		shape = f.shape
	}
	if why, ok := shape.absent[name]; ok {
		return why
	}
	names := shape.fieldNames()
	return fmt.Sprintf("%s has no field %q; its fields are %s%s", shape.path, name, strings.Join(names, ", "), suggest(name, names...))
}

// triggerPath returns the fields x selects from trigger: [] for trigger
// itself, [event device] for trigger.event.device. It is false when x is
// something else.
func triggerPath(x celast.Expr) ([]string, bool) {
	if x == nil {
		return nil, false
	}
	var path []string
	for x.Kind() == celast.SelectKind && !x.AsSelect().IsTestOnly() {
		path = append(path, x.AsSelect().FieldName())
		x = x.AsSelect().Operand()
	}
	if x.Kind() != celast.IdentKind || x.AsIdent() != "trigger" {
		return nil, false
	}
	slices.Reverse(path)
	return path, true
}

// mustRegistry is the standard type registry, which only fails to build
// for proto types given to it (none here).
func mustRegistry() *types.Registry {
	r, err := types.NewRegistry()
	if err != nil {
		panic(err)
	}
	return r
}
