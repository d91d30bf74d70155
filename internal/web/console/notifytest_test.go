package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
)

// TestSendTestNotification: an admin's Flows page has Send a test
// notification, which posts a test message to every receiver of the
// server, as cardflow notifications test does, and says how each
// answered, naming a receiver only by its host and fingerprint.
func TestSendTestNotification(t *testing.T) {
	t.Parallel()
	var took atomic.Int32
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if strings.Contains(string(b), `"type":"notification.test"`) {
			took.Add(1)
		}
	}))
	t.Cleanup(ok.Close)
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no_text", http.StatusBadRequest)
	}))
	t.Cleanup(refusing.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // a receiver that is down: its URL is right, nothing answers
	e := newEnvWith(t, func(c *app.Config, _ string) {
		c.NotifyURLs = []string{ok.URL + "/hook", "slack=" + refusing.URL + "/services/T0/B0/s3cret-token", down.URL + "/down"}
		c.NotifySecret = "a-long-random-notification-secret"
	})
	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, page := get(t, c, e.url+"/flows")
	if !strings.Contains(page, `<form method="post" action="/notifications/test">`) {
		t.Fatalf("the admin's Flows page has no Send a test notification:\n%s", page)
	}
	// The flag is shown as a command's word, which breaks at no "-".
	if want := `which its <code class="cmd"><span>-notify-url</span></code> flags name`; !strings.Contains(page, want) {
		t.Errorf("the Flows page names the receivers' flag without %s:\n%s", want, page)
	}
	resp, _ := post(t, c, e.url+"/notifications/test", url.Values{"csrf": {csrfOf(t, page)}}, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/flows" {
		t.Fatalf("POST /notifications/test: %d to %q; want to the Flows page", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body := get(t, c, e.url+"/flows")
	for _, w := range []string{"2 of 3 notification receivers did not take the test notification",
		"refused it: the receiver answered 400 Bad Request: no_text", "could not be reached: dial tcp " + strings.TrimPrefix(down.URL, "http://") + ": connect: connection refused.",
		"For each receiver that did not take it, fix the receiver&#39;s -notify-url", "; or start the receiver, or fix the network"} {
		if !strings.Contains(body, w) {
			t.Errorf("the Flows page after the test lacks %q", w)
		}
	}
	if strings.Contains(body, "s3cret") {
		t.Error("the Flows page quotes a receiver's URL")
	}
	// The request that failed is not quoted: the sentence names its
	// receiver already, where it read "could not be reached: post: Post
	// &#34;http://127.0.0.1:1/… (receiver 0f3a)&#34;: dial tcp ...".
	if strings.Contains(body, "post: Post") {
		t.Error("the Flows page quotes the request that could not reach a receiver")
	}
	if took.Load() != 1 {
		t.Errorf("the receiver that is up got %d test messages; want 1", took.Load())
	}
}
