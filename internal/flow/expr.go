package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
	"cel.dev/cel-go/ext"
)

// costLimit bounds the work of one evaluation, in CEL cost units (roughly
// one per operation; iterating a list costs per element): the whole
// budget of a run (RunCostBudget), so that one filter() over the devices
// of a large org (about 100 units a device with two users) is bounded by
// what the run may spend in all, not by a tighter cap of its own.
const costLimit = RunCostBudget

// maxExprLen bounds the size of one expression, in code points.
const maxExprLen = 4096

// celEnvs holds the CEL environments of flow expressions: trigger (only
// trigger, for on.inputs and on.event.if), base (also inputs and steps) and
// item (also item and index, inside a for_each step). They are immutable
// and shared by every document whose trigger is of the same kind.
type celEnvs struct {
	trigger, base, item *cel.Env
}

// sharedEnvs are the environments of each kind of trigger a document may
// have: "" (none), KindSchedule and KindEvent. In each, trigger has the
// fields of that kind (triggerShape), so that the checker refuses a field
// that no run of the flow has.
var sharedEnvs = sync.OnceValues(func() (map[string]*celEnvs, error) {
	out := map[string]*celEnvs{}
	for _, kind := range []string{"", KindSchedule, KindEvent} {
		envs, err := newEnvs(triggerShape(kind))
		if err != nil {
			return nil, err
		}
		out[kind] = envs
	}
	return out, nil
})

// envsFor returns the environments of doc's expressions.
func envsFor(doc *Document) (*celEnvs, error) {
	all, err := sharedEnvs()
	if err != nil {
		return nil, err
	}
	kind := ""
	if doc.Trigger != nil {
		kind = doc.Trigger.Kind()
	}
	return all[kind], nil
}

func newEnvs(shape *objectShape) (*celEnvs, error) {
	trigger, err := cel.NewEnv(
		cel.CustomTypeProvider(newTriggerTypes(shape)),
		cel.Variable("trigger", cel.ObjectType(shape.typeName)),
		cel.ParserExpressionSizeLimit(maxExprLen),
		cel.CrossTypeNumericComparisons(true),
		// A literal that no run could convert (duration("90d"),
		// timestamp("2024-13-01"), matches("[")) is refused when the
		// document is parsed, not on every item.
		cel.ASTValidators(cel.ValidateDurationLiterals(), cel.ValidateTimestampLiterals(), cel.ValidateRegexLiterals()),
		ext.Strings(),
		ext.Lists(ext.ListsMaxRangeSize(100_000)),
		ext.Math(),
		ext.Sets(),
	)
	if err != nil {
		return nil, fmt.Errorf("flow: cel environment: %w", err)
	}
	base, err := trigger.Extend(
		cel.Variable("inputs", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("steps", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		return nil, fmt.Errorf("flow: cel environment: %w", err)
	}
	item, err := base.Extend(
		cel.Variable("item", cel.DynType),
		cel.Variable("index", cel.IntType),
	)
	if err != nil {
		return nil, fmt.Errorf("flow: cel item environment: %w", err)
	}
	return &celEnvs{trigger: trigger, base: base, item: item}, nil
}

// typedEnvs extends the base and item environments with each declared
// input as a variable of its type, named "inputs.NAME": CEL resolves the
// qualified name inputs.NAME to it before it would select from the inputs
// map, so the checker knows that inputs.q is a string and can refuse
// inputs.q + 1 before the flow runs. Nil when there is nothing to add.
func typedEnvs(envs *celEnvs, inputs []*InputDef) *celEnvs {
	var opts []cel.EnvOption
	for _, in := range inputs {
		var t *cel.Type
		switch in.Type {
		case TypeString:
			t = cel.StringType
		case TypeNumber:
			t = cel.DoubleType
		case TypeBool:
			t = cel.BoolType
		case TypeList:
			t = cel.ListType(cel.DynType)
		default:
			continue
		}
		opts = append(opts, cel.Variable("inputs."+in.Name, t))
	}
	if len(opts) == 0 {
		return nil
	}
	base, err := envs.base.Extend(opts...)
	if err != nil {
		return nil
	}
	item, err := envs.item.Extend(opts...)
	if err != nil {
		return nil
	}
	return &celEnvs{trigger: envs.trigger, base: base, item: item}
}

// typeCheck checks the expression again in env, where the flow's inputs
// have their declared types, and returns the type mismatches it finds,
// said as the checks of card outputs say them (other messages are the
// plain compile's business). Numbers compare equal whatever their kind, as
// they do when the flow runs: inputs.days == 90 passes.
func (e *expression) typeCheck(env *cel.Env) []posMessage {
	_, iss := env.Compile(e.src)
	if iss.Err() == nil {
		return nil
	}
	var out []posMessage
	for _, ce := range iss.Errors() {
		if m := overloadMsg.FindStringSubmatch(ce.Message); m != nil {
			target, args := splitTypes(m[2])
			if !dropOverload(m[1], target, args, nil) {
				line, col := ce.Location.Line(), ce.Location.Column()
				out = append(out, posMessage{pos: e.posAt(line, col), msg: (&shapeChecker{}).explainOverload(e, m[1], target, args, line, col)})
			}
			continue
		}
		if !strings.Contains(ce.Message, "expected type") {
			continue
		}
		msg := strings.TrimSuffix(ce.Message, " (in container '')")
		msg = explainNotBool(env, e.src, msg, ce.Location.Line(), ce.Location.Column())
		out = append(out, posMessage{pos: e.posAt(ce.Location.Line(), ce.Location.Column()), msg: msg})
	}
	return out
}

// expression is one compiled ${{ }} expression.
type expression struct {
	src string
	pos Pos // of its "${{" in the document
	// exact is set when a column inside the expression maps to a column of
	// the document (a single-line scalar without escapes).
	exact bool
	ast   *cel.Ast
	prg   cel.Program
}

// posAt maps a CEL location inside the expression to the document.
func (e *expression) posAt(line, col int) Pos {
	if e.exact && line == 1 {
		return Pos{Line: e.pos.Line, Column: e.pos.Column + 3 + col}
	}
	return e.pos
}

// compile type-checks the expression in env and builds its program.
// It returns one message per problem, each with its position.
func (e *expression) compile(env *cel.Env) []posMessage {
	ast, iss := env.Compile(e.src)
	if iss.Err() != nil {
		var out []posMessage
		for _, ce := range iss.Errors() {
			msg := strings.TrimSuffix(ce.Message, " (in container '')")
			msg = explainField(env, e.src, msg, ce.Location.Line(), ce.Location.Column())
			msg = explainNotBool(env, e.src, msg, ce.Location.Line(), ce.Location.Column())
			out = append(out, posMessage{pos: e.posAt(ce.Location.Line(), ce.Location.Column()), msg: msg})
			if strings.HasPrefix(msg, "Syntax error:") {
				// The parser goes on after it, and what it finds next
				// (extraneous input, expecting <EOF>) follows from the
				// first: one mistake is said once.
				break
			}
		}
		return out
	}
	prg, err := env.Program(ast,
		cel.CostLimit(costLimit),
		cel.InterruptCheckFrequency(100),
	)
	if err != nil {
		return []posMessage{{pos: e.pos, msg: err.Error()}}
	}
	e.ast, e.prg = ast, prg
	return nil
}

// explainNotBool rewrites a checker message about a value that is not a
// bool where && or || needs one, as in item.status == "ACTIVE" ||
// "SUSPENDED": the string alone is no test, and the fix is in.
func explainNotBool(env *cel.Env, src, msg string, line, col int) string {
	found, ok := strings.CutPrefix(msg, "expected type 'bool' but found '")
	if !ok {
		return msg
	}
	found = strings.TrimSuffix(found, "'")
	parsed, iss := env.Parse(src)
	if iss.Err() != nil {
		return msg
	}
	info := parsed.NativeRep().SourceInfo()
	var node, parent celast.Expr
	celast.PostOrderVisit(parsed.NativeRep().Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		if x.Kind() != celast.CallKind || (x.AsCall().FunctionName() != operators.LogicalOr && x.AsCall().FunctionName() != operators.LogicalAnd) {
			return
		}
		for _, a := range x.AsCall().Args() {
			if loc := info.GetStartLocation(a.ID()); loc.Line() == line && loc.Column() == col && node == nil {
				node, parent = a, x
			}
		}
	}))
	if node == nil {
		return msg
	}
	text, err := cel.ExprToString(node, info)
	if err != nil {
		return msg
	}
	out := fmt.Sprintf("%s is %s, not a bool (true or false): %s needs a test on each side", text, typeText(found), opName(parent.AsCall().FunctionName()))
	// a == "X" || "Y": a test of several values.
	if node.Kind() == celast.LiteralKind && parent.AsCall().FunctionName() == operators.LogicalOr {
		for _, a := range parent.AsCall().Args() {
			if a.Kind() != celast.CallKind || a.AsCall().FunctionName() != operators.Equals {
				continue
			}
			args := a.AsCall().Args()
			lhs, err1 := cel.ExprToString(args[0], info)
			rhs, err2 := cel.ExprToString(args[1], info)
			if err1 == nil && err2 == nil {
				return out + fmt.Sprintf("; write %s in [%s, %s] (or %s == %s || %s == %s)", lhs, rhs, text, lhs, rhs, lhs, text)
			}
		}
	}
	return out
}

// posMessage is a message at a position.
type posMessage struct {
	pos Pos
	msg string
}

// errExprTimeout is reported when an evaluation runs out of its context.
var errExprTimeout = errors.New("expression evaluation was interrupted")

// eval runs the expression with the names in act and returns its result as
// plain Go data: nil, bool, int64, uint64, float64, string, []any or
// map[string]any. Its cost is charged to ctx's budget (withBudget), whose
// error it returns once that is spent, without evaluating.
func (e *expression) eval(ctx context.Context, act map[string]any) (any, error) {
	if e.prg == nil {
		return nil, fmt.Errorf("${{%s}} was not compiled", e.src)
	}
	b := budgetOf(ctx)
	if err := b.err(); err != nil {
		return nil, err
	}
	out, det, err := e.prg.ContextEval(ctx, act)
	if b != nil {
		cost := uint64(costLimit) // an evaluation its own limit cut off spent it all
		if det != nil && det.ActualCost() != nil {
			cost = *det.ActualCost()
		}
		if err := b.charge(cost); err != nil {
			return nil, err
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, errExprTimeout
		}
		msg := strings.TrimPrefix(err.Error(), "operation cancelled: ")
		hint := e.absentInputHint(msg, act) + e.keysHint(msg, act)
		if hint == "" {
			hint = e.optionalKeyHint(msg)
		}
		return nil, fmt.Errorf("${{%s}}: %s%s%s%s%s%s", e.src, msg, hint, embeddedHint(msg), conversionHint(msg), e.indexHint(msg), costHint(msg))
	}
	v, err := fromCEL(out, 0)
	if err != nil {
		return nil, fmt.Errorf("${{%s}}: %w", e.src, err)
	}
	return v, nil
}

// absentInputHint explains a "no such key" error caused by an optional
// flow input that was not given and has no default: such inputs are absent
// from inputs, not null.
func (e *expression) absentInputHint(msg string, act map[string]any) string {
	const prefix = "no such key: "
	i := strings.Index(msg, prefix)
	if i < 0 {
		return ""
	}
	name := msg[i+len(prefix):]
	given, _ := act["inputs"].(map[string]any)
	if _, ok := given[name]; ok {
		return ""
	}
	for _, r := range refsOf(e) {
		if r.root == "inputs" && r.name == name {
			return fmt.Sprintf(" (input %q was not given and has no default; give it a value, declare a default (default: ...) or test has(inputs.%s) first)", name, name)
		}
	}
	return ""
}

// embeddedHint explains a device without _embedded: a search gives each
// device its users there only when asked to (expand), and a device with
// no users has none even then.
func embeddedHint(msg string) string {
	if !strings.HasSuffix(msg, "no such key: _embedded") {
		return ""
	}
	return "; a device has _embedded (its users) only from a search with expand: user or userSummary, and one without users has none: add expand to the search's input and test has(x._embedded) first"
}

// optionalKeyHint explains a "no such key" error of a field selected
// deeper down (item.profile.imei): Okta leaves out a field a device does
// not have, so it is there on some items and not on others. It names the
// has() test to write when the expression selects the key once.
func (e *expression) optionalKeyHint(msg string) string {
	const prefix = "no such key: "
	i := strings.Index(msg, prefix)
	if i < 0 {
		return ""
	}
	key := msg[i+len(prefix):]
	if key == "_embedded" || !inputNamePattern.MatchString(key) {
		return "" // embeddedHint's
	}
	re := regexp.MustCompile(`\b([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\.` + regexp.QuoteMeta(key) + `\b`)
	m := re.FindAllStringSubmatch(e.src, -1)
	if len(m) != 1 || strings.HasPrefix(m[0][1], "inputs") {
		return ""
	}
	path := m[0][1] + "." + key
	if m[0][1] == "trigger.event.raw" || strings.HasPrefix(m[0][1], "trigger.event.raw.") {
		// The event's LogEvent as Okta sent it: Okta leaves out what an
		// event has no value for, and each event type has fields of its own.
		return fmt.Sprintf(" (trigger.event.raw is the event as Okta sent it, and Okta leaves out a field an event has no value for, so %s is there in some events only: test has(%s) first, e.g. has(%s) && ...)", path, path, path)
	}
	return fmt.Sprintf(" (Okta leaves out a field a device or user does not have, so %s is there on some items only: test has(%s) first, e.g. has(%s) && ...)", path, path, path)
}

// indexHint explains "index out of bounds: N", which names neither the
// list nor why it is short: most often a search that found fewer devices
// than the expression takes for granted (devices[0] of an empty search).
// The list is named when the expression indexes one list by N.
func (e *expression) indexHint(msg string) string {
	const prefix = "index out of bounds: "
	i := strings.Index(msg, prefix)
	if i < 0 {
		return ""
	}
	n := msg[i+len(prefix):]
	if _, err := strconv.Atoi(n); err != nil {
		return ""
	}
	list := "the list"
	guard := "size(LIST) > " + n
	re := regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\["[^"\]]*"\]|\['[^'\]]*'\])*)\[\s*` + n + `\s*\]`)
	if m := re.FindAllStringSubmatch(e.src, -1); len(m) == 1 {
		list = m[0][1]
		guard = "size(" + list + ") > " + n
	}
	if strings.HasPrefix(n, "-") {
		return fmt.Sprintf(" (%s has no element %s: CEL counts from 0 and has no negative indexes)", list, n)
	}
	size := "it is empty"
	if n != "0" {
		size = "it has " + n + " or fewer"
	}
	return fmt.Sprintf(" (%s has no element %s: %s; a search that finds nothing gives an empty list: guard the step with if: ${{ %s }}, or go over the list with for_each)",
		list, n, size, guard)
}

// costHint says what the limit of one evaluation is and how to stay
// under it, when CEL cut one off.
func costHint(msg string) string {
	if !strings.Contains(msg, "cost limit exceeded") {
		return ""
	}
	return fmt.Sprintf(" (one evaluation may cost %s CEL cost units); make the expression cheaper: let the search card select the devices (its filters, search) rather than filter() or exists() over every device, and do not nest one loop over a list inside another", thousands(costLimit))
}

// conversionHint explains int() or double() of a string that is no
// number, such as a version (14.2.1): the value is not in CEL's message.
func conversionHint(msg string) string {
	if !strings.Contains(msg, "type conversion error from 'string' to 'int'") && !strings.Contains(msg, "type conversion error from 'string' to 'double'") {
		return ""
	}
	return `: the string is not a number on this item (a version such as 14.2.1 is not one); convert its first part, e.g. int(item.profile.osVersion.split(".")[0]), or test it with matches() first`
}

// keysHint lists the keys there are when a "no such key" error comes
// from a key selected right off item or a step's output (item.idd,
// steps.find.output.device): a misspelt key is then fixed at a glance.
func (e *expression) keysHint(msg string, act map[string]any) string {
	const prefix = "no such key: "
	i := strings.Index(msg, prefix)
	if i < 0 {
		return ""
	}
	key := msg[i+len(prefix):]
	selects := func(base string) bool {
		re, err := regexp.Compile(base + `\.` + regexp.QuoteMeta(key) + `\b`)
		return err == nil && re.MatchString(e.src)
	}
	hint := func(what string, m map[string]any) string {
		if _, ok := m[key]; ok || len(m) == 0 {
			return ""
		}
		return fmt.Sprintf(" (%s has %s)", what, strings.Join(slices.Sorted(maps.Keys(m)), ", "))
	}
	if item, ok := act["item"].(map[string]any); ok && selects(`\bitem`) {
		return hint("item", item)
	}
	steps, _ := act["steps"].(map[string]any)
	for _, r := range refsOf(e) {
		st, _ := steps[r.name].(map[string]any)
		out, ok := st["output"].(map[string]any)
		if r.root != "steps" || r.field != "output" || !ok {
			continue
		}
		name := regexp.QuoteMeta(r.name)
		if selects(`\bsteps(\.` + name + `|\["` + name + `"\]|\['` + name + `'\])\.output`) {
			return hint("steps."+r.name+".output", out)
		}
	}
	return ""
}

// fromCEL converts a CEL value to plain Go data.
func fromCEL(v ref.Val, depth int) (any, error) {
	if depth > 100 {
		return nil, errors.New("result is nested too deeply")
	}
	switch x := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return uint64(x), nil
	case types.Double:
		return float64(x), nil
	case types.String:
		return string(x), nil
	case types.Bytes:
		return string(x), nil
	case types.Timestamp:
		return x.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return x.Duration.String(), nil
	case *types.Err:
		return nil, x
	}
	switch nv := v.Value().(type) {
	case map[string]any, []any:
		return normalize(nv)
	}
	if l, ok := v.(traits.Lister); ok {
		var out []any
		it := l.Iterator()
		for it.HasNext() == types.True {
			e, err := fromCEL(it.Next(), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		if out == nil {
			out = []any{}
		}
		return out, nil
	}
	if m, ok := v.(traits.Mapper); ok {
		out := map[string]any{}
		it := m.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			val, found := m.Find(k)
			if !found {
				continue
			}
			e, err := fromCEL(val, depth+1)
			if err != nil {
				return nil, err
			}
			key, err := fromCEL(k, depth+1)
			if err != nil {
				return nil, err
			}
			out[interpolate(key)] = e
		}
		return out, nil
	}
	return nil, fmt.Errorf("result of type %s cannot be used as a value", v.Type().TypeName())
}

// normalize turns any JSON-like Go value into the plain data expressions
// and stored outputs use: nil, bool, float64 (every number), string, []any
// and map[string]any. Values of other types take a JSON round trip.
func normalize(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float32:
		return float64(x), nil
	case json.Number:
		return x.Float64()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = n
		}
		return out, nil
	}
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("value of type %T is not JSON: %w", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, err
	}
	return out, nil
}
