package oktaemu

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

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

func TestFormatLink(t *testing.T) {
	tests := []struct {
		name, target, rel, want string
	}{
		{"self", "http://127.0.0.1:1/api/v1/devices?limit=200", "self", `<http://127.0.0.1:1/api/v1/devices?limit=200>; rel="self"`},
		{"next", "http://h/api/v1/devices?after=guo1&limit=2", "next", `<http://h/api/v1/devices?after=guo1&limit=2>; rel="next"`},
		{"escapes", "http://h/a b>c\r\n", "ne\"xt", `<http://h/a%20b%3Ec%0D%0A>; rel="next"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatLink(tc.target, tc.rel); got != tc.want {
				t.Errorf("formatLink = %s; want %s", got, tc.want)
			}
		})
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		name, in, target, rel string
		bad                   bool
	}{
		{name: "okta", in: `<https://x.okta.com/api/v1/devices?after=guo1&limit=200>; rel="next"`, target: "https://x.okta.com/api/v1/devices?after=guo1&limit=200", rel: "next"},
		{name: "unquoted and params", in: ` <u>;type="a;b" ; rel=self`, target: "u", rel: "self"},
		{name: "no rel", in: `<u>; type="x"`, bad: true},
		{name: "no brackets", in: `u; rel="next"`, bad: true},
		{name: "unterminated quote", in: `<u>; rel="next`, bad: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, rel, err := parseLink(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("parseLink(%q) = %q, %q; want an error", tc.in, target, rel)
				}
				return
			}
			if err != nil || target != tc.target || rel != tc.rel {
				t.Errorf("parseLink(%q) = %q, %q, %v; want %q, %q", tc.in, target, rel, err, tc.target, tc.rel)
			}
		})
	}
}

// FuzzLink checks that whatever the writer writes, the reader reads back
// as one header line with the same relation, and that the reader never
// panics on arbitrary input.
func FuzzLink(f *testing.F) {
	f.Add("http://127.0.0.1:9090/api/v1/devices?after=guo4a5u7JHHhjXrMK0g4&limit=200", "next")
	f.Fuzz(func(t *testing.T, target, rel string) {
		_, _, _ = parseLink(target)
		v := formatLink(target, rel)
		if strings.ContainsAny(v, "\r\n") {
			t.Fatalf("formatLink(%q, %q) = %q spans lines", target, rel, v)
		}
		h := http.Header{}
		addLink(h, "http://h/first", "first")
		addLink(h, target, rel)
		var wantRel strings.Builder
		for i := 0; i < len(rel); i++ {
			if isLinkTokenByte(rel[i]) {
				wantRel.WriteByte(rel[i])
			}
		}
		got, err := links(h)
		if wantRel.Len() == 0 {
			if err == nil {
				t.Fatalf("links(%q) = %v; want an error for an empty relation", v, got)
			}
			return
		}
		if err != nil {
			t.Fatalf("links(%q): %v", v, err)
		}
		wantTarget := strings.TrimPrefix(v[:strings.LastIndex(v, ">; rel=")], "<")
		if r := wantRel.String(); r != "first" && got[r] != wantTarget {
			t.Fatalf("links(%q)[%q] = %q; want %q", v, r, got[r], wantTarget)
		}
		if got["first"] != "http://h/first" && wantRel.String() != "first" {
			t.Fatalf("links lost the first relation: %v", got)
		}
	})
}
