package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestServeNotifyReceivers: notification receivers may come from
// CARDFLOW_NOTIFY_URLS (out of the process list) as well as -notify-url,
// serve -h says so, and a refused start never quotes a receiver's URL,
// whose path or query may be a webhook's key.
func TestServeNotifyReceivers(t *testing.T) {
	const slack, chat = "https://hooks.slack.com/services/T0/B0/path-s3cret", "https://chat.example.com/v1/spaces/X/messages?token=tok-s3cret"
	tests := []struct {
		name     string
		vars     map[string]string
		args     []string
		wantCode int
		want     []string
	}{
		{name: "receivers in the environment need the secret", vars: map[string]string{"CARDFLOW_NOTIFY_URLS": "\n" + slack + "  " + chat + "\n"},
			wantCode: exitUsage, want: []string{"-notify-url (or CARDFLOW_NOTIFY_URLS) needs CARDFLOW_NOTIFY_SECRET"}},
		{name: "a receiver in the environment that is no URL", vars: map[string]string{"CARDFLOW_NOTIFY_URLS": slack + " hooks.slack.com/services/T0/B0/x-s3cret", "CARDFLOW_NOTIFY_SECRET": "a-long-random-secret"},
			wantCode: exitUsage, want: []string{"-notify-url or CARDFLOW_NOTIFY_URLS: notification receiver ", "is not an http:// or https:// URL"}},
		{name: "a receiver whose body is misspelt", vars: map[string]string{"CARDFLOW_NOTIFY_URLS": "slak=" + slack, "CARDFLOW_NOTIFY_SECRET": "a-long-random-secret"},
			wantCode: exitUsage, want: []string{`names the body "slak", which cardflow does not know (did you mean slack?): give one of cardflow, slack, googlechat, teams`}},
		{name: "a second URL after one -notify-url", args: []string{"-notify-url", chat, slack},
			wantCode: exitUsage, want: []string{"unexpected argument https://hooks.slack.com/…: give each notification receiver its own -notify-url, or list them in CARDFLOW_NOTIFY_URLS"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "-listen", "127.0.0.1:0", "-data-dir", filepath.Join(t.TempDir(), "data")}, tc.args...)
			code, out, errOut := runCLI(t, tc.vars, args...)
			if code != tc.wantCode {
				t.Errorf("exit %d; want %d\n%s%s", code, tc.wantCode, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q\n%s", w, errOut)
				}
			}
			if strings.Contains(out+errOut, "s3cret") || strings.Contains(out+errOut, "/services") {
				t.Errorf("the output quotes a receiver's URL:\n%s%s", out, errOut)
			}
		})
	}
	code, help, _ := runCLI(t, nil, "serve", "-h")
	if code != exitOK || !strings.Contains(help, "CARDFLOW_NOTIFY_URLS (notification receivers, whitespace-separated") {
		t.Errorf("serve -h: exit %d\n%s\nwant CARDFLOW_NOTIFY_URLS explained", code, help)
	}
}

// TestCLINotificationsTest: cardflow notifications test posts a test
// message to every receiver of the server and shows how each answered,
// exiting 1 with the fix when one refused it; a server without receivers
// says how to give it some.
func TestCLINotificationsTest(t *testing.T) {
	var got []string
	var mu sync.Mutex
	took := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
	}))
	t.Cleanup(took.Close)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no_text", http.StatusBadRequest)
	}))
	t.Cleanup(refusing.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // a receiver that is down: its URL is right, nothing answers
	s := startServerWith(t, oktaemu.Config{Devices: 1}, func(c *app.Config) {
		c.NotifyURLs, c.NotifySecret = []string{took.URL + "/hook", "slack=" + refusing.URL + "/services/T0/B0/s3cret-token", down.URL + "/down"}, "a-long-random-notification-secret"
	})
	code, out, errOut := runCLI(t, s.vars, "notifications", "test")
	if code != exitFailure {
		t.Errorf("exit %d; want %d\n%s%s", code, exitFailure, out, errOut)
	}
	for _, w := range []string{"cardflow  took the test message", "slack     refused: the receiver answered 400 Bad Request: no_text", "cardflow  not reached: post: "} {
		if !strings.Contains(out, w) {
			t.Errorf("stdout lacks %q\n%s", w, out)
		}
	}
	if !strings.Contains(errOut, "2 of 3 notification receivers did not take the test message") ||
		!strings.Contains(errOut, "Remedy: for each receiver that did not take it, fix the receiver's -notify-url") ||
		!strings.Contains(errOut, "; or start the receiver, or fix the network") {
		t.Errorf("stderr %s; want the count and the fix of each kind (a receiver that refused, one that could not be reached)", errOut)
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Errorf("the output quotes a receiver's URL:\n%s%s", out, errOut)
	}
	mu.Lock()
	if len(got) != 1 || !strings.Contains(got[0], `"type":"notification.test"`) || !strings.Contains(got[0], "bootstrap admin") {
		t.Errorf("the receiver got %q; want one notification.test naming who sent it", got)
	}
	mu.Unlock()
	code, out, _ = runCLI(t, s.vars, "audit", "--action", "notification.test")
	if code != exitOK || !strings.Contains(out, "notification.test") || !strings.Contains(out, "did not take the test message") {
		t.Errorf("audit: exit %d\n%s; want the test recorded with its failure", code, out)
	}

	bare := startServerWith(t, oktaemu.Config{Devices: 1})
	code, _, errOut = runCLI(t, bare.vars, "notifications", "test")
	if code != exitFailure || !strings.Contains(errOut, "this server has no notification receivers") || !strings.Contains(errOut, "cardflow serve, or cardflow demo) with -notify-url") {
		t.Errorf("without receivers: exit %d\n%s; want the way to add one", code, errOut)
	}
}
