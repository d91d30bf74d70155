package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// valueKind says what a value node holds.
type valueKind int

const (
	valLiteral  valueKind = iota // a YAML scalar without expressions
	valTemplate                  // a string with ${{ }} expressions
	valList
	valMap
)

// value is a YAML value from a step (its input, for_each or if) with the
// expressions in its strings compiled.
type value struct {
	kind   valueKind
	pos    Pos
	lit    any // valLiteral: string, int64, float64, bool or nil
	tmpl   *template
	list   []*value
	keys   []string // valMap, in document order
	fields map[string]*value
}

// template is a string holding at least one ${{ }} expression. When whole
// is set the string is exactly one expression and keeps its result's type;
// otherwise every result is interpolated into the text.
type template struct {
	parts []tplPart
	whole bool
}

// tplPart is either literal text or an expression. quoted marks an
// expression between the double quotes of an Okta filter (quoteInFilter).
type tplPart struct {
	text   string
	expr   *expression
	quoted bool
}

// quoteInFilter marks the expressions of t, an Okta filter expression,
// that stand between its double quotes: their results are escaped when
// interpolated (filterEscaper), so that a value holding a quote (a
// typing slip, or a device name an end user chose arriving in an event,
// such as x" or status eq "ACTIVE) stays one string and cannot widen the
// search. A value outside quotes is the flow's own filter text, as
// written; strings.quote there quotes and escapes it.
func (t *template) quoteInFilter() {
	in := false
	for i := range t.parts {
		p := &t.parts[i]
		if p.expr != nil {
			p.quoted = in
			continue
		}
		for j := 0; j < len(p.text); j++ {
			switch p.text[j] {
			case '\\':
				j++ // an escaped character, a quote among them
			case '"':
				in = !in
			}
		}
	}
}

// filterEscaper escapes a value for a string of an Okta filter.
var filterEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`)

// walkExprs calls fn for every expression in v.
func (v *value) walkExprs(fn func(*expression)) {
	if v == nil {
		return
	}
	switch v.kind {
	case valTemplate:
		for _, p := range v.tmpl.parts {
			if p.expr != nil {
				fn(p.expr)
			}
		}
	case valList:
		for _, e := range v.list {
			e.walkExprs(fn)
		}
	case valMap:
		for _, k := range v.keys {
			v.fields[k].walkExprs(fn)
		}
	}
}

// isWholeExpr reports whether v is a string that is exactly one ${{ }}.
func (v *value) isWholeExpr() bool {
	return v != nil && v.kind == valTemplate && v.tmpl.whole
}

// eval computes v's value with the names in act. path names the value in
// error messages ("input.deviceId").
func (v *value) eval(ctx context.Context, act map[string]any, path string) (any, error) {
	switch v.kind {
	case valLiteral:
		return v.lit, nil
	case valTemplate:
		if v.tmpl.whole {
			out, err := v.tmpl.parts[0].expr.eval(ctx, act)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			return out, nil
		}
		var b strings.Builder
		for _, p := range v.tmpl.parts {
			if p.expr == nil {
				b.WriteString(p.text)
				continue
			}
			out, err := p.expr.eval(ctx, act)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", path, err)
			}
			if p.quoted {
				b.WriteString(filterEscaper.Replace(interpolate(out)))
				continue
			}
			b.WriteString(interpolate(out))
		}
		return b.String(), nil
	case valList:
		out := make([]any, len(v.list))
		for i, e := range v.list {
			x, err := e.eval(ctx, act, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	default:
		out := make(map[string]any, len(v.keys))
		for _, k := range v.keys {
			x, err := v.fields[k].eval(ctx, act, path+"."+k)
			if err != nil {
				return nil, err
			}
			out[k] = x
		}
		return out, nil
	}
}

// interpolate formats an expression's result for use inside a string.
func interpolate(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// literal returns the plain Go value of v when it holds no expression.
func (v *value) literal() (any, bool) {
	switch v.kind {
	case valLiteral:
		return v.lit, true
	case valList:
		out := make([]any, len(v.list))
		for i, e := range v.list {
			x, ok := e.literal()
			if !ok {
				return nil, false
			}
			out[i] = x
		}
		return out, true
	case valMap:
		out := make(map[string]any, len(v.keys))
		for _, k := range v.keys {
			x, ok := v.fields[k].literal()
			if !ok {
				return nil, false
			}
			out[k] = x
		}
		return out, true
	default:
		return nil, false
	}
}

// splitTemplate splits s into text and ${{ }} parts. It returns ok=false
// when s holds no expression, and an error message for an unterminated or
// empty expression. offsets holds, for every expression part, the byte
// offset of its "${{" in s.
func splitTemplate(s string) (parts []tplPart, offsets []int, ok bool, problem string) {
	if !strings.Contains(s, "${{") {
		return nil, nil, false, ""
	}
	rest := s
	base := 0
	for {
		i := strings.Index(rest, "${{")
		if i < 0 {
			if rest != "" {
				parts = append(parts, tplPart{text: rest})
			}
			return parts, offsets, true, ""
		}
		if i > 0 {
			parts = append(parts, tplPart{text: rest[:i]})
		}
		j := strings.Index(rest[i+3:], "}}")
		if j < 0 {
			return nil, nil, true, "an expression opened with ${{ is not closed: end it with }}"
		}
		src := rest[i+3 : i+3+j]
		if strings.TrimSpace(src) == "" {
			return nil, nil, true, "empty expression ${{ }}: write an expression such as ${{ inputs.name }} or remove it"
		}
		parts = append(parts, tplPart{expr: &expression{src: src}})
		offsets = append(offsets, base+i)
		rest = rest[i+3+j+2:]
		base += i + 3 + j + 2
	}
}
