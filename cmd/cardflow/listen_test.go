package main

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeListenErrorsSayWhatToDo starts serve and demo on an address they
// cannot listen on, or with settings single sign-on cannot work with: each
// says why and what to do, before a first start creates the data
// directory and prints an API token "shown once".
func TestServeListenErrorsSayWhatToDo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	// An issuer whose discovery document places its keys on another host.
	offHost := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		self := "http://" + r.Host
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": self, "authorization_endpoint": self + "/authorize",
			"token_endpoint": self + "/token", "jwks_uri": "https://keys.example.net/keys"})
	}))
	defer offHost.Close()
	sso := func(issuer string, more ...string) []string {
		return append([]string{"serve", "-listen", "127.0.0.1:0", "-oidc-issuer", issuer, "-oidc-client-id", "0oa1", "-oidc-role", "admin=cardflow-admins"}, more...)
	}
	secret := map[string]string{"CARDFLOW_OIDC_CLIENT_SECRET": "s"}
	tests := []struct {
		name    string
		args    []string
		vars    map[string]string
		want    []string
		notWant string
		usage   bool // a wrong command line: exit 2
	}{
		{name: "serve on a port in use", args: []string{"serve", "-listen", taken.Addr().String()},
			want: []string{"address already in use", "another process", "-listen (127.0.0.1:0 picks a free port)"}},
		{name: "demo on a port in use", args: []string{"demo", "-listen", taken.Addr().String()},
			want: []string{"address already in use", "-listen (127.0.0.1:0 picks a free port)"}},
		{name: "demo with its org on a port in use", args: []string{"demo", "-listen", "127.0.0.1:0", "-org-listen", taken.Addr().String()},
			want: []string{"the emulated org: listen on", "address already in use", "-org-listen (127.0.0.1:0 picks a free port)"}},
		{name: "demo with its org on an address without a port", args: []string{"demo", "-listen", "127.0.0.1:0", "-org-listen", "nonsense"},
			want: []string{`listen on "nonsense"`, "-org-listen wants HOST:PORT"}, usage: true},
		{name: "serve on an address without a port", args: []string{"serve", "-listen", "localhost"},
			want: []string{`listen on "localhost"`, "-listen wants HOST:PORT, e.g. 127.0.0.1:8080"}, notWant: "another process", usage: true},
		{name: "serve with single sign-on but no client secret", args: []string{"serve", "-listen", "127.0.0.1:0", "-oidc-issuer", "https://example.okta.com", "-oidc-client-id", "0oa1", "-oidc-role", "admin=cardflow-admins"},
			want: []string{"CARDFLOW_OIDC_CLIENT_SECRET is required with -oidc-issuer"}, usage: true},
		{name: "serve with single sign-on but no client ID", args: []string{"serve", "-listen", "127.0.0.1:0", "-oidc-issuer", "https://example.okta.com", "-oidc-role", "admin=cardflow-admins"},
			want: []string{"-oidc-client-id is required with -oidc-issuer"}, usage: true},
		{name: "serve with single sign-on but no role", args: []string{"serve", "-listen", "127.0.0.1:0", "-oidc-issuer", "https://example.okta.com", "-oidc-client-id", "0oa1"},
			vars: map[string]string{"CARDFLOW_OIDC_CLIENT_SECRET": "s"}, want: []string{"-oidc-role is required with -oidc-issuer"}, usage: true},
		{name: "serve with single sign-on at an issuer that is no URL", args: []string{"serve", "-listen", "127.0.0.1:0", "-oidc-issuer", "example.okta.com", "-oidc-client-id", "0oa1", "-oidc-role", "admin=cardflow-admins"},
			want: []string{`-oidc-issuer "example.okta.com" must be the provider's issuer URL`}, usage: true},
		// On an address in use: a server that ignored the flag would not
		// start either.
		{name: "serve with a single sign-on client ID but no issuer", args: []string{"serve", "-listen", taken.Addr().String(), "-oidc-client-id", "0oa1"},
			want: []string{"-oidc-client-id needs -oidc-issuer"}, usage: true},
		{name: "serve allowing a single sign-on host but no issuer", args: []string{"serve", "-listen", taken.Addr().String(), "-oidc-allow-host", "keys.example.net"},
			want: []string{"-oidc-allow-host needs -oidc-issuer"}, usage: true},
		{name: "serve allowing a single sign-on host that names none", args: sso("https://example.okta.com", "-oidc-allow-host", "https://*.example.net"), vars: secret,
			want: []string{`-oidc-allow-host "https://*.example.net" must name one host of the single sign-on provider`}, usage: true},
		{name: "serve with single sign-on whose keys are on another host", args: sso(offHost.URL), vars: secret,
			want: []string{"cannot start: the single sign-on provider's discovery document " + offHost.URL + "/.well-known/openid-configuration places its jwks_uri on the host https://keys.example.net, not on the issuer's host " + offHost.URL,
				"start the server with -oidc-allow-host https://keys.example.net;"}, usage: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := filepath.Join(t.TempDir(), "cardflow-data")
			code, out, errOut := runCLI(t, tc.vars, append(tc.args, "-data-dir", data)...)
			// The demo makes its data directory (and its org) before the
			// server; serve must not make anything.
			if _, err := os.Stat(data); (tc.args[0] == "serve" && !errors.Is(err, fs.ErrNotExist)) || strings.Contains(out, "API token") {
				t.Errorf("the refused start made its data directory (%v) or printed an API token:\n%s", err, out)
			}
			wantCode := exitFailure
			if tc.usage {
				wantCode = exitUsage
			}
			if code != wantCode {
				t.Errorf("exit %d; want %d", code, wantCode)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q\n%s%s", w, out, errOut)
				}
			}
			if tc.notWant != "" && strings.Contains(errOut, tc.notWant) {
				t.Errorf("stderr has %q\n%s", tc.notWant, errOut)
			}
		})
	}
}

// TestServeUnreachableDatabase starts serve on a PostgreSQL URL nobody
// serves: the error says what to check.
func TestServeUnreachableDatabase(t *testing.T) {
	code, out, errOut := runCLI(t, nil, "serve", "-listen", "127.0.0.1:0", "-data-dir", t.TempDir(), "-db", "postgres://cardflow:pw-not-shown@127.0.0.1:1/cardflow?sslmode=disable")
	if code != exitFailure || !strings.Contains(errOut, "(check -db: the server must be running and reachable at that host and port") || strings.Contains(errOut+out, "pw-not-shown") {
		t.Errorf("exit %d\n%s%s\nwant exit 1, what to check, and no password", code, out, errOut)
	}
}

// TestDatabaseURLErrorsSayWhatIsWrong gives serve and the keys commands a
// -db that is no PostgreSQL URL or does not parse: each says so and how
// to write it, never that a server it never dialled must be running, and
// never repeats the password.
func TestDatabaseURLErrorsSayWhatIsWrong(t *testing.T) {
	bad := "postgres://cardflow:pw-not-shown@127.0.0.1:1/cardflow?sslmode=bogus"
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"serve with an unparsable URL", []string{"serve", "-listen", "127.0.0.1:0", "-data-dir", t.TempDir(), "-db", bad}, "write it as postgres://USER@HOST:PORT/DATABASE?sslmode=MODE"},
		{"keys list with an unparsable URL", []string{"keys", "list", "-data-dir", t.TempDir(), "-db", bad}, "write it as postgres://USER@HOST:PORT/DATABASE?sslmode=MODE"},
		{"keys list with another database's URL", []string{"keys", "list", "-data-dir", t.TempDir(), "-db", "mysql://cardflow@db/cardflow"}, "-db must be empty (SQLite in the data directory) or a postgres:// URL"},
		{"keys rotate with a file name", []string{"keys", "rotate", "-data-dir", t.TempDir(), "-db", "cardflow.db"}, "-db must be empty (SQLite in the data directory) or a postgres:// URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{"CARDFLOW_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "CARDFLOW_NEW_KEY": "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="}
			code, out, errOut := runCLI(t, vars, tc.args...)
			if code != exitFailure || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "must be running") || strings.Contains(errOut+out, "pw-not-shown") {
				t.Errorf("exit %d\n%s%s\nwant exit 1, %q, no reachability hint and no password", code, out, errOut, tc.want)
			}
		})
	}
}
