package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestCLIDeleteConnectionInUse: connections delete of a connection that an
// enabled flow uses deletes nothing and does nothing at the org: it exits
// 1 naming the flow (name and id) and what to do, --force among it, and
// the connection still works; --json gives the server's 409 as it is. A
// connection that only a disabled flow uses is deleted, and --force
// deletes the one in use, warning that the flow uses it. The help says
// what --force does.
func TestCLIDeleteConnectionInUse(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Prod devices")
	s.connect(t, "Spare")
	dir := t.TempDir()
	for name, conn := range map[string]string{"nightly": "Prod devices", "weekly-spare": "Spare"} {
		file := filepath.Join(dir, name+".yaml")
		writeFile(t, file, "name: "+name+"\non:\n  schedule:\n    cron: \"0 2 * * *\"\nsteps:\n  - id: s\n    card: okta-devices/search-devices\n    connection: "+
			conn+"\n    input: {search: 'status eq \"ACTIVE\"'}\n")
		if code, out, errOut := runCLI(t, s.vars, "flows", "store", file, "--enable"); code != exitOK {
			t.Fatalf("flows store %s --enable: exit %d\n%s%s", name, code, out, errOut)
		}
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "disable", "weekly-spare"); code != exitOK {
		t.Fatalf("flows disable: exit %d\n%s%s", code, out, errOut)
	}
	revokes := s.emu.Stats(t)["POST /oauth2/v1/revoke"]

	code, out, errOut := runCLI(t, s.vars, "connections", "delete", "Prod devices", "--yes")
	if code != exitFailure || strings.Contains(out, "Deleted") {
		t.Fatalf("connections delete of a connection in use: exit %d; want %d and nothing deleted\n%s%s", code, exitFailure, out, errOut)
	}
	for _, want := range []string{`connection "Prod devices" was not deleted: 1 enabled flow uses it`, "a flow's scheduled runs fail",
		"cardflow flows disable NAME", "naming another connection", "cardflow connections delete 'Prod devices' --force --yes"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if !regexp.MustCompile(`\n  nightly \([0-9a-f]+\)\n`).MatchString(errOut) {
		t.Errorf("stderr does not name the flow nightly with its id on a line of its own:\n%s", errOut)
	}
	if strings.Contains(errOut, "ifUnused") {
		t.Errorf("stderr speaks of the API's ifUnused, not the command line's --force:\n%s", errOut)
	}

	code, _, errOut = runCLI(t, s.vars, "connections", "delete", "Prod devices", "--yes", "--json")
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	var je struct {
		Error struct {
			Code     string         `json:"code"`
			Status   int            `json:"status"`
			ExitCode int            `json:"exitCode"`
			Details  map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &je); err != nil || code != exitFailure || je.Error.Code != "conflict" || je.Error.Status != http.StatusConflict ||
		je.Error.ExitCode != exitFailure || je.Error.Details["reasonCode"] != "connection_in_use" {
		t.Errorf("connections delete --json of a connection in use: exit %d, %v; want the server's 409 conflict, connection_in_use, exit 1\n%s", code, err, errOut)
	}

	if code, out, errOut := runCLI(t, s.vars, "connections", "test", "Prod devices"); code != exitOK || !strings.Contains(out, "OK: the connection works") {
		t.Errorf("connections test after the refused deletes: exit %d; want it working\n%s%s", code, out, errOut)
	}
	if n := s.emu.Stats(t)["POST /oauth2/v1/revoke"] - revokes; n != 0 {
		t.Errorf("revocations at the org after the refused deletes: %d; want none", n)
	}

	if code, out, errOut := runCLI(t, s.vars, "connections", "delete", "Spare", "--yes"); code != exitOK || !strings.Contains(out, "Deleted connection Spare") || strings.Contains(out, "Warning") {
		t.Errorf("connections delete of a connection only a disabled flow uses: exit %d; want it deleted without a warning\n%s%s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, s.vars, "connections", "delete", "Prod devices", "--force", "--yes")
	if code != exitOK || !strings.Contains(out, "Deleted connection Prod devices") || !strings.Contains(out, "Warning: the enabled flow nightly uses it") {
		t.Errorf("connections delete --force of a connection in use: exit %d; want it deleted, warning of nightly\n%s%s", code, out, errOut)
	}
	if n := s.emu.Stats(t)["POST /oauth2/v1/revoke"] - revokes; n != 2 {
		t.Errorf("revocations at the org after the two deletes: %d; want 2", n)
	}

	if code, out, errOut := runCLI(t, s.vars, "connections", "delete", "--help"); code != exitOK || !strings.Contains(out, "[--force]") || !strings.Contains(out, "even if enabled flows use it") {
		t.Errorf("connections delete --help: exit %d; want the usage with --force and what it does\n%s%s", code, out, errOut)
	}
}

// TestCLIDeleteOnAnOlderServer: a server older than the command, which
// refuses ifUnused as an unknown query parameter (and deletes without
// asking), is named as such, with --force and the flows list to check
// first, and nothing is deleted.
func TestCLIDeleteOnAnOlderServer(t *testing.T) {
	var mu sync.Mutex
	var deletes []string
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		deletes = append(deletes, r.Method+" "+r.URL.String())
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error": {"code": "invalid_input", "message": "unknown query parameter \"ifUnused\": DELETE /api/v1/connections/{id} takes no query parameters; remove it or fix its spelling",
			"details": {"field": "ifUnused", "remedy": "remove it or fix its spelling"}}}`))
	}))
	defer old.Close()
	code, out, errOut := runCLI(t, map[string]string{"CARDFLOW_SERVER": old.URL, "CARDFLOW_API_TOKEN": e2eToken}, "connections", "delete", "Prod", "--yes")
	if code != exitFailure || !strings.Contains(errOut, "is older than this cardflow") || !strings.Contains(errOut, "cardflow flows list") ||
		!strings.Contains(errOut, "cardflow connections delete Prod --force --yes") {
		t.Errorf("connections delete against an older server: exit %d; want 1, that the server is older, and the flows list and --force\n%s%s", code, out, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(deletes) != 1 || deletes[0] != "DELETE /api/v1/connections/Prod?ifUnused=true" {
		t.Errorf("requests %v; want the one DELETE with ifUnused=true", deletes)
	}
}
