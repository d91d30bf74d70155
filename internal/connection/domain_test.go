package connection

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/problem"
)

func TestParseDomainAccepts(t *testing.T) {
	pol := DomainPolicy{
		ExtraSuffixes:  []string{"Login.Example.org"},
		TrustedOrigins: []string{"http://127.0.0.1:9090/", "https://10.0.0.5:8443"},
	}
	tests := []struct {
		name, in, want string
	}{
		{"bare host", "example.okta.com", "example.okta.com"},
		{"https", "https://example.okta.com", "example.okta.com"},
		{"https trailing slash", "https://example.okta.com/", "example.okta.com"},
		{"bare trailing slash", "example.okta.com/", "example.okta.com"},
		{"upper case", "HTTPS://Example.OKTA.com", "example.okta.com"},
		{"preview", "dev-123456.oktapreview.com", "dev-123456.oktapreview.com"},
		{"emea", "acme.okta-emea.com", "acme.okta-emea.com"},
		{"gov", "acme.okta-gov.com", "acme.okta-gov.com"},
		{"mil", "acme.okta.mil", "acme.okta.mil"},
		{"digits and hyphen", "a1-b2.okta.com", "a1-b2.okta.com"},
		{"extra suffix exact", "login.example.org", "login.example.org"},
		{"extra suffix sub", "https://eu.login.example.org/", "eu.login.example.org"},
		{"trusted origin", "http://127.0.0.1:9090", "http://127.0.0.1:9090"},
		{"trusted origin slash", "http://127.0.0.1:9090/", "http://127.0.0.1:9090"},
		{"trusted origin no scheme", "127.0.0.1:9090", "http://127.0.0.1:9090"},
		{"trusted https origin", "https://10.0.0.5:8443", "https://10.0.0.5:8443"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDomain(tt.in, pol)
			if err != nil {
				t.Fatalf("ParseDomain(%q) error %v; want %q", tt.in, err, tt.want)
			}
			if got != tt.want {
				t.Errorf("ParseDomain(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDomainRejects(t *testing.T) {
	pol := DomainPolicy{TrustedOrigins: []string{"http://127.0.0.1:9090"}}
	long := strings.Repeat("a", 64)
	tooLong := strings.Repeat("abcdefghi.", 25) + "okta.com"
	tests := []struct {
		name, in string
		want     string // substring of the message
		remedy   string // substring of the remedy
	}{
		{"empty", "", "required", "example.okta.com"},
		{"http", "http://example.okta.com", "http://", "example.okta.com"},
		{"untrusted emulator", "http://127.0.0.1:9091", "http://", "trusted"},
		{"other scheme", "ftp://example.okta.com", `"ftp"`, "example.okta.com"},
		{"admin host", "example-admin.okta.com", "Admin Console", "use example.okta.com, not example-admin.okta.com"},
		{"admin host https", "https://acme-admin.oktapreview.com/", "Admin Console", "use acme.oktapreview.com, not acme-admin.oktapreview.com"},
		{"path", "example.okta.com/oauth2/v1", "path", "remove everything from the first '/'"},
		{"https path", "https://example.okta.com/admin/dashboard", "path", "'/'"},
		{"backslash", `example.okta.com\x`, "path", "'/'"},
		{"query", "example.okta.com?x=1", "query", "'?'"},
		{"fragment", "example.okta.com#top", "fragment", "'#'"},
		{"port", "example.okta.com:8443", `port (":8443")`, "remove the port"},
		{"empty port", "example.okta.com:", "port", "remove the port"},
		{"user info", "admin@example.okta.com", "user information", "'@'"},
		{"user password", "https://a:b@example.okta.com", "user information", "'@'"},
		{"ipv4", "127.0.0.1", "IP address", "example.okta.com"},
		{"ipv4 private", "10.1.2.3", "IP address", ""},
		{"ipv4 decimal", "2130706433", "IP address", ""},
		{"ipv4 octal", "0177.0.0.1", "IP address", ""},
		{"ipv4 hex", "0x7f.0x0.0x0.0x1", "IP address", ""},
		{"ipv4 hex whole", "0x7f000001", "IP address", ""},
		{"ipv4 short", "127.1", "IP address", ""},
		{"ipv6", "::1", "IP address", ""},
		{"ipv6 full", "2001:db8::1", "IP address", ""},
		{"ipv6 bracketed", "[::1]", "IP address", ""},
		{"ipv6 bracketed port", "https://[::1]:443", "IP address", ""},
		{"ipv4 mapped", "[::ffff:127.0.0.1]", "IP address", ""},
		{"localhost", "localhost", "localhost", "trusted"},
		{"localhost sub", "okta.localhost", "localhost", ""},
		{"punycode", "xn--exmple-cua.okta.com", "punycode", "ASCII"},
		{"punycode suffix", "example.xn--okta-9ua.com", "punycode", ""},
		{"cyrillic a", "ex\u0430mple.okta.com", "non-ASCII", "ASCII"},
		{"fullwidth dot", "example\uff0eokta.com", "non-ASCII", ""},
		{"space inside", "example .okta.com", "spaces", "remove"},
		{"leading space", " example.okta.com", "spaces", ""},
		{"trailing newline", "example.okta.com\n", "spaces", ""},
		{"tab", "example.okta.com\t", "spaces", ""},
		{"nul", "example.okta.com\x00", "control", ""},
		{"zero width", "exam\u200bple.okta.com", "invisible", ""},
		{"invalid utf8", "exa\xffmple.okta.com", "control", ""},
		{"long label", long + ".okta.com", "at most 63", ""},
		{"long name", tooLong, "at most 253", ""},
		{"com com", "example.okta.com.com", ".com.com", "remove the repeated .com: example.okta.com"},
		{"placeholder", "{yourOktaDomain}", "{yourOktaDomain}", "replace it"},
		{"placeholder https", "https://{yourOktaDomain}/", "{yourOktaDomain}", "replace it"},
		{"brace", "ex{a}mple.okta.com", "'{'", ""},
		{"empty label", "example..okta.com", "empty label", "extra dot"},
		{"leading dot", ".okta.com", "empty label", ""},
		{"trailing dot", "example.okta.com.", "empty label", ""},
		{"bare suffix", "okta.com", "okta.com alone", "example.okta.com"},
		{"bare preview suffix", "https://oktapreview.com", "alone", "example.oktapreview.com"},
		{"two labels", "a.example.okta.com", "one name", "example.okta.com"},
		{"other domain", "example.com", "not an Okta org domain", "allow-listed"},
		{"look-alike suffix", "example.okta.com.evil.net", "not an Okta org domain", ""},
		{"suffix without dot", "exampleokta.com", "not an Okta org domain", ""},
		{"underscore", "ex_ample.okta.com", "'_'", ""},
		{"hyphen start", "-example.okta.com", "starts or ends with '-'", ""},
		{"no host", "https:///", "no host", ""},
		{"only slash", "/", "no host", ""},
		{"scheme relative", "//example.okta.com", "no host", ""},
		{"numeric tld", "example.okta.com.1", "IP address", ""},
		{"an address before the suffix", "127.0.0.1.okta.com", "one name", "e.g. example.okta.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDomain(tt.in, pol)
			if err == nil {
				t.Fatalf("ParseDomain(%q) = %q; want an error containing %q", tt.in, got, tt.want)
			}
			p, ok := problem.As(err)
			if !ok || p.Code != problem.InvalidInput {
				t.Fatalf("ParseDomain(%q) error %#v; want an invalid_input problem", tt.in, err)
			}
			if !strings.Contains(p.Message, tt.want) {
				t.Errorf("message %q; want it to contain %q", p.Message, tt.want)
			}
			if p.Remedy == "" || !strings.Contains(p.Remedy, tt.remedy) {
				t.Errorf("remedy %q; want a non-empty one containing %q", p.Remedy, tt.remedy)
			}
			if p.Details["field"] != "domain" {
				t.Errorf("details %v; want field=domain", p.Details)
			}
		})
	}
}

func TestParseTrustedOrigin(t *testing.T) {
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{"http loopback", "http://127.0.0.1:9090", "http://127.0.0.1:9090", false},
		{"slash and case", "HTTP://LocalHost:9090/", "http://localhost:9090", false},
		{"https", "https://login.example.org", "https://login.example.org", false},
		{"no scheme", "127.0.0.1:9090", "", true},
		{"path", "http://127.0.0.1:9090/x", "", true},
		{"user", "http://u@127.0.0.1:9090", "", true},
		{"ftp", "ftp://x", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTrustedOrigin(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseTrustedOrigin(%q) error %v; want error %v", tt.in, err, tt.wantErr)
			}
			// -trust-origin 127.0.0.1:9090 must say what to write instead.
			if err != nil && !strings.Contains(err.Error(), "want http(s)://host[:port] and nothing else, e.g. http://127.0.0.1:9090") {
				t.Errorf("ParseTrustedOrigin(%q) error %q; want it to show the form", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseTrustedOrigin(%q) = %q; want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzParseDomain checks that whatever ParseDomain accepts is a plain,
// lower-case host under an allowed suffix (or a trusted origin), that it is
// idempotent, and that every rejection is a problem with a remedy.
func FuzzParseDomain(f *testing.F) {
	for _, s := range []string{"example.okta.com", "https://example.okta.com/", "example-admin.okta.com",
		"http://127.0.0.1:9090", "0x7f.1", "[::1]", "xn--e.okta.com", "{yourOktaDomain}", "a.okta.com.com",
		"user@host.okta.com:1/p?q#f", "EXAMPLE.OKTAPREVIEW.COM", "login.example.org"} {
		f.Add(s)
	}
	pol := DomainPolicy{ExtraSuffixes: []string{"login.example.org"}, TrustedOrigins: []string{"http://127.0.0.1:9090"}}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := ParseDomain(in, pol)
		if err != nil {
			p, ok := problem.As(err)
			if !ok || p.Code != problem.InvalidInput || p.Message == "" || p.Remedy == "" {
				t.Fatalf("ParseDomain(%q) error %#v; want an invalid_input problem with message and remedy", in, err)
			}
			return
		}
		if got == "http://127.0.0.1:9090" {
			return
		}
		if !utf8.ValidString(got) || got != strings.ToLower(got) || len(got) > maxDomainLen ||
			strings.ContainsAny(got, "/:@?#[]{} \\") || strings.Contains(got, "xn--") {
			t.Fatalf("ParseDomain(%q) = %q; not a plain lower-case host", in, got)
		}
		ok := strings.HasSuffix(got, ".login.example.org") || got == "login.example.org"
		for _, s := range oktaSuffixes {
			ok = ok || strings.HasSuffix(got, "."+s)
		}
		if !ok {
			t.Fatalf("ParseDomain(%q) = %q; not under an allowed suffix", in, got)
		}
		again, err := ParseDomain(got, pol)
		if err != nil || again != got {
			t.Fatalf("ParseDomain(%q) = %q, %v; want it to accept its own output unchanged", got, again, err)
		}
	})
}

// TestParseDomainNamesTheCustomDomainsAllowed: a domain that is neither
// Okta's nor under a custom domain the operator allows is refused with the
// custom domains named beside Okta's, so the person typing it sees that
// theirs is allowed and how it is spelt.
func TestParseDomainNamesTheCustomDomainsAllowed(t *testing.T) {
	_, err := ParseDomain("login.example.com", DomainPolicy{ExtraSuffixes: []string{" Login.Example.org. ", ""}})
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("error %v; want a problem", err)
	}
	if want := "or be one of the custom domains this server allows (login.example.org) or a name under one"; !strings.Contains(p.Message, want) {
		t.Errorf("message %q; want it to contain %q", p.Message, want)
	}
	if want := "e.g. example.okta.com or login.example.org"; !strings.Contains(p.Remedy, want) {
		t.Errorf("remedy %q; want it to contain %q", p.Remedy, want)
	}
}
