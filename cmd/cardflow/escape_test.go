package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEscaper(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Prod devices\tACTIVE\n", "Prod devices\tACTIVE\n"},
		{"non-ASCII", "Ünïcödé ✓\n", "Ünïcödé ✓\n"},
		{"title sequence", "Ada\x1b]0;owned\x07\n", `Ada\x1b]0;owned\x07` + "\n"},
		{"carriage return", "ok\rFAKE", `ok\x0dFAKE`},
		{"C1 CSI", "a\u009b2Jb", `a\u009b2Jb`},
		{"bidi override", "\u202egpj.exe", `\u202egpj.exe`},
		{"invalid UTF-8", "a\xffb", `a\xffb`},
		{"DEL", "a\x7fb", `a\u007fb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			n, err := (&escaper{w: &b}).Write([]byte(tt.in))
			if err != nil || n != len(tt.in) {
				t.Fatalf("Write = %d, %v; want %d, nil", n, err, len(tt.in))
			}
			if b.String() != tt.want {
				t.Errorf("got %q; want %q", b.String(), tt.want)
			}
		})
	}
}

// TestEscapedJSONDecodes: --json output through the escaper is valid JSON
// that decodes to what was printed, whatever control characters the org's
// data holds (the encoder escapes C0 itself, not DEL, C1 or bidi controls).
func TestEscapedJSONDecodes(t *testing.T) {
	name := "Ada\x7f\u009b2J\u202egpj.exe\x1b[31m\r"
	var b strings.Builder
	if err := printJSON(&escaper{w: &b}, map[string]string{"displayName": name}); err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatalf("the output %q is not JSON: %v", b.String(), err)
	}
	if got["displayName"] != name {
		t.Errorf("decoded %q; want %q", got["displayName"], name)
	}
	if needsEscape([]byte(b.String())) {
		t.Errorf("the output %q holds control characters", b.String())
	}
}
