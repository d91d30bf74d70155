package okta

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

func TestParseLink(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   []Link
	}{
		{
			name: "okta one line per relation",
			values: []string{
				`<https://example.okta.com/api/v1/devices?limit=200>; rel="self"`,
				`<https://example.okta.com/api/v1/devices?after=guo1&limit=200>; rel="next"`,
			},
			want: []Link{
				{Target: "https://example.okta.com/api/v1/devices?limit=200", Params: map[string]string{"rel": "self"}},
				{Target: "https://example.okta.com/api/v1/devices?after=guo1&limit=200", Params: map[string]string{"rel": "next"}},
			},
		},
		{
			name:   "two links folded into one line",
			values: []string{`<https://a/x?limit=2>; rel="self", <https://a/x?after=b,c&limit=2>; rel="next"`},
			want: []Link{
				{Target: "https://a/x?limit=2", Params: map[string]string{"rel": "self"}},
				{Target: "https://a/x?after=b,c&limit=2", Params: map[string]string{"rel": "next"}},
			},
		},
		{
			name:   "bare rel, odd spacing, upper-case name",
			values: []string{` <https://a/p>;REL=next ;title="a, b; c"`},
			want:   []Link{{Target: "https://a/p", Params: map[string]string{"rel": "next", "title": "a, b; c"}}},
		},
		{
			name:   "garbage before a good link is skipped",
			values: []string{`junk; rel="next", <https://a/ok>; rel="next"`},
			want:   []Link{{Target: "https://a/ok", Params: map[string]string{"rel": "next"}}},
		},
		{
			name:   "unterminated target",
			values: []string{`<https://a/ok`},
			want:   nil,
		},
		{
			name:   "escaped quote in a parameter",
			values: []string{`<https://a/ok>; title="say \"hi\""; rel="prev next"`},
			want:   []Link{{Target: "https://a/ok", Params: map[string]string{"title": `say "hi"`, "rel": "prev next"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseLink(tt.values)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseLink(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestLinkHasRel(t *testing.T) {
	l := Link{Params: map[string]string{"rel": "prev NEXT"}}
	if !l.HasRel("next") {
		t.Errorf("HasRel(next) = false; want true for rel %q", l.Params["rel"])
	}
	if l.HasRel("self") {
		t.Errorf("HasRel(self) = true; want false for rel %q", l.Params["rel"])
	}
}

func TestParseWWWAuthenticate(t *testing.T) {
	okta := `Bearer authorization_uri="http://example.okta.com/oauth2/v1/authorize", realm="http://example.okta.com", ` +
		`scope="okta.devices.manage", error="insufficient_scope", ` +
		`error_description="The access token provided does not contain the required scopes.", ` +
		`resource="/api/v1/devices/guo1/lifecycle/suspend"`
	tests := []struct {
		name   string
		values []string
		want   []Challenge
	}{
		{
			name:   "okta insufficient scope",
			values: []string{okta},
			want: []Challenge{{Scheme: "Bearer", Params: map[string]string{
				"authorization_uri": "http://example.okta.com/oauth2/v1/authorize",
				"realm":             "http://example.okta.com",
				"scope":             "okta.devices.manage",
				"error":             "insufficient_scope",
				"error_description": "The access token provided does not contain the required scopes.",
				"resource":          "/api/v1/devices/guo1/lifecycle/suspend",
			}}},
		},
		{
			name:   "quoted comma-space does not split",
			values: []string{`Bearer error_description="a", b="c", scope="x y"`},
			want:   []Challenge{{Scheme: "Bearer", Params: map[string]string{"error_description": "a", "b": "c", "scope": "x y"}}},
		},
		{
			name:   "quoted value holding the separator",
			values: []string{`Bearer error_description="one\", two", scope="s"`},
			want:   []Challenge{{Scheme: "Bearer", Params: map[string]string{"error_description": `one", two`, "scope": "s"}}},
		},
		{
			name:   "several challenges in one value",
			values: []string{`Newauth realm="apps", type=1, title="Login to \"apps\"", Basic realm="simple"`},
			want: []Challenge{
				{Scheme: "Newauth", Params: map[string]string{"realm": "apps", "type": "1", "title": `Login to "apps"`}},
				{Scheme: "Basic", Params: map[string]string{"realm": "simple"}},
			},
		},
		{
			name:   "token68 then another challenge",
			values: []string{`Negotiate abc+/d==, Bearer realm="r"`},
			want: []Challenge{
				{Scheme: "Negotiate", Params: map[string]string{}, Token68: "abc+/d=="},
				{Scheme: "Bearer", Params: map[string]string{"realm": "r"}},
			},
		},
		{
			name:   "scheme alone, and separate header lines",
			values: []string{`Bearer`, `DPoP error="insufficient_scope",scope=okta.devices.read`},
			want: []Challenge{
				{Scheme: "Bearer", Params: map[string]string{}},
				{Scheme: "DPoP", Params: map[string]string{"error": "insufficient_scope", "scope": "okta.devices.read"}},
			},
		},
		{
			name:   "unterminated quote keeps the rest",
			values: []string{`Bearer scope="okta.devices.read`},
			want:   []Challenge{{Scheme: "Bearer", Params: map[string]string{"scope": "okta.devices.read"}}},
		},
		{
			name:   "empty and junk",
			values: []string{``, `  ,, `, `"quoted" junk`},
			want:   []Challenge{{Scheme: "junk", Params: map[string]string{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseWWWAuthenticate(tt.values)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseWWWAuthenticate(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

func TestScopeErrorFromHeader(t *testing.T) {
	tests := []struct {
		name   string
		values []string
		want   *ScopeError
	}{
		{
			name:   "okta header",
			values: []string{`Bearer realm="r", scope="okta.devices.manage", error="insufficient_scope", resource="/api/v1/devices"`},
			want:   &ScopeError{Scope: "okta.devices.manage", Resource: "/api/v1/devices"},
		},
		{name: "other error", values: []string{`Bearer error="invalid_token"`}, want: nil},
		{name: "other scheme", values: []string{`Basic error="insufficient_scope", scope="x"`}, want: nil},
		{name: "no header", values: nil, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scopeErrorFromHeader(tt.values)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("scopeErrorFromHeader(%q) mismatch (-want +got):\n%s", tt.values, diff)
			}
		})
	}
}

// quote writes s as an RFC 9110 quoted-string.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `"` + r.Replace(s) + `"`
}

// FuzzParseWWWAuthenticate checks that any header parses without panic into
// well-formed challenges, and that a scope written by a conforming server
// (any string, quoted) always comes back exactly.
func FuzzParseWWWAuthenticate(f *testing.F) {
	f.Add(`Bearer realm="r", scope="okta.devices.manage", error="insufficient_scope"`, "okta.devices.manage")
	f.Add(`Basic realm="x", Bearer error=invalid_token`, `a", b="c`)
	f.Add(`Negotiate abc==, `, `\`)
	f.Fuzz(func(t *testing.T, header, scope string) {
		for _, ch := range ParseWWWAuthenticate([]string{header}) {
			if ch.Scheme == "" || !isToken(ch.Scheme) {
				t.Fatalf("ParseWWWAuthenticate(%q): scheme %q is not a token", header, ch.Scheme)
			}
			for k := range ch.Params {
				if !isToken(k) || strings.ToLower(k) != k {
					t.Fatalf("ParseWWWAuthenticate(%q): parameter name %q is not a lower-case token", header, k)
				}
			}
		}
		h := `Bearer authorization_uri="http://o/oauth2/v1/authorize", realm="http://o", scope=` + quote(scope) +
			`, error="insufficient_scope", error_description="The access token provided does not contain the required scopes."`
		se := scopeErrorFromHeader([]string{h})
		if se == nil {
			t.Fatalf("scopeErrorFromHeader(%q) = nil; want the scope error", h)
		}
		if se.Scope != scope {
			t.Fatalf("scope from %q = %q; want %q", h, se.Scope, scope)
		}
	})
}

// FuzzParseLink checks that any header parses without panic, and that links
// written one per line or folded into one line come back exactly.
func FuzzParseLink(f *testing.F) {
	f.Add(`<https://example.okta.com/api/v1/devices?limit=200>; rel="self"`, "https://example.okta.com/api/v1/devices?after=guo1&limit=200", "next")
	f.Add(`<a>;rel=next,<b>;rel="x, y"`, "https://a/?q=a,b;c", "prev next")
	f.Add(`<`, `x"y\z`, `"`)
	f.Fuzz(func(t *testing.T, header, target, rel string) {
		for _, l := range ParseLink([]string{header}) {
			if strings.ContainsAny(l.Target, "<>") {
				t.Fatalf("ParseLink(%q): target %q holds an angle bracket", header, l.Target)
			}
		}
		target = strings.TrimSpace(target)
		if strings.ContainsAny(target, "<>") || !utf8.ValidString(target) {
			return // not a URI reference a server could send
		}
		self := "<https://o/self>; rel=\"self\""
		next := "<" + target + ">; rel=" + quote(rel)
		for _, values := range [][]string{{self, next}, {self + ", " + next}} {
			links := ParseLink(values)
			if len(links) != 2 {
				t.Fatalf("ParseLink(%q) = %d links; want 2", values, len(links))
			}
			if links[1].Target != target || links[1].Params["rel"] != rel {
				t.Fatalf("ParseLink(%q)[1] = %q rel %q; want %q rel %q", values, links[1].Target, links[1].Params["rel"], target, rel)
			}
		}
	})
}

// TestChallengeErrors: a 401 or 400 says why in its Bearer or DPoP
// challenge; only a rejected token (invalid_token, or E0000011 without a
// challenge) is IsInvalidToken, a refused DPoP proof is IsDPoPRefused,
// and the challenge's description is the summary when the body is empty.
func TestChallengeErrors(t *testing.T) {
	hdr := func(v string) http.Header {
		h := http.Header{}
		if v != "" {
			h.Set("WWW-Authenticate", v)
		}
		return h
	}
	e0000011 := []byte(`{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorCauses":[]}`)
	tests := []struct {
		name           string
		status         int
		header         string
		body           []byte
		invalid, dpop  bool
		summary, chall string
	}{
		{"SSWS", 401, "", e0000011, true, false, "Invalid token provided", ""},
		{"expired bearer", 401, `Bearer authorization_uri="x", error="invalid_token", error_description="The token has expired."`, e0000011, true, false, "Invalid token provided", "invalid_token"},
		{"proof refused, RFC 9449", 401, `DPoP algs="ES256", error="invalid_dpop_proof", error_description="The DPoP proof JWT is issued more than five minutes in the past."`, nil, false, true, "The DPoP proof JWT is issued more than five minutes in the past.", "invalid_dpop_proof"},
		{"proof refused, Okta", 400, `DPoP algs="ES256", error="invalid_dpop_proof", error_description="'htu' claim in the DPoP proof JWT is invalid."`, nil, false, true, "'htu' claim in the DPoP proof JWT is invalid.", "invalid_dpop_proof"},
		{"nonce still wanted", 401, `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof."`, nil, false, true, "Resource server requires nonce in DPoP proof.", "use_dpop_nonce"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := newResponseError(tc.status, hdr(tc.header), tc.body)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Summary != tc.summary || ae.Challenge != tc.chall || ChallengeError(hdr(tc.header)) != tc.chall {
				t.Fatalf("error %#v; want summary %q, challenge %q", err, tc.summary, tc.chall)
			}
			if IsInvalidToken(err) != tc.invalid || IsDPoPRefused(err) != tc.dpop {
				t.Errorf("IsInvalidToken %v, IsDPoPRefused %v; want %v, %v", IsInvalidToken(err), IsDPoPRefused(err), tc.invalid, tc.dpop)
			}
		})
	}
}
