package flow

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// outputTypes declares the output shapes of a document's cards to the CEL
// checker: an object with known keys is a struct type whose fields have
// the types of their shapes, a list of known items a list of their type,
// and a string, number or bool a nullable one (a key Okta left out reads
// as null in has() and comparisons). What nothing is known of stays dyn.
// It only checks: the programs that run keep the plain maps and dyn types
// of the document's own environments, so nothing here changes a result.
type outputTypes struct {
	types.Provider // the environment's own: trigger's types
	names          map[*Shape]string
	shapes         map[string]*Shape
}

func newOutputTypes(base types.Provider) *outputTypes {
	return &outputTypes{Provider: base, names: map[*Shape]string{}, shapes: map[string]*Shape{}}
}

// typeOf is the CEL type of a value of shape s.
func (ot *outputTypes) typeOf(s *Shape) *cel.Type {
	switch {
	case s == nil:
		return cel.DynType
	case len(s.Keys) > 0:
		name, ok := ot.names[s]
		if !ok {
			name = fmt.Sprintf("cardflow.output%d", len(ot.names)+1)
			ot.names[s], ot.shapes[name] = name, s
		}
		return cel.ObjectType(name)
	case s.Item != nil:
		return cel.ListType(ot.typeOf(s.Item))
	}
	switch s.Kind {
	case "string":
		return cel.NullableType(cel.StringType)
	case "number":
		return cel.NullableType(cel.DoubleType)
	case "bool":
		return cel.NullableType(cel.BoolType)
	}
	return cel.DynType
}

// FindStructType implements types.Provider.
func (ot *outputTypes) FindStructType(name string) (*types.Type, bool) {
	if _, ok := ot.shapes[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return ot.Provider.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (ot *outputTypes) FindStructFieldNames(name string) ([]string, bool) {
	if s, ok := ot.shapes[name]; ok {
		return slices.Clone(s.Keys), true
	}
	return ot.Provider.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (ot *outputTypes) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	if s, ok := ot.shapes[name]; ok {
		if !s.has(field) {
			return nil, false
		}
		return &types.FieldType{Type: ot.typeOf(s.Values[field])}, true
	}
	return ot.Provider.FindStructFieldType(name, field)
}

// NewValue implements types.Provider.
func (ot *outputTypes) NewValue(name string, fields map[string]ref.Val) ref.Val {
	if _, ok := ot.shapes[name]; ok {
		return types.NewErr("%s cannot be built in an expression", name)
	}
	return ot.Provider.NewValue(name, fields)
}

// isObject reports whether the CEL type name t is one of ot's objects.
func (ot *outputTypes) isObject(t string) bool {
	if ot == nil {
		return false
	}
	_, ok := ot.shapes[t]
	return ok
}

// outputEnvs are the environments a document's expressions are checked
// in again once its cards are known: base has each earlier step's output
// typed (steps.ID.output, steps.ID.outputs), and a for_each step's own adds
// item, typed when the for_each's items have a known shape.
type outputEnvs struct {
	ot   *outputTypes
	base *cel.Env
}

// newOutputEnvs declares the outputs of the steps of d whose shapes are
// known; nil when none is (every output then stays dyn, as it was).
func newOutputEnvs(d *Document, outputs map[string]*Shape) *outputEnvs {
	envs, err := envsFor(d)
	if err != nil {
		return nil
	}
	ot := newOutputTypes(envs.base.CELTypeProvider())
	opts := []cel.EnvOption{cel.CustomTypeProvider(ot)}
	for _, st := range d.Steps {
		out := outputs[st.ID]
		if out == nil || st.ID == "" {
			continue
		}
		if st.forEach != nil {
			opts = append(opts, cel.Variable("steps."+st.ID+".outputs", cel.ListType(ot.typeOf(out))))
		} else {
			opts = append(opts, cel.Variable("steps."+st.ID+".output", ot.typeOf(out)))
		}
	}
	base, err := envs.base.Extend(opts...)
	if err != nil {
		return nil
	}
	return &outputEnvs{ot: ot, base: base}
}

// forItem is the environment of a for_each step whose items have shape
// item (nil: not known).
func (oe *outputEnvs) forItem(item *Shape) *cel.Env {
	env, err := oe.base.Extend(cel.Variable("item", oe.ot.typeOf(item)), cel.Variable("index", cel.IntType))
	if err != nil {
		return nil
	}
	return env
}

// typeCheck checks e again in env, where card outputs have their types,
// and adds an issue for every operation on them that a run could not do
// or that could never match: item.status == 1 (a string compared with a
// number is never equal), steps.find.output.count + "1". The keys
// themselves are checkShapes', and what the document's own environments
// refuse was reported when it was parsed.
func (c *shapeChecker) typeCheck(e *expression, env *cel.Env, ot *outputTypes, where string) {
	if e.ast == nil || env == nil {
		return
	}
	parsed, iss := env.Parse(e.src)
	if iss.Err() != nil {
		return
	}
	selectLiteralKeys(parsed.NativeRep().Expr(), 0)
	if _, iss = env.Check(parsed); iss.Err() == nil {
		return
	}
	for _, ce := range iss.Errors() {
		pos := e.posAt(ce.Location.Line(), ce.Location.Column())
		if m := expectedBool.FindStringSubmatch(ce.Message); m != nil {
			if !ot.isObject(bare(m[1])) && bare(m[1]) != "!error!" {
				c.iss.add(pos, c.step.ID, "%s: %s", where, c.notBool(e, nodeAt(e, ce.Location.Line(), ce.Location.Column()), m[1]))
			}
			continue
		}
		m := overloadMsg.FindStringSubmatch(ce.Message)
		if m == nil {
			continue
		}
		target, args := splitTypes(m[2])
		if dropOverload(m[1], target, args, ot) {
			continue
		}
		c.iss.add(pos, c.step.ID, "%s: %s", where, c.explainOverload(e, m[1], target, args, ce.Location.Line(), ce.Location.Column()))
	}
}

// selectLiteralKeys rewrites every x["key"] into x.key, which the checker
// resolves alike for a map and for an output's object type, and which
// makes steps["old-devices"].output the declared steps.old-devices.output.
func selectLiteralKeys(x celast.Expr, depth int) {
	if x == nil || depth > 500 {
		return
	}
	if key, operand, ok := fieldOf(x); ok && x.Kind() == celast.CallKind {
		selectLiteralKeys(operand, depth+1)
		x.SetKindCase(celast.NewExprFactory().NewSelect(x.ID(), operand, key))
		return
	}
	switch x.Kind() {
	case celast.SelectKind:
		selectLiteralKeys(x.AsSelect().Operand(), depth+1)
	case celast.CallKind:
		call := x.AsCall()
		if call.IsMemberFunction() {
			selectLiteralKeys(call.Target(), depth+1)
		}
		for _, a := range call.Args() {
			selectLiteralKeys(a, depth+1)
		}
	case celast.ListKind:
		for _, el := range x.AsList().Elements() {
			selectLiteralKeys(el, depth+1)
		}
	case celast.MapKind:
		for _, en := range x.AsMap().Entries() {
			if en.Kind() == celast.MapEntryKind {
				selectLiteralKeys(en.AsMapEntry().Key(), depth+1)
				selectLiteralKeys(en.AsMapEntry().Value(), depth+1)
			}
		}
	case celast.StructKind:
		for _, f := range x.AsStruct().Fields() {
			if f.Kind() == celast.StructFieldKind {
				selectLiteralKeys(f.AsStructField().Value(), depth+1)
			}
		}
	case celast.ComprehensionKind:
		comp := x.AsComprehension()
		for _, sub := range []celast.Expr{comp.IterRange(), comp.AccuInit(), comp.LoopCondition(), comp.LoopStep(), comp.Result()} {
			selectLiteralKeys(sub, depth+1)
		}
	}
}

var (
	overloadMsg  = regexp.MustCompile(`^found no matching overload for '([^']+)' applied to '(.*)'$`)
	expectedBool = regexp.MustCompile(`^expected type 'bool' but found '(.*)'$`)
)

// splitTypes splits the argument types of a checker message, "(a, b)" or
// "target.(a, b)", at their top-level commas.
func splitTypes(s string) (target string, args []string) {
	if i := strings.Index(s, ".("); i >= 0 && !strings.HasPrefix(s, "(") {
		target, s = s[:i], s[i+1:]
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "("), ")")
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				args = append(args, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if strings.TrimSpace(s[start:]) != "" {
		args = append(args, strings.TrimSpace(s[start:]))
	}
	return target, args
}

// dropOverload reports whether a missing overload is one a run does not
// mind: an output's object is a map when it runs (item.profile[k], "x" in
// item.profile), numbers of any kind are equal when their values are
// (count == 3), and the branches of ?: may give values of different kinds.
func dropOverload(fn, target string, args []string, ot *outputTypes) bool {
	for _, t := range append([]string{target}, args...) {
		if ot.isObject(bare(t)) || bare(t) == "!error!" {
			return true
		}
	}
	switch fn {
	case operators.Equals, operators.NotEquals, operators.In:
		if len(args) == 2 && isNumberType(args[0]) {
			other := args[1]
			if fn == operators.In {
				other = strings.TrimSuffix(strings.TrimPrefix(other, "list("), ")")
			}
			return isNumberType(other)
		}
	case operators.Conditional:
		return len(args) == 3 && bare(args[0]) == "bool"
	}
	return false
}

// bare is a type name without its wrapper(): a nullable string is a string.
func bare(t string) string {
	if inner, ok := strings.CutPrefix(t, "wrapper("); ok {
		return strings.TrimSuffix(inner, ")")
	}
	return t
}

func isNumberType(t string) bool {
	switch bare(t) {
	case "int", "uint", "double":
		return true
	}
	return false
}

// typeText names a checker's type as the flow's documents speak of values.
func typeText(t string) string {
	t = bare(t)
	switch {
	case t == "string":
		return "a string"
	case isNumberType(t):
		return "a number"
	case t == "bool":
		return "a bool"
	case t == "null_type":
		return "null"
	case strings.HasPrefix(t, "list("):
		return "a list"
	case strings.HasPrefix(t, "map("), strings.HasPrefix(t, "cardflow."):
		return "an object"
	case t == "google.protobuf.Timestamp", t == "timestamp":
		return "a timestamp"
	case t == "google.protobuf.Duration", t == "duration":
		return "a duration"
	}
	return t
}

// explainOverload says what is wrong with the call of fn at (line, col)
// of e whose arguments have the types args: what each side is, what the
// run would do, and the fix where a literal of the wrong kind tells it.
func (c *shapeChecker) explainOverload(e *expression, fn, target string, args []string, line, col int) string {
	call, info := callAt(e, fn, line, col)
	var nodes []celast.Expr
	if call != nil {
		if call.AsCall().IsMemberFunction() {
			nodes = append(nodes, call.AsCall().Target())
		}
		nodes = append(nodes, call.AsCall().Args()...)
	}
	all := args
	if target != "" {
		all = append([]string{target}, args...)
	}
	if call == nil || len(nodes) != len(all) {
		texts := make([]string, len(all))
		for i, t := range all {
			texts[i] = typeText(t)
		}
		return fmt.Sprintf("%s cannot be applied to %s; the run would fail there", opName(fn), strings.Join(texts, " and "))
	}
	text := func(i int) string {
		if s, err := cel.ExprToString(nodes[i], info); err == nil {
			return s
		}
		return "the value"
	}
	whole, err := cel.ExprToString(call, info)
	if err != nil {
		whole = opName(fn)
	}
	switch fn {
	case operators.Equals, operators.NotEquals:
		never := "never true"
		if fn == operators.NotEquals {
			never = "always true"
		}
		msg := fmt.Sprintf("%s is %s and %s %s, so %s is %s", text(0), typeText(all[0]), text(1), typeText(all[1]), whole, never)
		return msg + c.compareHint(nodes, all)
	case operators.In:
		return fmt.Sprintf("%s is %s and %s holds %s, so %s is never true%s", text(0), typeText(all[0]), text(1),
			plural(typeText(strings.TrimSuffix(strings.TrimPrefix(all[1], "list("), ")"))), whole, c.compareHint(nodes[:1], all[:1]))
	case operators.Less, operators.LessEquals, operators.Greater, operators.GreaterEquals:
		msg := fmt.Sprintf("%s is %s and %s %s: %s cannot compare them, so the run would fail there", text(0), typeText(all[0]), text(1), typeText(all[1]), opName(fn))
		for i, t := range all {
			if bare(t) == "string" && typeText(all[1-i]) == "a timestamp" {
				return msg + fmt.Sprintf("; %s is a time written as text: compare timestamp(%s)", text(i), text(i))
			}
			if bare(t) == "string" && isNumberType(all[1-i]) {
				// "14" < "9" as text: quoting the number is no fix.
				return msg + fmt.Sprintf("; convert it with int(%s) or double(%s) where it always holds a number (strings compare as text: \"9\" > \"14\")", text(i), text(i))
			}
		}
		return msg + c.compareHint(nodes, all)
	case operators.LogicalAnd, operators.LogicalOr, operators.LogicalNot, operators.Conditional:
		for i, t := range all {
			if bare(t) != "bool" && (fn != operators.Conditional || i == 0) {
				return c.notBool(e, nodes[i], t)
			}
		}
	case operators.Add, operators.Subtract, operators.Multiply, operators.Divide, operators.Modulo:
		if len(all) != 2 {
			break
		}
		if slices.Contains(all, "string") || slices.Contains(all, "wrapper(string)") {
			return fmt.Sprintf("%s is %s and %s %s: %s cannot join them, so the run would fail there; convert with string(), e.g. %s + string(%s)", text(0), typeText(all[0]), text(1), typeText(all[1]), opName(fn), text(0), text(1))
		}
		if isNumberType(all[0]) && isNumberType(all[1]) {
			for i, t := range all {
				if bare(t) == "int" && nodes[i].Kind() == celast.LiteralKind {
					return fmt.Sprintf("%s is a number, a double as every number of an input or a card, and %s an int: %s needs two of a kind, so the run would fail there; write %s.0", text(1-i), text(i), whole, text(i))
				}
			}
			return fmt.Sprintf("%s needs two numbers of a kind, and those of inputs and cards are doubles, so the run would fail there: convert the other with double()", whole)
		}
	}
	texts := make([]string, len(all))
	for i, t := range all {
		texts[i] = fmt.Sprintf("%s (%s)", text(i), typeText(t))
	}
	return fmt.Sprintf("%s cannot be applied to %s, so the run would fail there", opName(fn), strings.Join(texts, " and "))
}

// compareHint is the fix of a comparison of an output's value (one of
// nodes, whose shape is known) with a literal of another kind: the value
// the literal likely means, written as the output's kind.
func (c *shapeChecker) compareHint(nodes []celast.Expr, types []string) string {
	for i, n := range nodes {
		s := c.shapes[n.ID()]
		if s == nil && n.Kind() != celast.LiteralKind {
			s = kindShape(types[i]) // an input of a declared type
		}
		if s == nil || s.Kind == "" {
			continue
		}
		var lit any
		if len(nodes) == 2 {
			if nodes[1-i].Kind() != celast.LiteralKind {
				return "" // two values of the flow's: which is meant is not told
			}
			lit = nodes[1-i].AsLiteral().Value()
		}
		return "; " + compareWith(s, lit)
	}
	return ""
}

// kindShape is the shape of a value of the checker's type t, when that is
// a string, a number or a bool.
func kindShape(t string) *Shape {
	switch {
	case bare(t) == "string":
		return &Shape{Kind: "string"}
	case isNumberType(t):
		return &Shape{Kind: "number"}
	case bare(t) == "bool":
		return &Shape{Kind: "bool"}
	}
	return nil
}

// compareWith says what to compare a value of shape s with, given the
// literal lit it was compared with (nil when it was not a literal).
func compareWith(s *Shape, lit any) string {
	switch s.Kind {
	case "string":
		if len(s.Enum) > 0 {
			return fmt.Sprintf("it is one of %s: compare with a string, e.g. %q", strings.Join(s.Enum, ", "), s.Enum[0])
		}
		switch v := lit.(type) {
		case int64, uint64, float64, bool:
			return fmt.Sprintf("compare with a string, e.g. \"%v\"", v)
		}
		return "compare with a string"
	case "number":
		if v, ok := lit.(string); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
				return fmt.Sprintf("compare with the number %s, without quotes", strconv.FormatFloat(f, 'f', -1, 64))
			}
		}
		return "compare with a number, e.g. 0"
	case "bool":
		switch v := lit.(type) {
		case string:
			if b, err := strconv.ParseBool(strings.ToLower(strings.TrimSpace(v))); err == nil {
				return fmt.Sprintf("compare with %t, without quotes, or test the value itself", b)
			}
		case int64, uint64, float64:
			return fmt.Sprintf("compare with %t, or test the value itself", fmt.Sprint(v) != "0")
		}
		return "compare with true or false, or test the value itself"
	}
	return ""
}

// notBool says that node, of type t, is used where a bool must be (if,
// &&, !, ?:), and how to make one of it.
func (c *shapeChecker) notBool(e *expression, node celast.Expr, t string) string {
	text := "the value"
	if node != nil {
		if s, err := cel.ExprToString(node, e.ast.NativeRep().SourceInfo()); err == nil {
			text = s
		}
	}
	msg := fmt.Sprintf("%s is %s, not a bool (true or false), so the run would fail there", text, typeText(t))
	if node == nil {
		return msg
	}
	return msg + fmt.Sprintf(": compare it, e.g. %s == %s", text, c.exampleOf(node, t))
}

// nodeAt is the outermost node of e's checked expression written at
// (line, col) of the expression.
func nodeAt(e *expression, line, col int) celast.Expr {
	info := e.ast.NativeRep().SourceInfo()
	var found celast.Expr
	celast.PostOrderVisit(e.ast.NativeRep().Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		if loc := info.GetStartLocation(x.ID()); loc.Line() == line && loc.Column() == col {
			found = x
		}
	}))
	return found
}

// exampleOf is a value of type t to compare node with, from its shape
// when that is known.
func (c *shapeChecker) exampleOf(node celast.Expr, t string) string {
	if s := c.shapes[node.ID()]; s != nil && len(s.Enum) > 0 {
		return strconv.Quote(s.Enum[0])
	}
	switch bare(t) {
	case "string":
		return `"..."`
	case "double", "int", "uint":
		return "0"
	}
	return "..."
}

// callAt finds, in e's checked expression, the call of fn written at
// (line, col) of the expression, with the source information to print it.
func callAt(e *expression, fn string, line, col int) (celast.Expr, *celast.SourceInfo) {
	info := e.ast.NativeRep().SourceInfo()
	var found celast.Expr
	celast.PostOrderVisit(e.ast.NativeRep().Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		if found != nil || x.Kind() != celast.CallKind || x.AsCall().FunctionName() != fn {
			return
		}
		if loc := info.GetStartLocation(x.ID()); loc.Line() == line && loc.Column() == col {
			found = x
		}
	}))
	return found, info
}

// opName is how a function is written: == for _==_, startsWith for
// startsWith.
func opName(fn string) string {
	if op, ok := operators.FindReverse(fn); ok && op != "" {
		return op
	}
	return fn
}

// plural turns "a string" into "strings", for what a list holds.
func plural(kind string) string {
	kind = strings.TrimPrefix(strings.TrimPrefix(kind, "a "), "an ")
	if kind == "null" || kind == "any value" {
		return kind
	}
	return kind + "s"
}
