package app

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestDemo runs the demo as its README instructions use it: the printed
// console URL, API token, org domain and credentials must be enough to
// connect and run a card.
func TestDemo(t *testing.T) {
	out := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Demo(ctx, DemoConfig{Listen: "127.0.0.1:0", Devices: 10, Stdout: out}) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Demo: %v", err)
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "cardflow: serving ") {
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not start:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	text := out.String()
	field := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("the demo output lacks %s:\n%s", re, text)
		}
		return m[1]
	}
	consoleURL := field(`Console and API:\s+(\S+)`)
	token := field(`API token:\s+(\S+)`)
	domain := field(`Domain:\s+(\S+)`)
	for _, w := range []string{oktaemu.DemoClientID, oktaemu.DemoClientSecret, oktaemu.AdminLogin, oktaemu.UnassignedLogin, oktaemu.DemoPassword, "connections create"} {
		if !strings.Contains(text, w) {
			t.Errorf("the demo output lacks %q", w)
		}
	}

	h := &harness{t: t, url: strings.TrimSuffix(consoleURL, "/"), logs: &syncBuffer{},
		emu:  &emutest.Server{URL: domain, Client: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}},
		http: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	body := map[string]any{"connector": "okta-devices", "nickname": "Demo org", "domain": domain,
		"clientId": oktaemu.DemoClientID, "clientSecret": oktaemu.DemoClientSecret}
	var created struct {
		Connection   connJSON `json:"connection"`
		AuthorizeURL string   `json:"authorizeUrl"`
	}
	if code, data := h.callWith(token, "POST", "/api/v1/connections", body, &created); code != 201 {
		t.Fatalf("create with the printed token and domain: %d %s", code, data)
	}
	if code, page := h.signIn(created.AuthorizeURL, oktaemu.AdminLogin); code != 200 || !strings.Contains(page, "Connected") {
		t.Fatalf("sign in: %d\n%s", code, page)
	}
	var r runJSON
	if code, data := h.callWith(token, "POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": "Demo org", "input": map[string]any{"resultSet": "first"}}, &r); code != 201 || r.Status != "succeeded" {
		t.Fatalf("run a card in the demo: %d %s", code, data)
	}
}
