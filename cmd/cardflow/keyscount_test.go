package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
)

// TestKeysCountInWords: keys rotate, reseal and list count values and
// connections as the rest of the CLI counts things ("1 value", "3
// values"), not "value(s)".
func TestKeysCountInWords(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{rotatedText(&app.RotateReport{NewKeyID: "k2", Values: 1, Connections: 1}), "Rotated to key k2: re-sealed 1 value in 1 connection; 0 already used the new key.\n"},
		{rotatedText(&app.RotateReport{NewKeyID: "k2", Values: 5, Connections: 2, Unchanged: 1}), "Rotated to key k2: re-sealed 5 values in 2 connections; 1 already used the new key.\n"},
		{resealedText(&app.ResealReport{KeyID: "k2", Values: 1, Connections: 1}), "Re-sealed 1 value in 1 connection with key k2; 0 already used it.\n"},
		{resealedText(&app.ResealReport{KeyID: "k2"}), "Re-sealed 0 values in 0 connections with key k2; 0 already used it.\n"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q; want %q", tt.got, tt.want)
		}
	}
	var b bytes.Buffer
	printKeys(&b, &app.KeysReport{Source: "/d/keyring", Keys: []app.KeyUse{{ID: "k2", Primary: true, Values: 7}, {ID: "k1", Values: 1}}})
	out := b.String()
	if strings.Contains(out, "(s)") || !strings.Contains(out, "7 values") || !strings.Contains(out, "1 value\n") {
		t.Errorf("keys list:\n%s\nwant 7 values and 1 value", out)
	}
}
