package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestCLISaysHowToGoOnWhenTheServerIsLost: a command whose server stops
// answering (it restarts, the network goes) while it runs a card or
// follows a run or an authorization names what it was doing and the
// command to pick it up: the card run is in the history, the run goes on
// in the server and the sign-in can still be finished, while the error
// alone ("cannot reach the cardflow server") left no id.
func TestCLISaysHowToGoOnWhenTheServerIsLost(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Lost")
	target, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	// polls counts the answered requests for a flow run's progress: a
	// command that made one is following the run.
	var polls atomic.Int64
	// follow runs the CLI against a proxy to the server until ready, then
	// takes the proxy away, as a server going down does.
	follow := func(t *testing.T, ready func(stdout string) bool, args ...string) (int, string, string) {
		t.Helper()
		rp := httputil.NewSingleHostReverseProxy(target)
		proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			rp.ServeHTTP(w, r)
			if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/flow-runs/") {
				polls.Add(1)
			}
		}))
		defer proxy.Close()
		vars := map[string]string{"CARDFLOW_SERVER": proxy.URL, "CARDFLOW_API_TOKEN": e2eToken, "CARDFLOW_CLIENT_SECRET": oktaemu.DemoClientSecret}
		stdout, stderr := &emutest.SyncBuffer{}, &emutest.SyncBuffer{}
		e := &env{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(k string) string { return vars[k] }}
		done := make(chan int, 1)
		go func() { done <- run(context.Background(), args, e) }()
		for !ready(stdout.String()) {
			select {
			case code := <-done:
				t.Fatalf("%s ended (exit %d) before the server went away\n%s%s", strings.Join(args[:2], " "), code, stdout, stderr)
			case <-time.After(10 * time.Millisecond):
			}
		}
		proxy.CloseClientConnections()
		proxy.Close()
		code := <-done
		return code, stdout.String(), stderr.String()
	}

	t.Run("flows run", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "read.yaml")
		doc := "name: read-lost\nsteps:\n  - id: read\n    card: okta-devices/read-device\n    connection: Lost\n    input: {deviceId: guolost}\n"
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		hold := s.emu.Hold(t, "GET", "/api/v1/devices/{deviceId}", 0)
		code, out, errOut := follow(t, func(string) bool {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			// The run is calling Okta, and the command follows it.
			return hold.Await(ctx, 1) == nil && polls.Load() > 0
		}, "flows", "run", file)
		hold.Release()
		_, runs := s.api(t, "GET", "/api/v1/flows/read-lost/runs", "")
		id := regexp.MustCompile(`"id": "(\w+)"`).FindStringSubmatch(runs)
		if id == nil {
			t.Fatalf("no run of read-lost: %s", runs)
		}
		if code != exitFailure || !strings.Contains(errOut, "the cardflow server at") || !strings.Contains(errOut, "cardflow flows show-run "+id[1]) {
			t.Errorf("flows run whose server went away: exit %d; want exit 1, the server named and the command to follow run %s\n%s%s", code, id[1], out, errOut)
		}
	})

	t.Run("run", func(t *testing.T) {
		hold := s.emu.Hold(t, "GET", "/api/v1/devices/{deviceId}", 0)
		code, out, errOut := follow(t, func(string) bool {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
			defer cancel()
			return hold.Await(ctx, 1) == nil // the card is calling Okta
		}, "run", "read-device", "--connection", "Lost", "--input", "deviceId=guolost")
		hold.Release()
		want := `cardflow runs list --card okta-devices/read-device --connection "Lost"`
		if code != exitFailure || !strings.Contains(errOut, "whether the server did it is unknown") || !strings.Contains(errOut, want) {
			t.Errorf("run whose server went away: exit %d; want exit 1 and where to see whether the card ran (%s)\n%s%s", code, want, out, errOut)
		}
	})

	t.Run("connections create", func(t *testing.T) {
		code, out, errOut := follow(t, func(stdout string) bool {
			return strings.Contains(stdout, "Waiting up to")
		}, "connections", "create", "--nickname", "Lost sign-in", "--domain", s.emu.URL, "--client-id", oktaemu.DemoClientID)
		_, conn := s.api(t, "GET", "/api/v1/connections/Lost%20sign-in", "")
		id := regexp.MustCompile(`"id": "(conn_\w+)"`).FindStringSubmatch(conn)
		if id == nil {
			t.Fatalf("no connection Lost sign-in: %s", conn)
		}
		if code != exitFailure || !strings.Contains(errOut, "the cardflow server at") || !strings.Contains(errOut, "cardflow connections show "+id[1]) {
			t.Errorf("connections create whose server went away: exit %d; want exit 1, the server named and the command to check connection %s\n%s%s", code, id[1], out, errOut)
		}
	})
}
