package oktaemu

// Evaluation and printing of parsed SCIM filters.

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type orExpr []filterExpr
type andExpr []filterExpr
type notExpr struct{ x filterExpr }
type presentExpr struct{ attr string }
type cmpExpr struct {
	attr string
	op   cmpOp
	val  any // string, float64, bool or nil
}

func (e orExpr) match(get func(string) (any, bool)) bool {
	for _, x := range e {
		if x.match(get) {
			return true
		}
	}
	return false
}

func (e andExpr) match(get func(string) (any, bool)) bool {
	for _, x := range e {
		if !x.match(get) {
			return false
		}
	}
	return true
}

func (e notExpr) match(get func(string) (any, bool)) bool { return !e.x.match(get) }

func (e presentExpr) match(get func(string) (any, bool)) bool {
	v, ok := get(e.attr)
	if vs, multi := v.([]any); multi {
		return len(vs) > 0
	}
	return ok && v != nil
}

// match compares the attribute's value with the operand. A multi-valued
// attribute (get returns []any, such as a System Log event's target.id)
// matches when one of its values does; for "ne", when none is equal.
func (e cmpExpr) match(get func(string) (any, bool)) bool {
	v, ok := get(e.attr)
	if !ok {
		v = nil
	}
	if vs, multi := v.([]any); multi {
		if e.op == opNe {
			return !slices.ContainsFunc(vs, func(x any) bool { return equalValues(x, e.val) })
		}
		return slices.ContainsFunc(vs, e.matchValue)
	}
	return e.matchValue(v)
}

func (e cmpExpr) matchValue(v any) bool {
	switch e.op {
	case opEq:
		return equalValues(v, e.val)
	case opNe:
		return !equalValues(v, e.val)
	case opSw, opCo, opEw:
		s, ok := v.(string)
		if !ok {
			return false
		}
		want := e.val.(string)
		switch e.op {
		case opSw:
			return hasPrefixFold(s, want)
		case opEw:
			return hasSuffixFold(s, want)
		}
		return containsFold(s, want)
	}
	c, ok := compareValues(v, e.val)
	if !ok {
		return false
	}
	switch e.op {
	case opGt:
		return c > 0
	case opGe:
		return c >= 0
	case opLt:
		return c < 0
	default: // opLe
		return c <= 0
	}
}

func toFloat(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func equalValues(got, want any) bool {
	switch w := want.(type) {
	case nil:
		return got == nil
	case string:
		g, ok := got.(string)
		return ok && strings.EqualFold(g, w)
	case bool:
		g, ok := got.(bool)
		return ok && g == w
	case float64:
		g, ok := toFloat(got)
		return ok && g == w
	}
	return false
}

// compareValues orders got against want when both are strings or both are
// numbers.
func compareValues(got, want any) (int, bool) {
	switch w := want.(type) {
	case string:
		g, ok := got.(string)
		if !ok {
			return 0, false
		}
		return compareFold(g, w), true
	case float64:
		g, ok := toFloat(got)
		if !ok || math.IsNaN(g) {
			return 0, false
		}
		switch {
		case g < w:
			return -1, true
		case g > w:
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// foldRune maps r to the smallest rune of its simple case-folding orbit, so
// that two runes are equal under strings.EqualFold exactly when their folds
// are equal.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}

// nextFold decodes the rune at s[i:] and returns its fold and width.
func nextFold(s string, i int) (rune, int) {
	if c := s[i]; c < utf8.RuneSelf {
		return foldRune(rune(c)), 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	return foldRune(r), w
}

// compareFold compares a and b rune by rune after case folding.
func compareFold(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ra, wa := nextFold(a, i)
		rb, wb := nextFold(b, j)
		if ra != rb {
			if ra < rb {
				return -1
			}
			return 1
		}
		i += wa
		j += wb
	}
	switch {
	case i < len(a):
		return 1
	case j < len(b):
		return -1
	}
	return 0
}

// hasPrefixFold reports whether s starts with prefix under case folding.
func hasPrefixFold(s, prefix string) bool {
	i, j := 0, 0
	for j < len(prefix) {
		if i >= len(s) {
			return false
		}
		rs, ws := nextFold(s, i)
		rp, wp := nextFold(prefix, j)
		if rs != rp {
			return false
		}
		i += ws
		j += wp
	}
	return true
}

func hasSuffixFold(s, suffix string) bool {
	for i := 0; ; {
		if strings.EqualFold(s[i:], suffix) {
			return true
		}
		if i >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
}

func containsFold(s, sub string) bool {
	for i := 0; ; {
		if hasPrefixFold(s[i:], sub) {
			return true
		}
		if i >= len(s) {
			return false
		}
		_, w := utf8.DecodeRuneInString(s[i:])
		i += w
	}
}

// String renders the filter so that parseFilter reads it back to the same
// expression.
func (e orExpr) String() string { return joinExprs(e, " or ", false) }

func (e andExpr) String() string { return joinExprs(e, " and ", true) }

func joinExprs(xs []filterExpr, sep string, parenOr bool) string {
	var b strings.Builder
	for i, x := range xs {
		if i > 0 {
			b.WriteString(sep)
		}
		_, isOr := x.(orExpr)
		if parenOr && isOr {
			b.WriteString("(" + fmt.Sprint(x) + ")")
		} else {
			b.WriteString(fmt.Sprint(x))
		}
	}
	return b.String()
}

func (e notExpr) String() string { return "not (" + fmt.Sprint(e.x) + ")" }

func (e presentExpr) String() string { return e.attr + " pr" }

func (e cmpExpr) String() string {
	var v string
	switch val := e.val.(type) {
	case nil:
		v = "null"
	case bool:
		v = strconv.FormatBool(val)
	case float64:
		v = strconv.FormatFloat(val, 'g', -1, 64)
	case string:
		v = quoteFilterString(val)
	}
	return e.attr + " " + opNames[e.op] + " " + v
}
