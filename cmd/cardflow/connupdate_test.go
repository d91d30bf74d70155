package main

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIConnectionsUpdate creates a connection whose OAuth app's client
// secret is rotated at the org before the sign-in (the sign-in fails),
// gives it the new one with `connections update --client-secret-stdin`,
// which goes on to the reauthorization, and runs a card through it. A
// secret the org refuses is refused by update too, before anything
// changes. The secrets never show in what the CLI prints, nor in the
// audit.
func TestCLIConnectionsUpdate(t *testing.T) {
	s := startServer(t)
	_, secret := s.connectRotated(t, "Rotated")
	if code, out, _ := runCLI(t, s.vars, "connections", "show", "Rotated"); code != exitOK || !strings.Contains(out, "error") {
		t.Fatalf("after a sign-in with the rotated secret: exit %d; want the connection in error\n%s", code, out)
	}
	reasonCode := func(when string) string {
		t.Helper()
		code, out, errOut := runCLI(t, s.vars, "connections", "show", "Rotated", "--json")
		var v struct {
			StatusReasonCode *string `json:"statusReasonCode"`
		}
		if err := json.Unmarshal([]byte(out), &v); code != exitOK || err != nil || v.StatusReasonCode == nil {
			t.Fatalf("connections show --json %s: exit %d (%v); want the connection with its statusReasonCode\n%s%s", when, code, err, out, errOut)
		}
		return *v.StatusReasonCode
	}
	if got := reasonCode("after the wrong secret"); got != "client_secret_refused" {
		t.Errorf("statusReasonCode after a sign-in with the wrong secret: %q; want client_secret_refused", got)
	}
	noEnv := maps.Clone(s.vars)
	delete(noEnv, "CARDFLOW_CLIENT_SECRET")

	code, _, errOut := runCLI(t, noEnv, "connections", "update", "Rotated")
	if code != exitUsage || !strings.Contains(errOut, "--client-secret-stdin") {
		t.Errorf("update without a secret: exit %d stderr %q; want a usage error naming --client-secret-stdin", code, errOut)
	}
	code, out, errOut := runCLI(t, noEnv, "connections", "update", "Rotated", "--client-secret", "x")
	if code != exitUsage {
		t.Errorf("update --client-secret VALUE: exit %d; want a usage error (no secret in argv)\n%s%s", code, out, errOut)
	}

	var printed strings.Builder
	// The secret the org no longer takes is refused before anything
	// changes.
	var oldOut, oldErr strings.Builder
	old := &env{stdin: strings.NewReader(oktaemu.DemoClientSecret), stdout: &oldOut, stderr: &oldErr,
		getenv: func(k string) string { return noEnv[k] }}
	if code := run(context.Background(), []string{"connections", "update", "Rotated", "--client-secret-stdin"}, old); code != exitUsage ||
		!strings.Contains(oldErr.String(), "invalid_client") || !strings.Contains(oldErr.String(), "the connection was not changed") {
		t.Errorf("update with the secret the org refuses: exit %d; want a usage error naming invalid_client, nothing changed\n%s%s", code, &oldOut, &oldErr)
	}
	printed.WriteString(oldOut.String() + oldErr.String())
	if got := reasonCode("after the refused update"); got != "client_secret_refused" {
		t.Errorf("statusReasonCode after the refused update: %q; want client_secret_refused, unchanged", got)
	}

	w := startWaiting(t, noEnv, secret+"\n", "connections", "update", "Rotated", "--client-secret-stdin", "--timeout", "10m")
	// Until the sign-in, the connection waits for its reauthorization.
	if _, show, _ := runCLI(t, s.vars, "connections", "show", "Rotated"); !strings.Contains(show, "needs_reauthorization") || !strings.Contains(show, "client secret was changed") {
		t.Errorf("after update, before the sign-in: want needs_reauthorization with the reason\n%s", show)
	}
	if got := reasonCode("after the update"); got != "credentials_changed" {
		t.Errorf("statusReasonCode after the update, before the sign-in: %q; want credentials_changed", got)
	}
	s.signIn(t, w.authorizeURL, oktaemu.AdminLogin)
	if code := <-w.done; code != exitOK || !strings.Contains(w.stdout.String(), "Status:           active") {
		t.Fatalf("update: exit %d; want 0 and the active connection\n%s%s", code, w.stdout, w.stderr)
	}
	printed.WriteString(w.stdout.String() + w.stderr.String())

	code, out, errOut = runCLI(t, s.vars, "run", "okta-devices/search-devices", "--connection", "Rotated", "--input", "resultSet=first")
	if code != exitOK || !strings.Contains(out, "succeeded") {
		t.Fatalf("a card after the update: exit %d\n%s%s", code, out, errOut)
	}

	// --no-reauthorize stores the secret and says what to do next.
	var nrOut, nrErr strings.Builder
	e := &env{stdin: strings.NewReader(secret), stdout: &nrOut, stderr: &nrErr,
		getenv: func(k string) string { return noEnv[k] }}
	if code := run(context.Background(), []string{"connections", "update", "Rotated", "--client-secret-stdin", "--no-reauthorize"}, e); code != exitOK {
		t.Fatalf("update --no-reauthorize: exit %d\n%s%s", code, &nrOut, &nrErr)
	}
	printed.WriteString(nrOut.String() + nrErr.String())
	if got := nrOut.String(); !strings.Contains(got, "needs_reauthorization") || !strings.Contains(got, "cardflow connections reauthorize") {
		t.Errorf("update --no-reauthorize printed %q; want the status and the next command", got)
	}
	code, out, errOut = runCLI(t, s.vars, "run", "okta-devices/search-devices", "--connection", "Rotated", "--input", "resultSet=first")
	if code == exitOK || !strings.Contains(out+errOut, "reauthoriz") {
		t.Errorf("a card after update --no-reauthorize: exit %d; want a failure asking for reauthorization\n%s%s", code, out, errOut)
	}

	code, out, errOut = runCLI(t, s.vars, "audit")
	if code != exitOK || !strings.Contains(out, "connection.update") {
		t.Errorf("audit: exit %d; want connection.update\n%s%s", code, out, errOut)
	}
	printed.WriteString(out + errOut)
	for _, sec := range []string{oktaemu.DemoClientSecret, secret} {
		if strings.Contains(printed.String(), sec) {
			t.Errorf("a client secret appears in the CLI's output")
		}
	}
}

// TestCLIConnectionsUpdateRefusesService: a service connection has a key,
// not a secret; update says to use rotate-key, whatever secret it is
// given, as a wrong command line (exit 2), as rotate-key of a user
// connection is.
func TestCLIConnectionsUpdateRefusesService(t *testing.T) {
	s := startServer(t)
	if code, out, errOut := runCLI(t, s.vars, "connections", "create", "--auth", "service", "--nickname", "Robot",
		"--domain", s.emu.URL, "--client-id", oktaemu.DemoServiceClientID); code != exitOK {
		t.Fatalf("create service: exit %d\n%s%s", code, out, errOut)
	}
	code, out, errOut := runCLI(t, s.vars, "connections", "update", "Robot", "--no-reauthorize")
	if code != exitUsage || !strings.Contains(errOut, "rotate-key") || !strings.Contains(errOut, "private key") {
		t.Errorf("update of a service connection: exit %d stderr %q; want a refusal pointing to rotate-key\n%s", code, errOut, out)
	}
	// With an empty secret (stdin here is empty) too: it was refused as
	// empty, as if a secret were what the connection lacked.
	code, out, errOut = runCLI(t, s.vars, "connections", "update", "Robot", "--client-secret-stdin")
	if code != exitUsage || !strings.Contains(errOut, "is a service connection") || !strings.Contains(errOut, "cardflow connections rotate-key") || strings.Contains(errOut, "empty") {
		t.Errorf("update of a service connection with an empty secret: exit %d stderr %q; want a refusal pointing to rotate-key\n%s", code, errOut, out)
	}
}

// TestCLIConnectionsUpdateStopsWhenSignInFails: after update the
// connection needs reauthorization; a sign-in the org refuses ends the
// command at once with the reason, not after its timeout.
func TestCLIConnectionsUpdateStopsWhenSignInFails(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Demo org")
	w := startWaiting(t, s.vars, oktaemu.DemoClientSecret, "connections", "update", "Demo org", "--client-secret-stdin", "--timeout", "10m")
	s.signIn(t, w.authorizeURL, oktaemu.UnassignedLogin)
	if code := <-w.done; code != exitFailure {
		t.Errorf("update: exit %d; want %d", code, exitFailure)
	}
	if got := w.stderr.String(); !strings.Contains(got, "reauthorization failed") || !strings.Contains(got, "not assigned") || !strings.Contains(got, "cardflow connections reauthorize") {
		t.Errorf("update stderr %q; want the failure, its reason and what to run next", got)
	}
}

// TestCLICreateRefusesWrongSecret: a client secret the org refuses
// (invalid_client) ends connections create at once, as a wrong command
// line does, with the fix; no connection is stored and no sign-in is
// asked for.
func TestCLICreateRefusesWrongSecret(t *testing.T) {
	s := startServer(t)
	vars := maps.Clone(s.vars)
	vars["CARDFLOW_CLIENT_SECRET"] = "not-the-apps-secret"
	code, out, errOut := runCLI(t, vars, "connections", "create", "--nickname", "Prod", "--domain", s.emu.URL, "--client-id", oktaemu.DemoClientID)
	if code != exitUsage || !strings.Contains(errOut, "invalid_client") || !strings.Contains(errOut, "General tab") || strings.Contains(out+errOut, "/oauth2/v1/authorize") {
		t.Errorf("create with a wrong secret: exit %d; want a usage error naming invalid_client and the fix, no sign-in URL\n%s%s", code, out, errOut)
	}
	if code, out, _ := runCLI(t, s.vars, "connections", "list"); code != exitOK || strings.Contains(out, "Prod") {
		t.Errorf("connections list after the refusal: exit %d; want no connection Prod\n%s", code, out)
	}
}
