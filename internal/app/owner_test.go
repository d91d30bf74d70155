package app

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestDefaultOwnersDiffer: two servers whose host name and process id are
// the same (containers given one host name both run as process 1; here,
// two configurations in one process) get different owners by default, so
// that neither takes the other's leases as its own.
func TestDefaultOwnersDiffer(t *testing.T) {
	a, err := Config{DataDir: t.TempDir()}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	b, err := Config{DataDir: t.TempDir()}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	prefix := fmt.Sprintf("%s:%d:", host, os.Getpid())
	if a.Owner == b.Owner || !strings.HasPrefix(a.Owner, prefix) || !strings.HasPrefix(b.Owner, prefix) {
		t.Errorf("default owners %q and %q; want two different ones, each starting with %q", a.Owner, b.Owner, prefix)
	}
}
