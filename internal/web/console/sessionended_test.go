package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/web/console"
)

// TestEndedSessionSaysSo: a browser whose console session ended (here,
// idle past the timeout; a revoke and the session's end alike) is sent to
// the sign-in page saying that its session ended, where the page came up
// without a word, as for a browser that never signed in; the cookie is
// cleared, so the next page says nothing more, nor does a browser that
// never signed in.
func TestEndedSessionSaysSo(t *testing.T) {
	t.Parallel()
	const ended = "Your console session has ended"
	clk := emutest.NewClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	ts := bareConsole(t, func(c *console.Console) { c.Now = clk.Now; c.IdleTimeout = time.Hour })
	// visit follows the redirect to the sign-in page, if any.
	visit := func(c *http.Client) (string, string) {
		t.Helper()
		resp, body := get(t, c, ts.URL+"/nowhere")
		if resp.StatusCode != http.StatusSeeOther {
			return "", body
		}
		loc := resp.Header.Get("Location")
		_, body = get(t, c, ts.URL+loc)
		return loc, body
	}
	if loc, body := visit(client(t)); !strings.HasPrefix(loc, "/signin?next=%2Fnowhere") || strings.Contains(loc+body, "ended") {
		t.Errorf("a browser that never signed in: sent to %q; want the sign-in page without a word of an ended session\n%s", loc, body)
	}
	c := client(t)
	_, body := get(t, c, ts.URL+"/signin")
	post(t, c, ts.URL+"/signin", url.Values{"csrf": {csrfOf(t, body)}, "token": {testToken}, "next": {"/nowhere"}}, nil)
	if loc, _ := visit(c); loc != "" {
		t.Fatalf("signed in: sent to %q; want the page", loc)
	}
	clk.Advance(61 * time.Minute)
	if loc, body := visit(c); !strings.HasPrefix(loc, "/signin?next=%2Fnowhere") || !strings.Contains(body, ended) {
		t.Errorf("after the session sat idle past the timeout: sent to %q; want the sign-in page saying the session ended, next kept\n%s", loc, body)
	}
	if loc, body := visit(c); !strings.HasPrefix(loc, "/signin?next=%2Fnowhere") || strings.Contains(body, ended) {
		t.Errorf("the next page after that: sent to %q; want the sign-in page without the message again\n%s", loc, body)
	}
}
