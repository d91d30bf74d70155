package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestDemoNotifyReceivers: demo takes -notify-url (repeatable, with
// CARDFLOW_NOTIFY_SECRET, and CARDFLOW_NOTIFY_URLS) as serve does: its
// server posts signed notifications there, and the same wrong settings
// are refused the same way.
func TestDemoNotifyReceivers(t *testing.T) {
	const secret = "a-long-random-notification-secret"
	var mu sync.Mutex
	var got []string
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(b)
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("X-Cardflow-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			got = append(got, r.URL.Path+" unsigned")
			return
		}
		got = append(got, r.URL.Path+" "+string(b))
	}))
	t.Cleanup(receiver.Close)

	vars := map[string]string{"CARDFLOW_NOTIFY_SECRET": secret, "CARDFLOW_NOTIFY_URLS": receiver.URL + "/from-env"}
	stdout, stderr := &emutest.SyncBuffer{}, &emutest.SyncBuffer{}
	e := &env{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(k string) string { return vars[k] }}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "-listen", "127.0.0.1:0", "-devices", "1", "-notify-url", receiver.URL + "/one", "-notify-url", receiver.URL + "/two"}, e)
	}()
	t.Cleanup(func() { stop(); <-done })
	serving := regexp.MustCompile(`cardflow: serving (http://\S+)`)
	token := regexp.MustCompile(`API token:\s+(\S+)`)
	for !serving.MatchString(stdout.String()) {
		select {
		case code := <-done:
			done <- code
			t.Fatalf("demo ended (exit %d) before it served\n%s%s", code, stdout, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	client := map[string]string{"CARDFLOW_SERVER": serving.FindStringSubmatch(stdout.String())[1], "CARDFLOW_API_TOKEN": token.FindStringSubmatch(stdout.String())[1]}
	code, out, errOut := runCLI(t, client, "notifications", "test")
	if !strings.Contains(stdout.String(), "cardflow notifications test") {
		t.Errorf("the demo's banner does not say how to test the receivers:\n%s", stdout)
	}
	if code != exitOK || strings.Count(out, "took the test message") != 3 {
		t.Errorf("notifications test against the demo: exit %d\n%s%s; want three receivers that took it", code, out, errOut)
	}
	mu.Lock()
	for _, path := range []string{"/one", "/two", "/from-env"} {
		if !slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, path+` {`) }) || !strings.Contains(strings.Join(got, "\n"), `"type":"notification.test"`) {
			t.Errorf("the receivers got %q; want a signed notification.test at %s", got, path)
		}
	}
	mu.Unlock()

	for _, tc := range []struct {
		name string
		vars map[string]string
		args []string
		want string
	}{
		{"a receiver without the secret", nil, []string{"-notify-url", receiver.URL + "/one"}, "-notify-url (or CARDFLOW_NOTIFY_URLS) needs CARDFLOW_NOTIFY_SECRET"},
		{"a second URL after one -notify-url", map[string]string{"CARDFLOW_NOTIFY_SECRET": secret}, []string{"-notify-url", receiver.URL + "/one", "https://hooks.slack.com/services/T0/B0/s3cret"},
			"unexpected argument https://hooks.slack.com/…: give each notification receiver its own -notify-url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.vars, append([]string{"demo", "-listen", "127.0.0.1:0", "-devices", "1"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(errOut, tc.want) || strings.Contains(out+errOut, "s3cret") {
				t.Errorf("exit %d\n%s%s; want %d and %q, no receiver's URL", code, out, errOut, exitUsage, tc.want)
			}
		})
	}
	if code, help, _ := runCLI(t, nil, "demo", "-h"); code != exitOK || !strings.Contains(help, "-notify-url") || !strings.Contains(help, "CARDFLOW_NOTIFY_SECRET") {
		t.Errorf("demo -h: exit %d\n%s\nwant -notify-url and CARDFLOW_NOTIFY_SECRET", code, help)
	}
}
