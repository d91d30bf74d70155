package app

// Who has access, and ending one person's access at once: single sign-on
// gives a role at sign-in, and an admin revoking the person ends their
// console sessions and every token they made (cardflow login's among
// them); their next sign-in reads their groups afresh.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// consoleBrowser is a browser signed in to a console (its cookie jar holds
// the session); it follows no redirects.
type consoleBrowser struct {
	t    *testing.T
	http *http.Client
}

// ssoBrowser signs login in to h's console with single sign-on.
func ssoBrowser(t *testing.T, h *harness, login string) *consoleBrowser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &consoleBrowser{t: t, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	code, loc, _ := b.get(h.url + "/signin/sso")
	if code != http.StatusSeeOther {
		t.Fatalf("GET /signin/sso: status %d", code)
	}
	callback := h.emu.SignIn(t, loc, login, oktaemu.DemoPassword)
	if code, _, body := b.get(callback.String()); code != http.StatusSeeOther {
		t.Fatalf("sign-in callback of %s: status %d\n%s", login, code, body)
	}
	return b
}

// get fetches u with the browser's cookies: the status, Location and body.
func (b *consoleBrowser) get(u string) (int, string, string) {
	b.t.Helper()
	resp, err := b.http.Get(u)
	if err != nil {
		b.t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(body)
}

// signedIn reports whether the browser's session lets it see the console
// page at u, failing on anything but the page or a redirect to sign in.
func (b *consoleBrowser) signedIn(u string) bool {
	b.t.Helper()
	code, loc, body := b.get(u)
	switch {
	case code == http.StatusOK:
		return true
	case code == http.StatusSeeOther && strings.HasPrefix(loc, "/signin"):
		return false
	}
	b.t.Fatalf("GET %s: status %d, Location %q\n%s", u, code, loc, body)
	return false
}

// roleTag is the role the console's header shows.
var roleTag = regexp.MustCompile(`Signed in as <strong>[^<]*</strong> · <span class="tag">([a-z]+)</span>`)

// cliLogin signs login in as cardflow login does (a loopback redirect,
// PKCE) and returns the personal API token the server answers.
func cliLogin(t *testing.T, h *harness, login string) tokenJSON {
	t.Helper()
	var tok tokenJSON
	if code, data := h.callWith("", "POST", "/api/v1/auth/cli-token", json.RawMessage(cliLoginCode(t, h, login)), &tok); code != http.StatusCreated {
		t.Fatalf("cli-token for %s: status %d\n%s", login, code, data)
	}
	return tok
}

type personJSON struct {
	Login    string `json:"login"`
	Role     string `json:"role"`
	Sessions struct {
		Count    int        `json:"count"`
		LastSeen *time.Time `json:"lastSeen"`
	} `json:"sessions"`
	Tokens struct {
		Count         int        `json:"count"`
		SoonestExpiry *time.Time `json:"soonestExpiry"`
		LatestExpiry  *time.Time `json:"latestExpiry"`
	} `json:"tokens"`
	LastActivity time.Time `json:"lastActivity"`
	EnabledFlows []string  `json:"enabledFlows"`
	Subject      string    `json:"subject"`
	Issuer       string    `json:"issuer"`
}

// people lists who has access, following every page of size limit.
func (h *harness) people(token string, limit int) map[string]personJSON {
	h.t.Helper()
	out := map[string]personJSON{}
	next := "/api/v1/people?limit=" + strconv.Itoa(limit)
	for next != "" {
		var page struct {
			People []personJSON `json:"people"`
			Next   string       `json:"next"`
		}
		if code, data := h.callWith(token, "GET", next, nil, &page); code != http.StatusOK {
			h.t.Fatalf("GET %s: status %d\n%s", next, code, data)
		}
		for _, p := range page.People {
			if _, dup := out[p.Login]; dup {
				h.t.Errorf("%s is listed twice across pages", p.Login)
			}
			out[p.Login] = p
		}
		if len(page.People) > limit {
			h.t.Errorf("a page of limit %d holds %d people", limit, len(page.People))
		}
		next = page.Next
	}
	return out
}

func TestPeopleRevokeAccess(t *testing.T) {
	t.Parallel()
	h := startSSOHarness(t, nil)

	// Ada (admin), and Riley (operator) on the console and with cardflow
	// login, whose token makes a token of its own.
	ada := ssoBrowser(t, h, oktaemu.AdminLogin)
	riley := ssoBrowser(t, h, oktaemu.ReadOnlyLogin)
	rileyCLI := cliLogin(t, h, oktaemu.ReadOnlyLogin)
	var rileyCI tokenJSON
	if code, data := h.callWith(rileyCLI.Token, "POST", "/api/v1/tokens", map[string]any{"name": "ci", "role": "viewer"}, &rileyCI); code != http.StatusCreated {
		t.Fatalf("riley's token making a token: status %d\n%s", code, data)
	}
	adaCLI := cliLogin(t, h, oktaemu.AdminLogin)

	people := h.people(testAPIToken, 1) // a page each: the cursor is followed
	if len(people) != 2 {
		t.Fatalf("people with access: %v; want ada and riley", people)
	}
	if p := people[oktaemu.ReadOnlyLogin]; p.Role != "operator" || p.Sessions.Count != 1 || p.Sessions.LastSeen == nil ||
		p.Tokens.Count != 2 || p.Tokens.SoonestExpiry == nil || p.Tokens.LatestExpiry == nil || !p.Tokens.LatestExpiry.Equal(rileyCLI.ExpiresAt) || p.LastActivity.IsZero() {
		t.Errorf("riley's access: %+v; want operator, 1 session, 2 tokens ending by %v", p, rileyCLI.ExpiresAt)
	}
	if p := people[oktaemu.AdminLogin]; p.Role != "admin" || p.Sessions.Count != 1 || p.Tokens.Count != 1 {
		t.Errorf("ada's access: %+v; want admin, 1 session, 1 token", p)
	}
	var e apiErr
	if code, data := h.callWith(rileyCLI.Token, "GET", "/api/v1/people", nil, &e); code != http.StatusForbidden || e.Error.Details["requiredRole"] != "admin" {
		t.Errorf("an operator listing people: status %d; want 403 naming the admin role\n%s", code, data)
	}

	// Riley leaves the operators at the org: what cardflow gave them at
	// sign-in still works, until an admin revokes it.
	h.emu.SetGroupMember(t, oktaemu.OperatorsGroup, oktaemu.ReadOnlyLogin, false)
	h.emu.SetGroupMember(t, oktaemu.ViewersGroup, oktaemu.ReadOnlyLogin, true)
	if !riley.signedIn(h.url + "/connections") {
		t.Fatal("riley's session ended before the revocation")
	}
	var rev struct {
		Login         string   `json:"login"`
		SessionsEnded int      `json:"sessionsEnded"`
		TokensRevoked int      `json:"tokensRevoked"`
		EnabledFlows  []string `json:"enabledFlows"`
	}
	if code, data := h.callWith(adaCLI.Token, "POST", "/api/v1/people/"+url.PathEscape(oktaemu.ReadOnlyLogin)+"/revoke", nil, &rev); code != http.StatusOK ||
		rev.Login != oktaemu.ReadOnlyLogin || rev.SessionsEnded != 1 || rev.TokensRevoked != 2 {
		t.Fatalf("ada revoking riley: status %d %+v; want 200, 1 session ended, 2 tokens revoked\n%s", code, rev, data)
	}
	if riley.signedIn(h.url + "/connections") {
		t.Error("riley's console session works after the revocation")
	}
	for name, tok := range map[string]string{"cardflow login's": rileyCLI.Token, "the one it made": rileyCI.Token} {
		if code, _ := h.callWith(tok, "GET", "/api/v1/whoami", nil, nil); code != http.StatusUnauthorized {
			t.Errorf("riley's token (%s) after the revocation: status %d; want 401", name, code)
		}
	}
	if !ada.signedIn(h.url + "/connections") {
		t.Error("ada's session ended with riley's")
	}
	if _, ok := h.people(testAPIToken, 100)[oktaemu.ReadOnlyLogin]; ok {
		t.Error("riley is still listed as having access")
	}
	var summaries []string
	for _, ev := range h.audit("action=person.revoke") {
		actor, _ := ev["actor"].(map[string]any)
		summaries = append(summaries, actor["type"].(string)+" "+actor["login"].(string)+": "+ev["inputSummary"].(string)+" "+ev["outcome"].(string))
	}
	if want := "token " + oktaemu.AdminLogin + ": " + oktaemu.ReadOnlyLogin + ": 1 console session ended, 2 tokens revoked (cardflow login, ci), its binding to " + h.emu.URL + " forgotten success"; len(summaries) != 1 || summaries[0] != want {
		t.Errorf("person.revoke audit events %q; want [%q]", summaries, want)
	}

	// Signing in again: the role the groups give now.
	riley = ssoBrowser(t, h, oktaemu.ReadOnlyLogin)
	_, _, page := riley.get(h.url + "/connections")
	if m := roleTag.FindStringSubmatch(page); m == nil || m[1] != "viewer" {
		t.Errorf("riley signed in again with the role %v; want viewer", m)
	}
	if p := h.people(testAPIToken, 100)[oktaemu.ReadOnlyLogin]; p.Role != "viewer" || p.Sessions.Count != 1 || p.Tokens.Count != 0 {
		t.Errorf("riley's access after signing in again: %+v; want viewer with 1 session and no token", p)
	}

	t.Run("refusals", func(t *testing.T) {
		tests := []struct {
			name, token, path string
			status            int
			code, message     string
		}{
			{"nobody by that login", testAPIToken, "/api/v1/people/nobody@example.com/revoke", 404, "not_found", `nobody signed in as "nobody@example.com"`},
			{"oneself unconfirmed", adaCLI.Token, "/api/v1/people/" + oktaemu.AdminLogin + "/revoke", 409, "conflict", "is you"},
			{"self neither true nor false", adaCLI.Token, "/api/v1/people/" + oktaemu.AdminLogin + "/revoke?self=yes", 400, "invalid_input", "self must be true or false"},
			{"an unknown parameter", testAPIToken, "/api/v1/people?after=x", 400, "invalid_input", `unknown query parameter "after"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var e apiErr
				method := "POST"
				if strings.HasPrefix(tt.path, "/api/v1/people?") {
					method = "GET"
				}
				if code, data := h.callWith(tt.token, method, tt.path, nil, &e); code != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.message) {
					t.Errorf("status %d %s; want %d %s saying %q\n%s", code, e.Error.Code, tt.status, tt.code, tt.message, data)
				}
			})
		}
		if !ada.signedIn(h.url + "/connections") {
			t.Error("a refused revocation of oneself ended ada's session")
		}
	})

	t.Run("oneself, confirmed", func(t *testing.T) {
		// A flow Ada enabled runs as her, and goes on doing so after her
		// access is revoked: the answer names it.
		h.connect("Prod")
		var put putAnswer
		if code, data := h.postYAML("/api/v1/flows", scheduledFlow, &put); code != http.StatusCreated {
			t.Fatalf("store a scheduled flow: %d %s", code, data)
		}
		if code, data := h.callWith(adaCLI.Token, "POST", "/api/v1/flows/"+put.Flow.ID+"/enable", nil, nil); code != http.StatusOK {
			t.Fatalf("ada enabling the flow: %d %s", code, data)
		}
		if p := h.people(testAPIToken, 100)[oktaemu.AdminLogin]; len(p.EnabledFlows) != 1 || p.EnabledFlows[0] != put.Flow.Name {
			t.Errorf("ada's enabled flows in the people list: %v; want [%s]", p.EnabledFlows, put.Flow.Name)
		}
		if code, data := h.callWith(adaCLI.Token, "POST", "/api/v1/people/"+oktaemu.AdminLogin+"/revoke?self=true", nil, &rev); code != http.StatusOK ||
			rev.SessionsEnded != 1 || rev.TokensRevoked != 1 || len(rev.EnabledFlows) != 1 || rev.EnabledFlows[0] != put.Flow.Name {
			t.Fatalf("ada revoking herself with self=true: status %d %+v\n%s", code, rev, data)
		}
		if ada.signedIn(h.url + "/connections") {
			t.Error("ada's session works after she revoked her own access")
		}
		// The bootstrap admin is left.
		if code, _ := h.callWith(testAPIToken, "GET", "/api/v1/people", nil, nil); code != http.StatusOK {
			t.Errorf("the API token after ada revoked herself: status %d; want 200", code)
		}
	})
}
