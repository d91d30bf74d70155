package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestCLIRefusedTokenRole: a command that a personal API token's role may
// not use says that a token keeps the role it was created with and to use
// one of the role it needs, where it said to ask a cardflow admin for the
// role, which no admin can give a token.
func TestCLIRefusedTokenRole(t *testing.T) {
	s := startServerWith(t, oktaemu.Config{Devices: 2})
	s.connect(t, "Demo org")
	code, out, errOut := runCLI(t, s.vars, "tokens", "create", "--name", "reader", "--role", "viewer", "--json")
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &tok); code != exitOK || err != nil || tok.Token == "" {
		t.Fatalf("tokens create: exit %d %v\n%s%s", code, err, out, errOut)
	}
	vars := map[string]string{"CARDFLOW_SERVER": s.vars["CARDFLOW_SERVER"], "CARDFLOW_API_TOKEN": tok.Token}
	code, out, errOut = runCLI(t, vars, "run", "read-device", "--connection", "Demo org", "--input", "deviceId=guo1")
	const want = "\nRemedy: a token keeps the role it was created with: use a token of the operator role, created by someone who has it (cardflow tokens create --role operator), or ask a cardflow admin to do it\n"
	if code != exitFailure || !strings.Contains(errOut, want) {
		t.Errorf("run with a viewer token: exit %d; want %d and %q\n%s%s", code, exitFailure, want, out, errOut)
	}
}
