package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLIOperatorRunsStoredDocument: an operator may run flows but not
// store them. flows run FILE stores the document first, which refused an
// operator with "ask for the admin role" even for the document stored as
// the flow's latest version; that one now runs, and another names the
// commands that do (an admin's flows store, then flows run NAME).
func TestCLIOperatorRunsStoredDocument(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Ops")
	dir := t.TempDir()
	file := filepath.Join(dir, "read.yaml")
	doc := "name: ops-search\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Ops\n    input: {status: ACTIVE}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", file); code != exitOK {
		t.Fatalf("flows store: exit %d\n%s%s", code, out, errOut)
	}
	status, body := s.api(t, "POST", "/api/v1/tokens", `{"name":"op","role":"operator","expiresIn":"1h"}`)
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(body), &tok); status != 201 || err != nil {
		t.Fatalf("create an operator token: %d %s", status, body)
	}
	op := map[string]string{"CARDFLOW_SERVER": s.url, "CARDFLOW_API_TOKEN": tok.Token}

	code, out, errOut := runCLI(t, op, "flows", "run", file)
	if code != exitOK || !strings.Contains(out, "(ops-search, version 1): succeeded") {
		t.Errorf("operator's flows run of the stored document: exit %d; want the run of version 1\n%s%s", code, out, errOut)
	}

	edited := filepath.Join(dir, "edited.yaml")
	if err := os.WriteFile(edited, []byte(doc+"# edited\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runCLI(t, op, "flows", "run", edited)
	if code != exitFailure || !strings.Contains(errOut, "cardflow flows store "+edited) || !strings.Contains(errOut, "cardflow flows run ops-search") {
		t.Errorf("operator's flows run of an edited document: exit %d; want exit 1 naming flows store and flows run ops-search\n%s%s", code, out, errOut)
	}
	_, runs := s.api(t, "GET", "/api/v1/flows/ops-search/versions", "")
	if strings.Contains(runs, `"version": 2`) {
		t.Errorf("the operator's edited document was stored: %s", runs)
	}

	// A viewer may run no flow: the advice to have the document stored
	// and run it by name is not given.
	status, body = s.api(t, "POST", "/api/v1/tokens", `{"name":"view","role":"viewer","expiresIn":"1h"}`)
	if err := json.Unmarshal([]byte(body), &tok); status != 201 || err != nil {
		t.Fatalf("create a viewer token: %d %s", status, body)
	}
	viewer := map[string]string{"CARDFLOW_SERVER": s.url, "CARDFLOW_API_TOKEN": tok.Token}
	code, out, errOut = runCLI(t, viewer, "flows", "run", edited)
	if code != exitFailure || strings.Contains(errOut, "then run it by name") || !strings.Contains(errOut, "Running a flow needs the operator role") {
		t.Errorf("viewer's flows run of a document: exit %d; want exit 1 saying running needs the operator role\n%s%s", code, out, errOut)
	}
}
