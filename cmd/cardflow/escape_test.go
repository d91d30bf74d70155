package main

import (
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
		{"DEL", "a\x7fb", `a\x7fb`},
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
