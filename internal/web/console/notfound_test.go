package console_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestNotFoundLeadsBack: a page about a card, connector or flow version
// that does not exist links to where to pick one again (with the nearest
// card when the address is misspelt), not to the connections.
func TestNotFoundLeadsBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	flowID := e.storeFlow(t, versionedFlow("one"))
	c, _, _ := signInHTTP(t, e.url, "/cards")
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/cards/okta-devices/read-devices", []string{"There is no card okta-devices/read-devices.", "Did you mean okta-devices/read-device?",
			`<a href="/cards/okta-devices/read-device">Go to okta-devices/read-device</a>`}},
		{"/cards/okta-devices/nothing-like-it", []string{"There is no card okta-devices/nothing-like-it.", "Pick the card on the Cards page.",
			`<a href="/cards">Go to cards</a>`}},
		{"/connections/new?connector=okta-device", []string{"There is no connector named okta-device.", `<a href="/connections/new">Choose a connector</a>`}},
		{"/flows/" + flowID + "/versions/3", []string{"Flow versioned has no version 3: it has only version 1.", `<a href="/flows/` + flowID + `">Back to versioned</a>`}},
		{"/flows/" + flowID + "/versions/x", []string{"A flow version is a whole number from 1", `<a href="/flows/` + flowID + `">Back to versioned</a>`}},
	} {
		resp, body := get(t, c, e.url+tc.path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d; want 404", tc.path, resp.StatusCode)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %s:\n%s", tc.path, w, body)
			}
		}
		if strings.Contains(body, "Back to connections") {
			t.Errorf("%s sends the reader back to the connections", tc.path)
		}
	}
}

// TestRevokeOfNobodyLeadsBack: the confirmation page of revoking a token
// or a person's access that is not there says so in sentences and links
// to the list to pick again, not to the connections.
func TestRevokeOfNobodyLeadsBack(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	c, _, _ := signInHTTP(t, e.url, "/tokens")
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/tokens/tok_gone/revoke", []string{`No token of yours has the id &#34;tok_gone&#34;: it may have been revoked already.`,
			"Pick the token again on the API tokens page.", `<a href="/tokens">Go to API tokens</a>`}},
		{"/people/left%40example.com/revoke", []string{`Nobody signed in as &#34;left@example.com&#34; has a console session or a personal API token: their access may have ended already.`,
			"Pick the person again on the People page.", `<a href="/people">Go to people</a>`}},
	} {
		resp, body := get(t, c, e.url+tc.path)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d; want 404", tc.path, resp.StatusCode)
		}
		for _, w := range tc.want {
			if !strings.Contains(body, w) {
				t.Errorf("%s lacks %s:\n%s", tc.path, w, body)
			}
		}
		if strings.Contains(body, "Back to connections") {
			t.Errorf("%s sends the reader back to the connections", tc.path)
		}
	}
}
