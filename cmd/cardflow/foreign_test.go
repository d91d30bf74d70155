package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestCLIServerThatIsNotCardflow: a --server that answers with something
// other than cardflow's error body (the Okta org's address given for
// cardflow's, a proxy whose backend is gone) is named as such, with the
// setting to fix, instead of a bare "HTTP 404" and a foreign body.
func TestCLIServerThatIsNotCardflow(t *testing.T) {
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
	}))
	defer proxy.Close()
	for _, tt := range []struct {
		name, server, status string
	}{
		{"the Okta org", emu.URL, "HTTP 404"},
		{"a proxy without its backend", proxy.URL, "HTTP 502"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{"CARDFLOW_SERVER": tt.server, "CARDFLOW_API_TOKEN": e2eToken}
			code, out, errOut := runCLI(t, vars, "connections", "list")
			if code != exitFailure || !strings.Contains(errOut, tt.status) || !strings.Contains(errOut, "not a cardflow server") ||
				!strings.Contains(errOut, "Remedy: give cardflow's own address with --server or CARDFLOW_SERVER") {
				t.Errorf("connections list against %s: exit %d; want exit 1, %s, not a cardflow server and the setting to fix\n%s%s", tt.name, code, tt.status, out, errOut)
			}
		})
	}
}

// TestCLIFollowsNoRedirectElsewhere: a --server that redirects to another
// origin (here the same host on another port, where Go's client would
// keep the Authorization header, and a 307, which sends the body again)
// gets neither the API token nor the client secret sent there; the
// command fails naming where the redirect pointed.
func TestCLIFollowsNoRedirectElsewhere(t *testing.T) {
	var mu sync.Mutex
	var got []string
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(b))
		w.WriteHeader(http.StatusTeapot)
	}))
	defer elsewhere.Close()
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer front.Close()
	const secret = "s3cret-client-value"
	vars := map[string]string{"CARDFLOW_SERVER": front.URL, "CARDFLOW_API_TOKEN": e2eToken, "CARDFLOW_CLIENT_SECRET": secret}
	for _, args := range [][]string{
		{"connections", "list"},
		{"connections", "create", "--nickname", "Prod", "--domain", "example.okta.com", "--client-id", "0oa123", "--no-wait"},
	} {
		code, out, errOut := runCLI(t, vars, args...)
		if code != exitFailure || !strings.Contains(errOut, "with a redirect to "+elsewhere.URL+", which cardflow does not follow") {
			t.Errorf("%s against a server redirecting elsewhere: exit %d; want exit 1 naming the redirect's target\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 0 {
		t.Errorf("the redirect's target received %q; want nothing", got)
	}
}
