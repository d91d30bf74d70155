package flow

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// Shape is what validation knows of a card's output value: an object's
// keys (Keys, in order, each with the shape of its value in Values, nil
// when not described further), a list's items (Item) or, for a value that
// is neither, its Kind. A nil *Shape is a value nothing is known of.
type Shape struct {
	Keys   []string
	Values map[string]*Shape
	Item   *Shape
	// Kind is "string", "number" or "bool" for a value known to be one
	// (or null); "" otherwise.
	Kind string
	// Enum lists, for a string, every value it takes (a device's status:
	// ACTIVE, CREATED, DEACTIVATED, SUSPENDED); nil when any string may be.
	Enum []string
}

// kindText names the kind of value s is, as the flow's documents speak of
// values ("a list"); "" when it is not known.
func (s *Shape) kindText() string {
	switch {
	case s == nil:
		return ""
	case len(s.Keys) > 0:
		return "an object"
	case s.Item != nil:
		return "a list"
	case s.Kind != "":
		return "a " + s.Kind
	}
	return ""
}

func (s *Shape) has(key string) bool {
	return s != nil && slices.Contains(s.Keys, key)
}

func (s *Shape) item() *Shape {
	if s == nil {
		return nil
	}
	return s.Item
}

// shapeChecker checks the keys one step's expressions select from values
// whose shape is known: a step's output (steps.X.output.KEY), the items of
// a for_each over one (item.profile.KEY) and the variables of a list macro
// over one (steps.find.output.devices.filter(d, d.KEY ...)).
type shapeChecker struct {
	iss     *issues
	step    *Step
	byID    map[string]*Step
	outputs map[string]*Shape // step id → its card's output
	cards   map[string]string // step id → its card's reference
	e       *expression
	// shapes are the shapes of the nodes of e found known, by node id.
	shapes map[int64]*Shape
}

// checkShapes adds an issue for every key a step's expressions select from
// a value whose keys are known and that it never has: the run would fail
// there ("no such key"). Problems of the references themselves (an unknown
// step, a for_each step's output) are reported when the document is parsed.
func (d *Document) checkShapes(iss *issues, env ValidateEnv) {
	c := shapeChecker{iss: iss, byID: map[string]*Step{}, outputs: map[string]*Shape{}, cards: map[string]string{}}
	for _, st := range d.Steps {
		c.byID[st.ID] = st
		if card, ok := env.Card(st.Card); ok {
			c.outputs[st.ID], c.cards[st.ID] = card.Output, card.Ref
		}
	}
	oe := newOutputEnvs(d, c.outputs)
	for _, st := range d.Steps {
		c.step = st
		var item *Shape
		typed := func(env func() *cel.Env, where string, bound map[string]*Shape) func(*expression) {
			return func(e *expression) {
				c.check(e, bound)
				if oe != nil {
					c.typeCheck(e, env(), oe.ot, where)
				}
			}
		}
		base := func() *cel.Env { return oe.base }
		st.forEach.walkExprs(func(e *expression) {
			typed(base, "for_each", nil)(e)
			if st.forEach.isWholeExpr() && e.ast != nil {
				s := c.shapes[e.ast.NativeRep().Expr().ID()]
				item = s.item()
				c.checkKind(e, s, "a list", "for_each", "a list, e.g. for_each: ${{ steps.find.output.devices }}")
			}
		})
		var bound map[string]*Shape
		env := base
		if st.forEach != nil {
			bound = map[string]*Shape{"item": item}
			var itemEnv *cel.Env
			env = func() *cel.Env {
				if itemEnv == nil {
					itemEnv = oe.forItem(item)
				}
				return itemEnv
			}
		}
		st.cond.walkExprs(func(e *expression) {
			typed(env, "if", bound)(e)
			if st.cond.isWholeExpr() && e.ast != nil {
				c.checkKind(e, c.shapes[e.ast.NativeRep().Expr().ID()], "a bool", "if", `true or false, e.g. if: ${{ item.status == "ACTIVE" }}`)
			}
		})
		st.input.walkExprs(typed(env, "input", bound))
	}
}

// checkKind refuses e, a step's whole for_each or if, when what it selects
// (steps.find.output, item.status) is known to be another kind of value
// than want: the run would fail there, on every item. The kinds the
// expression checker knows (an input's, a function's) are refused when
// the document is parsed (docParser.checkKind).
func (c *shapeChecker) checkKind(e *expression, s *Shape, want, where, wantText string) {
	if got := s.kindText(); got != "" && got != want {
		c.iss.add(e.pos, c.step.ID, "%s: ${{ %s }} gives %s; it must give %s", where, strings.TrimSpace(e.src), got, wantText)
	}
}

// check checks e with the names in bound (a nil shape: a name bound to a
// value nothing is known of) and returns the shape of its value.
func (c *shapeChecker) check(e *expression, bound map[string]*Shape) *Shape {
	if e.ast == nil {
		return nil
	}
	c.e, c.shapes = e, map[int64]*Shape{}
	s, _, _ := c.shapeOf(e.ast.NativeRep().Expr(), bound, 0)
	return s
}

// shapeOf returns the shape of x's value, the path that names it
// ("item.profile") and the id of the path's first name, for positions;
// path is "" when x is not a path to a value whose shape is known.
func (c *shapeChecker) shapeOf(x celast.Expr, bound map[string]*Shape, depth int) (*Shape, string, int64) {
	s, path, id := c.nodeShape(x, bound, depth)
	if s != nil {
		c.shapes[x.ID()] = s
	}
	return s, path, id
}

func (c *shapeChecker) nodeShape(x celast.Expr, bound map[string]*Shape, depth int) (*Shape, string, int64) {
	if x == nil || depth > 500 {
		return nil, "", 0
	}
	switch x.Kind() {
	case celast.IdentKind:
		if s, ok := bound[x.AsIdent()]; ok && s != nil {
			return s, x.AsIdent(), x.ID()
		}
		return nil, "", 0
	case celast.SelectKind:
		return c.selected(x, x.AsSelect().Operand(), x.AsSelect().FieldName(), bound, depth)
	case celast.CallKind:
		call := x.AsCall()
		if call.FunctionName() == operators.Index && len(call.Args()) == 2 {
			target, key := call.Args()[0], call.Args()[1]
			if key.Kind() == celast.LiteralKind {
				if k, ok := key.AsLiteral().(types.String); ok {
					return c.selected(x, target, string(k), bound, depth)
				}
			}
			s, path, id := c.shapeOf(target, bound, depth+1)
			c.shapeOf(key, bound, depth+1)
			if s.item() != nil {
				return s.item(), path + "[…]", id
			}
			return nil, "", 0
		}
		if call.IsMemberFunction() {
			c.shapeOf(call.Target(), bound, depth+1)
		}
		for _, a := range call.Args() {
			c.shapeOf(a, bound, depth+1)
		}
		c.checkEnum(x)
	case celast.ListKind:
		for _, el := range x.AsList().Elements() {
			c.shapeOf(el, bound, depth+1)
		}
	case celast.MapKind:
		for _, en := range x.AsMap().Entries() {
			if en.Kind() == celast.MapEntryKind {
				c.shapeOf(en.AsMapEntry().Key(), bound, depth+1)
				c.shapeOf(en.AsMapEntry().Value(), bound, depth+1)
			}
		}
	case celast.StructKind:
		for _, f := range x.AsStruct().Fields() {
			if f.Kind() == celast.StructFieldKind {
				c.shapeOf(f.AsStructField().Value(), bound, depth+1)
			}
		}
	case celast.ComprehensionKind:
		comp := x.AsComprehension()
		rng, _, _ := c.shapeOf(comp.IterRange(), bound, depth+1)
		c.shapeOf(comp.AccuInit(), bound, depth+1)
		inner := maps.Clone(bound)
		if inner == nil {
			inner = map[string]*Shape{}
		}
		// One variable over a list is its items; over a map, its keys. With
		// two, the first is the index or key and the second the value.
		if comp.HasIterVar2() {
			inner[comp.IterVar()], inner[comp.IterVar2()] = nil, rng.item()
		} else {
			inner[comp.IterVar()] = rng.item()
		}
		inner[comp.AccuVar()] = nil
		c.shapeOf(comp.LoopCondition(), inner, depth+1)
		c.shapeOf(comp.LoopStep(), inner, depth+1)
		c.shapeOf(comp.Result(), inner, depth+1)
	}
	return nil, "", 0
}

// selected is the shape of key selected from operand (x is operand.key or
// operand["key"]); a key the operand's shape does not have is an issue.
func (c *shapeChecker) selected(x, operand celast.Expr, key string, bound map[string]*Shape, depth int) (*Shape, string, int64) {
	// steps.X.output and steps.X.outputs, unless a macro's variable is
	// named steps.
	if name, op, ok := fieldOf(operand); ok && op.Kind() == celast.IdentKind && op.AsIdent() == "steps" {
		if _, shadowed := bound["steps"]; !shadowed {
			target, ok := c.byID[name]
			switch {
			case !ok:
			case key == "output" && target.forEach == nil:
				return c.outputs[name], "steps." + name + ".output", op.ID()
			case key == "outputs" && target.forEach != nil:
				if out := c.outputs[name]; out != nil {
					return &Shape{Item: out}, "steps." + name + ".outputs", op.ID()
				}
			}
			return nil, "", 0
		}
	}
	s, path, id := c.shapeOf(operand, bound, depth+1)
	if path != "" && s != nil && s.Item != nil && len(s.Keys) == 0 && x.Kind() == celast.SelectKind && !x.AsSelect().IsTestOnly() {
		// steps.find.output.devices.id: a list has no keys; a run fails
		// there on every item.
		c.iss.add(c.e.nodePos(x.ID()), c.step.ID, "%s.%s: %s is a list, which has no field %q: select from one of its items (%s[0].%s), or take the field of each with %s.map(x, x.%s)",
			path, key, path, key, path, key, path, key)
		return nil, "", 0
	}
	if path == "" || s == nil || len(s.Keys) == 0 {
		return nil, "", 0
	}
	if !s.has(key) {
		c.iss.add(c.e.nodePos(id), c.step.ID, "%s", c.missing(path, key, s))
		return nil, "", 0
	}
	return s.Values[key], path + "." + key, id
}

// missing says that the value at path (of shape s) has no key.
func (c *shapeChecker) missing(path, key string, s *Shape) string {
	near := suggest(key, s.Keys...)
	// A device's id is id, and what a manage card acted on is deviceId.
	switch {
	case key == "deviceId" && s.has("id"):
		near = ` (did you mean "id"?)`
	case key == "id" && s.has("deviceId"):
		near = ` (did you mean "deviceId"?)`
	}
	if name, ok := strings.CutPrefix(path, "steps."); ok && strings.HasSuffix(name, ".output") {
		name = strings.TrimSuffix(name, ".output")
		return fmt.Sprintf("%s.%s: step %q (%s) has no output %q%s; its output has %s",
			path, key, name, c.cards[name], key, near, strings.Join(s.Keys, ", "))
	}
	return fmt.Sprintf("%s.%s: %s has no field %q%s; its fields are %s", path, key, path, key, near, strings.Join(s.Keys, ", "))
}

// checkEnum refuses a comparison (==, != or in) of a value whose shape
// lists every value it takes (item.status) with a string literal that is
// none of them: item.status == "active" never matches a device, and the
// run would go through every device doing nothing. "" passes: it tests
// for a value left out.
func (c *shapeChecker) checkEnum(x celast.Expr) {
	call := x.AsCall()
	fn, args := call.FunctionName(), call.Args()
	if len(args) != 2 || fn != operators.Equals && fn != operators.NotEquals && fn != operators.In {
		return
	}
	var value celast.Expr
	var lits []celast.Expr
	for i, a := range args {
		if s := c.shapes[a.ID()]; s == nil || len(s.Enum) == 0 || fn == operators.In && i == 1 {
			continue
		}
		value = a
		other := args[1-i]
		switch {
		case fn == operators.In && other.Kind() == celast.ListKind:
			lits = other.AsList().Elements()
		case fn != operators.In:
			lits = []celast.Expr{other}
		}
		break
	}
	if value == nil {
		return
	}
	enum := c.shapes[value.ID()].Enum
	info := c.e.ast.NativeRep().SourceInfo()
	for _, l := range lits {
		if l.Kind() != celast.LiteralKind {
			continue
		}
		lit, ok := l.AsLiteral().(types.String)
		if !ok || lit == "" || slices.Contains(enum, string(lit)) {
			continue
		}
		what, err := cel.ExprToString(value, info)
		if err != nil {
			what = "the value"
		}
		whole, err := cel.ExprToString(x, info)
		if err != nil {
			whole = what
		}
		never := "never true"
		if fn == operators.NotEquals {
			never = "always true"
		}
		near := ""
		for _, v := range enum {
			if strings.EqualFold(v, string(lit)) {
				near = fmt.Sprintf(" (did you mean %q? values are case-sensitive)", v)
			}
		}
		if near == "" {
			near = suggest(string(lit), enum...)
		}
		c.iss.add(c.e.nodePos(l.ID()), c.step.ID, "%s is one of %s; %q is none of them, so %s is %s%s", what, strings.Join(enum, ", "), string(lit), whole, never, near)
	}
}
