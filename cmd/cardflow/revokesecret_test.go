package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestTokensRevokeTakesTheTokenItself: tokens revoke given a personal API
// token itself (found in a log, say) revokes it, asking its id with it
// rather than sending it in an address; a token that is not the caller's
// to revoke revokes itself; one no longer accepted is said to be so.
// Before, the token was sent as an id, refused as unknown, and kept in the
// refusal, the audit log every viewer reads, and the server's log.
func TestTokensRevokeTakesTheTokenItself(t *testing.T) {
	s := startServer(t)
	create := func(vars map[string]string, name, role string) (id, secret string) {
		t.Helper()
		code, out, errOut := runCLI(t, vars, "tokens", "create", "--name", name, "--role", role, "--json")
		var tok struct {
			ID    string `json:"id"`
			Token string `json:"token"`
		}
		if code != exitOK || json.Unmarshal([]byte(out), &tok) != nil || tok.Token == "" {
			t.Fatalf("tokens create %s: exit %d\n%s%s", name, code, out, errOut)
		}
		return tok.ID, tok.Token
	}
	accepted := func(secret string) bool {
		req, _ := http.NewRequest("GET", s.url+"/api/v1/whoami", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}

	leakedID, leaked := create(s.vars, "laptop", "admin")
	code, out, errOut := runCLI(t, s.vars, "tokens", "revoke", leaked, "--yes")
	if want := "Revoked the token " + leakedID + " (token laptop of the bootstrap admin).\n"; code != exitOK || out != want {
		t.Errorf("tokens revoke TOKEN: exit %d\n%s%s\nwant %q", code, out, errOut, want)
	}
	if accepted(leaked) {
		t.Errorf("the token is accepted after tokens revoke TOKEN")
	}

	// Again: nothing to revoke.
	code, out, errOut = runCLI(t, s.vars, "tokens", "revoke", leaked, "--yes")
	if code != exitFailure || !strings.Contains(errOut, "the token given (cfp_…) is not accepted by "+s.url+", so there is nothing to revoke: the personal API token (cfp_…) is not known to this server: it was revoked") {
		t.Errorf("tokens revoke of a revoked TOKEN: exit %d\n%s%s; want it said to be no longer accepted", code, out, errOut)
	}

	// A viewer token may not revoke an admin token: it revokes itself.
	_, reader := create(s.vars, "reader", "viewer")
	ciID, ci := create(s.vars, "ci", "admin")
	asReader := map[string]string{"CARDFLOW_SERVER": s.url, "CARDFLOW_API_TOKEN": reader}
	code, out, errOut = runCLI(t, asReader, "tokens", "revoke", ci, "--yes")
	if !strings.Contains(out, "Revoked the token "+ciID+" (token ci of the bootstrap admin) with the token itself") || code != exitOK {
		t.Errorf("a viewer's tokens revoke of an admin TOKEN: exit %d\n%s%s; want it revoked by itself", code, out, errOut)
	}
	if accepted(ci) || !accepted(reader) {
		t.Errorf("after a viewer's tokens revoke TOKEN: the token accepted %v, the viewer's %v; want false, true", accepted(ci), accepted(reader))
	}

	status, audit := s.api(t, "GET", "/api/v1/audit?action=token.revoke", "")
	for _, secret := range []string{leaked, ci} {
		if status != http.StatusOK || strings.Contains(audit, strings.TrimPrefix(secret, "cfp_")) {
			t.Errorf("audit of token.revoke: %d; holds a token:\n%s", status, audit)
		}
	}
	if !strings.Contains(audit, "token laptop (admin) of the bootstrap admin") || !strings.Contains(audit, "token ci (admin) of the bootstrap admin") {
		t.Errorf("audit of token.revoke:\n%s\nwant both revokes naming their tokens", audit)
	}
}
