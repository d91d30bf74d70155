package app

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// cardflowBin is the cardflow binary built once for the crash tests, which
// run it as a child process and kill it.
var cardflowBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cardflow-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cardflowBin = filepath.Join(dir, "cardflow")
	build := exec.Command("go", "build", "-o", cardflowBin, "github.com/cardflow/cardflow/cmd/cardflow")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build cardflow for the crash tests:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
