package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

const e2eToken = "cli-test-token-0123456789"

// server is a real cardflow server with an emulated org, and the CLI's
// environment to talk to it.
type server struct {
	emu  *emutest.Server
	url  string
	vars map[string]string
}

// api sends a JSON request to the server's API with the test token and
// returns the answer's status and body.
func (s *server) api(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func startServer(t *testing.T) *server {
	t.Helper()
	return startServerWith(t, oktaemu.Config{Devices: 12})
}

// startServerWith is startServer with an org of cfg; each change edits
// the server's configuration.
func startServerWith(t *testing.T, cfg oktaemu.Config, changes ...func(*app.Config)) *server {
	t.Helper()
	emu := emutest.Start(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	conf := app.Config{
		Listen: "127.0.0.1:0", DataDir: dataDir(t), TrustedOrigins: []string{emu.URL},
		APIToken: keyring.Secret(e2eToken), Stdout: &strings.Builder{},
	}
	for _, change := range changes {
		change(&conf)
	}
	a, err := app.New(ctx, conf)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return &server{emu: emu, url: a.URL(), vars: map[string]string{
		"CARDFLOW_SERVER": a.URL(), "CARDFLOW_API_TOKEN": e2eToken, "CARDFLOW_CLIENT_SECRET": oktaemu.DemoClientSecret,
	}}
}

// dataDir returns a new data directory whose database already holds the
// current schema (sqlitetest), which saves the server migrating one.
func dataDir(t *testing.T) string {
	t.Helper()
	return filepath.Dir(sqlitetest.NewFile(t))
}

// connect creates a connection with the CLI and signs in at the org like
// a browser, the way `connections create` asks a person to.
func (s *server) connect(t *testing.T, nickname string, extra ...string) string {
	t.Helper()
	id, authURL := s.create(t, nickname, extra...)
	s.signIn(t, authURL, oktaemu.AdminLogin)
	return id
}

// connectRotated creates a connection as connect does, but the OAuth
// app's client secret is rotated at the org before the sign-in, so that
// the sign-in fails (invalid_client) and the connection is left in error.
// It returns the connection's id and the app's new secret.
func (s *server) connectRotated(t *testing.T, nickname string) (id, secret string) {
	t.Helper()
	id, authURL := s.create(t, nickname)
	secret = s.emu.RotateClientSecret(t, oktaemu.DemoAppID)
	s.signIn(t, authURL, oktaemu.AdminLogin)
	return id, secret
}

// create creates a connection with the CLI (--no-wait) and returns its
// id and the authorize URL it printed.
func (s *server) create(t *testing.T, nickname string, extra ...string) (id, authorizeURL string) {
	t.Helper()
	args := append([]string{"connections", "create", "--nickname", nickname, "--domain", s.emu.URL,
		"--client-id", oktaemu.DemoClientID, "--no-wait", "--json"}, extra...)
	return s.start(t, "connections create", args...)
}

// authorize runs a command that prints {id, authorizeUrl} (create or
// reauthorize with --no-wait --json), signs in at the org like a browser
// and returns the connection id.
func (s *server) authorize(t *testing.T, what string, args ...string) string {
	t.Helper()
	id, authURL := s.start(t, what, args...)
	s.signIn(t, authURL, oktaemu.AdminLogin)
	return id
}

// start runs a command that prints {id, authorizeUrl} (create or
// reauthorize with --no-wait --json) and returns them.
func (s *server) start(t *testing.T, what string, args ...string) (id, authorizeURL string) {
	t.Helper()
	code, out, errOut := runCLI(t, s.vars, args...)
	if code != exitOK {
		t.Fatalf("%s: exit %d\n%s%s", what, code, out, errOut)
	}
	var started struct {
		ID           string `json:"id"`
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if err := json.Unmarshal([]byte(out), &started); err != nil {
		t.Fatalf("%s --json: %v\n%s", what, err, out)
	}
	return started.ID, started.AuthorizeURL
}

// signIn signs in at the org as login like a browser, following the
// redirect to cardflow's callback.
func (s *server) signIn(t *testing.T, authorizeURL, login string) {
	t.Helper()
	loc := s.emu.SignIn(t, authorizeURL, login, oktaemu.DemoPassword)
	resp, err := s.emu.Client.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// waiting is a CLI command running in the background that waits for a
// sign-in: its output so far, the authorize URL it printed, and its exit
// code once it ends.
type waiting struct {
	stdout, stderr *emutest.SyncBuffer
	authorizeURL   string
	done           chan int
}

var authorizeURLRe = regexp.MustCompile(`(http://\S+/oauth2/v1/authorize\S+)`)

// startWaiting runs the CLI with args (stdin from stdin, the environment
// vars) until it prints an authorize URL, and fails the test if it ends
// before.
func startWaiting(t *testing.T, vars map[string]string, stdin string, args ...string) *waiting {
	t.Helper()
	w := &waiting{stdout: &emutest.SyncBuffer{}, stderr: &emutest.SyncBuffer{}, done: make(chan int, 1)}
	e := &env{stdin: strings.NewReader(stdin), stdout: w.stdout, stderr: w.stderr, getenv: func(k string) string { return vars[k] }}
	go func() { w.done <- run(context.Background(), args, e) }()
	for w.authorizeURL == "" {
		select {
		case code := <-w.done:
			t.Fatalf("%s ended (exit %d) before the sign-in\n%s%s", strings.Join(args[:2], " "), code, w.stdout, w.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		// With --json the URL, for a person, is on stderr.
		if m := authorizeURLRe.FindStringSubmatch(w.stdout.String() + w.stderr.String()); m != nil {
			w.authorizeURL = m[1]
		}
	}
	return w
}

func TestCLIReauthorizeScopeSelection(t *testing.T) {
	s := startServer(t)
	id := s.connect(t, "Narrow", "--scope", "okta.devices.read")
	show := func(t *testing.T) (mode string, granted []string) {
		t.Helper()
		code, out, errOut := runCLI(t, s.vars, "connections", "show", id, "--json")
		if code != exitOK {
			t.Fatalf("connections show: exit %d\n%s%s", code, out, errOut)
		}
		var v struct {
			ScopeMode     string   `json:"scopeMode"`
			GrantedScopes []string `json:"grantedScopes"`
		}
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatal(err)
		}
		return v.ScopeMode, v.GrantedScopes
	}
	if mode, granted := show(t); mode != "custom" || strings.Contains(strings.Join(granted, " "), "okta.devices.manage") {
		t.Fatalf("created: mode %s granted %v; want custom without okta.devices.manage", mode, granted)
	}

	code, out, errOut := runCLI(t, s.vars, "connections", "reauthorize", "Narrow", "--default-scopes", "--scope", "okta.devices.read")
	if code != exitUsage || !strings.Contains(errOut, "--default-scopes and --scope") {
		t.Errorf("both flags: exit %d stderr %q; want a usage error\n%s", code, errOut, out)
	}

	s.authorize(t, "connections reauthorize --default-scopes", "connections", "reauthorize", "Narrow", "--default-scopes", "--no-wait", "--json")
	if mode, granted := show(t); mode != "default" || !strings.Contains(strings.Join(granted, " "), "okta.devices.manage") {
		t.Errorf("after --default-scopes: mode %s granted %v; want default with okta.devices.manage", mode, granted)
	}

	s.authorize(t, "connections reauthorize --scope", "connections", "reauthorize", "Narrow", "--scope", "okta.devices.read", "--no-wait", "--json")
	if mode, granted := show(t); mode != "custom" || strings.Contains(strings.Join(granted, " "), "okta.devices.manage") {
		t.Errorf("after --scope okta.devices.read: mode %s granted %v; want custom without okta.devices.manage", mode, granted)
	}
}

func TestCLIConnections(t *testing.T) {
	s := startServer(t)

	// create waits for the authorization, which a "browser" finishes at
	// the URL the command printed. The timeout only bounds a hang.
	w := startWaiting(t, s.vars, "", "connections", "create", "--nickname", "Waited", "--domain", s.emu.URL,
		"--client-id", oktaemu.DemoClientID, "--timeout", "10m")
	s.signIn(t, w.authorizeURL, oktaemu.AdminLogin)
	code := <-w.done
	out, errOut := w.stdout.String(), w.stderr.String()
	if code != exitOK || !strings.Contains(out, "Status:           active") || !strings.Contains(out, "admin@example.com") {
		t.Fatalf("connections create: exit %d; want 0 and the active connection\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "/oauth2/v1/authorize?") {
		t.Errorf("connections create did not print the authorize URL:\n%s", out)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  []string
	}{
		{name: "list", args: []string{"connections", "list"}, wantOut: []string{"NICKNAME", "Waited", "active"}},
		{name: "show by nickname", args: []string{"connections", "show", "Waited"}, wantOut: []string{"Granted scopes:", "okta.devices.manage"}},
		{name: "show json", args: []string{"connections", "show", "waited", "--json"}, wantOut: []string{`"status": "active"`}},
		{name: "test", args: []string{"connections", "test", "Waited"}, wantOut: []string{"OK: the connection works"}},
		{name: "show unknown", args: []string{"connections", "show", "nope"}, wantCode: exitFailure},
		{name: "audit", args: []string{"audit", "--action", "connection.test"}, wantOut: []string{"connection.test", "success", "Waited"}},
		{name: "delete", args: []string{"connections", "delete", "Waited", "--yes"}, wantOut: []string{"Deleted connection Waited (conn_", "its card runs stay readable: cardflow runs list --connection conn_"}},
		{name: "gone", args: []string{"connections", "list"}, wantOut: []string{"No connections."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, s.vars, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d; want %d\n%s%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if code, out, errOut := runCLI(t, s.vars, "connections", "show", "nope"); code != exitFailure || !strings.Contains(errOut, "not_found") {
		t.Errorf("show unknown: exit %d stderr %q; want the server's not_found message\n%s", code, errOut, out)
	}
}

// TestCLIConnectionTestMissingScope: a connection whose org stopped
// granting a scope since the last sign-in still passes the check (exit 0),
// and the check says which scope, the cards it breaks and the fix, in
// text and in JSON; the fix's command quotes the nickname, which has a
// space.
func TestCLIConnectionTestMissingScope(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Prod org")
	s.emu.RevokeGrant(t, "okta.devices.manage")

	code, out, errOut := runCLI(t, s.vars, "connections", "test", "Prod org")
	if code != exitOK {
		t.Fatalf("exit %d; want 0 (the check passes)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"OK: the connection works", "Warning: the org does not grant these requested scopes: okta.devices.manage (cards that will fail: ",
		"okta-devices/suspend-device", "then reauthorize the connection: cardflow connections reauthorize 'Prod org'"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = runCLI(t, s.vars, "connections", "test", "Prod org", "--json")
	var got struct {
		OK                bool                `json:"ok"`
		MissingScopes     []string            `json:"missingScopes"`
		MissingScopeCards map[string][]string `json:"missingScopeCards"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &got) != nil {
		t.Fatalf("--json: exit %d; want 0 and JSON\n%s%s", code, out, errOut)
	}
	if !got.OK || !slices.Equal(got.MissingScopes, []string{"okta.devices.manage"}) || !slices.Contains(got.MissingScopeCards["okta.devices.manage"], "okta-devices/suspend-device") {
		t.Errorf("--json = %+v; want ok, missing okta.devices.manage with suspend-device among its cards", got)
	}
}

// TestCLIConnectionTestNotSignedIn: the check of a user connection nobody
// has signed in to yet says it is not checked yet, not that it failed, and
// how to finish the sign-in; it exits 1, as the connection cannot run
// cards yet.
func TestCLIConnectionTestNotSignedIn(t *testing.T) {
	s := startServer(t)
	s.create(t, "Waiting")
	code, out, errOut := runCLI(t, s.vars, "connections", "test", "Waiting")
	if code != exitFailure {
		t.Fatalf("exit %d; want %d\n%s%s", code, exitFailure, out, errOut)
	}
	if !strings.Contains(out, "NOT CHECKED YET: status pending: waiting for an administrator to finish signing in") || strings.Contains(out+errOut, "FAILED") || strings.Contains(errOut, "failed its check") {
		t.Errorf("output says the check failed, or not that nobody signed in yet:\n%s%s", out, errOut)
	}
	if !strings.Contains(out, "Remedy: open the authorize URL and sign in") {
		t.Errorf("output lacks the fix:\n%s%s", out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "connections", "test", "Waiting", "--json")
	if code != exitFailure || !strings.Contains(errOut, "is not checked yet: it waits for its sign-in at the org") || strings.Contains(errOut, "failed its check") {
		t.Errorf("--json: exit %d; want %d and an error saying it is not checked yet\n%s%s", code, exitFailure, out, errOut)
	}
}

func TestCLIConnectionCreateRefused(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, s.vars, "connections", "create", "--nickname", "Bad", "--domain", "example-admin.okta.com",
		"--client-id", "x", "--no-wait")
	if code != exitUsage || !strings.Contains(errOut, "not example-admin.okta.com") {
		t.Errorf("exit %d stderr %q; want exit 2 naming the -admin mistake\n%s", code, errOut, out)
	}
}

func TestCLIRunCards(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Prod")

	code, out, errOut := runCLI(t, s.vars, "run", "okta-devices/search-devices", "--connection", "Prod", "--input", "status=ACTIVE", "--input", "resultSet=first", "--json")
	if code != exitOK {
		t.Fatalf("run search-devices: exit %d\n%s%s", code, out, errOut)
	}
	var search struct {
		Status string `json:"status"`
		Output struct {
			Devices []struct {
				ID string `json:"id"`
			} `json:"devices"`
		} `json:"output"`
	}
	if err := json.Unmarshal([]byte(out), &search); err != nil || len(search.Output.Devices) == 0 {
		t.Fatalf("run --json: %v\n%s", err, out)
	}
	id := search.Output.Devices[0].ID

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "suspend by short name", args: []string{"run", "suspend-device", "--connection", "prod", "--input", "deviceId=" + id}, wantOut: "succeeded"},
		{name: "suspend again", args: []string{"run", "suspend-device", "--connection", "prod", "--input", "deviceId=" + id}, wantOut: "\nOutcome: already SUSPENDED: no change\nOutput:\n"},
		{name: "typed bool input", args: []string{"run", "delete-device", "--connection", "Prod", "--input", "deviceId=" + id, "--input", "deactivateFirst=false"},
			wantCode: exitFailure, wantOut: "SUSPENDED"},
		{name: "bad bool", args: []string{"run", "delete-device", "--connection", "Prod", "--input", "deviceId=x", "--input", "deactivateFirst=perhaps"},
			wantCode: exitUsage, wantErr: `"perhaps" is not true or false`},
		{name: "bool as yes, read by the server", args: []string{"run", "delete-device", "--connection", "Prod", "--input", "deviceId=" + id, "--input", "deactivateFirst=no"},
			wantCode: exitFailure, wantOut: "SUSPENDED"},
		{name: "unknown card", args: []string{"run", "melt-device", "--connection", "Prod"}, wantCode: exitUsage, wantErr: `unknown card "melt-device"`},
		{name: "unknown connection", args: []string{"run", "read-device", "--connection", "Nope", "--input", "deviceId=" + id}, wantCode: exitFailure, wantErr: "not_found"},
		{name: "runs list", args: []string{"runs", "list"}, wantOut: "okta-devices/suspend-device"},
		{name: "what each run did", args: []string{"runs", "list", "--card", "suspend-device"}, wantOut: "  now SUSPENDED\n"},
		{name: "why a run failed", args: []string{"runs", "list", "--card", "delete-device"}, wantOut: "  conflict\n"},
		{name: "connectors", args: []string{"connectors"}, wantOut: "deviceId deleted deactivated basis note"},
		{name: "no event waits", args: []string{"events", "list", "--waiting"}, wantOut: "No Okta events waiting to be dispatched.\n"},
		{name: "one card", args: []string{"connectors", "suspend-device"}, wantOut: "Suspend Device (okta-devices/suspend-device): manage card, needs scope okta.devices.manage\n"},
		{name: "one card's inputs", args: []string{"connectors", "okta-devices/search-devices"}, wantOut: "One of: first, first200, all. Default: first200.\n"},
		{name: "how to run one card", args: []string{"connectors", "delete-device"}, wantOut: "\nRun it: cardflow run okta-devices/delete-device --connection NICKNAME --input deviceId=...\n"},
		{name: "an event card", args: []string{"connectors", "device-suspended"}, wantOut: "  poll      okta.logs.read\n"},
		{name: "one card as JSON", args: []string{"connectors", "read-device", "--json"}, wantOut: `"ref": "okta-devices/read-device"`},
		{name: "a misspelt card", args: []string{"connectors", "read-devic"}, wantCode: exitUsage, wantErr: `unknown card "read-devic"; did you mean read-device?`},
		{name: "two cards", args: []string{"connectors", "read-device", "suspend-device"}, wantCode: exitUsage, wantErr: `unexpected argument "suspend-device" (only one card)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, s.vars, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d; want %d\n%s%s", code, tt.wantCode, out, errOut)
			}
			if !strings.Contains(out, tt.wantOut) || !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stdout %q stderr %q; want %q and %q", out, errOut, tt.wantOut, tt.wantErr)
			}
		})
	}
}

func TestCLIFlows(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	file := "../../examples/offboard-user-devices.yaml"

	if code, out, errOut := runCLI(t, s.vars, "flows", "validate", file); code != exitOK || !strings.Contains(out, "is valid") {
		t.Fatalf("flows validate: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, s.vars, "flows", "plan", file, "--input", "login="+oktaemu.UserLogin, "--json")
	if code != exitOK {
		t.Fatalf("flows plan: exit %d\n%s%s", code, out, errOut)
	}
	var plan struct {
		Flow  string `json:"flow"`
		Steps []struct {
			ID      string `json:"id"`
			Mode    string `json:"mode"`
			Items   int    `json:"items"`
			Changes []struct {
				DeviceID string `json:"deviceId"`
				From     string `json:"from"`
				To       string `json:"to"`
			} `json:"changes"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || plan.Flow != "offboard-user-devices" || len(plan.Steps) != 2 {
		t.Fatalf("flows plan --json: %v\n%s", err, out)
	}
	// A run (and a stored flow's plan) without its required input is
	// refused with the flag that gives it, not the API's "inputs".
	for _, args := range [][]string{{"flows", "run", file}, {"flows", "plan", "offboard-user-devices"}} {
		if code, out, errOut := runCLI(t, s.vars, args...); code == exitOK || !strings.Contains(errOut, "give it with --input login=VALUE") || strings.Contains(errOut, `"inputs"`) {
			t.Errorf("%v without inputs: exit %d\n%s%s; want the --input flag that gives login", args, code, out, errOut)
		}
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "run", file, "--input", "login="+oktaemu.UserLogin, "--json")
	if code != exitOK {
		t.Fatalf("flows run: exit %d\n%s%s", code, out, errOut)
	}
	var run struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Steps  []struct {
			ID        string `json:"id"`
			Status    string `json:"status"`
			Items     int    `json:"items"`
			Succeeded int    `json:"succeeded"`
			Failed    int    `json:"failed"`
			Skipped   int    `json:"skipped"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.Status != "succeeded" || len(run.Steps) != 2 {
		t.Fatalf("flows run --json: %v\n%s", err, out)
	}
	if run.Steps[1].Succeeded != len(plan.Steps[1].Changes) {
		t.Errorf("the run suspended %d devices; the plan said %d", run.Steps[1].Succeeded, len(plan.Steps[1].Changes))
	}
	// The list shows each flow's last run; the API gives it whole.
	lastRunCol := regexp.MustCompile(`offboard-user-devices\s.*\ssucceeded \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+\s`)
	if code, out, _ := runCLI(t, s.vars, "flows", "list"); code != exitOK || !lastRunCol.MatchString(out) {
		t.Errorf("flows list: %d\n%s; want the flow with its last run, succeeded", code, out)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "list", "--json")
	var listed struct {
		Flows []struct {
			Name    string `json:"name"`
			LastRun *struct {
				ID     string `json:"id"`
				Status string `json:"status"`
			} `json:"lastRun"`
		} `json:"flows"`
	}
	if err := json.Unmarshal([]byte(out), &listed); code != exitOK || err != nil || len(listed.Flows) != 1 ||
		listed.Flows[0].LastRun == nil || listed.Flows[0].LastRun.ID != run.ID || listed.Flows[0].LastRun.Status != "succeeded" {
		t.Errorf("flows list --json: %d %v\n%s%s; want lastRun %s, succeeded", code, err, out, errOut, run.ID)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "show-run", run.ID); code != exitOK || !strings.Contains(out, "suspend") || strings.Contains(out, "CARD RUN") ||
		!strings.Contains(out, "(offboard-user-devices, version 1)") || !strings.Contains(out, "Trigger: manual") {
		t.Errorf("flows show-run: %d\n%s; want the steps without items", code, out)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show-run", run.ID, "--items")
	if code != exitOK || !strings.Contains(out, "Step find:") || !strings.Contains(out, "Step suspend:") || !strings.Contains(out, `{"expand":"userSummary"`) {
		t.Errorf("flows show-run --items: %d\n%s%s; want each step's items", code, out, errOut)
	}
	// Each item says what came of it: the search what it found, each
	// suspension the device's new status.
	if n := strings.Count(out, "  now SUSPENDED  "); n != run.Steps[1].Succeeded || !regexp.MustCompile(`  \d+ devices?  `).MatchString(out) {
		t.Errorf("flows show-run --items: %d\n%s\nwant the search's count and %d items saying \"now SUSPENDED\" (%d)", code, out, run.Steps[1].Succeeded, n)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show-run", run.ID, "--items", "--json")
	var shown struct {
		Steps []struct {
			ItemResults []struct {
				Index int `json:"index"`
			} `json:"itemResults"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out), &shown); code != exitOK || err != nil || len(shown.Steps) != 2 || len(shown.Steps[1].ItemResults) != run.Steps[1].Items {
		t.Errorf("flows show-run --items --json: %d %v\n%s%s; want all %d items of step suspend", code, err, out, errOut, run.Steps[1].Items)
	}
	// A finished run cannot be canceled; the refusal says why, and how
	// to run it again.
	if code, _, errOut := runCLI(t, s.vars, "flows", "cancel", run.ID); code == exitOK || !strings.Contains(errOut, "already ended succeeded") || !strings.Contains(errOut, "cardflow flows rerun "+run.ID) {
		t.Errorf("flows cancel of a finished run: exit %d\n%s; want a failure saying it already ended", code, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "runs", "offboard-user-devices"); code != exitOK || !strings.Contains(out, run.ID) || !strings.Contains(out, "manual") {
		t.Errorf("flows runs: exit %d\n%s%s; want the run, started by hand", code, out, errOut)
	}
	// Deleting the flow keeps its runs, and the command that lists them
	// by the deleted flow's id, which the deletion names, still does.
	code, out, errOut = runCLI(t, s.vars, "flows", "delete", "offboard-user-devices", "--yes")
	m := regexp.MustCompile(`cardflow flows runs ([0-9a-f]{32})`).FindStringSubmatch(out)
	if code != exitOK || !strings.Contains(out, "Deleted flow offboard-user-devices") || m == nil {
		t.Fatalf("flows delete: exit %d\n%s%s; want the command that lists its runs", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "runs", m[1]); code != exitOK || !strings.Contains(out, run.ID) {
		t.Errorf("flows runs %s of the deleted flow: exit %d\n%s%s; want its run", m[1], code, out, errOut)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "list"); code != exitOK || strings.Contains(out, "offboard-user-devices") {
		t.Errorf("flows list after the delete: %d\n%s; want the flow gone", code, out)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "show-run", run.ID); code != exitOK || !strings.Contains(out, "succeeded") {
		t.Errorf("flows show-run of a deleted flow's run: %d\n%s; want it readable", code, out)
	}
	if code, _, errOut := runCLI(t, s.vars, "flows", "delete", "offboard-user-devices", "--yes"); code == exitOK || !strings.Contains(errOut, "no flow has the id or name") {
		t.Errorf("flows delete of a deleted flow: exit %d\n%s; want not found", code, errOut)
	}
	// A document with a mistake fails validation with its line.
	bad := t.TempDir() + "/bad.yaml"
	src, _ := os.ReadFile(file)
	if err := os.WriteFile(bad, []byte(strings.Replace(string(src), "okta-devices/suspend-device", "okta-devices/suspend", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "validate", bad); code != exitFailure || !strings.Contains(out, "unknown card") {
		t.Errorf("flows validate bad: exit %d\n%s%s", code, out, errOut)
	}
}

// TestCLIFlowPlanSaysWhatItCannotSee plans a flow whose expression fails
// for some items and whose Custom API Action would POST: the text output
// prints each error and the unsimulated call, and the command fails.
func TestCLIFlowPlanSaysWhatItCannotSee(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	file := t.TempDir() + "/risky.yaml"
	doc := `name: risky
steps:
  - id: devices
    card: okta-devices/search-devices
    connection: Demo org
    input:
      resultSet: first
  - id: poke
    card: okta-devices/custom-api-action
    connection: Demo org
    for_each: ${{ steps.devices.output.devices }}
    input:
      method: POST
      relativeUrl: /api/v1/devices/${{ item.id }}/lifecycle/suspend
  - id: broken
    card: okta-devices/read-device
    connection: Demo org
    for_each: ${{ steps.devices.output.devices }}
    input:
      deviceId: ${{ item.id + string(1 / (index - index)) }}
`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, s.vars, "flows", "plan", file)
	if code != exitFailure {
		t.Errorf("flows plan: exit %d; want %d\n%s%s", code, exitFailure, out, errOut)
	}
	for _, want := range []string{"lifecycle/suspend: effects unknown, not simulated", "error, item 0:", "division by zero"} {
		if !strings.Contains(out, want) {
			t.Errorf("flows plan output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "no changes") {
		t.Errorf("flows plan says no changes for a step it could not simulate:\n%s", out)
	}
	if !strings.Contains(errOut, "could not be planned") {
		t.Errorf("flows plan stderr %q; want the incomplete plan named", errOut)
	}
	code, out, _ = runCLI(t, s.vars, "flows", "plan", file, "--json")
	if code != exitFailure || !strings.Contains(out, `"unsimulated"`) {
		t.Errorf("flows plan --json: exit %d; want %d and the unsimulated calls\n%s", code, exitFailure, out)
	}
}

// TestCLIReauthorizeStopsWhenSignInFails reauthorizes an active
// connection and signs in with an account the org refuses: the command
// stops with the reason instead of waiting out its ten-minute timeout.
func TestCLIReauthorizeStopsWhenSignInFails(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	w := startWaiting(t, s.vars, "", "connections", "reauthorize", "Demo org", "--timeout", "10m")
	s.signIn(t, w.authorizeURL, oktaemu.UnassignedLogin)
	if code := <-w.done; code != exitFailure {
		t.Errorf("reauthorize: exit %d; want %d", code, exitFailure)
	}
	if errOut := w.stderr.String(); !strings.Contains(errOut, "reauthorization failed") || !strings.Contains(errOut, "not assigned") {
		t.Errorf("reauthorize stderr %q; want the failure and its reason", errOut)
	}
}

// TestCLIReauthorizeOfAConnectionInError: a connection in error (its
// sign-in was by an account without device permissions) whose
// reauthorization fails too says its status in words, where it said "the
// connection is error".
func TestCLIReauthorizeOfAConnectionInError(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, s.vars, "connections", "create", "--nickname", "Demo org", "--domain", s.emu.URL,
		"--client-id", oktaemu.DemoClientID, "--no-wait", "--json")
	var started struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if err := json.Unmarshal([]byte(out), &started); code != exitOK || err != nil {
		t.Fatalf("connections create: exit %d %v\n%s%s", code, err, out, errOut)
	}
	s.signIn(t, started.AuthorizeURL, oktaemu.UserLogin)
	w := startWaiting(t, s.vars, "", "connections", "reauthorize", "Demo org", "--timeout", "10m")
	s.signIn(t, w.authorizeURL, oktaemu.UnassignedLogin)
	if code := <-w.done; code != exitFailure {
		t.Errorf("reauthorize: exit %d; want %d", code, exitFailure)
	}
	if errOut := w.stderr.String(); !strings.Contains(errOut, "(the connection is in error; fix the cause, then run: cardflow connections reauthorize ") {
		t.Errorf("reauthorize stderr %q; want the connection's status in words", errOut)
	}
}

// TestCLIEscapesOrgData gives the org a user and a device whose names
// carry terminal escape sequences: the CLI shows them escaped, never
// raw, in human output and in JSON.
func TestCLIEscapesOrgData(t *testing.T) {
	fx := oktaemu.DemoFixture(2)
	for i := range fx.Users {
		if fx.Users[i].Login == oktaemu.AdminLogin {
			fx.Users[i].FirstName = "Ada\x1b]0;owned\x07"
		}
	}
	fx.Devices = append(fx.Devices, oktaemu.FixtureDevice{ID: "guoescape1", Status: "ACTIVE",
		Profile: map[string]any{"displayName": "Mac\x1b[2J\u202egpj.exe", "platform": "MACOS", "registered": true}})
	s := startServerWith(t, oktaemu.Config{Fixture: fx})
	s.connect(t, "Demo org")
	for _, args := range [][]string{
		{"connections", "show", "Demo org"},
		{"connections", "list"},
		{"run", "okta-devices/read-device", "--connection", "Demo org", "--input", "deviceId=guoescape1"},
		{"run", "okta-devices/read-device", "--connection", "Demo org", "--input", "deviceId=guoescape1", "--json"},
	} {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		if strings.ContainsAny(out+errOut, "\x1b\x07\u202e") {
			t.Errorf("%v printed a raw control character:\n%q", args, out)
		}
		if args[0] == "run" && !strings.Contains(out, `\u202egpj.exe`) && !strings.Contains(out, `\\u202egpj.exe`) {
			t.Errorf("%v: the device name is missing or not escaped:\n%s", args, out)
		}
		if args[0] == "connections" && args[1] == "show" && !strings.Contains(out, `Ada\x1b]0;owned\x07`) {
			t.Errorf("%v: the account's name is missing or not escaped:\n%s", args, out)
		}
	}
}

// TestCLIRunsListResolvesFilters: runs list takes a nickname and a short
// card name as run does, and fails on names it cannot resolve; the API
// refuses unknown query parameters and answers 413 to an oversized body.
func TestCLIRunsListResolvesFilters(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	code, out, errOut := runCLI(t, s.vars, "run", "search-devices", "--connection", "Demo org", "--input", "resultSet=first", "--json")
	if code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", code, out, errOut)
	}
	var run struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--connection", "Demo org"},
		{"--connection", "demo ORG"},
		{"--card", "search-devices"},
		{"--card", "okta-devices/search-devices", "--connection", "Demo org"},
	} {
		code, out, errOut := runCLI(t, s.vars, append([]string{"runs", "list"}, args...)...)
		if code != exitOK || !strings.Contains(out, run.ID) {
			t.Errorf("runs list %v: exit %d; want the run %s\n%s%s", args, code, run.ID, out, errOut)
		}
	}
	for _, tt := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"--connection", "Nope"}, exitFailure, "Nope"},
		{[]string{"--card", "suspend"}, exitUsage, "unknown card"},
		{[]string{"--card", "device-suspended"}, exitUsage, "is an event card"},
	} {
		code, out, errOut := runCLI(t, s.vars, append([]string{"runs", "list"}, tt.args...)...)
		if code != tt.wantCode || !strings.Contains(errOut, tt.want) {
			t.Errorf("runs list %v: exit %d stderr %q; want %d naming %q\n%s", tt.args, code, errOut, tt.wantCode, tt.want, out)
		}
		// The cards offered are those that run: event cards have no runs.
		if _, remedy, _ := strings.Cut(errOut, "Remedy:"); tt.args[0] == "--card" && (!strings.Contains(remedy, "okta-devices/search-devices") || strings.Contains(remedy, "device-suspended")) {
			t.Errorf("runs list %v: stderr %q; want a remedy listing the cards that run and no event card", tt.args, errOut)
		}
	}

	call := func(method, path, body string) (int, string) { return s.api(t, method, path, body) }
	if code, body := call("GET", "/api/v1/runs?conection=x", ""); code != http.StatusBadRequest || !strings.Contains(body, `unknown query parameter \"conection\"`) {
		t.Errorf("misspelled filter: %d %s; want 400 naming it", code, body)
	}
	if code, body := call("GET", "/api/v1/connectors?limit=5", ""); code != http.StatusBadRequest {
		t.Errorf("parameter on an endpoint that takes none: %d %s; want 400", code, body)
	}
	big := `{"card": "okta-devices/read-device", "connection": "Demo org", "input": {"deviceId": "` + strings.Repeat("x", 2<<20) + `"}}`
	if code, body := call("POST", "/api/v1/runs", big); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "larger than") {
		t.Errorf("oversized body: %d %.200s; want 413", code, body)
	}
}

// TestCLIFlowsStore stores flows without running them: a scheduled flow
// stays disabled until --enable or flows enable, a flow without a trigger
// cannot be enabled, and nothing runs along the way.
func TestCLIFlowsStore(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	nightly := "../../examples/nightly-stale-cleanup.yaml"

	code, out, errOut := runCLI(t, s.vars, "flows", "store", nightly)
	if code != exitOK || !strings.Contains(out, "Stored flow nightly-stale-cleanup") ||
		!strings.Contains(out, "Stored disabled, as every flow with a trigger is; enable it with: cardflow flows enable nightly-stale-cleanup\n") ||
		strings.Contains(out, "/api/v1/") {
		t.Fatalf("flows store: exit %d\n%s%s; want the command that enables it, and no API path", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "store", nightly, "--enable")
	if code != exitOK || !strings.Contains(out, "Trigger: cron 0 2 * * * Europe/Berlin, enabled, next run: 20") {
		t.Fatalf("flows store --enable: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, s.vars, "flows", "list")
	if code != exitOK || !regexp.MustCompile(`nightly-stale-cleanup\s+cron 0 2 \* \* \* Europe/Berlin\s+enabled\s+\S+ \S+ \S+\s+-\s`).MatchString(out) {
		t.Errorf("flows list after store --enable: exit %d\n%s; want enabled, its next run and no last run", code, out)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "disable", "nightly-stale-cleanup"); code != exitOK || !strings.Contains(out, "disabled") {
		t.Errorf("flows disable: exit %d\n%s", code, out)
	}

	// A changed document is a new version; the same bytes again are not.
	v1, err := os.ReadFile(nightly)
	if err != nil {
		t.Fatal(err)
	}
	changed := t.TempDir() + "/nightly.yaml"
	v2 := append([]byte("# every night\n"), v1...)
	if err := os.WriteFile(changed, v2, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", changed); code != exitOK || !strings.Contains(out, "Stored flow nightly-stale-cleanup") || !strings.Contains(out, "as version 2") {
		t.Errorf("flows store of a changed document: exit %d\n%s%s; want version 2", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", changed); code != exitOK || !strings.Contains(out, "is unchanged") || !strings.Contains(out, "version 2") {
		t.Errorf("flows store of the same document: exit %d\n%s%s; want unchanged, version 2", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "versions", "nightly-stale-cleanup"); code != exitOK || !strings.Contains(out, "has 2 versions;") ||
		!regexp.MustCompile(`(?m)^2 \(latest\)\s`).MatchString(out) || !regexp.MustCompile(`(?m)^1\s+`).MatchString(out) {
		t.Errorf("flows versions: exit %d\n%s%s; want versions 2 (latest) and 1", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show", "nightly-stale-cleanup")
	if head, src, _ := strings.Cut(out, "\n"); code != exitOK || !strings.HasPrefix(head, "# flow nightly-stale-cleanup, version 2 of 2 (the latest)") || src != string(v2) {
		t.Errorf("flows show: exit %d\n%s%s; want a header naming version 2 of 2, then its source", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "show", "nightly-stale-cleanup", "--version", "1")
	if head, src, _ := strings.Cut(out, "\n"); code != exitOK || !strings.HasPrefix(head, "# flow nightly-stale-cleanup, version 1 of 2 (the latest is 2)") || src != string(v1) {
		t.Errorf("flows show --version 1: exit %d\n%s%s; want version 1's source", code, out, errOut)
	}
	if code, _, errOut := runCLI(t, s.vars, "flows", "show", "nightly-stale-cleanup", "--version", "3"); code == exitOK || !strings.Contains(errOut, "has no version 3") {
		t.Errorf("flows show --version 3: exit %d\n%s; want a failure naming the versions there are", code, errOut)
	}

	// A flow that events start has no next run to print.
	onEvent := t.TempDir() + "/on-event.yaml"
	if err := os.WriteFile(onEvent, []byte(`name: on-removal
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Demo org
steps:
  - id: read
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: "${{ trigger.event.device.id }}"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, s.vars, "flows", "store", onEvent, "--enable")
	if code != exitOK || !strings.Contains(out, "Trigger: event okta-devices/device-removed-from-user (Demo org), enabled\n") {
		t.Errorf("flows store --enable of an event flow: exit %d\n%s%s", code, out, errOut)
	}

	offboard := "../../examples/offboard-user-devices.yaml"
	code, out, errOut = runCLI(t, s.vars, "flows", "store", offboard, "--enable")
	if code != exitUsage || !strings.Contains(errOut, "flow offboard-user-devices is stored, but it has no trigger") {
		t.Errorf("flows store --enable without a trigger: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, s.vars, "flows", "run", "offboard-user-devices", "--input", "login="+oktaemu.UserLogin, "--no-wait"); code != exitOK {
		t.Errorf("the stored flow does not run by name: exit %d\n%s", code, out)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", "missing.yaml"); code != exitUsage || !strings.Contains(errOut, "read the flow document") {
		t.Errorf("flows store of a missing file: exit %d\n%s%s", code, out, errOut)
	}

	// Storing ran nothing: the only flow run is the one started by name.
	req, _ := http.NewRequest("GET", s.url+"/api/v1/flow-runs", nil)
	req.Header.Set("Authorization", "Bearer "+e2eToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var runs struct {
		Runs []struct {
			Flow string `json:"flow"`
		} `json:"runs"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&runs); err != nil {
		t.Fatal(err)
	}
	if len(runs.Runs) != 1 || runs.Runs[0].Flow != "offboard-user-devices" {
		t.Errorf("flow runs after storing: %+v, want only the one started by name", runs.Runs)
	}
}

// TestCLIFlowsRunsSaysWhyARunFailed: a run that failed because a step did
// has no error of its own; flows runs names the failed step and its error
// code instead of "-", which read as a failure without a reason.
func TestCLIFlowsRunsSaysWhyARunFailed(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	file := t.TempDir() + "/read-missing.yaml"
	doc := "name: read-missing\nsteps:\n  - id: read\n    card: okta-devices/read-device\n    connection: Demo org\n    input: {deviceId: guoNoSuchDevice0000}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "run", file); code == exitOK {
		t.Fatalf("flows run of a flow reading a missing device: exit %d\n%s%s; want a failure", code, out, errOut)
	}
	code, out, errOut := runCLI(t, s.vars, "flows", "runs", "read-missing")
	if code != exitOK || !regexp.MustCompile(`failed\s.*\sstep read: not_found`).MatchString(out) {
		t.Errorf("flows runs: exit %d\n%s%s; want the failed run with its failed step", code, out, errOut)
	}
}

// TestCLIReauthorizeEndsOnTheOrgsSignInTime: the sign-in's time is the
// org's. A connection whose last sign-in was stored later than the org's
// clock says now (stored by the clock of a server ahead of the org, as
// cardflow did before it took the org's time) is reauthorized: the
// command ends with the new sign-in, where it waited for a sign-in later
// than the stored one and ran into its timeout.
func TestCLIReauthorizeEndsOnTheOrgsSignInTime(t *testing.T) {
	var dir string
	s := startServerWith(t, oktaemu.Config{Devices: 2}, func(c *app.Config) { dir = c.DataDir })
	id := s.connect(t, "Demo org")
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.Close() }()
	ahead := s.emu.Now().Add(2 * time.Hour)
	if err := st.UpdateConnection(t.Context(), id, func(c *store.Connection) error { c.AuthorizedAt = ahead; return nil }); err != nil {
		t.Fatal(err)
	}
	w := startWaiting(t, s.vars, "", "connections", "reauthorize", "Demo org", "--timeout", "20s")
	s.signIn(t, w.authorizeURL, oktaemu.AdminLogin)
	if code := <-w.done; code != exitOK {
		t.Errorf("reauthorize: exit %d; want %d\n%s%s", code, exitOK, w.stdout, w.stderr)
	}
	if out := w.stdout.String(); !strings.Contains(out, "Status:           active") {
		t.Errorf("reauthorize printed %q; want the connection, active", out)
	}
}

// TestCLIReauthorizeAsAnotherAccount: a reauthorization signed in with
// another account than the connection acted as succeeds with a warning
// that names both; signed in with the same account, there is none.
func TestCLIReauthorizeAsAnotherAccount(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	for _, tc := range []struct {
		login string
		warn  bool
	}{{oktaemu.ReadOnlyLogin, true}, {oktaemu.ReadOnlyLogin, false}} {
		w := startWaiting(t, s.vars, "", "connections", "reauthorize", "Demo org", "--timeout", "1m")
		s.signIn(t, w.authorizeURL, tc.login)
		if code := <-w.done; code != exitOK {
			t.Fatalf("reauthorize as %s: exit %d\n%s%s", tc.login, code, w.stdout, w.stderr)
		}
		want := "Warning: Demo org acted as " + oktaemu.AdminLogin + " before this sign-in: its cards and flows now act as " + oktaemu.ReadOnlyLogin
		if got := strings.Contains(w.stderr.String(), want); got != tc.warn {
			t.Errorf("reauthorize as %s: warning %v, want %v:\n%s", tc.login, got, tc.warn, w.stderr)
		}
	}
}
