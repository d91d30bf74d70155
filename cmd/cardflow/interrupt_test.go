package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// interruptible runs the CLI with args until ready reports that what it
// waits for is under way, then interrupts it as Ctrl-C does (the context
// of main ends) and returns its exit code and output.
func interruptible(t *testing.T, vars map[string]string, ready func(stdout string) bool, args ...string) (int, string, string) {
	t.Helper()
	stdout, stderr := &emutest.SyncBuffer{}, &emutest.SyncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(k string) string { return vars[k] }}
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, e) }()
	for !ready(stdout.String()) {
		select {
		case code := <-done:
			t.Fatalf("%s ended (exit %d) before it was interrupted\n%s%s", strings.Join(args[:2], " "), code, stdout, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	interrupt()
	code := <-done
	return code, stdout.String(), stderr.String()
}

// TestCLIInterruptedWaitSaysHowToGoOn interrupts the commands that wait
// for something the server or a browser finishes: each says what goes on
// without it and the command to pick it up, never "context canceled".
func TestCLIInterruptedWaitSaysHowToGoOn(t *testing.T) {
	s := startServer(t)

	t.Run("connections create", func(t *testing.T) {
		var url string
		code, out, errOut := interruptible(t, s.vars, func(stdout string) bool {
			m := authorizeURLRe.FindStringSubmatch(stdout)
			if m != nil {
				url = m[1]
			}
			return m != nil && strings.Contains(stdout, "Waiting up to")
		}, "connections", "create", "--nickname", "Interrupted", "--domain", s.emu.URL, "--client-id", oktaemu.DemoClientID)
		m := regexp.MustCompile(`run: cardflow connections show (conn_\w+)`).FindStringSubmatch(errOut)
		if code != exitInterrupted || !strings.Contains(errOut, "stopped waiting") || m == nil || strings.Contains(errOut, "context canceled") {
			t.Fatalf("interrupted connections create: exit %d; want exit 130, \"stopped waiting\" and the command to check the connection\n%s%s", code, out, errOut)
		}
		// What the message promises: the sign-in still finishes the
		// authorization, and the command it names shows it.
		s.signIn(t, url, oktaemu.AdminLogin)
		code, out, errOut = runCLI(t, s.vars, "connections", "show", m[1])
		if code != exitOK || !strings.Contains(out, "Status:           active") {
			t.Errorf("connections show %s after the sign-in: exit %d; want it active\n%s%s", m[1], code, out, errOut)
		}
	})

	t.Run("flows run", func(t *testing.T) {
		s.connect(t, "Held")
		file := filepath.Join(t.TempDir(), "read.yaml")
		doc := "name: read-held\nsteps:\n  - id: read\n    card: okta-devices/read-device\n    connection: Held\n    input: {deviceId: guoheld}\n"
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		hold := s.emu.Hold(t, "GET", "/api/v1/devices/{deviceId}", 0)
		code, out, errOut := interruptible(t, s.vars, func(string) bool {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			return hold.Await(ctx, 1) == nil // the run is calling Okta
		}, "flows", "run", file)
		m := regexp.MustCompile(`cardflow flows cancel (\w+)`).FindStringSubmatch(errOut)
		if code != exitInterrupted || !strings.Contains(errOut, "stopped waiting") || m == nil || !strings.Contains(errOut, "cardflow flows show-run "+m[1]) {
			t.Fatalf("interrupted flows run: exit %d; want exit 130, \"stopped waiting\" and the commands to follow and to cancel the run\n%s%s", code, out, errOut)
		}
		code, out, errOut = runCLI(t, s.vars, "flows", "cancel", m[1])
		hold.Release()
		if code != exitOK || !strings.Contains(out, "Flow run "+m[1]) {
			t.Errorf("flows cancel %s: exit %d; want the run stopping\n%s%s", m[1], code, out, errOut)
		}
	})

	t.Run("run", func(t *testing.T) {
		s.connect(t, "Card held")
		hold := s.emu.Hold(t, "GET", "/api/v1/devices/{deviceId}", 0)
		defer hold.Release()
		code, out, errOut := interruptible(t, s.vars, func(string) bool {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			return hold.Await(ctx, 1) == nil // the card is calling Okta
		}, "run", "read-device", "--connection", "Card held", "--input", "deviceId=guoheld")
		if code != exitInterrupted || strings.Contains(errOut, "context canceled") || !strings.Contains(errOut, "interrupted before the cardflow server") ||
			!strings.Contains(errOut, `cardflow runs list --card okta-devices/read-device --connection "Card held"`) {
			t.Errorf("interrupted run: exit %d; want exit 130 and the command that shows whether the card ran\n%s%s", code, out, errOut)
		}
	})
}
