package oktaemu

// SCIM filter expressions (RFC 7644 §3.4.2.2) as Okta accepts them in the
// Devices API `search` parameter.
//
// Grammar, with precedence not > and > or:
//
//	filter  = orExpr
//	orExpr  = andExpr *("or" andExpr)
//	andExpr = unary *("and" unary)
//	unary   = "not" unary / "(" filter ")" / attr "pr" / attr op value
//	op      = "eq" / "ne" / "gt" / "ge" / "lt" / "le" / "sw" / "co"
//	          / "ew" (System Log filters only)
//	value   = string / number / "true" / "false" / "null"
//
// Operators, logical keywords and literals are case-insensitive; attribute
// names are case-sensitive. Okta documents device search as case-insensitive
// for string values, so string comparisons fold case (Unicode simple
// folding); ordering compares the folded strings lexicographically, which
// orders Okta's ISO-8601 timestamps chronologically.

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// filterExpr is a parsed SCIM filter. match reports whether the resource
// whose attributes get returns satisfies the filter. get returns string,
// bool, float64 or nil values, and false for an attribute the resource lacks.
type filterExpr interface {
	match(get func(attr string) (any, bool)) bool
}

// maxFilterDepth bounds nesting of parentheses and "not" so that a hostile
// filter cannot exhaust the stack.
const maxFilterDepth = 64

// containsAttrs are the only attributes Okta lets `co` search.
var containsAttrs = map[string]bool{
	"profile.displayName":  true,
	"profile.serialNumber": true,
	"profile.imei":         true,
	"profile.meid":         true,
	"profile.udid":         true,
	"profile.sid":          true,
}

// filterError describes why a filter was rejected; the handler answers any
// parse error with 400 E0000031.
type filterError struct {
	Offset int
	Msg    string
}

func (e *filterError) Error() string {
	return fmt.Sprintf("invalid search filter at offset %d: %s", e.Offset, e.Msg)
}

// errFilter is wrapped by every *filterError, for callers that only need
// errors.Is(err, errFilter).
var errFilter = errors.New("invalid search filter")

func (e *filterError) Unwrap() error { return errFilter }

type cmpOp uint8

const (
	opEq cmpOp = iota
	opNe
	opGt
	opGe
	opLt
	opLe
	opSw
	opCo
	opEw
)

var opNames = [...]string{"eq", "ne", "gt", "ge", "lt", "le", "sw", "co", "ew"}

func lookupOp(w string) (cmpOp, bool) {
	if len(w) != 2 {
		return 0, false
	}
	for i, n := range opNames {
		if strings.EqualFold(w, n) {
			return cmpOp(i), true
		}
	}
	return 0, false
}

// dateAttrs are the device attributes that hold dates: a comparison of one
// takes a date (Okta's YYYY-MM-DDTHH:mm:ss.SSSZ, or any RFC 3339 time),
// and anything else is an invalid search, not a comparison of texts.
var dateAttrs = map[string]bool{"created": true, "lastUpdated": true}

// parseFilter parses a SCIM filter of the Devices API search. The error,
// if any, is a *filterError.
func parseFilter(s string) (filterExpr, error) {
	return parseFilterWith(s, func(attr string) bool { return containsAttrs[attr] }, false, dateAttrs)
}

// parseFilterWith parses a SCIM filter in which `co` is allowed on the
// attributes for which coAllowed reports true, and `ew` when ew is true
// (the System Log accepts every operator; device search does not list ew).
// Comparisons of the attributes in dates take a date (see dateAttrs).
func parseFilterWith(s string, coAllowed func(attr string) bool, ew bool, dates map[string]bool) (filterExpr, error) {
	p := &filterParser{src: s, coAllowed: coAllowed, ew: ew, dates: dates}
	p.next()
	e, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf("unexpected %s", p.tok.describe())
	}
	return e, nil
}

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokWord
	tokString
	tokNumber
	tokInvalid
)

type token struct {
	kind tokKind
	pos  int
	text string // word text, decoded string, or number text
	num  float64
	err  string // for tokInvalid
}

func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of filter"
	case tokLParen:
		return `"("`
	case tokRParen:
		return `")"`
	case tokString:
		return "string " + quoteFilterString(t.text)
	case tokNumber:
		return "number " + t.text
	default:
		return strconv.Quote(t.text)
	}
}

type filterParser struct {
	src       string
	pos       int
	tok       token
	coAllowed func(attr string) bool
	ew        bool
	dates     map[string]bool
}

func (p *filterParser) errorf(format string, args ...any) error {
	return &filterError{Offset: p.tok.pos, Msg: fmt.Sprintf(format, args...)}
}

func (p *filterParser) isKeyword(kw string) bool {
	return p.tok.kind == tokWord && strings.EqualFold(p.tok.text, kw)
}

func (p *filterParser) parseOr(depth int) (filterExpr, error) {
	first, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	if !p.isKeyword("or") {
		return first, nil
	}
	or := orExpr{}
	or = appendOr(or, first)
	for p.isKeyword("or") {
		p.next()
		e, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		or = appendOr(or, e)
	}
	return or, nil
}

func (p *filterParser) parseAnd(depth int) (filterExpr, error) {
	first, err := p.parseUnary(depth)
	if err != nil {
		return nil, err
	}
	if !p.isKeyword("and") {
		return first, nil
	}
	and := andExpr{}
	and = appendAnd(and, first)
	for p.isKeyword("and") {
		p.next()
		e, err := p.parseUnary(depth)
		if err != nil {
			return nil, err
		}
		and = appendAnd(and, e)
	}
	return and, nil
}

// appendOr and appendAnd flatten nested groups of the same operator, so that
// evaluation is a single loop and printing is canonical.
func appendOr(or orExpr, e filterExpr) orExpr {
	if inner, ok := e.(orExpr); ok {
		return append(or, inner...)
	}
	return append(or, e)
}

func appendAnd(and andExpr, e filterExpr) andExpr {
	if inner, ok := e.(andExpr); ok {
		return append(and, inner...)
	}
	return append(and, e)
}

func (p *filterParser) parseUnary(depth int) (filterExpr, error) {
	if depth >= maxFilterDepth {
		return nil, p.errorf("filter nested too deeply")
	}
	switch p.tok.kind {
	case tokLParen:
		p.next()
		e, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.errorf(`expected ")", got %s`, p.tok.describe())
		}
		p.next()
		return e, nil
	case tokWord:
		if p.isKeyword("not") {
			p.next()
			e, err := p.parseUnary(depth + 1)
			if err != nil {
				return nil, err
			}
			return notExpr{e}, nil
		}
		return p.parseComparison()
	case tokInvalid:
		return nil, p.errorf("%s", p.tok.err)
	default:
		return nil, p.errorf("expected attribute, got %s", p.tok.describe())
	}
}

func (p *filterParser) parseComparison() (filterExpr, error) {
	attr := p.tok.text
	if !validAttrPath(attr) {
		return nil, p.errorf("invalid attribute name %q", attr)
	}
	p.next()
	if p.tok.kind != tokWord {
		if p.tok.kind == tokInvalid {
			return nil, p.errorf("%s", p.tok.err)
		}
		return nil, p.errorf("expected operator after %q, got %s", attr, p.tok.describe())
	}
	if strings.EqualFold(p.tok.text, "pr") {
		p.next()
		return presentExpr{attr}, nil
	}
	op, ok := lookupOp(p.tok.text)
	if !ok || op == opEw && !p.ew {
		return nil, p.errorf("unknown operator %q", p.tok.text)
	}
	p.next()
	var val any
	switch p.tok.kind {
	case tokString:
		val = p.tok.text
	case tokNumber:
		val = p.tok.num
	case tokWord:
		switch {
		case strings.EqualFold(p.tok.text, "true"):
			val = true
		case strings.EqualFold(p.tok.text, "false"):
			val = false
		case strings.EqualFold(p.tok.text, "null"):
			val = nil
		default:
			return nil, p.errorf("expected value after %q, got %s", opNames[op], p.tok.describe())
		}
	case tokInvalid:
		return nil, p.errorf("%s", p.tok.err)
	default:
		return nil, p.errorf("expected value after %q, got %s", opNames[op], p.tok.describe())
	}
	switch op {
	case opSw, opCo, opEw:
		if _, ok := val.(string); !ok {
			return nil, p.errorf("operator %q needs a string value", opNames[op])
		}
		if op == opCo && !p.coAllowed(attr) {
			return nil, p.errorf("operator \"co\" is not supported on %q", attr)
		}
	case opGt, opGe, opLt, opLe:
		switch val.(type) {
		case string, float64:
		default:
			return nil, p.errorf("operator %q needs a string or number value", opNames[op])
		}
	}
	if p.dates[attr] && val != nil {
		// Okta's own form, so that the attribute's texts (formatTime)
		// compare in the order of their dates.
		s, _ := val.(string)
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, p.errorf("%q takes a date such as \"2024-12-23T00:00:00.000Z\", not %s", attr, p.tok.describe())
		}
		val = formatTime(at)
	}
	p.next()
	return cmpExpr{attr: attr, op: op, val: val}, nil
}

// validAttrPath accepts dotted names such as "profile.displayName": segments
// of letters, digits, '_', '-', ':' or '$', each starting with a letter.
func validAttrPath(s string) bool {
	segStart := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if segStart {
				return false
			}
			segStart = true
		case isASCIILetter(c):
			segStart = false
		case segStart:
			return false
		case isDigit(c) || c == '_' || c == '-' || c == ':' || c == '$':
		default:
			return false
		}
	}
	return len(s) > 0 && !segStart
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isDigit(c byte) bool       { return c >= '0' && c <= '9' }

func isWordByte(c byte) bool {
	return isASCIILetter(c) || isDigit(c) || c == '.' || c == '_' || c == '-' || c == ':' || c == '$'
}

// next scans the next token into p.tok.
func (p *filterParser) next() {
	s := p.src
	i := p.pos
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	if i >= len(s) {
		p.tok = token{kind: tokEOF, pos: i}
		p.pos = i
		return
	}
	start := i
	c := s[i]
	switch {
	case c == '(':
		p.tok = token{kind: tokLParen, pos: start}
		i++
	case c == ')':
		p.tok = token{kind: tokRParen, pos: start}
		i++
	case c == '"':
		text, end, msg := scanString(s, i)
		if msg != "" {
			p.tok = token{kind: tokInvalid, pos: start, err: msg}
			i = len(s)
		} else {
			p.tok = token{kind: tokString, pos: start, text: text}
			i = end
		}
	case c == '-' || isDigit(c):
		end, ok := scanNumber(s, i)
		text := s[start:end]
		f, err := strconv.ParseFloat(text, 64)
		if !ok || err != nil || math.IsInf(f, 0) {
			p.tok = token{kind: tokInvalid, pos: start, err: fmt.Sprintf("invalid number %q", text)}
		} else {
			p.tok = token{kind: tokNumber, pos: start, text: text, num: f}
		}
		i = end
	case isASCIILetter(c):
		for i < len(s) && isWordByte(s[i]) {
			i++
		}
		p.tok = token{kind: tokWord, pos: start, text: s[start:i]}
	default:
		r, _ := utf8.DecodeRuneInString(s[i:])
		p.tok = token{kind: tokInvalid, pos: start, err: fmt.Sprintf("unexpected character %q", r)}
		i = len(s)
	}
	p.pos = i
}

// scanNumber returns the end of the JSON number starting at s[i] and whether
// it is well formed; it consumes every byte that could continue a number so
// that "12abc" is one bad token rather than two good ones.
func scanNumber(s string, i int) (int, bool) {
	start := i
	if s[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			n++
		}
		return n
	}
	ok := true
	intStart := i
	if n := digits(); n == 0 || (n > 1 && s[intStart] == '0') {
		ok = false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			ok = false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			ok = false
		}
	}
	for i < len(s) && isWordByte(s[i]) {
		i++
		ok = false
	}
	return max(i, start+1), ok
}

// scanString decodes the JSON string literal starting at s[i] (the opening
// quote). It returns the decoded text and the index after the closing quote,
// or an error message.
func scanString(s string, i int) (string, int, string) {
	i++ // opening quote
	start := i
	// Fast path: no escapes.
	for i < len(s) && s[i] != '"' && s[i] != '\\' && s[i] >= 0x20 {
		i++
	}
	if i < len(s) && s[i] == '"' {
		return s[start:i], i + 1, ""
	}
	var b strings.Builder
	b.WriteString(s[start:i])
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return b.String(), i + 1, ""
		case c < 0x20:
			return "", 0, "control character in string"
		case c != '\\':
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(s) {
			break
		}
		esc := s[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			b.WriteByte(esc)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				return "", 0, `invalid \u escape in string`
			}
			i += 4
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(s, i+2); ok && s[i] == '\\' && s[i+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				} else {
					r = utf8.RuneError
				}
			}
			b.WriteRune(r)
		default:
			return "", 0, fmt.Sprintf(`invalid escape "\%c" in string`, esc)
		}
	}
	return "", 0, "unterminated string"
}

func hex4(s string, i int) (rune, bool) {
	if i < 0 || i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case isDigit(c):
			r = r<<4 | rune(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			r = r<<4 | rune(c|0x20-'a'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// quoteFilterString writes s as a filter string literal that scanString
// decodes back to s byte for byte.
func quoteFilterString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
