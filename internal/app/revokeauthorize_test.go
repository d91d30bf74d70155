package app

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestPeopleRevokeEndsTheirAuthorizationsInFlight: revoking a person's
// access also ends the authorizations of connections they started and had
// not finished (a new connection, a reauthorization), so that their
// authorize URLs, which they still hold, no longer authorize anything:
// neither the new connection nor a reauthorization of a connection others
// use. Someone else's authorization in flight finishes as usual.
func TestPeopleRevokeEndsTheirAuthorizationsInFlight(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)
	prod := h.connect("Prod")
	before := h.connection(prod.ID)

	riley := cliLogin(t, h, oktaemu.AdminLogin)
	var created struct {
		Connection   connJSON `json:"connection"`
		AuthorizeURL string   `json:"authorizeUrl"`
	}
	body := map[string]any{"connector": "okta-devices", "nickname": "Riley's", "domain": h.emu.URL, "clientId": oktaemu.DemoClientID, "clientSecret": oktaemu.DemoClientSecret}
	if code, data := h.callWith(riley.Token, "POST", "/api/v1/connections", body, &created); code != http.StatusCreated {
		t.Fatalf("create a connection with the person's token: %d %s", code, data)
	}
	var reauth struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if code, data := h.callWith(riley.Token, "POST", "/api/v1/connections/"+prod.ID+"/reauthorize", map[string]any{}, &reauth); code != http.StatusOK {
		t.Fatalf("reauthorize with the person's token: %d %s", code, data)
	}
	// The bootstrap admin's authorization, in flight at the same time.
	others, othersURL := h.create("Others", oktaemu.DemoClientSecret, nil)

	if code, data := h.call("POST", "/api/v1/people/"+url.PathEscape(oktaemu.AdminLogin)+"/revoke", nil, nil); code != http.StatusOK {
		t.Fatalf("revoke the person's access: %d %s", code, data)
	}

	for name, u := range map[string]string{"the new connection's": created.AuthorizeURL, "the reauthorization's": reauth.AuthorizeURL} {
		code, page := h.signIn(u, oktaemu.AdminLogin)
		if code == http.StatusOK && strings.Contains(page, "Connected") {
			t.Errorf("%s authorize URL of the revoked person authorized after the revocation: %d\n%s", name, code, page)
		}
	}
	if got := h.connection(created.Connection.ID); got.Status == "active" {
		t.Errorf("the revoked person's new connection: status %q; want it not authorized", got.Status)
	}
	if got := h.connection(prod.ID); got.Status != "active" || got.AuthorizedBy == nil || before.AuthorizedBy == nil || got.AuthorizedBy.Login != before.AuthorizedBy.Login {
		t.Errorf("Prod after the revoked person's reauthorization URL was used: %+v; want it active as before", got)
	}
	if code, page := h.signIn(othersURL, oktaemu.AdminLogin); code != http.StatusOK || !strings.Contains(page, "Connected") {
		t.Errorf("someone else's authorization in flight: %d; want it to finish\n%s", code, page)
	}
	if got := h.connection(others.ID); got.Status != "active" {
		t.Errorf("someone else's connection: status %q; want active", got.Status)
	}
}
