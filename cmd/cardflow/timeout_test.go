package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentServer accepts connections and never answers: a server whose
// process hangs, or a proxy whose backend does. It returns its URL.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// runCLIBounded is runCLI that fails the test, instead of hanging it,
// when the command does not end within a minute.
func runCLIBounded(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code             int
		stdout, stderrIs string
	}
	done := make(chan result, 1)
	go func() {
		code, out, errOut := runCLI(t, vars, args...)
		done <- result{code, out, errOut}
	}()
	select {
	case r := <-done:
		return r.code, r.stdout, r.stderrIs
	case <-time.After(time.Minute):
		t.Fatalf("cardflow %s still waits for a server that never answers after a minute", strings.Join(args, " "))
		return 0, "", ""
	}
}

// TestRequestTimeout: a server that accepts the connection and never
// answers does not hang the command: it ends once the request timeout
// (--request-timeout, else CARDFLOW_REQUEST_TIMEOUT) has passed, saying
// which server did not answer what within which timeout, and how to
// allow longer.
func TestRequestTimeout(t *testing.T) {
	server := silentServer(t)
	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{name: "environment", vars: map[string]string{"CARDFLOW_REQUEST_TIMEOUT": "300ms"}, want: "within 300ms"},
		{name: "flag over environment", vars: map[string]string{"CARDFLOW_REQUEST_TIMEOUT": "1h"}, args: []string{"--request-timeout", "200ms"}, want: "within 200ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.vars["CARDFLOW_API_TOKEN"] = "x"
			code, _, errOut := runCLIBounded(t, tc.vars, append([]string{"flows", "list", "--server", server}, tc.args...)...)
			if code != exitFailure {
				t.Errorf("exit %d; want %d", code, exitFailure)
			}
			for _, want := range []string{"the cardflow server at " + server + " did not answer GET /api/v1/flows " + tc.want,
				"--request-timeout 5m", "CARDFLOW_REQUEST_TIMEOUT=5m", "check that it runs"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr %q; want it to say %q", errOut, want)
				}
			}
			if strings.Contains(errOut, "whether the server did it") {
				t.Errorf("stderr %q; a GET changes nothing, so want no doubt about what it did", errOut)
			}
		})
	}
}

// TestRequestTimeoutDefault: without the flag or the variable, a request
// may take 60 s; a timeout that is not a duration is a usage error.
func TestRequestTimeoutDefault(t *testing.T) {
	e := &env{getenv: func(string) string { return "" }}
	_, o := newClientFlagSet(e, "flows list", "")
	c, err := o.anonymousClient()
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != 60*time.Second {
		t.Errorf("default request timeout %v; want 60s", c.timeout)
	}
	code, _, errOut := runCLI(t, map[string]string{"CARDFLOW_API_TOKEN": "x", "CARDFLOW_REQUEST_TIMEOUT": "soon"}, "flows", "list")
	if code != exitUsage || !strings.Contains(errOut, `--request-timeout "soon" is not a duration`) {
		t.Errorf("exit %d, stderr %q; want a usage error naming the timeout", code, errOut)
	}
	code, _, errOut = runCLI(t, map[string]string{"CARDFLOW_API_TOKEN": "x"}, "flows", "list", "--request-timeout", "-5s")
	if code != exitUsage || !strings.Contains(errOut, `--request-timeout "-5s" is negative`) {
		t.Errorf("exit %d, stderr %q; want a usage error saying the timeout is negative", code, errOut)
	}
}

// TestWaitingRequest: a request that waits for work at Okta (a card run)
// is not cut by the request timeout while the server works on it, and a
// connection that breaks while it waits ends it with a message that says
// so.
func TestWaitingRequest(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/runs", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"run_1","status":"succeeded"}`))
	})
	mux.HandleFunc("GET /api/v1/flows", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	})
	mux.HandleFunc("POST /api/v1/flows/plan", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.Close() // the server's machine went away mid-request
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := &client{base: srv.URL, token: "t", http: newHTTPClient(), timeout: 300 * time.Millisecond}
	ctx := t.Context()

	waited := make(chan error, 1)
	var run struct{ Status string }
	go func() { waited <- c.do(ctx, "POST", "/api/v1/runs", map[string]any{}, &run) }()
	<-entered
	// An ordinary request runs out of time meanwhile: the card run has
	// been waiting longer than the timeout by then.
	err := c.do(ctx, "GET", "/api/v1/flows", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "did not answer GET /api/v1/flows within 300ms") {
		t.Fatalf("GET of a server that does not answer: %v; want the timeout", err)
	}
	select {
	case err := <-waited:
		t.Fatalf("the card run ended before the server answered it: %v", err)
	default:
	}
	close(release)
	if err := <-waited; err != nil || run.Status != "succeeded" {
		t.Errorf("the card run: %v, status %q; want the server's answer", err, run.Status)
	}

	err = c.do(ctx, "POST", "/api/v1/flows/plan", map[string]any{}, nil)
	if err == nil || !strings.Contains(err.Error(), "the connection to the cardflow server at "+srv.URL+" broke before POST /api/v1/flows/plan was answered") ||
		!strings.Contains(err.Error(), "whether the server did it is unknown") {
		t.Errorf("a connection closed while waiting: %v; want it said, and that the outcome is unknown", err)
	}
}

// TestRequestTimeoutBeforeConnecting: a timeout that runs out before the
// connection is made says it was the timeout, not that the server could
// not be reached (it could), and that nothing was done.
func TestRequestTimeoutBeforeConnecting(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	c := &client{base: srv.URL, token: "t", http: newHTTPClient(), timeout: time.Nanosecond}
	err := c.do(t.Context(), "POST", "/api/v1/flows", map[string]any{}, nil)
	if err == nil || !strings.Contains(err.Error(), "did not answer POST /api/v1/flows within 1ns (--request-timeout)") ||
		strings.Contains(err.Error(), "cannot reach") || strings.Contains(err.Error(), "whether the server did it") {
		t.Errorf("a request whose timeout ran out before it was sent: %v; want the timeout named, and no doubt about what the server did", err)
	}
}

// TestRequestsThatCallOkta: creating and deleting a connection and
// rotating its key wait for calls to the org, so they wait as card runs
// do; other requests keep the timeout.
func TestRequestsThatCallOkta(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         bool
	}{
		{"POST", "/api/v1/connections", true},
		{"DELETE", "/api/v1/connections/cn_1", true},
		{"POST", "/api/v1/connections/cn_1/rotate-key", true},
		{"GET", "/api/v1/connections", false},
		{"GET", "/api/v1/connections?limit=1000", false},
		{"GET", "/api/v1/connections/cn_1", false},
		{"POST", "/api/v1/connections/cn_1/reauthorize", false},
		{"POST", "/api/v1/connections/cn_1/test", true},
		{"POST", "/api/v1/runs", true},
		{"POST", "/api/v1/flows/plan", true},
		{"POST", "/api/v1/flows/f1/plan", true},
		{"POST", "/api/v1/flows/f1/runs", false},
		{"DELETE", "/api/v1/flows/f1", false},
		{"POST", "/api/v1/connectionsx", false},
	} {
		if got := waitsForOkta(tc.method, tc.path); got != tc.want {
			t.Errorf("waitsForOkta(%s %s) = %v; want %v", tc.method, tc.path, got, tc.want)
		}
	}

	// A delete the server answers after the timeout still gets its answer.
	entered, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("DELETE /api/v1/connections/{id}", func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"cn_1","deleted":true}`))
	})
	mux.HandleFunc("GET /api/v1/flows", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := &client{base: srv.URL, token: "t", http: newHTTPClient(), timeout: 300 * time.Millisecond}
	done := make(chan error, 1)
	var out struct{ Deleted bool }
	go func() { done <- c.do(t.Context(), "DELETE", "/api/v1/connections/cn_1", nil, &out) }()
	<-entered
	// An ordinary request sent after it runs out of time first: the
	// delete has waited longer than the timeout by then.
	if err := c.do(t.Context(), "GET", "/api/v1/flows", nil, nil); err == nil || !strings.Contains(err.Error(), "within 300ms") {
		t.Fatalf("GET of a server that does not answer: %v; want the timeout", err)
	}
	select {
	case err := <-done:
		t.Fatalf("the delete ended before the server answered it: %v", err)
	default:
	}
	close(release)
	if err := <-done; err != nil || !out.Deleted {
		t.Errorf("a connection delete answered after the request timeout: %v, %+v; want the answer", err, out)
	}
}
