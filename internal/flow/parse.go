package flow

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/cardflow/cardflow/internal/problem"
)

var (
	stepIDPattern    = regexp.MustCompile(`^[a-z0-9_-]+$`)
	cardRefPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9-]*$`)
	inputNamePattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// idShapedName is the form of stored flows' ids: the API and the CLI
	// name a flow by its id or its name, the id first.
	idShapedName = regexp.MustCompile(`^[0-9A-Fa-f]{32}$`)
)

// celReserved are words CEL does not accept as a field name after a dot.
var celReserved = map[string]bool{
	"as": true, "break": true, "const": true, "continue": true, "else": true,
	"false": true, "for": true, "function": true, "if": true, "import": true,
	"in": true, "let": true, "loop": true, "package": true, "namespace": true,
	"null": true, "return": true, "true": true, "var": true, "void": true, "while": true,
}

// Parser reads flow documents. Its zero value is ready to use.
type Parser struct {
	// Now returns the current time, from which a cron schedule must fire
	// within five years to be accepted; nil means time.Now.
	Now func() time.Time
}

func (ps Parser) now() time.Time {
	if ps.Now != nil {
		return ps.Now()
	}
	return time.Now()
}

// Parse is Parser.Parse with the zero Parser (the time from time.Now).
func Parse(src []byte) (*Document, error) { return Parser{}.Parse(src) }

// Parse reads a flow document. It reports every problem it finds (YAML
// syntax, unknown or missing keys, bad values, expressions that do not
// compile, references to unknown inputs or to steps that do not run
// before) as one *problem.Error with code invalid_input whose details list
// each problem with its line and column.
func (ps Parser) Parse(src []byte) (*Document, error) {
	doc, iss, err := parse(src, ps.now())
	if err != nil {
		return nil, err
	}
	if !iss.empty() {
		return nil, iss.err()
	}
	return doc, nil
}

// parse reads a flow document. The error is for a document that cannot be
// read at all (too large, not UTF-8); every other problem is in the
// issues. The document is nil when its structure has problems, and
// returned (with its expressions not all compiled) when only expressions
// or values that leave it whole do (see valueIssue), so that Check can
// validate the rest. now is when a cron schedule must fire within five
// years of.
func parse(src []byte, now time.Time) (*Document, *issues, error) {
	if len(src) > MaxDocumentSize {
		return nil, nil, problem.New(problem.InvalidInput, "the flow document is %d bytes; the limit is %d bytes", len(src), MaxDocumentSize).
			WithRemedy("split the flow into smaller flows")
	}
	if !utf8.Valid(src) {
		return nil, nil, problem.New(problem.InvalidInput, "the flow document is not valid UTF-8").
			WithRemedy("save the file as UTF-8")
	}
	// A byte order mark (Windows editors save one) may start a YAML
	// stream; the YAML parser would read it as part of the first key.
	src = bytes.TrimPrefix(src, []byte("\ufeff"))
	p := &docParser{now: now}
	if pos, deep := checkNesting(src); deep {
		p.iss.add(pos, "", "the document nests more than %d levels deep here; a flow needs only a few levels: flatten the value or move it into a step of its own", maxNesting)
		return nil, &p.iss, nil
	}
	file, err := parseYAML(src)
	if err != nil {
		p.syntaxError(err, src)
		return nil, &p.iss, nil
	}
	var body ast.Node
	switch len(file.Docs) {
	case 0:
	case 1:
		body = file.Docs[0].Body
	default:
		p.iss.add(p.pos(file.Docs[1]), "", "the file holds %d YAML documents; put each flow in a file of its own", len(file.Docs))
		return nil, &p.iss, nil
	}
	doc := p.document(body)
	if len(p.iss.list) > p.values {
		return nil, &p.iss, nil
	}
	p.compile(doc)
	doc.warnings = inOrder(p.iss.warnings)
	return doc, &p.iss, nil
}

// parseYAML runs the YAML parser, turning a panic inside it into an error
// so that no document can crash the caller.
func parseYAML(src []byte) (f *ast.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("the YAML parser failed on this document: %v", r)
		}
	}()
	return parser.ParseBytes(src, 0)
}

// docParser turns the YAML tree into a Document, collecting issues.
type docParser struct {
	iss    issues
	values int       // how many of the issues are valueIssue's
	now    time.Time // see parse
}

// valueIssue adds the problem of one value that leaves the rest of the
// document whole (a delivery none of the three, a cron that does not
// parse, a step's concurrency of 0): nothing else is read from that value,
// so the expressions are still compiled and the cards, connections and
// scopes still checked, and every problem of the document is reported in
// one round. A problem after which the rest would be misread (a step
// without its id, an undeclared input that expressions read) is added
// with iss.add and stops there.
func (p *docParser) valueIssue(pos Pos, step, format string, args ...any) {
	p.iss.add(pos, step, format, args...)
	p.values++
}

// asValues runs read, counting the issues it adds as valueIssue's.
func (p *docParser) asValues(read func()) {
	n := len(p.iss.list)
	read()
	p.values += len(p.iss.list) - n
}

func (p *docParser) syntaxError(err error, src []byte) {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		msg := ye.GetMessage()
		pos := tokenPos(ye.GetToken())
		hint := "fix the YAML syntax"
		indicator, _ := indicatorHint(src, pos.Line)
		switch {
		case strings.Contains(msg, "'\t'"):
			hint = "indent with spaces, not tabs"
		case strings.Contains(msg, "already defined"):
			hint = "remove or rename the repeated key"
		case indicator != "":
			hint = indicator
		case unquotedExpr(lineOf(src, pos.Line)):
			// A ${{ }} inside { } or [ ] reads to YAML as a
			// collection of its own.
			hint = `put each ${{ }} expression inside { } or [ ], or holding ": ", in quotes: {deviceId: "${{ item.id }}"}`
		case strings.Contains(msg, "value is not allowed in this context"):
			mappingValue := strings.HasPrefix(msg, "mapping value")
			if at, h, ok := indentHint(src, pos.Line, mappingValue); ok {
				pos, hint = at, h
			} else if h, ok := colonHint(src, pos.Line); ok && mappingValue {
				hint = h
			}
		}
		p.iss.add(pos, "", "YAML syntax error: %s; %s", msg, hint)
		return
	}
	p.iss.add(Pos{Line: 1, Column: 1}, "", "YAML syntax error: %v; fix the YAML syntax", err)
}

// lineOf is the 1-based line n of src, without its line break.
func lineOf(src []byte, n int) string {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return string(src)
}

// unquotedExpr reports whether line holds a ${{ that no quote opens.
func unquotedExpr(line string) bool {
	for i := strings.Index(line, "${{"); i >= 0; {
		if before := strings.TrimRight(line[:i], " "); !strings.HasSuffix(before, `"`) && !strings.HasSuffix(before, "'") {
			return true
		}
		next := strings.Index(line[i+3:], "${{")
		if next < 0 {
			return false
		}
		i += 3 + next
	}
	return false
}

func tokenPos(tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{Line: 1, Column: 1}
	}
	return Pos{Line: tk.Position.Line, Column: tk.Position.Column}
}

// pos is where a node starts: for a block mapping its first key.
func (p *docParser) pos(n ast.Node) Pos {
	switch x := n.(type) {
	case nil:
		return Pos{Line: 1, Column: 1}
	case *ast.DocumentNode:
		if x.Start != nil {
			return tokenPos(x.Start)
		}
		return p.pos(x.Body)
	case *ast.MappingNode:
		if !x.IsFlowStyle && len(x.Values) > 0 {
			return p.pos(x.Values[0].Key)
		}
	case *ast.MappingValueNode:
		return p.pos(x.Key)
	}
	return tokenPos(n.GetToken())
}

// entry is one key of a mapping.
type entry struct {
	key    string
	keyPos Pos
	val    ast.Node // nil for an empty value
}

// mapping returns the entries of a mapping node, reporting a node that is
// not a mapping (what says what was expected, e.g. "a step").
func (p *docParser) mapping(n ast.Node, step, what string) ([]entry, bool) {
	var values []*ast.MappingValueNode
	switch m := p.plain(n, step).(type) {
	case *ast.MappingNode:
		values = m.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{m}
	default:
		if !unsupported(n) {
			p.iss.add(p.pos(n), step, "%s must be a mapping of keys to values, not %s", what, describe(m))
		}
		return nil, false
	}
	out := make([]entry, 0, len(values))
	for _, mv := range values {
		key, ok := p.keyString(mv.Key, step)
		if !ok {
			continue
		}
		out = append(out, entry{key: key, keyPos: p.pos(mv.Key), val: mv.Value})
	}
	return out, true
}

func (p *docParser) keyString(k ast.MapKeyNode, step string) (string, bool) {
	if k == nil {
		return "", false
	}
	if k.IsMergeKey() {
		p.iss.add(p.pos(k), step, "YAML merge keys (<<) are not supported; write the keys out")
		return "", false
	}
	switch x := k.(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.MappingKeyNode:
		p.iss.add(p.pos(k), step, "complex mapping keys (?) are not supported; use a plain key")
		return "", false
	case ast.ScalarNode:
		return x.GetToken().Value, true
	}
	p.iss.add(p.pos(k), step, "a key must be a plain word, not %s", describe(k))
	return "", false
}

// plain rejects YAML features a flow does not use (anchors, aliases, tags)
// and returns the node itself otherwise.
func (p *docParser) plain(n ast.Node, step string) ast.Node {
	switch x := n.(type) {
	case *ast.AnchorNode:
		p.iss.add(p.pos(n), step, "YAML anchors (&name) are not supported in flows; write the value out")
		return nil
	case *ast.AliasNode:
		p.iss.add(p.pos(n), step, "YAML aliases (*name) are not supported in flows; write the value out (a value that starts with * is read as an alias: put it in quotes)")
		return nil
	case *ast.TagNode:
		p.iss.add(p.pos(n), step, "YAML tags (%s) are not supported in flows; remove the tag", x.Start.Value)
		return nil
	case *ast.NullNode:
		return nil
	}
	return n
}

// unsupported reports whether plain rejects n (and so has reported it).
func unsupported(n ast.Node) bool {
	switch n.(type) {
	case *ast.AnchorNode, *ast.AliasNode, *ast.TagNode:
		return true
	}
	return false
}

// describe names a node's kind for messages.
func describe(n ast.Node) string {
	switch n.(type) {
	case nil, *ast.NullNode:
		return "an empty value"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.StringNode, *ast.LiteralNode:
		return "a string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	}
	return "a " + strings.ToLower(n.Type().String())
}

// str reads a scalar as text. Non-string scalars (numbers, booleans) give
// their text as written.
func (p *docParser) str(n ast.Node, step, what string) (string, bool) {
	switch x := p.plain(n, step).(type) {
	case *ast.StringNode:
		return x.Value, true
	case *ast.LiteralNode:
		return x.Value.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return x.GetToken().Value, true
	case nil:
		return "", !unsupported(n)
	}
	if !unsupported(n) {
		p.iss.add(p.pos(n), step, "%s must be a string, not %s", what, describe(n))
	}
	return "", false
}

func (p *docParser) document(body ast.Node) *Document {
	doc := &Document{}
	if body == nil {
		p.iss.add(Pos{Line: 1, Column: 1}, "", "the flow document is empty; it needs at least name: and steps:")
		return doc
	}
	entries, ok := p.mapping(body, "", "a flow document")
	if !ok {
		return doc
	}
	seen := map[string]bool{}
	var stepsNode ast.Node
	var stepsPos Pos
	for _, e := range entries {
		seen[e.key] = true
		switch e.key {
		case "name":
			p.asValues(func() {
				doc.Name, _ = p.str(e.val, "", "name")
				if ok := p.checkName(doc.Name, e); !ok {
					doc.Name = ""
				}
			})
		case "description":
			p.asValues(func() { doc.Description, _ = p.str(e.val, "", "description") })
		case "inputs":
			doc.Inputs = p.inputs(e.val)
		case "steps":
			stepsNode, stepsPos = e.val, e.keyPos
		case "on":
			doc.Trigger = p.trigger(e.val, e.keyPos)
		case "schedule", "event", "cron", "every", "timezone":
			// A trigger's key written at the top: it goes under on:.
			under := "on:"
			if e.key != "schedule" && e.key != "event" {
				under = "on.schedule:"
			}
			p.iss.add(e.keyPos, "", "unknown key %q; a flow has name, description, inputs, on and steps: %s goes under %s, e.g. on: {schedule: {cron: \"0 2 * * *\", timezone: Europe/Berlin}}", e.key, e.key, under)
		default:
			p.iss.add(e.keyPos, "", "unknown key %q; a flow has name, description, inputs, on and steps%s", e.key, suggest(e.key, "name", "description", "inputs", "on", "steps"))
		}
	}
	if !seen["name"] {
		p.valueIssue(p.pos(body), "", "the flow has no name: add name: followed by a short unique name")
	}
	if !seen["steps"] {
		p.iss.add(p.pos(body), "", "the flow has no steps: add steps: with at least one step (id, card, connection)")
	} else {
		doc.Steps = p.steps(stepsNode, stepsPos)
	}
	if doc.Trigger != nil {
		p.checkTriggerInputs(doc)
	}
	return doc
}

func (p *docParser) checkName(name string, e entry) bool {
	switch {
	case strings.TrimSpace(name) == "":
		p.iss.add(e.keyPos, "", "name is empty: give the flow a short unique name")
	case utf8.RuneCountInString(name) > 100:
		p.iss.add(e.keyPos, "", "name is longer than 100 characters: shorten it")
	case strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		p.iss.add(e.keyPos, "", "name contains control characters: use printable characters only")
	case idShapedName.MatchString(name):
		p.iss.add(e.keyPos, "", "name %q has the form of a flow id (32 hex digits), so it could name another flow: use words", name)
	case strings.Trim(name, ".") == "" || strings.ContainsAny(name, `/\`):
		p.iss.add(e.keyPos, "", "name %q looks like a path: it may not contain / or \\ nor be made of dots only; use words, e.g. offboard-user-devices", name)
	default:
		return true
	}
	return false
}

func (p *docParser) inputs(n ast.Node) []*InputDef {
	n = p.plain(n, "")
	if n == nil {
		return nil
	}
	if _, list := n.(*ast.SequenceNode); list {
		p.iss.add(p.pos(n), "", "inputs must be a mapping of input names to their definitions, not a list: write each input as NAME: {type: ...}, e.g. login: {type: string, required: true}")
		return nil
	}
	entries, ok := p.mapping(n, "", "inputs")
	if !ok {
		return nil
	}
	var out []*InputDef
	for _, e := range entries {
		in := &InputDef{Name: e.key, Pos: e.keyPos}
		switch {
		case !inputNamePattern.MatchString(e.key):
			p.iss.add(e.keyPos, "", "input name %q is not valid: use letters, digits and _ (not starting with a digit), so that expressions can read inputs.%s", e.key, e.key)
			continue
		case celReserved[e.key]:
			p.iss.add(e.keyPos, "", "input name %q is a reserved word in expressions: choose another name", e.key)
			continue
		}
		if p.inputDef(in, e.val) {
			out = append(out, in)
		}
	}
	return out
}

func (p *docParser) inputDef(in *InputDef, n ast.Node) bool {
	const form = "write it as {type: string|number|bool|list, required: true|false, default: ...}"
	n = p.plain(n, "")
	if n == nil {
		p.iss.add(in.Pos, "", "input %q has no definition; %s", in.Name, form)
		return false
	}
	if sn, ok := n.(*ast.StringNode); ok {
		switch sn.Value {
		case TypeString, TypeNumber, TypeBool, TypeList:
			// login: string, for login: {type: string}.
			p.iss.add(p.pos(n), "", "input %q must be a mapping of keys to values, not a string: write %s: {type: %s}", in.Name, in.Name, sn.Value)
			return false
		}
	}
	entries, ok := p.mapping(n, "", fmt.Sprintf("input %q", in.Name))
	if !ok {
		return false
	}
	var def ast.Node
	var defPos Pos
	hasType, typeSaid := false, false
	good := true
	for _, e := range entries {
		switch e.key {
		case "type":
			var t string
			p.asValues(func() { t, _ = p.str(e.val, "", "type") })
			switch t {
			case TypeString, TypeNumber, TypeBool, TypeList:
				in.Type, hasType = t, true
			default:
				// The input is kept without a type (its value's kind
				// unknown) for the expressions that read it.
				p.valueIssue(e.keyPos, "", "input %q has type %q; the types are string, number, bool and list%s", in.Name, t, suggest(t, TypeString, TypeNumber, TypeBool, TypeList))
				typeSaid = true
			}
		case "required":
			var b *ast.BoolNode
			p.asValues(func() { b, _ = p.plain(e.val, "").(*ast.BoolNode) })
			if b == nil {
				// The input is kept, optional, for the expressions that read it.
				p.valueIssue(e.keyPos, "", "required of input %q must be true or false", in.Name)
				continue
			}
			in.Required = b.Value
		case "default":
			def, defPos, in.HasDefault = e.val, e.keyPos, true
		case "description":
			p.asValues(func() { in.Description, _ = p.str(e.val, "", "description") })
		default:
			p.iss.add(e.keyPos, "", "unknown key %q in input %q; an input has type, required, default and description%s", e.key, in.Name, suggest(e.key, "type", "required", "default", "description"))
			good = false
		}
	}
	if !hasType {
		if good && !typeSaid {
			p.valueIssue(in.Pos, "", "input %q has no type; %s", in.Name, form)
		}
		in.HasDefault = false // its default is read by its type
		return good
	}
	if in.HasDefault {
		// A default that is wrong is a valueIssue: the input is kept
		// without it.
		if in.Required {
			p.valueIssue(defPos, "", "input %q is required and has a default; a default makes it optional: remove required: true or the default", in.Name)
			in.HasDefault = false
			return good
		}
		var v any
		var ok bool
		p.asValues(func() { v, ok = p.inputDefault(in, def, defPos) })
		if !ok {
			in.HasDefault = false
			return good
		}
		in.Default = v
	}
	return good
}

func (p *docParser) inputDefault(in *InputDef, n ast.Node, pos Pos) (any, bool) {
	v := p.value(n, "", 0)
	if v == nil {
		return nil, false
	}
	lit, ok := v.literal()
	if !ok {
		p.iss.add(pos, "", "the default of input %q holds an expression; defaults must be plain values", in.Name)
		return nil, false
	}
	if lit == nil {
		p.iss.add(pos, "", "the default of input %q is empty: give a value or remove default", in.Name)
		return nil, false
	}
	out, err := coerceInput(in, lit)
	if err != nil {
		p.iss.add(pos, "", "the default of input %q: %v", in.Name, err)
		return nil, false
	}
	return out, true
}

// value converts a YAML node from a step into a value tree, splitting the
// strings that hold ${{ }} expressions (compiled later).
func (p *docParser) value(n ast.Node, step string, depth int) *value {
	if depth > maxDepth {
		p.iss.add(p.pos(n), step, "the value is nested more than %d levels deep: flatten it", maxDepth)
		return nil
	}
	pos := p.pos(n)
	n = p.plain(n, step)
	switch x := n.(type) {
	case nil:
		return &value{kind: valLiteral, pos: pos}
	case *ast.StringNode:
		return p.stringValue(x.Value, x.Token, pos, step)
	case *ast.LiteralNode:
		return p.stringValue(x.Value.Value, nil, pos, step)
	case *ast.IntegerNode:
		switch i := x.Value.(type) {
		case int64:
			return &value{kind: valLiteral, pos: pos, lit: i}
		case uint64:
			if i <= math.MaxInt64 {
				return &value{kind: valLiteral, pos: pos, lit: int64(i)}
			}
			return &value{kind: valLiteral, pos: pos, lit: float64(i)}
		}
		return &value{kind: valLiteral, pos: pos, lit: x.Token.Value}
	case *ast.FloatNode:
		return &value{kind: valLiteral, pos: pos, lit: x.Value}
	case *ast.BoolNode:
		return &value{kind: valLiteral, pos: pos, lit: x.Value}
	case *ast.InfinityNode, *ast.NanNode:
		p.iss.add(pos, step, "%s is not a usable number: write a finite number", x.GetToken().Value)
		return nil
	case *ast.SequenceNode:
		v := &value{kind: valList, pos: pos, list: make([]*value, 0, len(x.Values))}
		ok := true
		for _, e := range x.Values {
			ev := p.value(e, step, depth+1)
			if ev == nil {
				ok = false
				continue
			}
			v.list = append(v.list, ev)
		}
		if !ok {
			return nil
		}
		return v
	case *ast.MappingNode, *ast.MappingValueNode:
		entries, _ := p.mapping(x, step, "the value")
		v := &value{kind: valMap, pos: pos, fields: map[string]*value{}}
		ok := true
		for _, e := range entries {
			ev := p.value(e.val, step, depth+1)
			if ev == nil {
				ok = false
				continue
			}
			v.keys = append(v.keys, e.key)
			v.fields[e.key] = ev
		}
		if !ok {
			return nil
		}
		return v
	}
	p.iss.add(pos, step, "%s is not supported here", describe(n))
	return nil
}

// stringValue builds a literal or a template from a YAML string. tk is the
// scalar's token when the string is on one line (nil for block literals).
func (p *docParser) stringValue(s string, tk *token.Token, pos Pos, step string) *value {
	parts, offsets, isTmpl, msg := splitTemplate(s)
	if !isTmpl {
		if msg := exprLike(s); msg != "" {
			p.iss.add(pos, step, "%s", msg)
			return nil
		}
		return &value{kind: valLiteral, pos: pos, lit: s}
	}
	if msg != "" {
		p.iss.add(pos, step, "%s", msg)
		return nil
	}
	// A column inside the string maps to the document only when the
	// scalar is written on one line exactly as its value (plain, or quoted
	// without escapes).
	shift, exact := 0, false
	if tk != nil && !strings.ContainsAny(s, "\n\r") {
		origin := strings.TrimSpace(tk.Origin)
		switch {
		case origin == s:
			exact = true
		case len(origin) == len(s)+2 && origin[1:len(origin)-1] == s && (origin[0] == '\'' || origin[0] == '"'):
			shift, exact = 1, true
		}
	}
	k := 0
	for _, part := range parts {
		if part.expr == nil {
			continue
		}
		part.expr.pos = pos
		if exact {
			part.expr.exact = true
			part.expr.pos.Column += shift + utf8.RuneCountInString(s[:offsets[k]])
		}
		k++
	}
	return &value{kind: valTemplate, pos: pos, tmpl: &template{parts: parts, whole: len(parts) == 1}}
}

var (
	// bracedName is {{ NAME... }} without its $, or ${NAME...} with one
	// brace, NAME being one of the names expressions have.
	bracedName = regexp.MustCompile(`(?:^|[^$])\{\{\s*((?:item|index|inputs|steps|trigger)\b[^}]*?)\s*\}\}|\$\{\s*((?:item|index|inputs|steps|trigger)\b[^{}]*?)\s*\}`)
	// namePath is a whole value that is a path from one of those names.
	namePath = regexp.MustCompile(`^\s*(?:item|inputs|steps|trigger)(?:\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]+\])+\s*$`)
)

// exprLike says how to write the expression a literal string was meant to
// be: {{ item.id }} and ${item.id} are text to YAML and to cardflow, and
// so is item.id alone, which a card would take for a device's id. "" when
// s does not look like one.
func exprLike(s string) string {
	if m := bracedName.FindStringSubmatch(s); m != nil {
		written := m[0]
		if m[1] != "" {
			written = written[strings.Index(written, "{{"):]
		}
		return fmt.Sprintf("%q is text, not an expression: write ${{ %s }} (a $ and two braces on each side)", written, m[1]+m[2])
	}
	if namePath.MatchString(s) {
		return fmt.Sprintf("%q is text, not an expression: write ${{ %s }} for its value", strings.TrimSpace(s), strings.TrimSpace(s))
	}
	return ""
}

// intValue reads an integer scalar from lo to hi.
func (p *docParser) intValue(n ast.Node, step, what string, lo, hi int) (int, bool) {
	x := p.plain(n, step)
	if x, ok := x.(*ast.IntegerNode); ok {
		var v int64
		inRange := false
		switch i := x.Value.(type) {
		case int64:
			v, inRange = i, i >= int64(lo) && i <= int64(hi)
		case uint64:
			v = int64(min(i, math.MaxInt64))
			inRange = v >= int64(lo) && v <= int64(hi)
		}
		if inRange {
			return int(v), true
		}
		p.iss.add(p.pos(n), step, "%s is %s; use a number from %d to %d", what, x.GetToken().Value, lo, hi)
		return 0, false
	}
	if !unsupported(n) {
		got := describe(x)
		if _, ok := x.(*ast.FloatNode); ok {
			got = x.GetToken().Value // "2.5", where "a number" read as if it were not one
		}
		p.iss.add(p.pos(n), step, "%s must be a whole number, not %s", what, got)
	}
	return 0, false
}
