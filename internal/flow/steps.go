package flow

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"github.com/goccy/go-yaml/ast"
)

var stepKeys = []string{"id", "card", "connection", "input", "for_each", "concurrency", "if"}

func (p *docParser) steps(n ast.Node, keyPos Pos) []*Step {
	orig := n
	seq, ok := p.plain(n, "").(*ast.SequenceNode)
	if !ok {
		if !unsupported(orig) {
			p.iss.add(keyPos, "", "steps must be a list of steps (each line starting with - ), not %s", describe(p.plain(orig, "")))
		}
		return nil
	}
	if len(seq.Values) == 0 {
		p.iss.add(keyPos, "", "steps is empty: add at least one step (id, card, connection)")
		return nil
	}
	if len(seq.Values) > MaxSteps {
		p.iss.add(keyPos, "", "the flow has %d steps; the limit is %d: split it into several flows", len(seq.Values), MaxSteps)
		return nil
	}
	var out []*Step
	ids := map[string]Pos{}
	for i, sn := range seq.Values {
		st := p.step(sn, i)
		if st == nil {
			continue
		}
		if st.ID != "" {
			if first, dup := ids[st.ID]; dup {
				p.iss.add(st.Pos, st.ID, "step id %q is already used by the step at %s: give each step its own id", st.ID, first)
			} else {
				ids[st.ID] = st.Pos
			}
		}
		out = append(out, st)
	}
	return out
}

func (p *docParser) step(n ast.Node, index int) *Step {
	entries, ok := p.mapping(n, "", fmt.Sprintf("step %d", index+1))
	if !ok {
		return nil
	}
	st := &Step{Pos: p.pos(n), Concurrency: 1}
	// The id names the step in every other message, so read it first.
	for _, e := range entries {
		if e.key == "id" {
			id, _ := p.str(e.val, "", "id")
			switch {
			case id == "":
				p.iss.add(e.keyPos, "", "step %d has an empty id: give it an id of lower-case letters, digits, - and _", index+1)
			case !stepIDPattern.MatchString(id) || len(id) > 64:
				p.iss.add(e.keyPos, "", "step id %q is not valid: use up to 64 lower-case letters, digits, - and _ (e.g. suspend-devices)", id)
			default:
				st.ID = id
			}
		}
	}
	name := st.ID
	var concPos, emptyInput Pos
	hasConc, seen := false, map[string]bool{}
	for _, e := range entries {
		seen[e.key] = true
		switch e.key {
		case "id":
		case "card":
			var card string
			p.asValues(func() { card, _ = p.str(e.val, name, "card") })
			if !cardRefPattern.MatchString(card) {
				example := "okta-devices/suspend-device"
				if card != "" && !strings.ContainsAny(card, "/ ") {
					example = "okta-devices/" + card // the short name cardflow run takes
				}
				p.valueIssue(e.keyPos, name, "card %q is not a card reference: write connector/card, e.g. %s", card, example)
				continue
			}
			st.Card, st.cardPos = card, p.pos(e.val)
		case "connection":
			var c string
			p.asValues(func() { c, _ = p.str(e.val, name, "connection") })
			if strings.TrimSpace(c) == "" {
				p.valueIssue(e.keyPos, name, "connection is empty: give the nickname or id of a connection")
				continue
			}
			if strings.Contains(c, "${{") {
				p.valueIssue(e.keyPos, name, "connection cannot hold an expression: give the nickname or id of a connection")
				continue
			}
			st.Connection, st.connPos = c, p.pos(e.val)
		case "input":
			v := p.value(e.val, name, 0)
			if v == nil {
				continue
			}
			switch {
			case v.kind == valMap, v.isWholeExpr():
				st.input = v
			case v.kind == valLiteral && v.lit == nil:
				emptyInput = e.keyPos
			default:
				p.iss.add(e.keyPos, name, "input must be a mapping of the card's input names to values (or one ${{ }} expression giving such a map)")
			}
		case "for_each":
			v := p.value(e.val, name, 0)
			if v == nil {
				continue
			}
			if v.kind != valList && !v.isWholeExpr() {
				p.iss.add(e.keyPos, name, "for_each must be a list or one ${{ }} expression giving a list, e.g. for_each: ${{ steps.find.output.devices }}")
				continue
			}
			st.forEach = v
		case "concurrency":
			var c int
			var ok bool
			p.asValues(func() { c, ok = p.intValue(e.val, name, "concurrency", 1, MaxConcurrency) })
			if !ok {
				continue
			}
			st.Concurrency, concPos, hasConc = c, e.keyPos, true
		case "if":
			v := p.value(e.val, name, 0)
			if v == nil {
				continue
			}
			_, isBool := v.lit.(bool)
			if !(v.kind == valLiteral && isBool) && !v.isWholeExpr() {
				p.valueIssue(e.keyPos, name, "if must be true, false or one ${{ }} expression giving a bool, e.g. if: ${{ item.status == \"ACTIVE\" }}")
				continue
			}
			st.cond = v
		default:
			if emptyInput.Line > 0 && e.keyPos.Line > emptyInput.Line && suggest(e.key, stepKeys...) == "" {
				// input: with nothing under it, then a key beside it:
				// the card's input, indented as far as input: itself.
				p.iss.add(e.keyPos, name, "unknown key %q; a step has %s; if %s is an input of the card, indent it under input: (further than input: on line %d)",
					e.key, strings.Join(stepKeys, ", "), e.key, emptyInput.Line)
				continue
			}
			p.iss.add(e.keyPos, name, "unknown key %q; a step has %s%s", e.key, strings.Join(stepKeys, ", "), suggest(e.key, stepKeys...))
		}
	}
	for _, k := range []string{"id", "card", "connection"} {
		switch {
		case seen[k]:
		case k == "id": // other steps' expressions name it
			p.iss.add(st.Pos, name, "the step has no %s: %s", k, missingStepKey[k])
		default: // Check leaves the step's card or connection out
			p.valueIssue(st.Pos, name, "the step has no %s: %s", k, missingStepKey[k])
		}
	}
	if hasConc && st.forEach == nil && !seen["for_each"] {
		p.valueIssue(concPos, name, "concurrency applies only to a step with for_each: remove it or add for_each")
	}
	return st
}

var missingStepKey = map[string]string{
	"id":         "add id: with a unique name of lower-case letters, digits, - and _",
	"card":       "add card: connector/card, e.g. okta-devices/search-devices",
	"connection": "add connection: with the nickname or id of a connection",
}

// compile compiles every expression of the document (once; programs are
// kept on the document) and checks what each one refers to.
func (p *docParser) compile(doc *Document) {
	envs, err := envsFor(doc)
	if err != nil {
		p.iss.add(Pos{Line: 1, Column: 1}, "", "expressions are unavailable: %v", err)
		return
	}
	if doc.Trigger != nil {
		p.compileTrigger(doc, envs)
	}
	index := map[string]int{}
	for i, st := range doc.Steps {
		index[st.ID] = i
	}
	typed := typedEnvs(envs, doc.Inputs)
	for i, st := range doc.Steps {
		deps := map[string]bool{}
		check := func(env *cel.Env, where string) func(*expression) {
			return func(e *expression) {
				msgs := e.compile(env)
				if len(msgs) == 0 && typed != nil {
					te := typed.base
					if env == envs.item {
						te = typed.item
					}
					msgs = e.typeCheck(te)
				}
				for _, m := range msgs {
					p.iss.add(m.pos, st.ID, "%s: %s", where, explainCompile(m.msg, e.src, doc, where))
				}
				p.checkRefs(doc, i, index, e, deps)
			}
		}
		itemEnv := envs.base
		if st.forEach != nil {
			itemEnv = envs.item
		}
		st.forEach.walkExprs(check(envs.base, "for_each"))
		st.cond.walkExprs(check(itemEnv, "if"))
		p.checkKind(st, st.forEach, typed, false, types.ListKind, "for_each", "a list, e.g. for_each: ${{ steps.find.output.devices }}")
		p.checkKind(st, st.cond, typed, st.forEach != nil, types.BoolKind, "if", `true or false, e.g. if: ${{ item.status == "ACTIVE" }}`)
		st.input.walkExprs(check(itemEnv, "input"))
		for _, d := range doc.Steps[:i] {
			if deps[d.ID] {
				st.deps = append(st.deps, d.ID)
			}
		}
	}
}

// checkKind refuses the expression v (a step's for_each or if, one
// ${{ }}) when the checker knows it gives a value of another kind than
// want, such as a string input given to for_each: the run would fail
// there on every item. An expression whose kind is known only when it
// runs (a step's output, an item's field) is left to the run. typed, when
// not nil, has the declared inputs' types; inItem tells that v sees item.
func (p *docParser) checkKind(st *Step, v *value, typed *celEnvs, inItem bool, want types.Kind, where, wantText string) {
	if !v.isWholeExpr() {
		return
	}
	e := v.tmpl.parts[0].expr
	if e == nil || e.ast == nil {
		return // it did not compile: that is reported
	}
	t := e.ast.OutputType()
	if typed != nil {
		te := typed.base
		if inItem {
			te = typed.item
		}
		if ast, iss := te.Compile(e.src); iss.Err() == nil {
			t = ast.OutputType()
		}
	}
	switch t.Kind() {
	case want, types.DynKind, types.AnyKind, types.TypeParamKind, types.ErrorKind:
		return
	}
	p.iss.add(e.pos, st.ID, "%s: ${{ %s }} gives %s; it must give %s", where, strings.TrimSpace(e.src), celKindText(t), wantText)
}

// celKindText names a CEL type as the flow's documents speak of values.
func celKindText(t *cel.Type) string {
	switch t.Kind() {
	case types.StringKind:
		return "a string"
	case types.DoubleKind, types.IntKind, types.UintKind:
		return "a number"
	case types.BoolKind:
		return "a bool"
	case types.ListKind:
		return "a list"
	case types.MapKind, types.StructKind:
		return "an object"
	case types.NullTypeKind:
		return "null"
	case types.TimestampKind:
		return "a timestamp"
	case types.DurationKind:
		return "a duration"
	}
	return t.String()
}

// explainCompile adds a hint to a CEL compile message where a common
// mistake explains it.
func explainCompile(msg, src string, doc *Document, where string) string {
	switch {
	case strings.HasPrefix(msg, "Syntax error"):
		code := outsideStrings(src)
		switch {
		case singleEquals.MatchString(code):
			return msg + "; compare with ==, not = (e.g. ${{ item.status == \"ACTIVE\" }})"
		case wordOperator.MatchString(code):
			return msg + "; CEL writes && for and, || for or and ! for not (e.g. ${{ item.status == \"ACTIVE\" && !item.profile.registered }})"
		}
		return msg + "; expressions are CEL, e.g. ${{ item.status == \"ACTIVE\" }}"
	case strings.Contains(msg, "found no matching overload"):
		return msg + "; convert values with string(), int() or double() (numbers from inputs and cards are doubles: write 2.0, not 2)"
	case strings.Contains(msg, "undeclared reference to 'item'") || strings.Contains(msg, "undeclared reference to 'index'"):
		if where == "for_each" {
			return msg + "; item and index are the current item inside the step's input and if, not in for_each itself"
		}
		return msg + "; item and index exist only in a step with for_each"
	case strings.HasPrefix(msg, "invalid duration argument"):
		return msg + `; a duration is written in hours, minutes and seconds: duration("2160h") for 90 days, duration("1h30m")`
	case strings.HasPrefix(msg, "invalid timestamp argument"):
		return msg + `; a timestamp is written in RFC 3339, with a time and a zone: timestamp("2024-01-01T00:00:00Z")`
	case strings.HasPrefix(msg, "invalid matches argument"):
		return msg + "; the pattern is no regular expression (RE2 syntax, as Go's regexp)"
	case strings.Contains(msg, "undeclared reference to 'now'"):
		return msg + "; the time the run started is trigger.time, e.g. trigger.time - duration(\"2160h\") for 90 days before it"
	case strings.Contains(msg, "undeclared reference"):
		for _, st := range doc.Steps {
			if !inputNamePattern.MatchString(st.ID) && strings.Contains(src, "steps."+st.ID) {
				return fmt.Sprintf("%s; step ids with - or a leading digit are written steps[%q]", msg, st.ID)
			}
		}
		if m := undeclaredWord.FindStringSubmatch(msg); m != nil {
			// MACOS, ACTIVE: a value meant as text, which CEL reads
			// as a name unless it is in quotes.
			return fmt.Sprintf("%s; text is written in quotes: %q (the names in scope are inputs, steps and trigger, and item and index in a step with for_each)", msg, m[1])
		}
		return msg + "; the names in scope are inputs, steps and trigger (and item and index in a step with for_each)"
	}
	return msg
}

// undeclaredWord is CEL's message of an undeclared name written in
// capitals, as Okta's values are (MACOS, ACTIVE, FULL).
var undeclaredWord = regexp.MustCompile(`undeclared reference to '([A-Z][A-Z0-9_]*)'`)

var (
	// singleEquals is an = that is no part of ==, !=, <= or >=.
	singleEquals = regexp.MustCompile(`(^|[^=!<>])=($|[^=])`)
	// wordOperator is and, or or not written as a word, as in SQL.
	wordOperator = regexp.MustCompile(`\b(and|or|not)\b`)
)

// outsideStrings is src with the contents of its string literals blanked,
// so that what is written in them ("a = b") is not taken for code.
func outsideStrings(src string) string {
	out := []byte(src)
	var quote byte
	for i := 0; i < len(out); i++ {
		c := out[i]
		switch {
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote != 0 && c == '\\' && i+1 < len(out):
			out[i], out[i+1] = ' ', ' '
			i++
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			out[i] = ' '
		}
	}
	return string(out)
}

// checkRefs checks the inputs and steps an expression of step i refers to
// and records the steps it depends on.
func (p *docParser) checkRefs(doc *Document, i int, index map[string]int, e *expression, deps map[string]bool) {
	st := doc.Steps[i]
	for _, r := range refsOf(e) {
		pos := e.refPos(r)
		if r.root == "inputs" {
			if _, ok := doc.Input(r.name); !ok {
				p.iss.add(pos, st.ID, "inputs.%s: the flow has no input %q; %s", r.name, r.name, declaredInputs(doc))
			}
			continue
		}
		j, ok := index[r.name]
		switch {
		case !ok:
			p.iss.add(pos, st.ID, "steps.%s: there is no step %q; the steps before this one are %s", r.name, r.name, stepList(doc.Steps[:i]))
			continue
		case j == i:
			p.iss.add(pos, st.ID, "steps.%s: a step cannot use its own output; refer only to steps before it", r.name)
			continue
		case j > i:
			p.iss.add(pos, st.ID, "steps.%s: step %q runs after this one; a step may only refer to steps before it (move %q above %q)", r.name, r.name, r.name, st.ID)
			continue
		}
		deps[r.name] = true
		target := doc.Steps[j]
		want := "output"
		if target.forEach != nil {
			want = "outputs"
		}
		if r.field == "" || r.field == want {
			continue
		}
		if target.forEach != nil {
			p.iss.add(pos, st.ID, "steps.%s.%s: step %q has for_each, so it has outputs (a list with one output per item), not %s", r.name, r.field, r.name, r.field)
		} else {
			p.iss.add(pos, st.ID, "steps.%s.%s: step %q has one output: write steps.%s.output", r.name, r.field, r.name, r.name)
		}
	}
}

// refPos is where reference r of e is written in the document.
func (e *expression) refPos(r exprRef) Pos { return e.nodePos(r.id) }

// nodePos is where the node id of e's syntax tree is written in the
// document; the expression's own place when its source does not say.
func (e *expression) nodePos(id int64) Pos {
	if loc := e.ast.NativeRep().SourceInfo().GetStartLocation(id); loc.Line() > 0 {
		return e.posAt(loc.Line(), loc.Column())
	}
	return e.pos
}

func declaredInputs(doc *Document) string {
	if len(doc.Inputs) == 0 {
		return "declare it under inputs:"
	}
	var names []string
	for _, in := range doc.Inputs {
		names = append(names, in.Name)
	}
	return "declare it under inputs: or use one of " + strings.Join(names, ", ")
}

func stepList(steps []*Step) string {
	if len(steps) == 0 {
		return "none (this is the first step)"
	}
	ids := make([]string, 0, len(steps))
	for _, s := range steps {
		ids = append(ids, s.ID)
	}
	return strings.Join(slices.Compact(ids), ", ")
}
