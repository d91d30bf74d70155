package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestFlowsRunFollowedWhileItsStarterIsRevoked: flows run following a run
// whose person is revoked meanwhile says that the revoke canceled the run
// they started (or that it goes on, when the token ended otherwise), where
// it said only that the run went on in the server, which the revoke had
// just canceled.
func TestFlowsRunFollowedWhileItsStarterIsRevoked(t *testing.T) {
	emu, url := startSSOServer(t)
	s := &server{emu: emu, url: url, vars: map[string]string{
		"CARDFLOW_SERVER": url, "CARDFLOW_API_TOKEN": e2eToken, "CARDFLOW_CLIENT_SECRET": oktaemu.DemoClientSecret,
	}}
	s.connect(t, "Held")
	file := filepath.Join(t.TempDir(), "held.yaml")
	doc := "name: held\nsteps:\n  - id: read\n    card: okta-devices/read-device\n    connection: Held\n    input: {deviceId: guoheld}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", file); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	riley := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	if code, out, errOut := runLogin(t, emu, riley, oktaemu.ReadOnlyLogin); code != exitOK {
		t.Fatalf("login as %s: exit %d\n%s%s", oktaemu.ReadOnlyLogin, code, out, errOut)
	}

	hold := emu.Hold(t, "GET", "/api/v1/devices/{deviceId}", 0)
	stdout, stderr := &emutest.SyncBuffer{}, &emutest.SyncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(k string) string { return riley[k] }}
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), []string{"flows", "run", "held"}, e) }()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := hold.Await(ctx, 1); err != nil { // the run is calling Okta
		t.Fatalf("the run never read the device: %v\n%s%s", err, stdout, stderr)
	}
	code, out, errOut := runCLI(t, s.vars, "people", "revoke", oktaemu.ReadOnlyLogin, "--yes")
	if code != exitOK || !strings.Contains(out, "1 flow run they started canceled") {
		t.Fatalf("people revoke: exit %d; want the run canceled\n%s%s", code, out, errOut)
	}
	hold.Release()
	code = <-done
	if code != exitFailure || !strings.Contains(stderr.String(), "was canceled if your access was revoked") ||
		strings.Contains(stderr.String(), "goes on in the server (a restarted server resumes it)") {
		t.Errorf("flows run of a person revoked meanwhile: exit %d; want exit 1, saying the revoke canceled the run\n%s%s", code, stdout, stderr)
	}
}
