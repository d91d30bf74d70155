package keyring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const canary = "canary-Sup3rS3cret"

// allRenderings prints v every way a program might: fmt verbs, JSON and
// slog's text and JSON handlers.
func allRenderings(t *testing.T, v any) []string {
	t.Helper()
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%10s"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	out = append(out, fmt.Sprintf("%T %v", v, v))
	out = append(out, fmt.Sprint(v), fmt.Sprintln(v))
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}
	out = append(out, string(j))
	for _, h := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler {
			return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
		func(b *bytes.Buffer) slog.Handler {
			return slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})
		},
	} {
		var buf bytes.Buffer
		l := slog.New(h(&buf))
		l.Debug("msg", "value", v)
		l.Info("msg", slog.Any("any", v), slog.Group("g", "nested", v))
		out = append(out, buf.String())
	}
	return out
}

func TestSecretNeverPrinted(t *testing.T) {
	type form struct {
		User         string
		ClientSecret Secret
		Ptr          *Secret
	}
	s := Secret(canary)
	tests := []struct {
		name string
		v    any
	}{
		{name: "value", v: s},
		{name: "pointer", v: &s},
		{name: "in struct", v: form{User: "u", ClientSecret: s, Ptr: &s}},
		{name: "in struct pointer", v: &form{ClientSecret: s}},
		{name: "in slice", v: []Secret{s, s}},
		{name: "in map", v: map[string]Secret{"k": s}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, r := range allRenderings(t, tt.v) {
				if strings.Contains(r, canary) || strings.Contains(r, fmt.Sprintf("%x", canary)[:16]) {
					t.Errorf("secret leaked: %q", r)
				}
				if !strings.Contains(r, "[redacted]") && !strings.Contains(r, "5b72656461637465645d") && !strings.Contains(r, "5B72656461637465645D") {
					t.Errorf("rendering %q does not say [redacted]", r)
				}
			}
		})
	}
}

func TestSecretRevealAndDecode(t *testing.T) {
	var in struct {
		ClientSecret Secret `json:"clientSecret"`
	}
	if err := json.Unmarshal([]byte(`{"clientSecret":"`+canary+`"}`), &in); err != nil {
		t.Fatalf("Unmarshal: %v", err)
	}
	if got := in.ClientSecret.Reveal(); got != canary {
		t.Errorf("Reveal = %q; want %q", got, canary)
	}
	if got := in.ClientSecret.String(); got != "[redacted]" {
		t.Errorf("String = %q; want [redacted]", got)
	}
}

// TestRedactURL: a URL quoted in a message shows no password, also when
// it does not parse (then all that may be user information is hidden).
func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.okta.com":                  "https://example.okta.com",
		"https://ada:s3cret@cardflow.example.com":   "https://ada:xxxxx@cardflow.example.com",
		"https://ada@cardflow.example.com/x":        "https://ada@cardflow.example.com/x",
		"https://ada:s3cret@host:bad port/path":     "https://xxxxx@host:bad port/path",
		"https://a:b@c@host%zz/p?q=1":               "https://xxxxx@host%zz/p?q=1",
		"not a url at all":                          "not%20a%20url%20at%20all", // parsed as a path
		"https://host%zz/no-credentials":            "https://host%zz/no-credentials",
		"https://user:pa%zzss@host/with-bad-escape": "https://xxxxx@host/with-bad-escape",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q; want %q", in, got, want)
		}
		if strings.Contains(RedactURL(in), "s3cret") || strings.Contains(RedactURL(in), "pa%zzss") {
			t.Errorf("RedactURL(%q) shows the password", in)
		}
	}
}
