package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIFlowRunStartLost: flows run whose request to start the run got no
// answer (the connection broke after the server queued it) says where to
// see whether the run started, instead of "look before trying again"
// alone: running it again blindly runs the flow twice.
func TestCLIFlowRunStartLost(t *testing.T) {
	s := startServer(t)
	s.connect(t, "Lost start")
	target, err := url.Parse(s.url)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	// The server gets the request to start the run and does it; its
	// answer never reaches the command.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/runs") {
			proxy.ServeHTTP(httptest.NewRecorder(), r)
			panic(http.ErrAbortHandler)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	file := filepath.Join(t.TempDir(), "read.yaml")
	doc := "name: start-lost\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Lost start\n    input: {status: ACTIVE}\n"
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"CARDFLOW_SERVER": front.URL, "CARDFLOW_API_TOKEN": e2eToken}
	code, out, errOut := runCLI(t, vars, "flows", "run", file)
	m := regexp.MustCompile(`cardflow flows runs (\w+)`).FindStringSubmatch(errOut)
	if code != exitFailure || !strings.Contains(errOut, "whether the server did it is unknown") || m == nil {
		t.Fatalf("flows run whose start was not answered: exit %d; want exit 1 and the command that shows whether the run started\n%s%s", code, out, errOut)
	}
	// The command it names shows the run that did start.
	code, out, errOut = runCLI(t, s.vars, "flows", "runs", m[1])
	if code != exitOK || len(regexp.MustCompile(`(?m)^[0-9a-f]{32} `).FindAllString(out, -1)) != 1 {
		t.Errorf("flows runs %s: exit %d; want the one run that started\n%s%s", m[1], code, out, errOut)
	}
}
