package app

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestDemo runs the demo as its README instructions use it: the printed
// console URL, API token, org domain and credentials must be enough to
// connect and run a card.
func TestDemo(t *testing.T) {
	text, field := startDemo(t, 10)
	consoleURL := field(`Console and API:\s+(\S+)`)
	token := field(`API token:\s+(\S+)`)
	domain := field(`Domain:\s+(\S+)`)
	for _, w := range []string{oktaemu.DemoClientID, oktaemu.DemoClientSecret, oktaemu.AdminLogin, oktaemu.UnassignedLogin, oktaemu.DemoPassword, "connections create",
		"# from the cardflow repository's directory, which holds examples/:\n  cardflow flows plan examples/offboard-user-devices.yaml"} {
		if !strings.Contains(text, w) {
			t.Errorf("the demo output lacks %q", w)
		}
	}

	h := &harness{t: t, url: strings.TrimSuffix(consoleURL, "/"), logs: &emutest.SyncBuffer{},
		emu:  &emutest.Server{URL: domain, Client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}},
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
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

	// The event commands as printed: the flow stored and enabled, a
	// device of one user made, its user removed; the flow suspends it.
	h.token = token
	src, err := os.ReadFile("../../examples/suspend-devices-left-without-users.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "cardflow flows store examples/suspend-devices-left-without-users.yaml --enable\n") {
		t.Fatalf("the demo output lacks the event flow's command:\n%s", text)
	}
	flowID := storeEnabledDoc(t, h, string(src))
	enroll := regexp.MustCompile(`curl -s -d '(\{"user":"[^']+"\})' (\S+/_emulator/devices) `).FindStringSubmatch(text)
	remove := regexp.MustCompile(`curl -s -X DELETE (\S+)/ID/(users/\S+) `).FindStringSubmatch(text)
	if enroll == nil || remove == nil {
		t.Fatalf("the demo output lacks the commands that make the event:\n%s", text)
	}
	resp, err := h.emu.Client.Post(enroll[2], "application/json", strings.NewReader(enroll[1]))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("%s: %v %v", enroll[0], resp, err)
	}
	var device struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&device)
	resp.Body.Close()
	req, _ := http.NewRequest("DELETE", remove[1]+"/"+device.ID+"/"+remove[2], nil)
	if resp, err = h.emu.Client.Do(req); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("%s: %v %v", remove[0], resp, err)
	}
	resp.Body.Close()
	var runs struct {
		Runs []struct{ Status string } `json:"runs"`
	}
	waitFor(t, "the event's run to succeed", func() bool {
		h.callWith(token, "GET", "/api/v1/flows/"+flowID+"/runs", nil, &runs)
		return len(runs.Runs) == 1 && runs.Runs[0].Status == "succeeded"
	})
	var read runJSON
	if code, data := h.callWith(token, "POST", "/api/v1/runs", map[string]any{"card": "okta-devices/read-device", "connection": "Demo org", "input": map[string]any{"deviceId": device.ID}}, &read); code != 201 || !strings.Contains(string(data), `"status": "SUSPENDED"`) {
		t.Errorf("the device whose only user was removed: %d %s; want it SUSPENDED by the flow", code, data)
	}

	// Single sign-on is on, with the roles the output lists.
	for _, w := range []string{oktaemu.AdminLogin + " cardflow admin", oktaemu.ReadOnlyLogin + " cardflow operator", oktaemu.UserLogin + " cardflow viewer", oktaemu.UnassignedLogin + " no cardflow role"} {
		if !regexp.MustCompile(strings.ReplaceAll(regexp.QuoteMeta(w), " ", `\s+`)).MatchString(text) {
			t.Errorf("the demo output does not say %q", w)
		}
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = browser.Get(h.url + "/signin/sso")
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /signin/sso: %v %v", resp, err)
	}
	resp.Body.Close()
	callback := h.emu.SignIn(t, resp.Header.Get("Location"), oktaemu.ReadOnlyLogin, oktaemu.DemoPassword)
	if resp, err = browser.Get(callback.String()); err != nil || resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/connections" {
		t.Fatalf("the single sign-on callback: %v %v; want 303 to /connections", resp, err)
	}
	resp.Body.Close()
	if resp, err = browser.Get(h.url + "/connections"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the console after single sign-on: %v %v", resp, err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), "operator") || strings.Contains(string(page), "New Connection") {
		t.Errorf("the console of %s (operator) does not say operator, or offers New Connection", oktaemu.ReadOnlyLogin)
	}
}

// runDemo starts Demo and waits until it serves; it returns a harness for
// its server and org, the org's domain, and a function that stops it.
func runDemo(t *testing.T, dc DemoConfig) (*harness, string, func()) {
	t.Helper()
	dc.APIToken = testAPIToken
	h, domain, _, stop := runDemoOutput(t, dc)
	return h, domain, stop
}

// runDemoOutput is runDemo with the API token of dc (none: the demo's own)
// and the demo's output.
func runDemoOutput(t *testing.T, dc DemoConfig) (*harness, string, *emutest.SyncBuffer, func()) {
	t.Helper()
	out := &emutest.SyncBuffer{}
	dc.Stdout, dc.Listen = out, "127.0.0.1:0"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Demo(ctx, dc) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Demo: %v", err)
		}
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), "cardflow: serving ") {
		select {
		case err := <-done:
			stopped = true
			t.Fatalf("the demo stopped: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not start:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	field := func(re string) string {
		m := regexp.MustCompile(re).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("the demo output lacks %s:\n%s", re, out)
		}
		return m[1]
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	domain := field(`Domain:\s+(\S+)`)
	h := &harness{t: t, url: strings.TrimSuffix(field(`Console and API:\s+(\S+)`), "/"), logs: &emutest.SyncBuffer{},
		emu:   &emutest.Server{URL: domain, Client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirect}},
		http:  &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirect},
		token: field(`API token:\s+(\S+)`)}
	return h, domain, out, stop
}

// TestDemoDataDir starts the demo with a data directory that does not
// exist yet, then restarts it: the API token stays the one in the
// directory's api-token file, and the instructions speak of the connection
// that is there instead of creating it again.
func TestDemoDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	dc := DemoConfig{DataDir: dir, Devices: 3}
	h, _, out, stop := runDemoOutput(t, dc)
	b, err := os.ReadFile(filepath.Join(dir, tokenFile))
	if err != nil || strings.TrimSpace(string(b)) != h.token {
		t.Fatalf("%s holds %q (%v); want the printed token %q", tokenFile, b, err, h.token)
	}
	if !strings.Contains(out.String(), `connections create --nickname "Demo org"`) {
		t.Errorf("a new demo does not say how to create a connection:\n%s", out)
	}
	h.connect("Demo org")
	first := h.token
	stop()

	h, _, out, stop = runDemoOutput(t, dc)
	defer stop()
	if h.token != first {
		t.Errorf("restarted demo prints the token %q; want the kept %q", h.token, first)
	}
	var list struct {
		Connections []connJSON `json:"connections"`
	}
	if code, data := h.call("GET", "/api/v1/connections", nil, &list); code != http.StatusOK || len(list.Connections) != 1 {
		t.Fatalf("list connections with the kept token: %d %s", code, data)
	}
	text := out.String()
	if strings.Contains(text, "connections create --nickname") {
		t.Errorf("restarted demo suggests creating a connection that exists:\n%s", text)
	}
	if !strings.Contains(text, `connections reauthorize "Demo org"`) {
		t.Errorf("restarted demo does not say to reauthorize the kept connection:\n%s", text)
	}
}

// TestDemoRestart restarts a demo with the same data directory: the org
// comes back at the same origin when it can, and connections whose tokens
// the restarted org no longer knows say so.
func TestDemoRestart(t *testing.T) {
	dir := t.TempDir()
	logs := &emutest.SyncBuffer{}
	dc := DemoConfig{DataDir: dir, Devices: 5, Logger: slog.New(slog.NewTextHandler(logs, nil))}
	search := map[string]any{"card": "okta-devices/search-devices", "connection": "Demo org", "input": map[string]any{"resultSet": "first"}}

	h, domain, stop := runDemo(t, dc)
	c := h.connect("Demo org")
	robot, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	h.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, data := h.call("POST", "/api/v1/connections/"+robot.ID+"/test", nil, nil); code != http.StatusOK {
		t.Fatalf("test the service connection: %d %s", code, data)
	}
	stop()

	// Same port: the connection needs reauthorization, and says why.
	h, domain2, stop := runDemo(t, dc)
	if domain2 != domain {
		t.Fatalf("restarted org at %s; want the previous origin %s", domain2, domain)
	}
	got := h.connection(c.ID)
	if got.Status != "needs_reauthorization" || got.StatusReason != orgRestartedReason || got.Remedy != orgRestartedRemedy || got.StatusReasonCode != "org_restarted" {
		t.Errorf("after a restart on the same port: status %q reason %q remedy %q code %q; want needs_reauthorization, %q, %q, org_restarted",
			got.Status, got.StatusReason, got.Remedy, got.StatusReasonCode, orgRestartedReason, orgRestartedRemedy)
	}
	// A service connection is not reauthorized (the API refuses it): its
	// remedy says what the banner does, and following it works.
	if got := h.serviceConn(robot.ID); got.Status != "needs_reauthorization" || strings.Contains(got.Remedy, "reauthorize") ||
		!strings.Contains(got.Remedy, "public key") || !strings.Contains(got.Remedy, oktaemu.DemoServiceClientID) || !strings.Contains(got.Remedy, "test the connection") {
		t.Errorf("the service connection after a restart on the same port: status %q remedy %q; want needs_reauthorization and a remedy saying to add its public key to %s again and test it, not to reauthorize it",
			got.Status, got.Remedy, oktaemu.DemoServiceClientID)
	}
	if code, data := h.call("POST", "/api/v1/connections/"+robot.ID+"/reauthorize", nil, nil); code != http.StatusBadRequest {
		t.Errorf("reauthorize the service connection: %d %s; want it refused (400), as its remedy must not say to do", code, data)
	}
	h.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, data := h.call("POST", "/api/v1/connections/"+robot.ID+"/test", nil, nil); code != http.StatusOK {
		t.Errorf("test the service connection after adding its key again: %d %s", code, data)
	}
	if got := h.serviceConn(robot.ID); got.Status != "active" {
		t.Errorf("the service connection after following its remedy: %q (%s); want active", got.Status, got.StatusReason)
	}
	var failed runJSON
	if code, data := h.call("POST", "/api/v1/runs", search, &failed); failed.Status != "failed" || !strings.Contains(string(data), orgRestartedReason) {
		t.Errorf("run before reauthorizing: %d %s; want a failed run saying the org restarted", code, data)
	}
	var re struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/reauthorize", nil, &re); code != http.StatusOK {
		t.Fatalf("reauthorize: %d %s", code, data)
	}
	if code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK || !strings.Contains(page, "Connected") {
		t.Fatalf("sign in: %d\n%s", code, page)
	}
	var r runJSON
	if code, data := h.call("POST", "/api/v1/runs", search, &r); code != http.StatusCreated || r.Status != "succeeded" {
		t.Errorf("run after reauthorizing: %d %s; want it to succeed", code, data)
	}
	stop()

	// The port is taken: a new port, a log line, and the connection of the
	// old origin in error.
	hostPort := strings.TrimPrefix(domain, "http://")
	ln, err := net.Listen("tcp", hostPort)
	if err != nil {
		t.Fatalf("occupy the org's port: %v", err)
	}
	defer ln.Close()
	h, domain3, _ := runDemo(t, dc)
	if domain3 == domain {
		t.Fatalf("restarted org at %s although that port is taken", domain3)
	}
	if !strings.Contains(logs.String(), "previous address is taken") {
		t.Errorf("logs lack the new-port line:\n%s", logs)
	}
	got = h.connection(c.ID)
	if got.Status != "error" || got.StatusReason != orgRestartedReason || !strings.Contains(got.Remedy, domain3) || got.StatusReasonCode != "org_restarted" {
		t.Errorf("after a restart on a new port: status %q reason %q remedy %q code %q; want error, %q, a remedy naming %s, org_restarted",
			got.Status, got.StatusReason, got.Remedy, got.StatusReasonCode, orgRestartedReason, domain3)
	}
	if b, err := os.ReadFile(filepath.Join(dir, emulatorAddrFile)); err != nil || strings.TrimSpace(string(b)) != strings.TrimPrefix(domain3, "http://") {
		t.Errorf("%s holds %q (%v); want the new address %s", emulatorAddrFile, b, err, domain3)
	}
}

// TestDemoFailedStartKeepsTheOrgAddress: a second demo started on the data
// directory of one that runs fails (the server's port is taken) and must
// leave the org's address alone: the next start, once the first has
// stopped, serves the org where the connections expect it.
func TestDemoFailedStartKeepsTheOrgAddress(t *testing.T) {
	dir := t.TempDir()
	dc := DemoConfig{DataDir: dir, Devices: 3, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	h, domain, stop := runDemo(t, dc)
	c := h.connect("Demo org")

	second := dc
	second.Listen, second.Stdout = strings.TrimPrefix(h.url, "http://"), io.Discard
	if err := Demo(context.Background(), second); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("a second demo on the server's address: %v; want it refused", err)
	}
	stop()

	h, domain2, stop := runDemo(t, dc)
	defer stop()
	if domain2 != domain {
		t.Errorf("after a failed start the org is at %s; want its address %s, which the connections name", domain2, domain)
	}
	if got := h.connection(c.ID); got.Status != "needs_reauthorization" {
		t.Errorf("the kept connection is %q (%s); want needs_reauthorization, its org restarted at its address", got.Status, got.StatusReason)
	}
}

// TestDemoServiceConnectionTakesEventFlows follows the demo's printed
// commands for a service connection, the connection to choose for flows
// that run on their own, to the point of enabling a flow started by Okta
// events: its preflight needs okta.logs.read, which the demo org's API
// Services app is not granted, and the org has no Admin Console to grant
// it in, so the output must say how. On the way, the steps that take the
// app's SUPER_ADMIN role away and give it back through the org's role API
// put the connection in error with reason code no_admin_role, as they say,
// and back to active.
func TestDemoServiceConnectionTakesEventFlows(t *testing.T) {
	text, field := startDemo(t, 3)
	noRedirects := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	h := &harness{t: t, url: strings.TrimSuffix(field(`Console and API:\s+(\S+)`), "/"), token: field(`API token:\s+(\S+)`), logs: &emutest.SyncBuffer{},
		emu:  &emutest.Server{URL: field(`Domain:\s+(\S+)`), Client: &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirects}},
		http: &http.Client{Timeout: 30 * time.Second, CheckRedirect: noRedirects}}

	c, jwk := h.createService(map[string]any{"nickname": "Robot", "clientId": oktaemu.DemoServiceClientID})
	// Each line of the service connection's steps, in order, as a newcomer
	// pastes it: the curl commands (the JWK in place of JWK), and each
	// connections test.
	i := strings.Index(text, "\nA service connection")
	if i < 0 {
		t.Fatalf("the demo output has no service connection steps:\n%s", text)
	}
	steps, _, _ := strings.Cut(text[i:], "\nData: ")
	var curls int
	var tests []string
	for _, line := range strings.Split(steps, "\n") {
		switch line = strings.TrimSpace(line); {
		case strings.HasPrefix(line, "curl "):
			curls++
			if code := pasteCurl(t, h.emu.Client, strings.Replace(line, "'JWK'", "'"+string(jwk)+"'", 1)); code >= 300 {
				t.Fatalf("%s: status %d", line, code)
			}
		case line == "cardflow connections test Robot":
			h.call("POST", "/api/v1/connections/"+c.ID+"/test", nil, nil)
			got := h.serviceConn(c.ID)
			if got.StatusReasonCode != nil && *got.StatusReasonCode != "" {
				got.Status += " " + *got.StatusReasonCode
			}
			tests = append(tests, got.Status)
		}
	}
	// Set up, the connection works; without the role it is in error for
	// that reason, as the comment before says; with it again it works.
	if want := []string{"active", "error no_admin_role", "active"}; curls != 5 || !slices.Equal(tests, want) {
		t.Fatalf("pasted %d curl commands and %d tests, which found %q; want 5 and %q:\n%s", curls, len(tests), tests, want, steps)
	}
	if !strings.Contains(steps, "reason code no_admin_role") {
		t.Errorf("the steps do not say the reason code the test finds:\n%s", steps)
	}
	doc := strings.ReplaceAll(strings.Replace(quarantineYAML, "DELIVERY", "poll", 1), "Prod devices", "Robot")
	var fl struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, body := h.postYAML("/api/v1/flows", doc, &fl); code >= 300 {
		t.Fatalf("store the event flow: %d %s", code, body)
	}
	if code, body := h.call("POST", "/api/v1/flows/"+fl.Flow.ID+"/enable", nil, nil); code != http.StatusOK {
		t.Errorf("enable an event flow on the demo's service connection, set up as the demo says: %d %s", code, body)
	}
}

// pasteCurl sends the request of a curl command line as the demo prints
// it (-s, -X METHOD, -H 'Name: value', -d 'BODY' and the URL, single-quoted
// words read as a shell reads them) and returns the answer's status.
func pasteCurl(t *testing.T, c *http.Client, line string) int {
	t.Helper()
	var words []string
	for rest := line; rest != ""; rest = strings.TrimLeft(rest, " ") {
		if rest[0] == '\'' {
			end := strings.IndexByte(rest[1:], '\'')
			if end < 0 {
				t.Fatalf("an unclosed quote in %s", line)
			}
			words, rest = append(words, rest[1:end+1]), rest[end+2:]
			continue
		}
		end := strings.IndexByte(rest, ' ')
		if end < 0 {
			end = len(rest)
		}
		words, rest = append(words, rest[:end]), rest[end:]
	}
	method, header, body, target := "", http.Header{}, "", ""
	for i := 1; i < len(words); i++ {
		switch w := words[i]; {
		case w == "-s":
		case (w == "-X" || w == "-H" || w == "-d") && i+1 < len(words):
			i++
			switch w {
			case "-X":
				method = words[i]
			case "-H":
				name, value, _ := strings.Cut(words[i], ": ")
				header.Add(name, value)
			case "-d":
				body = words[i]
			}
		case strings.HasPrefix(w, "http") && target == "":
			target = w
		default:
			t.Fatalf("%q in %s: not a word of the demo's curl commands", w, line)
		}
	}
	if method == "" {
		method = "GET"
		if body != "" {
			method = "POST"
		}
	}
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// startDemo runs the demo with an org of devices devices until the test
// ends, and returns what it printed once it serves, and field, which
// returns the first submatch of a regular expression in that text (and
// fails the test when there is none).
func startDemo(t *testing.T, devices int) (text string, field func(re string) string) {
	t.Helper()
	out := &emutest.SyncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Demo(ctx, DemoConfig{Listen: "127.0.0.1:0", Devices: devices, Stdout: out}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Demo: %v", err)
		}
	})
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), "cardflow: serving ") {
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not start:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
	text = out.String()
	return text, func(re string) string {
		t.Helper()
		m := regexp.MustCompile(re).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("the demo output lacks %s:\n%s", re, text)
		}
		return m[1]
	}
}

// TestDemoAdviceForAConnectionWhoseOrgIsGone: a kept connection of an org
// the restarted demo could not serve at its old address is to be deleted
// with --force (enabled flows that use it would otherwise have the delete
// refused, though it can never work again) and created again with the
// same nickname, which the flows naming it find.
func TestDemoAdviceForAConnectionWhoseOrgIsGone(t *testing.T) {
	c := &store.Connection{Nickname: "Demo org", Domain: "http://127.0.0.1:41000", Auth: store.AuthUser, Status: store.StatusNeedsReauthorization}
	got := demoConnectionAdvice(c, "http://127.0.0.1:42000", "cardflow")
	want := `; its org is gone: cardflow connections delete "Demo org" --force, then create it again with the same nickname and --domain http://127.0.0.1:42000`
	if !strings.HasPrefix(got, want) {
		t.Errorf("advice %q; want it to start %q", got, want)
	}
}
