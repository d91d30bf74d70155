package connection

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
)

// oktaSuffixes are the DNS suffixes of Okta org hosts. An org host
// is one label followed by one of them, e.g. example.okta.com.
var oktaSuffixes = []string{"okta.com", "oktapreview.com", "okta-emea.com", "okta-gov.com", "okta.mil"}

const (
	maxDomainLen = 253
	maxLabelLen  = 63
	domainHint   = "enter the org's host only, e.g. example.okta.com"
)

// DomainPolicy is the operator's configuration of which org domains are
// acceptable. The zero value accepts only hosts under oktaSuffixes.
type DomainPolicy struct {
	// ExtraSuffixes are custom domains the operator allow-lists (e.g.
	// "login.example.com"): an entry accepts that host and its subdomains.
	ExtraSuffixes []string
	// TrustedOrigins are origins such as "http://127.0.0.1:9090" (an
	// emulated org) that may use http:// and loopback or private addresses.
	// A connection to one stores the origin itself as its domain.
	TrustedOrigins []string
}

// ParseDomain validates an org domain as an administrator typed it and
// returns its normal form: the lower-case host ("example.okta.com"), or the
// trusted origin itself ("http://127.0.0.1:9090"). It accepts a bare host,
// https://host and a trailing "/". Every rejection is an invalid_input
// problem whose message says what is wrong and whose remedy says how to fix
// it.
func ParseDomain(input string, p DomainPolicy) (string, error) {
	if input == "" {
		return "", domainErr("domain is required", domainHint)
	}
	for _, r := range input {
		if unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError || unicode.Is(unicode.Cf, r) {
			return "", domainErr("domain contains spaces, invisible or control characters",
				"remove them and "+domainHint)
		}
	}
	lower := strings.ToLower(input)
	if strings.ContainsAny(lower, "{}") {
		if strings.Contains(lower, "youroktadomain") {
			return "", domainErr("domain is still the placeholder {yourOktaDomain}",
				"replace it with your org's domain, e.g. example.okta.com")
		}
		return "", domainErr("domain contains '{' or '}'", domainHint)
	}
	for _, r := range input {
		if r > unicode.MaxASCII {
			return "", domainErr(fmt.Sprintf("domain contains the non-ASCII character %q (U+%04X), which can be a look-alike of an ASCII letter", r, r),
				"type the domain in plain ASCII letters, e.g. example.okta.com")
		}
	}
	for _, o := range p.TrustedOrigins {
		n := normOrigin(o)
		if n == "" {
			continue
		}
		in := strings.TrimSuffix(lower, "/")
		if in == n || "http://"+in == n || "https://"+in == n {
			return n, nil
		}
	}
	if o := nearTrustedOrigin(lower, p.TrustedOrigins); o != "" {
		// The host and port of a trusted origin with another scheme, or a
		// path: the rules of Okta's hosts below would say to drop the port
		// (or the http://), which leads away from the org meant.
		return "", domainErr(fmt.Sprintf("domain %s is not the trusted origin %s of that host and port (an emulated org's, served as it is)", input, o),
			fmt.Sprintf("did you mean %s? Give the origin as it is, scheme and port, without a path", o)).WithDetail("suggestion", o)
	}

	rest := lower
	switch {
	case strings.HasPrefix(rest, "https://"):
		rest = strings.TrimPrefix(rest, "https://")
	case strings.HasPrefix(rest, "http://"):
		return "", domainErr("domain uses http://; Okta orgs are only reached over https://",
			domainHint+" (an emulated org's http:// origin must first be trusted by the operator)")
	case strings.Contains(rest, "://"):
		return "", domainErr(fmt.Sprintf("domain uses the scheme %q; only https:// is allowed", rest[:strings.Index(rest, "://")]), domainHint)
	}
	if strings.HasPrefix(rest, "//") || strings.HasPrefix(rest, "/") {
		return "", domainErr("domain has no host before the '/'", domainHint)
	}
	if strings.Contains(rest, "#") {
		return "", domainErr("domain contains a fragment (#...)", "remove everything from '#' on and "+domainHint)
	}
	if strings.Contains(rest, "?") {
		return "", domainErr("domain contains a query (?...)", "remove everything from '?' on and "+domainHint)
	}
	rest = strings.TrimSuffix(rest, "/")
	if strings.ContainsAny(rest, "/\\") {
		return "", domainErr("domain contains a path", "remove everything from the first '/' on and "+domainHint)
	}
	if strings.Contains(rest, "@") {
		return "", domainErr("domain contains user information (name@ or name:password@)",
			"remove everything up to and including '@' and "+domainHint)
	}
	if strings.ContainsAny(rest, "[]") || strings.Count(rest, ":") > 1 {
		return "", domainErr("domain is an IP address; Okta orgs are reached by name", domainHint)
	}
	if i := strings.Index(rest, ":"); i >= 0 {
		return "", domainErr(fmt.Sprintf("domain contains a port (%q); Okta orgs use the standard https port", rest[i:]),
			"remove the port and "+domainHint)
	}
	host := rest
	if host == "" {
		return "", domainErr("domain has no host", domainHint)
	}
	if len(host) > maxDomainLen {
		return "", domainErr(fmt.Sprintf("domain is %d characters long; a domain name has at most %d", len(host), maxDomainLen), domainHint)
	}
	labels := strings.Split(host, ".")
	for _, l := range labels {
		if l == "" {
			return "", domainErr("domain has an empty label (a leading or trailing dot, or \"..\")",
				"remove the extra dot and "+domainHint)
		}
		if len(l) > maxLabelLen {
			return "", domainErr(fmt.Sprintf("a label of the domain is %d characters long; each part between dots has at most %d", len(l), maxLabelLen), domainHint)
		}
	}
	if isIPLiteral(host, labels) {
		return "", domainErr("domain is an IP address; Okta orgs are reached by name", domainHint)
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "localhost.localdomain" {
		return "", domainErr("domain is localhost; it must be your Okta org",
			domainHint+" (an emulated org's origin must first be trusted by the operator)")
	}
	for _, l := range labels {
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return "", domainErr(fmt.Sprintf("domain contains the character %q, which is not allowed in a host name", r), domainHint)
			}
		}
		if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", domainErr(fmt.Sprintf("the label %q of the domain starts or ends with '-'", l), domainHint)
		}
		if strings.HasPrefix(l, "xn--") {
			return "", domainErr(fmt.Sprintf("domain contains the punycode label %q, which can hide look-alike characters", l),
				"type the org's domain in plain ASCII letters, e.g. example.okta.com")
		}
	}
	if strings.HasSuffix(host, ".com.com") {
		fixed := strings.TrimSuffix(host, ".com")
		return "", domainErr("domain ends in .com.com", fmt.Sprintf("remove the repeated .com: %s", fixed))
	}
	for _, s := range oktaSuffixes {
		if host == s {
			return "", domainErr(fmt.Sprintf("%s alone is Okta's own domain, not an org", s),
				fmt.Sprintf("enter your org's domain, e.g. example.%s", s))
		}
		org, ok := strings.CutSuffix(host, "."+s)
		if !ok {
			continue
		}
		if strings.Contains(org, ".") {
			name := org[strings.LastIndex(org, ".")+1:]
			if isNumericLabel(name) {
				name = "example" // 127.0.0.1.okta.com: its last name is no org's
			}
			return "", domainErr(fmt.Sprintf("an Okta org domain is one name followed by .%s; %s has more", s, host),
				fmt.Sprintf("enter the org's host only, e.g. %s.%s", name, s))
		}
		if base, ok := strings.CutSuffix(org, "-admin"); ok {
			return "", domainErr(fmt.Sprintf("%s is the Admin Console host, not the org's API host", host),
				fmt.Sprintf("use %s.%s, not %s-admin.%s", base, s, base, s))
		}
		return host, nil
	}
	var allowed []string
	for _, e := range p.ExtraSuffixes {
		e = strings.Trim(strings.ToLower(strings.TrimSpace(e)), ".")
		if e != "" && (host == e || strings.HasSuffix(host, "."+e)) {
			return host, nil
		}
		if e != "" {
			allowed = append(allowed, e)
		}
	}
	if len(allowed) > 0 {
		return "", domainErr(fmt.Sprintf("%s is not an Okta org domain; it must end in %s, or be one of the custom domains this server allows (%s) or a name under one",
			host, strings.Join(oktaSuffixes, ", "), strings.Join(allowed, ", ")),
			"enter the org's domain, e.g. example.okta.com or "+allowed[0]+" (another custom domain must first be allow-listed by the operator)")
	}
	return "", domainErr(fmt.Sprintf("%s is not an Okta org domain; it must end in %s", host, strings.Join(oktaSuffixes, ", ")),
		"enter the org's domain, e.g. example.okta.com (a custom domain must first be allow-listed by the operator)")
}

// isIPLiteral reports whether host is an IP address in any notation a
// resolver or URL parser accepts: dotted or not, decimal, octal or hex
// parts. A host whose last label is numeric is always treated as one (as
// the WHATWG URL standard does); no top-level domain is numeric.
func isIPLiteral(host string, labels []string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	last := labels[len(labels)-1]
	return isNumericLabel(last)
}

func isNumericLabel(l string) bool {
	if l == "" {
		return false
	}
	if h, ok := strings.CutPrefix(l, "0x"); ok {
		for _, r := range h {
			if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
				return false
			}
		}
		return true
	}
	for _, r := range l {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ParseTrustedOrigin validates an origin the operator trusts (a flag or
// configuration entry) and returns it normalised: "http" or "https",
// host[:port], lower-case, no path, query or user information.
func ParseTrustedOrigin(s string) (string, error) {
	// Every refusal shows the form, since the usual slip is a bare
	// host:port, which url.Parse reports in its own terms.
	const want = "want http(s)://host[:port] and nothing else, e.g. http://127.0.0.1:9090"
	u, err := url.Parse(strings.TrimSuffix(strings.TrimSpace(s), "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("trusted origin %q: %s", keyring.RedactURL(s), want)
	}
	if u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", fmt.Errorf("trusted origin %q: %s", keyring.RedactURL(s), want)
	}
	return normOrigin(u.Scheme + "://" + u.Host), nil
}

// normOrigin lower-cases an origin and drops a trailing "/"; it returns ""
// for something that is not scheme://host.
func normOrigin(o string) string {
	o = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(o)), "/")
	if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
		return ""
	}
	return o
}

// OriginOf returns the origin of a connection's stored domain:
// "https://" + host, or the trusted origin as it is.
func OriginOf(domain string) string {
	if strings.Contains(domain, "://") {
		return domain
	}
	return "https://" + domain
}

// nearTrustedOrigin is the trusted origin whose host and port the domain
// in (lower case) has, with another scheme or with a path, query or
// fragment after them; "" when it has none's.
func nearTrustedOrigin(in string, trusted []string) string {
	hostPort := in
	if i := strings.Index(hostPort, "://"); i >= 0 {
		hostPort = hostPort[i+3:]
	}
	if i := strings.IndexAny(hostPort, "/?#"); i >= 0 {
		hostPort = hostPort[:i]
	}
	if hostPort == "" {
		return ""
	}
	for _, o := range trusted {
		n := normOrigin(o)
		if n == "" {
			continue
		}
		if _, hp, _ := strings.Cut(n, "://"); hp == hostPort {
			return n
		}
	}
	return ""
}

func domainErr(msg, remedy string) *problem.Error {
	return problem.New(problem.InvalidInput, "%s", msg).WithRemedy("%s", remedy).WithDetail("field", "domain")
}
