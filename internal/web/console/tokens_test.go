package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestTokenAuditSummaries: the audit events of the console's Tokens page
// name a token as the API's do, "token NAME (ROLE) of OWNER", and keep what
// the form sent to the API's length.
func TestTokenAuditSummaries(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	c, _, csrf := signInHTTP(t, e.url, "/tokens")
	events := func(action string) []*store.AuditEvent {
		t.Helper()
		evs, err := e.store.ListAudit(ctx, store.AuditFilter{Action: action})
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}

	resp, _ := post(t, c, e.url+"/tokens", url.Values{"csrf": {csrf}, "name": {"nightly export"}, "role": {strings.Repeat("r", 5000)}, "expiresIn": {"24h"}}, nil)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a token with a 5000-character role: status %d; want 400", resp.StatusCode)
	}
	if evs := events("token.create"); len(evs) != 1 || evs[0].Outcome != "failure" || len(evs[0].InputSummary) > 200 {
		t.Errorf("token.create events %+v; want one failure with a summary of at most 200 bytes", evs)
	}

	resp, _ = post(t, c, e.url+"/tokens", url.Values{"csrf": {csrf}, "name": {"nightly export"}, "role": {"viewer"}, "expiresIn": {"24h"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create a token: status %d; want 303", resp.StatusCode)
	}
	toks, err := e.store.ListAPITokens(ctx, "", "")
	if err != nil || len(toks) != 1 {
		t.Fatalf("tokens %v, %v; want the one created", toks, err)
	}
	resp, _ = post(t, c, e.url+"/tokens/"+toks[0].ID+"/revoke", url.Values{"csrf": {csrf}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke the token: status %d; want 303", resp.StatusCode)
	}
	want := "token nightly export (viewer) of the bootstrap admin"
	if evs := events("token.revoke"); len(evs) != 1 || evs[0].InputSummary != want {
		var got []string
		for _, ev := range evs {
			got = append(got, ev.InputSummary)
		}
		t.Errorf("token.revoke summaries %q; want [%q], as the API writes it", got, want)
	}
}

// TestRevokeTellsOfTheTokensCreatedWithIt: revoking a token on the Tokens
// page revokes the tokens created with it too, and the page says so.
func TestRevokeTellsOfTheTokensCreatedWithIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	c, _, csrf := signInHTTP(t, e.url, "/tokens")
	now := time.Now()
	parent := &store.APIToken{Name: "laptop", Hash: "h-laptop", Role: "admin", OwnerType: store.ActorBootstrap, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.store.CreateAPIToken(ctx, parent); err != nil {
		t.Fatal(err)
	}
	child := &store.APIToken{Name: "ci", Hash: "h-ci", Role: "viewer", OwnerType: store.ActorBootstrap, CreatedAt: now, ExpiresAt: now.Add(time.Hour), ParentID: parent.ID}
	if err := e.store.CreateAPIToken(ctx, child); err != nil {
		t.Fatal(err)
	}
	resp, _ := post(t, c, e.url+"/tokens/"+parent.ID+"/revoke", url.Values{"csrf": {csrf}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke the token: status %d; want 303", resp.StatusCode)
	}
	if toks, err := e.store.ListAPITokens(ctx, "", ""); err != nil || len(toks) != 0 {
		t.Errorf("tokens after revoking laptop: %v, %v; want none (ci was created with it)", toks, err)
	}
	_, page := get(t, c, e.url+"/tokens")
	if want := "Revoked the token laptop and the token created with it, ci."; !strings.Contains(page, want) {
		t.Errorf("the Tokens page after the revocation does not say %q:\n%s", want, page)
	}
}

// TestTokenLifetimesReadInDays: the Tokens form offers how long a new
// token lasts in days, not as Go durations ("720h"), and a choice sent
// lasts that long.
func TestTokenLifetimesReadInDays(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, csrf := signInHTTP(t, e.url, "/tokens")
	_, body := get(t, c, e.url+"/tokens")
	sel := regexp.MustCompile(`(?s)<select id="token-expires".*?</select>`).FindString(body)
	var labels []string
	for _, m := range regexp.MustCompile(`<option value="([^"]+)"( selected)?>([^<]*)</option>`).FindAllStringSubmatch(sel, -1) {
		labels = append(labels, m[3]+m[2])
	}
	if want := []string{"1 day", "7 days", "30 days selected", "90 days", "365 days"}; !slices.Equal(labels, want) {
		t.Errorf("the lifetimes offered read %q; want %q", labels, want)
	}
	resp, _ := post(t, c, e.url+"/tokens", url.Values{"csrf": {csrf}, "name": {"quarterly audit"}, "role": {"viewer"}, "expiresIn": {"2160h"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create a token: status %d; want 303", resp.StatusCode)
	}
	toks, err := e.store.ListAPITokens(t.Context(), "", "")
	if err != nil || len(toks) != 1 {
		t.Fatalf("tokens %v, %v; want the one created", toks, err)
	}
	if got := toks[0].ExpiresAt.Sub(toks[0].CreatedAt); got != 90*24*time.Hour {
		t.Errorf("the token chosen to last 90 days lasts %v", got)
	}
}

// TestNewTokenWaitsSealed: between the form that creates a token and the
// Tokens page it redirects to, the new token waits in a cookie of the
// browser, sealed for that session only, for the Tokens page alone; not in
// the sessions table, which the person's other tabs write back with every
// request (a tab that read the session before the form was sent must not
// take the token away). The page shows it once and deletes the cookie.
func TestNewTokenWaitsSealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, csrf := signInHTTP(t, e.url, "/tokens")
	sessions, err := e.store.ListSessionsOf(t.Context(), store.Actor{Type: store.ActorBootstrap})
	if err != nil || len(sessions) != 1 {
		t.Fatalf("sessions %v, %v; want one", sessions, err)
	}
	otherTab := sessions[0] // as another tab's request read it

	resp, _ := post(t, c, e.url+"/tokens", url.Values{"csrf": {csrf}, "name": {"ci"}, "role": {"viewer"}, "expiresIn": {"24h"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/tokens" {
		t.Fatalf("create a token: status %d to %q; want 303 to /tokens", resp.StatusCode, resp.Header.Get("Location"))
	}
	var kept *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == "cardflow_new_token" {
			kept = ck
		}
	}
	if kept == nil || kept.Path != "/tokens" || !kept.HttpOnly || kept.MaxAge <= 0 || kept.MaxAge > 600 {
		t.Fatalf("the new token's cookie is %+v; want an HttpOnly cookie for /tokens of at most 10 minutes", kept)
	}
	if err := e.store.TouchSession(t.Context(), otherTab.ID, otherTab.LastSeen); err != nil { // the other tab's request ends
		t.Fatal(err)
	}

	// Another session of the same person cannot open it.
	other, _, _ := signInHTTP(t, e.url, "/tokens")
	u, _ := url.Parse(e.url + "/tokens")
	other.Jar.SetCookies(u, []*http.Cookie{{Name: kept.Name, Value: kept.Value, Path: "/tokens"}})
	if _, body := get(t, other, e.url+"/tokens"); strings.Contains(body, "cfp_") {
		t.Errorf("another session's Tokens page shows the new token:\n%s", body)
	}

	resp, body := get(t, c, e.url+"/tokens")
	tok := regexp.MustCompile(`cfp_[A-Za-z0-9_-]+`).FindString(body)
	if tok == "" {
		t.Fatalf("the Tokens page after the redirect shows no new token:\n%s", body)
	}
	if strings.Contains(kept.Value, strings.TrimPrefix(tok, "cfp_")) {
		t.Errorf("the cookie holds the new token readable: %s", kept.Value)
	}
	if deleted := resp.Cookies(); len(deleted) != 1 || deleted[0].Name != "cardflow_new_token" || deleted[0].MaxAge >= 0 {
		t.Errorf("the Tokens page that shows the token sets cookies %+v; want the new token's deleted", deleted)
	}
	if _, body := get(t, c, e.url+"/tokens"); strings.Contains(body, tok) {
		t.Error("the Tokens page shows the new token a second time")
	}
	if strings.Contains(e.logs.String(), tok) {
		t.Error("the server log holds the new token")
	}
	sessions, err = e.store.ListSessionsOf(t.Context(), store.Actor{Type: store.ActorBootstrap})
	for _, ss := range sessions {
		if ss.Flashes != 0 {
			t.Errorf("a session holds %d messages; want none", ss.Flashes)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestTokenFormOffersLeastRoleFirst: the Tokens form picks the least
// role (viewer) for a new token, whoever fills it in, and offers no role
// above the person's own.
func TestTokenFormOffersLeastRoleFirst(t *testing.T) {
	t.Parallel()
	e := newSSOEnv(t)
	bootstrap, _, _ := signInHTTP(t, e.url, "/tokens")
	for _, tc := range []struct {
		who  string
		c    *http.Client
		want []string
	}{
		{"the bootstrap admin", bootstrap, []string{"viewer selected", "operator", "admin"}},
		{"an admin", ssoSignInHTTP(t, e, oktaemu.AdminLogin), []string{"viewer selected", "operator", "admin"}},
		{"an operator", ssoSignInHTTP(t, e, oktaemu.ReadOnlyLogin), []string{"viewer selected", "operator"}},
		{"a viewer", ssoSignInHTTP(t, e, oktaemu.UserLogin), []string{"viewer selected"}},
	} {
		_, body := get(t, tc.c, e.url+"/tokens")
		sel := regexp.MustCompile(`(?s)<select id="token-role".*?</select>`).FindString(body)
		var got []string
		for _, m := range regexp.MustCompile(`<option value="([^"]+)"( selected)?>`).FindAllStringSubmatch(sel, -1) {
			got = append(got, m[1]+m[2])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("the roles the Tokens form offers %s read %q; want %q", tc.who, got, tc.want)
		}
	}
}

// TestTokenLifetimeRefusalIsAudited: a token asked for with a lifetime
// that is none (not a duration, or 0, which the form never sends) is
// audited as a token.create failure naming who tried and what was sent,
// as the API audits it, where it was refused before anything was audited.
func TestTokenLifetimeRefusalIsAudited(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, csrf := signInHTTP(t, e.url, "/tokens")
	for _, tc := range []struct{ expiresIn, summary, why string }{
		{"soon", "token ci (viewer), expiresIn soon", `expiresIn "soon" is not a duration`},
		{"0", "token ci (viewer), expiresIn 0", `expiresIn "0" is no lifetime`},
	} {
		resp, body := post(t, c, e.url+"/tokens", url.Values{"csrf": {csrf}, "name": {"ci"}, "role": {"viewer"}, "expiresIn": {tc.expiresIn}}, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "Choose how long the token lasts.") {
			t.Fatalf("expiresIn %q: status %d; want 400 asking how long the token lasts\n%s", tc.expiresIn, resp.StatusCode, body)
		}
		evs, err := e.store.ListAudit(t.Context(), store.AuditFilter{Action: store.ActionTokenCreate, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 1 || evs[0].Outcome != "failure" || evs[0].Actor.Type != store.ActorBootstrap || evs[0].InputSummary != tc.summary || evs[0].Error != tc.why {
			t.Errorf("expiresIn %q: token.create events %+v; want a failure of the bootstrap admin summarized %q, error %q", tc.expiresIn, evs, tc.summary, tc.why)
		}
	}
	if toks, err := e.store.ListAPITokens(t.Context(), "", ""); err != nil || len(toks) != 0 {
		t.Errorf("tokens %v, %v; want none", toks, err)
	}
}

// TestTokenFormWritesTheLifetimeBack: the Tokens form sent back with an
// error shows the lifetime as it was sent (5h, -5h), selected, where it
// showed the first of its choices (1 day) and wrote a refused one as Go
// prints a duration (-5h0m0s); a refused lifetime is told at the Expires
// in field, where it was told at the name's, which was marked invalid.
func TestTokenFormWritesTheLifetimeBack(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, csrf := signInHTTP(t, e.url, "/tokens")
	selected := regexp.MustCompile(`<option value="([^"]*)" selected>([^<]*)</option>`)
	for _, tc := range []struct {
		name, expiresIn, option, label, fieldError string
	}{
		{name: "", expiresIn: "5h", option: "5h", label: "5h"},
		{name: "", expiresIn: " 48h ", option: "48h", label: "2 days"},
		{name: "", expiresIn: "720h", option: "720h", label: "30 days"},
		{name: "ci", expiresIn: "-5h", option: "-5h", label: "-5h", fieldError: "Expires in -5h is shorter than a token may last: from 1m to 8784h (366 days); choose one of the lifetimes offered."},
		{name: "ci", expiresIn: "9000h", option: "9000h", label: "375 days", fieldError: "Expires in 9000h is longer than a token may last"},
		{name: "ci", expiresIn: "9000h0m", option: "9000h0m", label: "375 days", fieldError: "Expires in 9000h0m is longer than a token may last"},
		{name: "ci", expiresIn: "527100m", option: "527100m", label: "527100m", fieldError: "Expires in 527100m is longer than a token may last"},
	} {
		resp, body := post(t, c, e.url+"/tokens", url.Values{"csrf": {csrf}, "name": {tc.name}, "role": {"viewer"}, "expiresIn": {tc.expiresIn}}, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("name %q, expiresIn %q: status %d; want 400", tc.name, tc.expiresIn, resp.StatusCode)
		}
		var got [][]string
		for _, m := range selected.FindAllStringSubmatch(body, -1) {
			got = append(got, m[1:])
		}
		if !slices.ContainsFunc(got, func(m []string) bool { return m[0] == tc.option && m[1] == tc.label }) {
			t.Errorf("expiresIn %q: selected options %q; want %q labelled %q", tc.expiresIn, got, tc.option, tc.label)
		}
		if strings.Contains(body, "0m0s") {
			t.Errorf("expiresIn %q: the page writes a duration as Go prints it (0m0s)", tc.expiresIn)
		}
		if tc.fieldError == "" {
			continue
		}
		m := regexp.MustCompile(`<p class="field-error" id="token-expires-error">([^<]*)</p>`).FindStringSubmatch(body)
		if m == nil || !strings.Contains(m[1], tc.fieldError) {
			t.Errorf("expiresIn %q: the Expires in field's error is %q; want it to say %q", tc.expiresIn, m, tc.fieldError)
		}
		if strings.Contains(body, `id="token-error"`) || !strings.Contains(body, `name="expiresIn" aria-invalid="true"`) {
			t.Errorf("expiresIn %q: the error is not at the Expires in field alone\n%s", tc.expiresIn, body)
		}
	}
}
