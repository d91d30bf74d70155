package app

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// publicProxy is one public URL in front of servers, as a load balancer:
// it sends each request to the next of its backends in turn and counts the
// event hook requests each backend was sent. A request to a backend that is
// down answers 502.
type publicProxy struct {
	url string

	mu       sync.Mutex
	backends []*url.URL
	next     int            // the backend of the next request
	nextHook int            // the backend of the next event hook request
	hooks    map[string]int // event hook requests by backend URL
}

// startProxy starts a proxy with no backends; route gives it some.
func startProxy(t *testing.T) *publicProxy {
	t.Helper()
	p := &publicProxy{hooks: map[string]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			// Event hook requests take turns of their own, so that they
			// are spread over the backends whatever else is asked.
			p.mu.Lock()
			var b *url.URL
			if strings.HasPrefix(r.In.URL.Path, events.HookPathPrefix) {
				b = p.backends[p.nextHook%len(p.backends)]
				p.nextHook++
				p.hooks[b.String()]++
			} else {
				b = p.backends[p.next%len(p.backends)]
				p.next++
			}
			p.mu.Unlock()
			r.SetURL(b)
			r.Out.Host = r.In.Host // the servers see the public host, as behind a load balancer
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	srv := httptest.NewServer(rp)
	t.Cleanup(srv.Close)
	p.url = srv.URL
	return p
}

// route makes the proxy send requests to the servers at urls, in turn.
func (p *publicProxy) route(t *testing.T, urls ...string) {
	t.Helper()
	var bs []*url.URL
	for _, u := range urls {
		b, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		bs = append(bs, b)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backends = bs
}

// hookRequests returns how many event hook requests the server at u was sent.
func (p *publicProxy) hookRequests(u string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.hooks[u]
}

// orgHooks lists the org's event hooks as its super admin sees them.
func orgHooks(t testing.TB, emu *emutest.Server) []struct {
	ID, Status, VerificationStatus string
} {
	t.Helper()
	resp, err := emu.ClientAs("SSWS " + oktaemu.DemoAPIToken).Get(emu.URL + "/api/v1/eventHooks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var hooks []struct {
		ID, Status, VerificationStatus string
	}
	if err := json.NewDecoder(resp.Body).Decode(&hooks); err != nil {
		t.Fatalf("list event hooks: %v", err)
	}
	return hooks
}

// waitHookVerified waits until the org has one active, verified event
// hook: the server saw the flow enabled (it records that before it
// registers the hook) and deliveries can start.
func waitHookVerified(t testing.TB, emu *emutest.Server) {
	t.Helper()
	waitFor(t, "an active, verified event hook", func() bool {
		hs := orgHooks(t, emu)
		return len(hs) == 1 && hs[0].Status == "ACTIVE" && hs[0].VerificationStatus == "VERIFIED"
	})
}

// enrollDevice enrolls a new device for login at the org and returns its id.
func enrollDevice(t testing.TB, emu *emutest.Server, login string) string {
	t.Helper()
	resp, err := emu.Client.Post(emu.URL+"/_emulator/devices", "application/json", strings.NewReader(`{"user":"`+login+`"}`))
	if err != nil || resp.StatusCode != http.StatusCreated {
		t.Fatalf("enroll: %v %v", err, resp)
	}
	defer resp.Body.Close()
	var d struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&d); err != nil {
		t.Fatal(err)
	}
	return d.ID
}

// removeDeviceUser removes login from the device at the org (a
// device.user.remove event).
func removeDeviceUser(t testing.TB, emu *emutest.Server, id, login string) {
	t.Helper()
	req, _ := http.NewRequest("DELETE", emu.URL+"/_emulator/devices/"+id+"/users/"+login, nil)
	resp, err := emu.Client.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("remove user: %v %v", err, resp)
	}
	resp.Body.Close()
}

// storeEnabledFlow stores and enables the quarantine flow with delivery
// and returns its id.
func storeEnabledFlow(t *testing.T, h *harness, delivery string) string {
	t.Helper()
	return storeEnabledDoc(t, h, strings.Replace(quarantineYAML, "DELIVERY", delivery, 1))
}

// storeEnabledDoc stores the flow document doc, enables it and returns
// the flow's id.
func storeEnabledDoc(t *testing.T, h *harness, doc string) string {
	t.Helper()
	var fl struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, body := h.postYAML("/api/v1/flows", doc, &fl); code >= 300 {
		t.Fatalf("store flow: %d %s", code, body)
	}
	if code, body := h.call("POST", "/api/v1/flows/"+fl.Flow.ID+"/enable", nil, nil); code != http.StatusOK {
		t.Fatalf("enable: %d %s", code, body)
	}
	return fl.Flow.ID
}

// listedEvent is an event as GET /api/v1/events lists it.
type listedEvent struct {
	UUID        string   `json:"uuid"`
	EventType   string   `json:"eventType"`
	ReceivedVia []string `json:"receivedVia"`
	FlowRuns    []string `json:"flowRuns"`
}

func (h *harness) events() []listedEvent {
	h.t.Helper()
	var out struct {
		Events []listedEvent `json:"events"`
	}
	if code, body := h.call("GET", "/api/v1/events?limit=1000", nil, &out); code != http.StatusOK {
		h.t.Fatalf("GET /api/v1/events: %d %s", code, body)
	}
	return out.Events
}

// checkOncePerRemoval checks that the flow has exactly one succeeded run
// per device.user.remove event, each started by its own event, and that
// the inbox links each such event to exactly one run.
func checkOncePerRemoval(t *testing.T, h *harness, flowID string, removals int) {
	t.Helper()
	waitFor(t, "a succeeded run per removal", func() bool {
		done := 0
		for _, r := range h.runsOf(flowID) {
			if r.Status == "succeeded" {
				done++
			}
		}
		return done >= removals
	})
	runs := h.runsOf(flowID)
	if len(runs) != removals {
		t.Errorf("%d runs of the flow; want %d, one per removal", len(runs), removals)
	}
	var runIDs []string
	for _, e := range h.events() {
		if e.EventType != "device.user.remove" {
			continue
		}
		if len(e.FlowRuns) != 1 {
			t.Errorf("event %s started runs %v; want exactly one", e.UUID, e.FlowRuns)
		}
		runIDs = append(runIDs, e.FlowRuns...)
	}
	slices.Sort(runIDs)
	if len(runIDs) != removals || len(slices.Compact(runIDs)) != removals {
		t.Errorf("the removals started runs %v; want %d different ones", runIDs, removals)
	}
}

// TestCrashAroundEvents kills a real server with SIGKILL in the middle of
// an event hook delivery (before its events are stored, and after they are
// committed but before the 200) and between storing an event and starting
// its run (before the run is started, and after it is committed but
// before the event is marked dispatched), restarts it behind the same
// public URL, and checks that every device-user removal starts exactly one
// run: none lost, none twice.
func TestCrashAroundEvents(t *testing.T) {
	t.Parallel()
	for _, fp := range []string{fpEventBeforeStore, fpEventAfterStore, fpEventBeforeRun, fpEventAfterRun} {
		t.Run(fp, func(t *testing.T) {
			t.Parallel()
			emu := emutest.Start(t, oktaemu.Config{Devices: 3})
			proxy := startProxy(t)
			dir := t.TempDir()
			flags := []string{"-public-url", proxy.url, "-flow-lease-ttl", "2s", "-event-poll-interval"}
			// The first server polls when it starts (before any flow
			// exists) and when the flow is enabled (before the removals),
			// then not for an hour, so the first removal reaches it by
			// hook alone; the second polls often and catches up what the
			// first lost.
			c1 := startChild(t, emu, dir, fp, append(flags, "1h")...)
			proxy.route(t, c1.url)
			h1 := c1.harness(emu, dir)
			h1.url = proxy.url
			h1.connect("Prod devices")

			const login = "jonas.berg@example.com"
			var devices []string
			for range 3 {
				devices = append(devices, enrollDevice(t, emu, login))
			}
			emu.AdvanceClock(t, time.Second)
			polls := func() int { return emu.Stats(t)["GET /api/v1/logs"] }
			polled := polls()
			flowID := storeEnabledFlow(t, h1, "hook+poll")
			waitHookVerified(t, emu)
			// The poll at the enabling reads the System Log before the
			// first removal: the removal reaches this server by hook alone.
			waitFor(t, "the poll at the enabling", func() bool { return polls() > polled })
			emu.AdvanceClock(t, time.Second)

			// The first removal's delivery or dispatch kills the server.
			removeDeviceUser(t, emu, devices[0], login)
			c1.waitKilled()

			// The second server's clock runs past the poll lease the first
			// took at the enabling (two of its intervals and a minute), so
			// that it takes the polls over at once.
			clock := filepath.Join(t.TempDir(), "clock")
			moveClocks(t, clock, "2h2m")
			c2 := startChild(t, emu, dir, "", append(flags, "200ms", "-clock-file", clock)...)
			proxy.route(t, c2.url)
			h2 := c2.harness(emu, dir)
			h2.url = proxy.url
			for _, d := range devices[1:] {
				removeDeviceUser(t, emu, d, login)
			}
			checkOncePerRemoval(t, h2, flowID, len(devices))
			if hs := orgHooks(t, emu); len(hs) != 1 {
				t.Errorf("the org has %d event hooks; want the connection's one", len(hs))
			}
		})
	}
}
