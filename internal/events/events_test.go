package events

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

const connID = "conn-events"

// ssws adds the demo org's API token to requests.
type ssws struct{ base http.RoundTripper }

func (s ssws) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	return s.base.RoundTrip(r)
}

// emuOrgs gives every connection the emulated org's client.
type emuOrgs struct{ srv *emutest.Server }

func (o emuOrgs) Client(context.Context, string) (*okta.Client, error) {
	u, err := url.Parse(o.srv.URL)
	if err != nil {
		return nil, err
	}
	return &okta.Client{BaseURL: u, HTTP: &http.Client{Transport: ssws{o.srv.Client.Transport}}, RetryBackoff: 1}, nil
}

// intake is an org, a store, the hook endpoint on a local server and a
// poller, wired as a server wires them.
type intake struct {
	srv    *emutest.Server
	st     store.Store
	hook   *httptest.Server
	poller *Poller
	kr     *keyring.Keyring
}

func newIntake(t *testing.T, cfg oktaemu.Config) *intake {
	t.Helper()
	st := sqlitetest.Open(t)
	key, err := keyring.Generate()
	if err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.New(key)
	if err != nil {
		t.Fatal(err)
	}
	in := &intake{srv: emutest.Start(t, cfg), st: st, kr: kr}
	mux := http.NewServeMux()
	mux.Handle(HookPathPrefix, &HookHandler{Store: st, Keyring: kr})
	in.hook = httptest.NewServer(mux)
	t.Cleanup(in.hook.Close)
	in.poller = &Poller{Store: st, Orgs: emuOrgs{in.srv}, Owner: "server-1", PageSize: 100}
	return in
}

// registerHook stores a hook path and secret for the connection and
// registers and verifies the event hook at the org, as the reconciler
// does.
func (in *intake) registerHook(t *testing.T, path, secret string) {
	t.Helper()
	ctx := t.Context()
	sealed, err := in.kr.Seal([]byte(secret), SecretAAD(connID))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.st.PutEventHook(ctx, &store.EventSource{ConnectionID: connID, HookPath: path, SealedSecret: sealed,
		HookTypes: DeviceEventTypes, HookStatus: "pending"}); err != nil {
		t.Fatal(err)
	}
	cl, _ := emuOrgs{in.srv}.Client(ctx, connID)
	h, err := cl.CreateEventHook(ctx, okta.NewEventHook("cardflow", in.hook.URL+HookPathPrefix+path, secret, DeviceEventTypes))
	if err != nil {
		t.Fatalf("create hook: %v", err)
	}
	if _, err := cl.HookLifecycle(ctx, h.ID, "verify"); err != nil {
		t.Fatalf("verify hook: %v", err)
	}
}

// control calls an emulator control endpoint.
func (in *intake) control(t *testing.T, method, path, body string) {
	t.Helper()
	req, err := http.NewRequest(method, in.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := in.srv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d", method, path, resp.StatusCode)
	}
}

// enroll makes n device events: each enrollment records
// device.enrollment.create and device.user.add.
func (in *intake) enroll(t *testing.T, n int) {
	t.Helper()
	for i := range n {
		in.control(t, "POST", "/_emulator/devices", fmt.Sprintf(`{"user":"alice.nguyen@example.com","displayName":"Laptop %d"}`, i))
	}
}

// pollUntilQuiet polls until a poll finds nothing new.
func (in *intake) pollUntilQuiet(t *testing.T, since time.Time) {
	t.Helper()
	for range 100 {
		res, err := in.poller.Poll(t.Context(), connID, since)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if res.Events == 0 {
			return
		}
	}
	t.Fatalf("the System Log never ran dry")
}

// inbox returns the stored events by uuid.
func (in *intake) inbox(t *testing.T) map[string]*store.Event {
	t.Helper()
	evs, err := in.st.ListEvents(t.Context(), store.EventFilter{ConnectionIDs: []string{connID}, Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*store.Event{}
	for _, e := range evs {
		if out[e.UUID] != nil {
			t.Fatalf("event %s listed twice", e.UUID)
		}
		out[e.UUID] = e
	}
	return out
}

// logged returns the uuids of the org's device events.
func (in *intake) logged(t *testing.T, since time.Time) map[string]bool {
	t.Helper()
	cl, _ := emuOrgs{in.srv}.Client(t.Context(), connID)
	out := map[string]bool{}
	next := ""
	for {
		page, err := cl.PollLogs(t.Context(), next, since, pollFilter(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			out[e.UUID] = true
		}
		if len(page.Events) == 0 {
			return out
		}
		next = page.Next
	}
}

func (in *intake) fault(t *testing.T, body string) {
	t.Helper()
	in.control(t, "POST", "/_emulator/faults", body)
}

func waitDeliveries(t *testing.T, srv *emutest.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := srv.Org.WaitDeliveries(ctx); err != nil {
		t.Fatalf("deliveries: %v", err)
	}
}

// TestExactlyOnceInbox: with a fifth of the deliveries dropped, a fifth
// duplicated and some delayed (so reordered), 500 events end up in the
// inbox exactly once each, in hook+poll and in poll alone (at once: each
// has its own org and store).
func TestExactlyOnceInbox(t *testing.T) {
	for _, mode := range []string{"hook+poll", "poll"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			in := newIntake(t, oktaemu.Config{Devices: 5})
			since := in.srv.Org.Now()
			if mode == "hook+poll" {
				in.registerHook(t, "p-"+strings.ReplaceAll(mode, "+", ""), "s3cret-value")
				in.fault(t, `{"hook":"drop","probability":0.2,"seed":1}`)
				in.fault(t, `{"hook":"duplicate","probability":0.25,"seed":2}`)
				in.fault(t, `{"hook":"delay","probability":0.1,"seed":3,"delay":"2m"}`)
			}
			// Polls interleave with the events, as a running poller's
			// ticks would.
			for range 5 {
				in.enroll(t, 50)
				if mode == "hook+poll" {
					waitDeliveries(t, in.srv)
				}
				in.pollUntilQuiet(t, since)
			}
			in.srv.AdvanceClock(t, 3*time.Minute) // the delayed deliveries go out now, late
			waitDeliveries(t, in.srv)
			in.pollUntilQuiet(t, since)

			want := in.logged(t, since)
			got := in.inbox(t)
			if len(want) != 500 || len(got) != 500 {
				t.Fatalf("the org logged %d events, the inbox holds %d; want 500 each", len(want), len(got))
			}
			viaHook := 0
			for uuid, e := range got {
				if !want[uuid] {
					t.Errorf("inbox event %s is not in the org's log", uuid)
				}
				if len(e.ReceivedVia) == 0 || e.ReceivedVia[len(e.ReceivedVia)-1] != store.ViaPoll {
					t.Errorf("event %s arrived via %v; the poller sees every event", uuid, e.ReceivedVia)
				}
				if e.ReceivedVia[0] == store.ViaHook {
					viaHook++
				}
			}
			st := in.srv.Org.DeliveryStats()
			if mode == "hook+poll" && (viaHook == 0 || viaHook == 500 || st.Dropped == 0 || st.Duplicated == 0 || st.Delayed == 0) {
				t.Errorf("%d events came by hook, deliveries %+v; want some dropped, duplicated and delayed", viaHook, st)
			}
			t.Logf("%s: %d of 500 events came by hook; deliveries %+v", mode, viaHook, st)

			// The 500 events start exactly one run of each flow they
			// match (250 enrollments, 250 users added), with two
			// dispatchers at once.
			addedFlow := strings.NewReplacer("welcome-new-device", "note-added-user", "device-enrolled", "device-added-to-user").Replace(welcomeFlow)
			flows := flowList{
				parsedFlow(t, "f-welcome", welcomeFlow, "device.enrollment.create", since),
				parsedFlow(t, "f-welcome-too", strings.Replace(welcomeFlow, "welcome-new-device", "welcome-too", 1), "device.enrollment.create", since),
				parsedFlow(t, "f-added", addedFlow, "device.user.add", since),
			}
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					d := &Dispatcher{Store: in.st, Runs: flowrun.New(flowrun.Config{Store: in.st})}
					if _, err := d.Dispatch(t.Context(), connID, flows.of(connID), time.Time{}); err != nil {
						t.Errorf("dispatch: %v", err)
					}
				})
			}
			wg.Wait()
			for _, f := range flows {
				runs, err := in.st.ListFlowRuns(t.Context(), f.Flow.ID, 1000)
				if err != nil {
					t.Fatal(err)
				}
				keys := map[string]bool{}
				for _, r := range runs {
					keys[r.TriggerKey] = true
				}
				if len(runs) != 250 || len(keys) != 250 {
					t.Errorf("flow %s: %d runs for %d events; want 250 runs, one per matching event", f.Flow.Name, len(runs), len(keys))
				}
			}
		})
	}
}

// TestHookEndpointRefusesBadDeliveries: nothing is stored from a request
// with a wrong secret, malformed JSON, an oversized body or an unknown
// hook path; the verification challenge is answered.
func TestHookEndpointRefusesBadDeliveries(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	sealed, err := in.kr.Seal([]byte("right-secret"), SecretAAD(connID))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.st.PutEventHook(t.Context(), &store.EventSource{ConnectionID: connID, HookPath: "abc", SealedSecret: sealed}); err != nil {
		t.Fatal(err)
	}
	good := `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","eventId":"d1",` +
		`"data":{"events":[{"uuid":"u1","published":"2026-03-02T10:00:00.000Z","eventType":"device.user.remove","target":[]}]}}`
	big := strings.Replace(good, `"target":[]`, `"target":[],"pad":"`+strings.Repeat("x", DefaultMaxHookBody)+`"`, 1)
	tests := []struct {
		name, method, path, auth, body string
		want                           int
	}{
		{"wrong secret", "POST", "abc", "wrong-secret", good, 401},
		{"no secret", "POST", "abc", "", good, 401},
		{"unknown hook", "POST", "nope", "right-secret", good, 404},
		{"malformed JSON", "POST", "abc", "right-secret", `{"eventType":`, 400},
		{"not a delivery", "POST", "abc", "right-secret", `{"hello":"world"}`, 400},
		{"oversized", "POST", "abc", "right-secret", big, 413},
		{"verification without secret", "GET", "abc", "", "", 401},
		{"wrong method", "DELETE", "abc", "right-secret", "", 405},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, in.hook.URL+HookPathPrefix+tt.path, strings.NewReader(tt.body))
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d; want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if n := len(in.inbox(t)); n != 0 {
		t.Fatalf("refused requests stored %d events", n)
	}
	// The verification challenge, then a good delivery twice: one event.
	req, _ := http.NewRequest("GET", in.hook.URL+HookPathPrefix+"abc", nil)
	req.Header.Set("Authorization", "right-secret")
	req.Header.Set("X-Okta-Verification-Challenge", "chal-123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Verification string }
	if err := jsonDecode(resp, &v); err != nil || resp.StatusCode != 200 || v.Verification != "chal-123" {
		t.Errorf("verification: %d %+v %v", resp.StatusCode, v, err)
	}
	for range 2 {
		req, _ := http.NewRequest("POST", in.hook.URL+HookPathPrefix+"abc", strings.NewReader(good))
		req.Header.Set("Authorization", "right-secret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("good delivery: %d", resp.StatusCode)
		}
	}
	got := in.inbox(t)
	if e := got["u1"]; len(got) != 1 || e == nil || e.EventType != "device.user.remove" || len(e.Raw) == 0 || e.ReceivedVia[0] != store.ViaHook {
		t.Errorf("inbox after a good delivery twice: %+v", got)
	}
}

// TestPollerLease: of two servers, one polls a connection at a time.
func TestPollerLease(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	since := in.srv.Org.Now()
	in.enroll(t, 3)
	other := *in.poller
	other.Owner = "server-2"
	var wg sync.WaitGroup
	results := make([]PollResult, 2)
	for i, p := range []*Poller{in.poller, &other} {
		wg.Go(func() {
			r, err := p.Poll(t.Context(), connID, since)
			if err != nil {
				t.Errorf("poll: %v", err)
			}
			results[i] = r
		})
	}
	wg.Wait()
	if results[0].Polled == results[1].Polled {
		t.Errorf("polled by both or neither: %+v", results)
	}
	if n := len(in.inbox(t)); n != 6 {
		t.Errorf("inbox holds %d events; want 6", n)
	}
	// The cursor is in the store: the next poll reads nothing old.
	res, err := in.poller.Poll(t.Context(), connID, since)
	if err == nil && results[0].Polled && res.Events != 0 {
		t.Errorf("a second poll read %d events again", res.Events)
	}
}

func jsonDecode(resp *http.Response, v any) error {
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// BenchmarkHookDelivery measures a delivery of one event from the POST to
// the 200 (stored in SQLite): the hook's share of delivery-to-run latency.
func BenchmarkHookDelivery(b *testing.B) {
	st, err := sqlite.Open(b.Context(), sqlitetest.NewFile(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	key, _ := keyring.Generate()
	kr, _ := keyring.New(key)
	sealed, _ := kr.Seal([]byte("s3cret"), SecretAAD(connID))
	if err := st.PutEventHook(b.Context(), &store.EventSource{ConnectionID: connID, HookPath: "p", SealedSecret: sealed}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(&HookHandler{Store: st, Keyring: kr})
	b.Cleanup(srv.Close)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := fmt.Sprintf(`{"eventType":"com.okta.event_hook","data":{"events":[{"uuid":"u%d","eventType":"device.user.remove","published":"2026-03-02T10:00:00.000Z"}]}}`, i)
		req, _ := http.NewRequest("POST", srv.URL+HookPathPrefix+"p", strings.NewReader(body))
		req.Header.Set("Authorization", "s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatalf("delivery: %v %v", err, resp)
		}
		resp.Body.Close()
	}
}

// BenchmarkSystemLogCatchUp measures a poller catching up 10 000 device
// events from the System Log (1 000 per page) into an empty SQLite inbox,
// reported as events/s.
//
//	go test -run '^$' -bench SystemLogCatchUp -benchtime 3x ./internal/events/
func BenchmarkSystemLogCatchUp(b *testing.B) {
	const total = 10000
	srv := emutest.Start(b, oktaemu.Config{Devices: 1})
	since := srv.Now().Add(-time.Minute)
	const login = "jonas.berg@example.com"
	ctl := func(method, path, body string) *http.Response {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		resp, err := srv.Client.Do(req)
		if err != nil || resp.StatusCode >= 300 {
			b.Fatalf("%s %s: %v %v", method, path, err, resp)
		}
		return resp
	}
	resp := ctl("POST", "/_emulator/devices", `{"user":"`+login+`"}`) // two events
	var d struct{ ID string }
	if err := jsonDecode(resp, &d); err != nil {
		b.Fatal(err)
	}
	for i := 2; i < total; i += 2 {
		ctl("DELETE", "/_emulator/devices/"+d.ID+"/users/"+login, "").Body.Close()
		ctl("POST", "/_emulator/devices/"+d.ID+"/users", `{"user":"`+login+`"}`).Body.Close()
	}
	for b.Loop() {
		b.StopTimer()
		st, err := sqlite.Open(b.Context(), sqlitetest.NewFile(b))
		if err != nil {
			b.Fatal(err)
		}
		p := &Poller{Store: st, Orgs: emuOrgs{srv}, Owner: "server-1"}
		b.StartTimer()
		res, err := p.Poll(b.Context(), connID, since)
		b.StopTimer()
		if err != nil || res.New != total {
			b.Fatalf("catch-up: %v, %d new events; want %d", err, res.New, total)
		}
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(total*b.N)/b.Elapsed().Seconds(), "events/s")
}
