package flow

import (
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
)

// exprRef is a reference found in an expression: inputs.<name> or
// steps.<name>[.<field>].
type exprRef struct {
	root  string // "inputs" or "steps"
	name  string
	field string // for steps: the selected field ("output", "outputs"), if any
	id    int64  // the CEL expression id, for its position
}

// refsOf lists the inputs and steps references of a compiled expression.
// Names bound by a comprehension (e.g. the "s" of list.map(s, ...)) shadow
// the roots inside it.
func refsOf(e *expression) []exprRef {
	if e.ast == nil {
		return nil
	}
	var out []exprRef
	walkRefs(e.ast.NativeRep().Expr(), map[string]int{}, &out, 0)
	return out
}

// rootName returns the name selected from root by x (root.name or
// root["name"]) and the expression id of root.
func rootName(x celast.Expr, root string, shadow map[string]int) (string, int64, bool) {
	name, op, ok := fieldOf(x)
	if !ok || op.Kind() != celast.IdentKind || op.AsIdent() != root || shadow[root] > 0 {
		return "", 0, false
	}
	return name, op.ID(), true
}

// fieldOf returns the field selected from x's operand (x.f or x["f"]) and
// that operand.
func fieldOf(x celast.Expr) (string, celast.Expr, bool) {
	switch x.Kind() {
	case celast.SelectKind:
		s := x.AsSelect()
		return s.FieldName(), s.Operand(), true
	case celast.CallKind:
		c := x.AsCall()
		if c.FunctionName() != operators.Index || len(c.Args()) != 2 {
			return "", nil, false
		}
		key := c.Args()[1]
		if key.Kind() != celast.LiteralKind {
			return "", nil, false
		}
		if s, ok := key.AsLiteral().(types.String); ok {
			return string(s), c.Args()[0], true
		}
	}
	return "", nil, false
}

func walkRefs(x celast.Expr, shadow map[string]int, out *[]exprRef, depth int) {
	if x == nil || depth > 500 {
		return
	}
	// steps.X.field
	if f, op, ok := fieldOf(x); ok {
		if name, id, ok := rootName(op, "steps", shadow); ok {
			*out = append(*out, exprRef{root: "steps", name: name, field: f, id: id})
			walkIndexKey(x, shadow, out, depth)
			return
		}
	}
	for _, root := range []string{"steps", "inputs"} {
		if name, id, ok := rootName(x, root, shadow); ok {
			*out = append(*out, exprRef{root: root, name: name, id: id})
			return
		}
	}
	switch x.Kind() {
	case celast.SelectKind:
		walkRefs(x.AsSelect().Operand(), shadow, out, depth+1)
	case celast.CallKind:
		c := x.AsCall()
		if c.IsMemberFunction() {
			walkRefs(c.Target(), shadow, out, depth+1)
		}
		for _, a := range c.Args() {
			walkRefs(a, shadow, out, depth+1)
		}
	case celast.ListKind:
		for _, e := range x.AsList().Elements() {
			walkRefs(e, shadow, out, depth+1)
		}
	case celast.MapKind:
		for _, en := range x.AsMap().Entries() {
			if en.Kind() == celast.MapEntryKind {
				walkRefs(en.AsMapEntry().Key(), shadow, out, depth+1)
				walkRefs(en.AsMapEntry().Value(), shadow, out, depth+1)
			}
		}
	case celast.StructKind:
		for _, f := range x.AsStruct().Fields() {
			if f.Kind() == celast.StructFieldKind {
				walkRefs(f.AsStructField().Value(), shadow, out, depth+1)
			}
		}
	case celast.ComprehensionKind:
		c := x.AsComprehension()
		walkRefs(c.IterRange(), shadow, out, depth+1)
		walkRefs(c.AccuInit(), shadow, out, depth+1)
		bound := []string{c.IterVar(), c.AccuVar()}
		if c.HasIterVar2() {
			bound = append(bound, c.IterVar2())
		}
		for _, b := range bound {
			shadow[b]++
		}
		walkRefs(c.LoopCondition(), shadow, out, depth+1)
		walkRefs(c.LoopStep(), shadow, out, depth+1)
		walkRefs(c.Result(), shadow, out, depth+1)
		for _, b := range bound {
			shadow[b]--
		}
	}
}

// walkIndexKey walks the key of an index expression x[k], which may itself
// hold references.
func walkIndexKey(x celast.Expr, shadow map[string]int, out *[]exprRef, depth int) {
	if x.Kind() == celast.CallKind {
		c := x.AsCall()
		if len(c.Args()) == 2 {
			walkRefs(c.Args()[1], shadow, out, depth+1)
		}
	}
}
