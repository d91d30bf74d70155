package oktaemu

import (
	"errors"
	"net/http"
	"strings"
)

// addLink adds one Link header line for a relation, as Okta does: clients
// such as Okta's SDK read each line separately, so relations are never
// folded into one line. target must be a URL whose characters need no
// escaping inside <...>; rel must be a plain token.
func addLink(h http.Header, target, rel string) {
	h.Add("Link", formatLink(target, rel))
}

// formatLink formats one Link header value. Characters that could end the
// URI reference or the header (">", CR, LF, and other controls) are
// percent-encoded, and the relation keeps only token characters.
func formatLink(target, rel string) string {
	var b strings.Builder
	b.Grow(len(target) + len(rel) + 12)
	b.WriteByte('<')
	for i := 0; i < len(target); i++ {
		c := target[i]
		if c <= ' ' || c == '<' || c == '>' || c == '"' || c == 0x7f {
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	b.WriteString(`>; rel="`)
	for i := 0; i < len(rel); i++ {
		if c := rel[i]; isLinkTokenByte(c) {
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isLinkTokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// errBadLink is returned by parseLink for a value that is not
// `<uri>; rel="name"`.
var errBadLink = errors.New("malformed Link header value")

// parseLink parses one Link header value written by formatLink (or Okta):
// `<target>; rel="name"` with optional further parameters.
func parseLink(v string) (target, rel string, err error) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "<") {
		return "", "", errBadLink
	}
	end := strings.IndexByte(v, '>')
	if end < 0 {
		return "", "", errBadLink
	}
	target, rest := v[1:end], v[end+1:]
	for {
		rest = strings.TrimLeft(rest, " \t")
		if rest == "" {
			break
		}
		if rest[0] != ';' {
			return "", "", errBadLink
		}
		rest = strings.TrimLeft(rest[1:], " \t")
		i := strings.IndexAny(rest, "=;")
		if i < 0 || rest[i] == ';' {
			return "", "", errBadLink
		}
		name := strings.TrimSpace(rest[:i])
		rest = strings.TrimLeft(rest[i+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			q := strings.IndexByte(rest[1:], '"')
			if q < 0 {
				return "", "", errBadLink
			}
			val, rest = rest[1:1+q], rest[2+q:]
		} else {
			j := strings.IndexByte(rest, ';')
			if j < 0 {
				j = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:j]), rest[j:]
		}
		if strings.EqualFold(name, "rel") && rel == "" {
			rel = val
		}
	}
	if rel == "" {
		return "", "", errBadLink
	}
	return target, rel, nil
}

// links returns the Link relations of a response, one per header line.
func links(h http.Header) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range h.Values("Link") {
		target, rel, err := parseLink(v)
		if err != nil {
			return nil, err
		}
		out[rel] = target
	}
	return out, nil
}
