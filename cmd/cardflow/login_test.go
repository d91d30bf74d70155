package main

// cardflow login, the other commands with its token, tokens create, list
// and revoke, and cardflow logout, against a real server with single
// sign-on through the emulated org's cardflow app.

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func startSSOServer(t *testing.T) (*emutest.Server, string) {
	t.Helper()
	emu := emutest.Start(t, oktaemu.Config{Devices: 2})
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, app.Config{
		Listen: "127.0.0.1:0", DataDir: dataDir(t), TrustedOrigins: []string{emu.URL},
		APIToken: keyring.Secret(e2eToken), Stdout: &strings.Builder{},
		OIDCIssuer: emu.URL, OIDCClientID: oktaemu.DemoConsoleClientID, OIDCClientSecret: keyring.Secret(oktaemu.DemoConsoleClientSecret),
		OIDCRoles: []string{"admin=" + oktaemu.AdminsGroup, "operator=" + oktaemu.OperatorsGroup, "viewer=" + oktaemu.ViewersGroup},
	})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return emu, a.URL()
}

// runLogin runs cardflow login with a "browser" that signs in at the org
// as login and follows the redirect to the loopback address.
func runLogin(t *testing.T, emu *emutest.Server, vars map[string]string, login string) (int, string, string) {
	t.Helper()
	code, out, errOut, _ := runLoginPage(t, emu, vars, login)
	return code, out, errOut
}

// runLoginPage is runLogin that also returns the page the browser's tab
// shows at the end.
func runLoginPage(t *testing.T, emu *emutest.Server, vars map[string]string, login string) (int, string, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	page := make(chan string, 1)
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] },
		openURL: func(u string) error {
			go func() {
				loc := emu.SignIn(t, u, login, oktaemu.DemoPassword)
				resp, err := http.Get(loc.String())
				if err != nil {
					page <- "no page: " + err.Error()
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				page <- html.UnescapeString(string(b))
			}()
			return nil
		}}
	code := run(t.Context(), []string{"login"}, e)
	return code, out.String(), errOut.String(), <-page
}

func TestLoginLogout(t *testing.T) {
	emu, url := startSSOServer(t)
	config := t.TempDir()
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": config}

	code, out, errOut, page := runLoginPage(t, emu, vars, oktaemu.ReadOnlyLogin)
	if code != exitOK || !strings.Contains(out, "Signed in to "+url+" as "+oktaemu.ReadOnlyLogin+" (operator)") {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}
	if !strings.Contains(page, "You are signed in to cardflow as "+oktaemu.ReadOnlyLogin+" (operator)") {
		t.Errorf("the browser's tab after the sign-in reads %q; want who is signed in", page)
	}
	path := filepath.Join(config, "cardflow", "credentials.json")
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file %s: %v, mode %v; want 0600", path, err, fi.Mode())
	}
	if b, _ := os.ReadFile(path); strings.Contains(errOut+out, string(b)) {
		t.Errorf("the output shows the kept token")
	}

	// Client commands use the kept token when CARDFLOW_API_TOKEN is unset.
	code, out, errOut = runCLI(t, vars, "whoami")
	if code != exitOK || !strings.Contains(out, oktaemu.ReadOnlyLogin) || !strings.Contains(out, "(operator)") {
		t.Fatalf("whoami after login: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, vars, "tokens", "create", "--name", "ci", "--role", "admin")
	if code == exitOK || !strings.Contains(errOut, "operator role and cannot create a token with the admin role") ||
		!strings.Contains(errOut, "create it with a role of at most operator, or ask a cardflow admin for a token with the admin role") {
		t.Errorf("an operator creating an admin token: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, vars, "tokens", "create", "--name", "ci", "--role", "viewer", "--expires-in", "24h")
	if code != exitOK || !strings.Contains(out, "cfp_") {
		t.Fatalf("tokens create: exit %d\n%s%s", code, out, errOut)
	}
	// Without --expires-in the token ends with the one of cardflow login
	// (a token's tokens never outlive it), rather than being refused.
	code, out, errOut = runCLI(t, vars, "tokens", "create", "--name", "nightly")
	if code != exitOK || !strings.Contains(out, "cfp_") {
		t.Errorf("tokens create without --expires-in after cardflow login: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, vars, "tokens", "create", "--name", "forever", "--expires-in", "8000h")
	if code == exitOK || !strings.Contains(errOut, "cannot outlive it") || !strings.Contains(errOut, "Tokens page") {
		t.Errorf("tokens create --expires-in 8000h after cardflow login: exit %d; want refused, saying how\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, vars, "tokens", "list")
	if code != exitOK || !strings.Contains(out, "ci") || !strings.Contains(out, "cardflow login on") || strings.Contains(out, "cfp_") {
		t.Fatalf("tokens list: exit %d\n%s%s", code, out, errOut)
	}
	id := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 2 && f[1] == "ci" {
			id = f[0]
		}
	}
	if code, out, errOut = runCLI(t, vars, "tokens", "revoke", id, "--yes"); code != exitOK {
		t.Fatalf("tokens revoke %s: exit %d\n%s%s", id, code, out, errOut)
	}

	// The audit names the person who signed in.
	code, out, _ = runCLI(t, map[string]string{"CARDFLOW_SERVER": url, "CARDFLOW_API_TOKEN": e2eToken}, "audit", "--actor", oktaemu.ReadOnlyLogin)
	if code != exitOK || !strings.Contains(out, "person.signin") || !strings.Contains(out, "token.revoke") {
		t.Errorf("audit --actor: exit %d\n%s", code, out)
	}
	if strings.Contains(out, " of token ") {
		t.Errorf("audit names a revoked token's owner as a token:\n%s", out)
	}

	code, out, errOut = runCLI(t, vars, "logout")
	if code != exitOK || !strings.Contains(out, "Signed out of "+url) {
		t.Fatalf("logout: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut = runCLI(t, vars, "whoami"); code != exitUsage || !strings.Contains(errOut, "cardflow login") {
		t.Errorf("whoami after logout: exit %d %s; want the hint to log in", code, errOut)
	}
}

func TestLoginRefusesAPersonInNoGroup(t *testing.T) {
	emu, url := startSSOServer(t)
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	code, out, errOut, page := runLoginPage(t, emu, vars, oktaemu.UnassignedLogin)
	if code != exitFailure || !strings.Contains(errOut, "none of the groups that give a cardflow role") {
		t.Errorf("login of a person in no group: exit %d\n%s%s", code, out, errOut)
	}
	// The browser's tab says so too, where it said "You are signed in"
	// before the server had been asked.
	if strings.Contains(page, "You are signed in") || !strings.Contains(page, "cardflow login failed") || !strings.Contains(page, "none of the groups that give a cardflow role") {
		t.Errorf("the browser's tab after a refused sign-in reads %q; want that login failed and why", page)
	}
}

// TestLoginTokenRevokedSaysLoginAgain: when the token cardflow login kept
// is revoked (by an admin, or by logout elsewhere), a command says to sign
// in again, not to send an Authorization header.
func TestLoginTokenRevokedSaysLoginAgain(t *testing.T) {
	emu, url := startSSOServer(t)
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	if code, out, errOut := runLogin(t, emu, vars, oktaemu.UserLogin); code != exitOK {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}
	admin := map[string]string{"CARDFLOW_SERVER": url, "CARDFLOW_API_TOKEN": e2eToken}
	code, out, errOut := runCLI(t, admin, "tokens", "list", "--all")
	if code != exitOK {
		t.Fatalf("tokens list --all: exit %d\n%s%s", code, out, errOut)
	}
	id := ""
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, oktaemu.UserLogin) {
			id = strings.Fields(line)[0]
		}
	}
	if code, out, errOut = runCLI(t, admin, "tokens", "revoke", id, "--yes"); code != exitOK {
		t.Fatalf("tokens revoke %q: exit %d\n%s%s", id, code, out, errOut)
	}

	code, out, errOut = runCLI(t, vars, "connections", "list")
	if code != exitFailure || !strings.Contains(errOut, "unauthenticated") ||
		!strings.Contains(errOut, "Remedy: run `cardflow login` again") || !strings.Contains(errOut, oktaemu.UserLogin) ||
		strings.Contains(errOut, "Authorization: Bearer") {
		t.Errorf("a command with the revoked sign-in: exit %d\n%s%s; want the remedy to sign in again as %s", code, out, errOut, oktaemu.UserLogin)
	}
}

// TestLoginAgainRevokesThePreviousToken: signing in again replaces the kept
// token, and the one it replaces is revoked rather than left working with
// nobody keeping it.
func TestLoginAgainRevokesThePreviousToken(t *testing.T) {
	emu, url := startSSOServer(t)
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	for _, login := range []string{oktaemu.UserLogin, oktaemu.UserLogin, oktaemu.ReadOnlyLogin} {
		if code, out, errOut := runLogin(t, emu, vars, login); code != exitOK {
			t.Fatalf("login as %s: exit %d\n%s%s", login, code, out, errOut)
		}
	}
	code, out, errOut := runCLI(t, map[string]string{"CARDFLOW_SERVER": url, "CARDFLOW_API_TOKEN": e2eToken}, "tokens", "list", "--all")
	if code != exitOK {
		t.Fatalf("tokens list --all: exit %d\n%s%s", code, out, errOut)
	}
	if n := strings.Count(out, "cardflow login on"); n != 1 || !strings.Contains(out, oktaemu.ReadOnlyLogin) {
		t.Errorf("after three sign-ins everyone's tokens are\n%s\nwant only the last sign-in's (%s)", out, oktaemu.ReadOnlyLogin)
	}
	if code, out, errOut = runCLI(t, vars, "whoami"); code != exitOK || !strings.Contains(out, oktaemu.ReadOnlyLogin) {
		t.Errorf("whoami: exit %d\n%s%s; want %s", code, out, errOut, oktaemu.ReadOnlyLogin)
	}
}

// TestLoginRefusedByTheProvider: when the provider sends the browser back
// with an error (Okta's access_denied for a person not assigned to the
// sign-in app), login says what it said and how to get in.
func TestLoginRefusedByTheProvider(t *testing.T) {
	_, url := startSSOServer(t)
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] },
		openURL: func(u string) error {
			go func() {
				// The provider's redirect, as Okta sends it.
				au, err := neturl.Parse(u)
				if err != nil {
					return
				}
				q := neturl.Values{"state": {au.Query().Get("state")}, "error": {"access_denied"},
					"error_description": {"User is not assigned to the client application."}}
				resp, err := http.Get(au.Query().Get("redirect_uri") + "?" + q.Encode())
				if err == nil {
					resp.Body.Close()
				}
			}()
			return nil
		}}
	code := run(t.Context(), []string{"login"}, e)
	if code != exitFailure || !strings.Contains(errOut.String(), "User is not assigned to the client application.") ||
		!strings.Contains(errOut.String(), "assign you") || !strings.Contains(errOut.String(), oktaemu.DemoConsoleClientID) {
		t.Errorf("login refused by the provider: exit %d\n%s%s; want its reason and how to fix it (assign the person to the app %s)",
			code, out.String(), errOut.String(), oktaemu.DemoConsoleClientID)
	}
}

// TestLoginIgnoresAnotherState: a request to the login's callback with a
// state this login did not send (another program on the machine, an old
// tab) is refused and does not end the login, which goes on to sign in
// with its own.
func TestLoginIgnoresAnotherState(t *testing.T) {
	emu, url := startSSOServer(t)
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	var out, errOut bytes.Buffer
	strayStatus := make(chan int, 1)
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] },
		openURL: func(u string) error {
			go func() {
				au, err := neturl.Parse(u)
				if err != nil {
					strayStatus <- 0
					return
				}
				stray := neturl.Values{"state": {"not-this-login"}, "code": {"stolen"}}
				resp, err := http.Get(au.Query().Get("redirect_uri") + "?" + stray.Encode())
				if err != nil {
					strayStatus <- 0
					return
				}
				resp.Body.Close()
				strayStatus <- resp.StatusCode
				loc := emu.SignIn(t, u, "admin@example.com", oktaemu.DemoPassword)
				if resp, err := http.Get(loc.String()); err == nil {
					resp.Body.Close()
				}
			}()
			return nil
		}}
	code := run(t.Context(), []string{"login"}, e)
	if got := <-strayStatus; got != http.StatusBadRequest {
		t.Errorf("the callback answered a request of another state with %d; want 400", got)
	}
	if code != exitOK {
		t.Errorf("login after a request of another state: exit %d\n%s%s; want the login to go on and sign in", code, out.String(), errOut.String())
	}
}

// TestLoginWithoutSingleSignOn runs cardflow login against a server
// started without -oidc-issuer: it says so and names the other way in,
// not "this needs an API token" with cardflow login as the remedy.
func TestLoginWithoutSingleSignOn(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, map[string]string{"CARDFLOW_SERVER": s.url}, "login", "--no-browser")
	if code != exitFailure || !strings.Contains(errOut, s.url+" has no single sign-on: start it with -oidc-issuer") || !strings.Contains(errOut, "CARDFLOW_API_TOKEN") {
		t.Errorf("login: exit %d\n%s%s\nwant exit 1 saying the server has no single sign-on and naming CARDFLOW_API_TOKEN", code, out, errOut)
	}
}

// TestWrongEnvTokenNamesTheVariable: a token of CARDFLOW_API_TOKEN the
// server refuses is named by the variable it came from; the server's own
// remedy speaks of a request's Authorization header, which a person at
// the command line never wrote.
func TestWrongEnvTokenNamesTheVariable(t *testing.T) {
	s := startServer(t)
	vars := map[string]string{"CARDFLOW_SERVER": s.vars["CARDFLOW_SERVER"], "CARDFLOW_API_TOKEN": "cf_not_the_token_at_all"}
	code, out, errOut := runCLI(t, vars, "connections", "list")
	if code != exitFailure || !strings.Contains(errOut, "unauthenticated") ||
		!strings.Contains(errOut, "Remedy: check CARDFLOW_API_TOKEN, the token sent to "+s.vars["CARDFLOW_SERVER"]) ||
		strings.Contains(errOut, "Authorization: Bearer") {
		t.Errorf("a command with a wrong CARDFLOW_API_TOKEN: exit %d\n%s%s; want the remedy to check the variable", code, out, errOut)
	}
	// The 20th wrong token from this address: the variable's token, once
	// right, is refused too for the rest of the minute, and the remedy says so.
	for range 18 {
		runCLI(t, vars, "connections", "list")
	}
	code, out, errOut = runCLI(t, vars, "connections", "list")
	if code != exitFailure || !strings.Contains(errOut, "Remedy: wait until ") ||
		!strings.Contains(errOut, "every request from this address is refused until then, even with the right token; then check CARDFLOW_API_TOKEN") {
		t.Errorf("the 20th wrong CARDFLOW_API_TOKEN: exit %d\n%s%s; want the remedy to say until when every token is refused", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "connections", "list")
	if code != exitFailure || !strings.Contains(errOut, "rate_limited") || !strings.Contains(errOut, "even with the right token") {
		t.Errorf("the right token after 20 wrong ones: exit %d\n%s%s; want it refused, saying until when", code, out, errOut)
	}
}

// TestLoginInterrupted: Ctrl-C while login waits for the browser says that
// nothing was kept and how to start again, not "context canceled".
func TestLoginInterrupted(t *testing.T) {
	_, url := startSSOServer(t)
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	ctx, interrupt := context.WithCancel(t.Context())
	var out, errOut bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errOut, getenv: func(k string) string { return vars[k] },
		openURL: func(string) error { interrupt(); return nil }} // the person presses Ctrl-C instead of signing in
	code := run(ctx, []string{"login"}, e)
	if code != exitInterrupted || strings.Contains(errOut.String(), "context canceled") || !strings.Contains(errOut.String(), "run cardflow login again") {
		t.Errorf("interrupted login: exit %d\n%s%s; want 130 and how to start again", code, out.String(), errOut.String())
	}
}

// TestLoginRoleRefusalSaysSignInAgain: a command beyond the role of the
// sign-in cardflow login keeps says to ask a cardflow admin, or to be put
// in a group of the role and sign in again, where it said to use a token
// of the role "created by someone who has it (cardflow tokens create --role
// admin)": a person's role comes from their groups at sign-in, and such a
// token would be someone else's.
func TestLoginRoleRefusalSaysSignInAgain(t *testing.T) {
	emu, url := startSSOServer(t)
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir()}
	if code, out, errOut := runLogin(t, emu, vars, oktaemu.ReadOnlyLogin); code != exitOK {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, vars, "people", "list")
	const want = "\nRemedy: ask a cardflow admin to do it; to have the admin role yourself, ask your identity provider's administrator to put you in a group that gives it, then run `cardflow login` again: the role of readonly@example.com's sign-in comes from those groups\n"
	if code != exitFailure || !strings.Contains(errOut, "forbidden: this needs the admin role") || !strings.Contains(errOut, want) || strings.Contains(errOut, "tokens create") {
		t.Errorf("people list as an operator signed in with cardflow login: exit %d; want %d and %q\n%s%s", code, exitFailure, want, out, errOut)
	}
	// A refusal of another kind keeps the server's remedy.
	code, out, errOut = runCLI(t, vars, "tokens", "create", "--name", "x", "--role", "admin")
	if code != exitFailure || !strings.Contains(errOut, "Remedy: create it with a role of at most operator") {
		t.Errorf("tokens create --role admin as an operator: exit %d; want the server's remedy\n%s%s", code, out, errOut)
	}
}

// TestLoginListenRefusals: a --listen whose port is no number is a usage
// error saying what a port is, and one whose port another program holds
// says so and what to give instead, where they read "listen tcp: lookup
// tcp/abc: unknown port" and "bind: address already in use".
func TestLoginListenRefusals(t *testing.T) {
	_, url := startSSOServer(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": t.TempDir(), "HOME": t.TempDir()}
	for _, tc := range []struct {
		listen   string
		wantCode int
		want     string
	}{
		{"127.0.0.1:abc", exitUsage, `--listen "127.0.0.1:abc": the port must be a number from 0 to 65535 (0 picks a free one)`},
		{"localhost:70000", exitUsage, "the port must be a number from 0 to 65535"},
		{taken.Addr().String(), exitFailure, "--listen " + taken.Addr().String() + ": another program listens on port"},
	} {
		code, out, errOut := runCLI(t, vars, "login", "--no-browser", "--listen", tc.listen)
		if code != tc.wantCode || !strings.Contains(errOut, tc.want) {
			t.Errorf("login --listen %s: exit %d\n%s%s\nwant exit %d saying %q", tc.listen, code, out, errOut, tc.wantCode, tc.want)
		}
	}
}

// TestRevokingTheKeptTokenSignsOut: tokens revoke of the token cardflow
// login keeps, the one the command line signs in with, says so and
// forgets it, as logout does, where it said only "Revoked the token" and
// every next command failed as a token no longer accepted; another
// token's revoke leaves the sign-in kept.
func TestRevokingTheKeptTokenSignsOut(t *testing.T) {
	emu, url := startSSOServer(t)
	config := t.TempDir()
	vars := map[string]string{"CARDFLOW_SERVER": url, "XDG_CONFIG_HOME": config}
	if code, out, errOut := runLogin(t, emu, vars, oktaemu.ReadOnlyLogin); code != exitOK {
		t.Fatalf("login: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, vars, "tokens", "create", "--name", "ci", "--json")
	var ci struct {
		ID string `json:"id"`
	}
	if code != exitOK || json.Unmarshal([]byte(out), &ci) != nil || ci.ID == "" {
		t.Fatalf("tokens create: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, vars, "tokens", "revoke", ci.ID, "--yes"); code != exitOK || out != "Revoked the token "+ci.ID+".\n" {
		t.Errorf("revoking another token: exit %d\n%s%s; want it revoked, and nothing else said", code, out, errOut)
	}
	path := filepath.Join(config, "cardflow", "credentials.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var creds credentials
	if err := json.Unmarshal(b, &creds); err != nil || creds.Servers[url].TokenID == "" {
		t.Fatalf("credentials after another token's revoke: %s, %v; want the sign-in kept", b, err)
	}
	kept := creds.Servers[url].TokenID
	code, out, errOut = runCLI(t, vars, "tokens", "revoke", kept, "--yes")
	if code != exitOK || !strings.Contains(out, "Revoked the token "+kept+", the sign-in of cardflow login this command line used for "+url+", and removed it from "+path+": you are signed out there") {
		t.Errorf("revoking the kept token: exit %d\n%s%s; want it said to be the sign-in of cardflow login, removed", code, out, errOut)
	}
	code, out, errOut = runCLI(t, vars, "whoami")
	if code != exitUsage || !strings.Contains(errOut, "cardflow login") || strings.Contains(errOut, "revoked API token") {
		t.Errorf("whoami after revoking the kept token: exit %d\n%s%s; want the usage error of a command line not signed in", code, out, errOut)
	}
}
