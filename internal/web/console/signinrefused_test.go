package console_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/web/console"
)

// TestSignInSaysUntilWhenRefused: the wrong token that uses up the
// address's limit, and every sign-in after it, say that the right token is
// refused too, and until when, as the API does; after that time the right
// token signs in.
func TestSignInSaysUntilWhenRefused(t *testing.T) {
	t.Parallel()
	clk := emutest.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	ts := bareConsole(t, func(c *console.Console) { c.Now = clk.Now })
	c := client(t)
	signIn := func(token string) (int, string) {
		t.Helper()
		_, body := get(t, c, ts.URL+"/signin")
		resp, body := post(t, c, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {token}}, nil)
		return resp.StatusCode, body
	}
	for i := range 19 {
		code, body := signIn(fmt.Sprintf("wrong-%d", i))
		if code != http.StatusUnauthorized || !strings.Contains(body, "That is not this server&#39;s API token.") || strings.Contains(body, "refused") {
			t.Fatalf("wrong token %d: %d; want 401 with the usual message\n%s", i+1, code, body)
		}
		clk.Advance(time.Second)
	}
	const until = "refused until 10:01:00 UTC"
	code, body := signIn("wrong-20")
	if code != http.StatusUnauthorized || !strings.Contains(body, "one too many from your address") || !strings.Contains(body, "with the right token too, is "+until) {
		t.Errorf("the 20th wrong token: %d; want 401 saying the right token is %s\n%s", code, until, body)
	}
	clk.Advance(40*time.Second + 500*time.Millisecond)
	code, body = signIn(testToken)
	if code != http.StatusTooManyRequests || !strings.Contains(body, "with the right token too, is "+until) || strings.Contains(body, "Wait a minute") {
		t.Errorf("the right token half a second before the end: %d; want 429 saying it is %s\n%s", code, until, body)
	}
	clk.Advance(500 * time.Millisecond)
	if code, body := signIn(testToken); code != http.StatusSeeOther {
		t.Errorf("the right token once the refusal ended: %d; want 303 (signed in)\n%s", code, body)
	}
}

// TestSignInLockoutNamesWhatWasCounted: an address locked out by refused
// single sign-ons is told so on the token sign-in page, and by both when
// both were counted, as the API's refusal names them, where the page said
// "Too many wrong API tokens" of sign-ins that sent no token.
func TestSignInLockoutNamesWhatWasCounted(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		counts []access.Failure
		want   string
	}{
		{"refused single sign-ons", []access.Failure{access.RefusedSignIn}, "Too many refused single sign-ons from your address"},
		{"both", []access.Failure{access.WrongToken, access.RefusedSignIn}, "Too many wrong API tokens and refused single sign-ons from your address"},
		{"wrong tokens", []access.Failure{access.WrongToken}, "Too many wrong API tokens from your address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lim := &access.Limiter{}
			for i := range 20 {
				lim.Fail("127.0.0.1", now, tc.counts[i%len(tc.counts)])
			}
			ts := bareConsole(t, func(c *console.Console) { c.Now = func() time.Time { return now }; c.Limiter = lim })
			c := client(t)
			_, page := get(t, c, ts.URL+"/signin")
			resp, body := post(t, c, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, page)}, "token": {testToken}}, nil)
			if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, tc.want+": every sign-in from it, with the right token too, is refused until 10:01:00 UTC") {
				t.Errorf("the right token from a locked-out address: %d; want 429 saying %q and until when\n%s", resp.StatusCode, tc.want, body)
			}
		})
	}
}
