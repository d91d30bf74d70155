package oktaemu

import (
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
