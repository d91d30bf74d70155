package main

import (
	"os"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
)

// inOrder reports whether text holds every part, in that order.
func inOrder(text string, parts ...string) bool {
	for _, p := range parts {
		i := strings.Index(text, p)
		if i < 0 {
			return false
		}
		text = text[i+len(p):]
	}
	return true
}

func TestRotateAdviceMatchesTheREADME(t *testing.T) {
	order := []string{"CARDFLOW_KEY=OLD,NEW", "rotate", "CARDFLOW_KEY=NEW,OLD"}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "**Rotating the key with several servers**")
	if !ok || !inOrder(section, order...) {
		t.Fatalf("the README's key rotation section does not give the order %q", order)
	}
	tests := []struct {
		name     string
		rep      app.RotateReport
		sharedDB bool
		want     []string
		wantNot  []string
	}{
		{name: "CARDFLOW_KEY", rep: app.RotateReport{NewKeyID: "k2"}, sharedDB: true,
			want: []string{"Now restart every server with CARDFLOW_KEY=NEW,OLD", "safe order is: restart every server with CARDFLOW_KEY=OLD,NEW; rotate;"}},
		{name: "keyring file, one server", rep: app.RotateReport{KeyringFile: "/d/keyring", KeyIDs: []string{"k2", "k1"}},
			want: []string{"The keyring /d/keyring now holds keys k2, k1", "reads the file again and seals with the new key\nwithin 10 s; no restart is needed"}, wantNot: []string{"Other servers", "restart them"}},
		// A server whose keyring file gains the key follows without a
		// restart (app's TestKeyringFileGainsTheKey).
		{name: "keyring file, shared database", rep: app.RotateReport{KeyringFile: "/d/keyring", KeyIDs: []string{"k2", "k1"}}, sharedDB: true,
			want:    []string{"Other servers on this database cannot open the re-sealed values", "Copy it over each one's keyring\nfile", "no restart is needed", "prefer\nCARDFLOW_KEY"},
			wantNot: []string{"restart them"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rotateAdvice(&tt.rep, tt.sharedDB)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("advice lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(got, w) {
					t.Errorf("advice holds %q:\n%s", w, got)
				}
			}
			if tt.rep.KeyringFile == "" && !inOrder(got, "safe order", order[0], order[1], order[2]) {
				t.Errorf("advice does not give the README's order %q:\n%s", order, got)
			}
			if strings.Contains(got, "followed by a comma and the old key for servers still running") {
				t.Errorf("advice still says to rotate before the servers have the new key:\n%s", got)
			}
		})
	}
}
