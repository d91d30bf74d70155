package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// asCommandEnv makes the test binary run as the command: its arguments
// are the command's, and main runs in place of the tests.
const asCommandEnv = "CARDFLOW_OKTAEMU_AS_COMMAND"

func TestMain(m *testing.M) {
	if os.Getenv(asCommandEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command returns the command run with args: the test binary, which
// compiled this package's main, run as the command.
func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCommandEnv+"=1")
	return cmd
}

func TestStartLine(t *testing.T) {
	cmd := command("-listen", "127.0.0.1:0", "-devices", "3", "-rate-limit-per-minute", "100")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		lines <- line
	}()
	var line string
	select {
	case line = <-lines:
	case <-time.After(20 * time.Second):
		t.Fatal("no start line within 20 s")
	}
	m := regexp.MustCompile(`^oktaemu: org (http://127\.0\.0\.1:([0-9]+)) ready\n$`).FindStringSubmatch(line)
	if m == nil || m[2] == "0" {
		t.Fatalf("start line %q; want \"oktaemu: org http://127.0.0.1:PORT ready\" with the real port", line)
	}
	resp, err := http.Get(m[1] + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct{ Issuer string }
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || doc.Issuer != m[1] {
		t.Errorf("issuer %q, %v; want %q", doc.Issuer, err, m[1])
	}
	req, _ := http.NewRequest("GET", m[1]+"/api/v1/devices", nil)
	req.Header.Set("Authorization", "SSWS demo-api-token")
	resp2, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var devs []map[string]any
	if err := json.NewDecoder(resp2.Body).Decode(&devs); err != nil || len(devs) != 3 || resp2.Header.Get("X-Rate-Limit-Limit") != "100" {
		t.Errorf("devices: %d, %v, limit %q; want 3 devices and a limit of 100", len(devs), err, resp2.Header.Get("X-Rate-Limit-Limit"))
	}
}

func TestBadArguments(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{"help", []string{"-h"}, 0, "Usage: oktaemu [-listen 127.0.0.1:9090]"},
		{"unknown flag", []string{"-port", "9090"}, 2, "flag provided but not defined: -port"},
		{"argument", []string{"9090"}, 2, "every option is a flag"},
		{"missing fixture", []string{"-fixture", filepath.Join(t.TempDir(), "none.json")}, 1, "fixture"},
		{"negative devices", []string{"-devices", "-1"}, 2, "-devices"},
		{"negative rate limit", []string{"-rate-limit-per-minute", "-1"}, 2, "-rate-limit-per-minute -1: want requests per minute"},
		{"bad listen", []string{"-listen", "256.0.0.1:x"}, 1, "-listen wants HOST:PORT"},
		{"port in use", []string{"-listen", taken.Addr().String()}, 1, "another process has the port; stop it, or choose another address with -listen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := command(tc.args...).CombinedOutput()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode || !strings.Contains(string(out), tc.want) {
				t.Errorf("oktaemu %v: exit %d\n%s\nwant exit %d and %q", tc.args, code, out, tc.wantCode, tc.want)
			}
			if tc.wantCode == 0 && strings.Contains(string(out), "oktaemu: flag") {
				t.Errorf("oktaemu %v reports help as an error:\n%s", tc.args, out)
			}
		})
	}
}
