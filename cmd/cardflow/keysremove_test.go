package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestKeysRemoveAsksFirst: keys remove of a key that may go asks on a
// terminal, naming the key and its keyring; any answer but yes keeps it,
// yes removes it. keys remove waits 12 s after keys rotate (the servers
// follow the rotation), which the commands' clock (env.now) stands in
// for here: a yes before then is refused saying how long is left.
func TestKeysRemoveAsksFirst(t *testing.T) {
	var dir string
	startServerWith(t, oktaemu.Config{}, func(c *app.Config) { dir = c.DataDir })
	clock := time.Now()
	keys := func(answer string, args ...string) (int, string, string) {
		t.Helper()
		var out, errOut bytes.Buffer
		e := &env{stdin: strings.NewReader(answer), stdout: &out, stderr: &errOut, stdinTTY: true, self: "cardflow",
			getenv: func(string) string { return "" }, now: func() time.Time { return clock }}
		code := run(context.Background(), append([]string{"keys"}, append(args, "-data-dir", dir)...), e)
		return code, out.String(), errOut.String()
	}
	_, before, _ := keys("", "list")
	old := regexp.MustCompile(`\n(\S+)\s+primary`).FindStringSubmatch(before)
	if old == nil {
		t.Fatalf("keys list names no primary key:\n%s", before)
	}
	if code, out, errOut := keys("", "rotate"); code != exitOK {
		t.Fatalf("keys rotate: exit %d\n%s%s", code, out, errOut)
	}
	kept := func(when string) {
		t.Helper()
		if _, out, _ := keys("", "list"); !strings.Contains(out, old[1]) {
			t.Fatalf("%s: keys list lacks key %s\n%s", when, old[1], out)
		}
	}

	for _, answer := range []string{"no\n", "\n", ""} {
		code, out, errOut := keys(answer, "remove", old[1])
		if code != exitFailure || out != "" || !strings.Contains(errOut, "Remove key "+old[1]+" from "+dir) ||
			!strings.Contains(errOut, "It seals nothing now; this cannot be undone.") || !strings.Contains(errOut, "key "+old[1]+" was not removed") {
			t.Errorf("keys remove answered %q: exit %d; want %d, the question naming the key and its keyring, and nothing removed\n%s%s", answer, code, exitFailure, out, errOut)
		}
		kept("answered " + answer)
	}

	clock = clock.Add(5 * time.Second)
	code, out, errOut := keys("yes\n", "remove", old[1])
	if code != exitFailure || !strings.Contains(errOut, "Type yes to remove it") || !strings.Contains(errOut, "5s ago") || !strings.Contains(errOut, "run keys remove again in 8s") {
		t.Errorf("keys remove answered yes 5 s after keys rotate: exit %d; want it refused, saying how long is left\n%s%s", code, out, errOut)
	}
	kept("answered yes too soon")

	clock = clock.Add(8 * time.Second)
	code, out, errOut = keys("y\n", "remove", old[1])
	if code != exitOK || !strings.Contains(out, "Removed key "+old[1]+" from "+dir) {
		t.Fatalf("keys remove answered y 13 s after keys rotate: exit %d; want it removed\n%s%s", code, out, errOut)
	}
	if _, out, _ := keys("", "list"); strings.Contains(out, old[1]) {
		t.Errorf("keys list after the removal still names key %s\n%s", old[1], out)
	}
}
