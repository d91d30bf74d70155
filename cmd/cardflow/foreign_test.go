package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
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
