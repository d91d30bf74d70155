package okta

import (
	"strings"
)

// Link is one link-value of a Link header (RFC 8288): the target between
// angle brackets and its parameters, names lower-cased.
type Link struct {
	Target string
	Params map[string]string
}

// HasRel reports whether the link's rel parameter (a space-separated list,
// compared case-insensitively) contains rel.
func (l Link) HasRel(rel string) bool {
	for r := range strings.FieldsSeq(l.Params["rel"]) {
		if strings.EqualFold(r, rel) {
			return true
		}
	}
	return false
}

// ParseLink parses every value of a Link header. Okta sends one header line
// per relation; several comma-separated links in one line work too. Quoted
// parameters may hold commas and semicolons. Malformed parts are skipped, so
// a bad link never hides a good one.
func ParseLink(values []string) []Link {
	var links []Link
	for _, v := range values {
		p := headerScanner{s: v}
		for {
			p.skipSpaceAnd(',')
			if p.done() {
				break
			}
			if p.peek() != '<' {
				p.skipPast(',')
				continue
			}
			end := strings.IndexByte(p.s[p.i+1:], '>')
			if end < 0 {
				break
			}
			l := Link{Target: strings.TrimSpace(p.s[p.i+1 : p.i+1+end]), Params: map[string]string{}}
			p.i += end + 2
			if strings.IndexByte(l.Target, '<') >= 0 {
				p.skipPast(',') // "<<...>": not a URI reference
				continue
			}
			for {
				p.skipSpace()
				if p.done() || p.peek() == ',' {
					break
				}
				if p.peek() != ';' {
					p.skipPast(',')
					break
				}
				p.i++
				p.skipSpace()
				name := strings.ToLower(p.token())
				p.skipSpace()
				value := ""
				if !p.done() && p.peek() == '=' {
					p.i++
					p.skipSpace()
					value = p.value()
				}
				if _, dup := l.Params[name]; name != "" && !dup {
					l.Params[name] = value
				}
			}
			links = append(links, l)
		}
	}
	return links
}

// Challenge is one challenge of a WWW-Authenticate header (RFC 9110
// §11.6.1): the scheme, its auth-params (names lower-cased) or its token68.
type Challenge struct {
	Scheme  string
	Params  map[string]string
	Token68 string
}

// ParseWWWAuthenticate parses every value of a WWW-Authenticate header into
// its challenges. Unlike a split on `", "`, it honours quoted strings (with
// backslash escapes), several challenges in one value, and token68
// credentials. Malformed parts are skipped.
func ParseWWWAuthenticate(values []string) []Challenge {
	var out []Challenge
	for _, v := range values {
		p := headerScanner{s: v}
		for {
			p.skipSpaceAnd(',')
			if p.done() {
				break
			}
			scheme := p.token()
			if scheme == "" {
				// Not a token: skip the stray quoted string or character.
				if p.peek() == '"' {
					p.quoted()
				} else {
					p.i++
				}
				continue
			}
			ch := Challenge{Scheme: scheme, Params: map[string]string{}}
			p.skipSpace()
			if t, ok := p.token68(); ok {
				ch.Token68 = t
				out = append(out, ch)
				continue
			}
			p.authParams(&ch)
			out = append(out, ch)
		}
	}
	return out
}

// authParams reads name=value pairs until a token not followed by "="
// (the next challenge's scheme) or the end.
func (p *headerScanner) authParams(ch *Challenge) {
	for {
		save := p.i
		p.skipSpaceAnd(',')
		name := p.token()
		if name == "" {
			if !p.done() && p.peek() != ',' {
				p.skipPast(',')
				continue
			}
			return
		}
		p.skipSpace()
		if p.done() || p.peek() != '=' {
			p.i = save // a new challenge starts here
			return
		}
		p.i++
		p.skipSpace()
		value := p.value()
		name = strings.ToLower(name)
		if _, dup := ch.Params[name]; !dup {
			ch.Params[name] = value
		}
		p.skipSpace()
		if !p.done() && p.peek() != ',' {
			p.skipPast(',')
		}
	}
}

// headerScanner walks one header value.
type headerScanner struct {
	s string
	i int
}

func (p *headerScanner) done() bool { return p.i >= len(p.s) }
func (p *headerScanner) peek() byte { return p.s[p.i] }

func (p *headerScanner) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *headerScanner) skipSpaceAnd(c byte) {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == c) {
		p.i++
	}
}

// skipPast moves past the next c that is not inside a quoted string.
func (p *headerScanner) skipPast(c byte) {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '"':
			p.quoted()
			continue
		case c:
			p.i++
			return
		}
		p.i++
	}
}

// token reads an RFC 9110 token (possibly empty).
func (p *headerScanner) token() string {
	start := p.i
	for p.i < len(p.s) && isTokenChar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// value reads a quoted string or a token. A bare value may also hold
// characters a token may not (some servers send rel=next or URLs bare), up
// to the next delimiter.
func (p *headerScanner) value() string {
	if !p.done() && p.peek() == '"' {
		return p.quoted()
	}
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ',' || c == ';' || c == ' ' || c == '\t' || c == '"' {
			break
		}
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted string starting at '"', undoing backslash escapes.
// An unterminated string runs to the end.
func (p *headerScanner) quoted() string {
	p.i++ // opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String()
		case c == '\\' && p.i+1 < len(p.s):
			b.WriteByte(p.s[p.i+1])
			p.i += 2
		default:
			b.WriteByte(c)
			p.i++
		}
	}
	return b.String()
}

// token68 reads a token68 credential when the rest of the challenge is one
// (token68 chars, optional "=" padding, then the end or a comma).
func (p *headerScanner) token68() (string, bool) {
	j := p.i
	for j < len(p.s) && isToken68Char(p.s[j]) {
		j++
	}
	if j == p.i {
		return "", false
	}
	k := j
	for k < len(p.s) && p.s[k] == '=' {
		k++
	}
	e := k
	for e < len(p.s) && (p.s[e] == ' ' || p.s[e] == '\t') {
		e++
	}
	if e < len(p.s) && p.s[e] != ',' {
		return "", false
	}
	// A bare token followed by the end or a comma ("Scheme tok, ...") is
	// a token68, not a parameter without a value.
	t := p.s[p.i:k]
	p.i = e
	return t, true
}

func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

func isToken68Char(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~+/", c) >= 0
}
