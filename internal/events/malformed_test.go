package events

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// syncBuffer is a log destination for handlers used from several
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// malformedAudits returns the connection.event-malformed audit events.
func malformedAudits(t *testing.T, st store.Store) []*store.AuditEvent {
	t.Helper()
	a, err := st.ListAudit(t.Context(), store.AuditFilter{Action: store.ActionConnectionEventMalformed})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestHookDeliveryWithMalformedEvent: a delivery holding events cardflow
// cannot use (one without its published time, one whose published is not
// a time, one that is not an object) beside two of the org's events is
// answered 200, not refused whole (Okta sends no delivery again after a
// 4xx): the two are stored and start their runs exactly once, also when
// Okta sends the delivery twice; each arrival leaves a warning in the log,
// and the first a connection.event-malformed audit event naming the
// others, with no secret (the second names no event not named before).
func TestHookDeliveryWithMalformedEvent(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	since := in.srv.Org.Now()
	const secret = "right-secret-value"
	sealed, err := in.kr.Seal([]byte(secret), SecretAAD(connID))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.st.PutEventHook(t.Context(), &store.EventSource{ConnectionID: connID, HookPath: "abc", SealedSecret: sealed}); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	hook := httptest.NewServer(&HookHandler{Store: in.st, Keyring: in.kr, Now: in.srv.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	t.Cleanup(hook.Close)

	// The org's own events: an enrollment and its user added.
	in.enroll(t, 1)
	cl, _ := emuOrgs{in.srv}.Client(t.Context(), connID)
	page, err := cl.PollLogs(t.Context(), "", since, pollFilter(), 100)
	if err != nil || len(page.Events) != 2 {
		t.Fatalf("the org's events: %v, %d; want 2", err, len(page.Events))
	}
	events := []string{
		string(page.Events[0].Raw),
		`{"uuid":"u-no-time","eventType":"device.user.remove","target":[]}`,
		string(page.Events[1].Raw),
		`{"uuid":"u-bad-time","eventType":"device.user.add","published":"yesterday"}`,
		`"not an event"`,
	}
	body := `{"eventType":"com.okta.event_hook","eventTypeVersion":"1.0","cloudEventsVersion":"0.1","eventId":"delivery-1",` +
		`"data":{"events":[` + strings.Join(events, ",") + `]}}`
	for i := range 2 { // Okta delivers at least once
		req, _ := http.NewRequest("POST", hook.URL+HookPathPrefix+"abc", strings.NewReader(body))
		req.Header.Set("Authorization", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery %d: %d; want 200, its good events stored", i+1, resp.StatusCode)
		}
	}

	got := in.inbox(t)
	if len(got) != 2 || got[page.Events[0].UUID] == nil || got[page.Events[1].UUID] == nil {
		t.Fatalf("inbox %v; want the org's 2 events", got)
	}
	fl := parsedFlow(t, "f-welcome", welcomeFlow, "device.enrollment.create", since)
	d := &Dispatcher{Store: in.st, Runs: flowrun.New(flowrun.Config{Store: in.st})}
	for range 2 {
		if _, err := d.Dispatch(t.Context(), connID, []EventFlow{fl}, in.srv.Now()); err != nil {
			t.Fatalf("dispatch: %v", err)
		}
	}
	if runs, err := in.st.ListFlowRuns(t.Context(), fl.Flow.ID, 10); err != nil || len(runs) != 1 {
		t.Errorf("runs of the enrollment flow: %d, %v; want 1", len(runs), err)
	}

	audits := malformedAudits(t, in.st)
	if len(audits) != 1 {
		t.Fatalf("%d connection.event-malformed audit events; want one, of the first arrival (the second names nothing new)", len(audits))
	}
	for _, want := range []string{"event hook delivery delivery-1", "3 of its 5 events",
		"event 2 (uuid u-no-time, device.user.remove): it lacks its published time",
		"event 4 (uuid u-bad-time, device.user.add): it is not an Okta LogEvent: its published is not a time",
		"event 5: it is not an Okta LogEvent: it is a JSON string, not an object"} {
		if !strings.Contains(audits[0].InputSummary, want) {
			t.Errorf("audit summary %q; want it to say %q", audits[0].InputSummary, want)
		}
	}
	if a := audits[0]; a.ConnectionID != connID || a.Outcome != "failure" || a.Actor != store.ServerActor {
		t.Errorf("audit event %+v; want a failure of the server on %s", a, connID)
	}
	text := logs.String()
	if strings.Count(text, "u-bad-time") != 2 || strings.Contains(text, secret) || strings.Contains(text, "yesterday") {
		t.Errorf("log %q; want the bad event named once per arrival, without the secret or the event's values", text)
	}
}

// TestPollSkipsMalformedEvent: a System Log page holding an event without
// its published time (here made so by a proxy between cardflow and the
// org) does not fail every poll at the same cursor: the page's other
// events are stored, the cursor moves on, and the event is named once in
// the log and a connection.event-malformed audit event.
func TestPollSkipsMalformedEvent(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	since := in.srv.Org.Now()
	proxy := logsProxy(t, in, func(e map[string]any) {
		if e["eventType"] == "device.user.add" {
			delete(e, "published")
		}
	})
	var logs syncBuffer
	in.poller.Orgs = proxyOrgs{url: proxy}
	in.poller.Logger = slog.New(slog.NewTextHandler(&logs, nil))

	in.enroll(t, 2) // two enrollments, two users added
	res, err := in.poller.Poll(t.Context(), connID, since)
	if err != nil || res.Events != 2 {
		t.Fatalf("poll: %+v, %v; want the 2 enrollments stored", res, err)
	}
	for _, e := range in.inbox(t) {
		if e.EventType != "device.enrollment.create" {
			t.Errorf("inbox holds a %s", e.EventType)
		}
	}
	src, err := in.st.GetEventSource(t.Context(), connID)
	if err != nil || src.PollNext == "" || src.Poll.Error != "" {
		t.Fatalf("event source %+v, %v; want the cursor moved on and no poll error", src, err)
	}
	// The next poll reads on from there: nothing again.
	if res, err := in.poller.Poll(t.Context(), connID, since); err != nil || res.Events != 0 {
		t.Errorf("second poll: %+v, %v; want nothing read again", res, err)
	}
	audits := malformedAudits(t, in.st)
	if len(audits) != 1 || !strings.Contains(audits[0].InputSummary, "System Log page: left out 2 of its 4 events") ||
		!strings.Contains(audits[0].InputSummary, "device.user.add): it lacks its published time") {
		t.Errorf("audit events %v; want one naming the 2 events without a published time", audits)
	}
	if n := strings.Count(logs.String(), "it lacks its published time"); n != 2 {
		t.Errorf("%d warnings in the log; want one per event left out, 2:\n%s", n, logs.String())
	}
}

// TestMalformedEventAuditedOnce: an event cardflow cannot use that
// arrives again, by a hook delivery sent twice and then by the System Log
// poll (here a proxy between cardflow and the org drops its published
// time, for both), is named in one connection.event-malformed audit event,
// with a warning in the log at each arrival; the enrollment beside it is
// stored.
func TestMalformedEventAuditedOnce(t *testing.T) {
	in := newIntake(t, oktaemu.Config{Devices: 5})
	since := in.srv.Org.Now()
	proxy := logsProxy(t, in, func(e map[string]any) {
		if e["eventType"] == "device.user.add" {
			delete(e, "published")
		}
	})
	var logs syncBuffer
	in.poller.Orgs = proxyOrgs{url: proxy}
	in.poller.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	const secret = "right-secret-value"
	sealed, err := in.kr.Seal([]byte(secret), SecretAAD(connID))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.st.PutEventHook(t.Context(), &store.EventSource{ConnectionID: connID, HookPath: "abc", SealedSecret: sealed}); err != nil {
		t.Fatal(err)
	}
	hook := httptest.NewServer(&HookHandler{Store: in.st, Keyring: in.kr, Now: in.srv.Now,
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	t.Cleanup(hook.Close)

	in.enroll(t, 1) // an enrollment and its user added
	cl, _ := proxyOrgs{url: proxy}.Client(t.Context(), connID)
	page, err := cl.PollLogs(t.Context(), "", since, pollFilter(), 100)
	if err != nil || page.Len() != 2 {
		t.Fatalf("the org's events: %v, %d; want 2", err, page.Len())
	}
	var raws []string
	for _, e := range page.Events {
		raws = append(raws, string(e.Raw))
	}
	body := `{"eventType":"com.okta.event_hook","eventId":"delivery-1","data":{"events":[` + strings.Join(raws, ",") + `]}}`
	for i := range 2 { // Okta delivers at least once
		req, _ := http.NewRequest("POST", hook.URL+HookPathPrefix+"abc", strings.NewReader(body))
		req.Header.Set("Authorization", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery %d: %d; want 200", i+1, resp.StatusCode)
		}
	}
	if res, err := in.poller.Poll(t.Context(), connID, since); err != nil || res.Events != 1 {
		t.Fatalf("poll: %+v, %v; want the enrollment read", res, err)
	}
	if got := in.inbox(t); len(got) != 1 {
		t.Errorf("inbox %v; want the enrollment", got)
	}
	audits := malformedAudits(t, in.st)
	if len(audits) != 1 || !strings.Contains(audits[0].InputSummary, "event hook delivery delivery-1: left out 1 of its 2 events") ||
		!strings.Contains(audits[0].InputSummary, "device.user.add): it lacks its published time") {
		t.Fatalf("audit events %v; want one, naming the user added once", audits)
	}
	if n := strings.Count(logs.String(), "it lacks its published time"); n != 3 {
		t.Errorf("%d warnings in the log; want one per arrival, 3:\n%s", n, logs.String())
	}
}

// proxyOrgs gives every connection a client of the org behind url.
type proxyOrgs struct{ url string }

func (o proxyOrgs) Client(context.Context, string) (*okta.Client, error) {
	u, err := url.Parse(o.url)
	if err != nil {
		return nil, err
	}
	return &okta.Client{BaseURL: u, HTTP: &http.Client{Transport: ssws{http.DefaultTransport}}, RetryBackoff: 1}, nil
}

// TestPollSkipsEventOfWrongType: a System Log page holding events whose
// fields have the wrong JSON type (a published that is a number, an actor
// that is a string; here made so by a proxy) does not fail the page, which
// would fail every poll at the same cursor: the page's other events are
// stored, the poll reads on to the end (also past a page holding nothing
// else) and moves the cursor, and the events are named in the log and
// connection.event-malformed audit events, with what is wrong with them.
func TestPollSkipsEventOfWrongType(t *testing.T) {
	for _, tt := range []struct {
		name     string
		pageSize int
		pages    int // the pages of the poll, the last one empty
		audits   []string
	}{
		{"one page", 100, 2, []string{"System Log page: left out 2 of its 4 events"}},
		{"a page each", 1, 5, []string{"System Log page: left out 1 of its 1 events", "System Log page: left out 1 of its 1 events"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := newIntake(t, oktaemu.Config{Devices: 5})
			since := in.srv.Org.Now()
			proxy := logsProxy(t, in, func(e map[string]any) {
				if e["eventType"] != "device.user.add" {
					return
				}
				for _, tg := range e["target"].([]any) {
					switch tg.(map[string]any)["displayName"] {
					case "Laptop 0":
						e["published"] = 12
					case "Laptop 1":
						e["actor"] = "x"
					}
				}
			})
			var logs syncBuffer
			in.poller.Orgs = proxyOrgs{url: proxy}
			in.poller.PageSize = tt.pageSize
			in.poller.Logger = slog.New(slog.NewTextHandler(&logs, nil))

			in.enroll(t, 2) // two enrollments, two users added
			res, err := in.poller.Poll(t.Context(), connID, since)
			if err != nil || !res.Polled || res.Events != 2 || res.Pages != tt.pages {
				t.Fatalf("poll: %+v, %v; want the 2 enrollments stored from %d pages", res, err, tt.pages)
			}
			inbox := in.inbox(t)
			for _, e := range inbox {
				if e.EventType != "device.enrollment.create" {
					t.Errorf("inbox holds a %s", e.EventType)
				}
			}
			src, err := in.st.GetEventSource(t.Context(), connID)
			if err != nil || src.PollNext == "" || src.Poll.Error != "" {
				t.Fatalf("event source %+v, %v; want the cursor moved on and no poll error", src, err)
			}
			// The next poll reads on from there: nothing again.
			if res, err := in.poller.Poll(t.Context(), connID, since); err != nil || res.Events != 0 || res.Pages != 1 {
				t.Errorf("second poll: %+v, %v; want one empty page", res, err)
			}
			audits := malformedAudits(t, in.st)
			if len(audits) != len(tt.audits) {
				t.Fatalf("%d connection.event-malformed audit events; want %d", len(audits), len(tt.audits))
			}
			text := ""
			for i, a := range audits {
				if !strings.Contains(a.InputSummary, tt.audits[i]) || a.ConnectionID != connID || a.Outcome != "failure" {
					t.Errorf("audit event %+v; want a failure saying %q", a, tt.audits[i])
				}
				text += a.InputSummary + "\n"
			}
			for _, want := range []string{"device.user.add): it is not an Okta LogEvent: its published is a JSON number",
				"device.user.add): it is not an Okta LogEvent: its actor is a JSON string"} {
				if strings.Count(text, want) != 1 {
					t.Errorf("audit events %q; want them to say once %q", text, want)
				}
			}
			if n := strings.Count(logs.String(), "it is not an Okta LogEvent"); n != 2 {
				t.Errorf("%d warnings in the log; want one per event left out, 2:\n%s", n, logs.String())
			}
		})
	}
}

// logsProxy serves in's org through a proxy that changes each event of a
// System Log page with alter, and returns its URL.
func logsProxy(t *testing.T, in *intake, alter func(map[string]any)) string {
	t.Helper()
	target, _ := url.Parse(in.srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = in.srv.Client.Transport
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/api/v1/logs" || resp.StatusCode != 200 {
			return nil
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var evs []map[string]any
		if err := json.Unmarshal(b, &evs); err != nil {
			return err
		}
		for _, e := range evs {
			alter(e)
		}
		if b, err = json.Marshal(evs); err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	proxy := httptest.NewServer(rp)
	t.Cleanup(proxy.Close)
	return proxy.URL
}

// TestLogEventsOf: events given to plan a run are read one at a time, as
// the intake reads a delivery or a page: one that is not an Okta LogEvent
// is named by its place, uuid and type with what is wrong, and the others
// are read; a delivery holding such an event is still read as a delivery,
// not as one event of type com.okta.event_hook.
func TestLogEventsOf(t *testing.T) {
	const good = `{"uuid":"u-good","eventType":"device.user.add","published":"2026-11-30T08:00:00.000Z"}`
	const bad = `{"uuid":"u-bad","eventType":"device.user.remove","published":12}`
	for _, tt := range []struct {
		name, raw string
		good      []string // the uuids read
		bad       []string // the events that cannot be used, as named
	}{
		{"one event", good, []string{"u-good"}, nil},
		{"one malformed event", bad, nil, []string{"event 1 (uuid u-bad, device.user.remove): it is not an Okta LogEvent: its published is a JSON number"}},
		{"not an object", `"device.user.add"`, nil, []string{"event 1: it is not an Okta LogEvent: it is a JSON string, not an object"}},
		{"a page", "[" + bad + "," + good + "]", []string{"u-good"}, []string{"event 1 (uuid u-bad, device.user.remove): it is not an Okta LogEvent: its published is a JSON number"}},
		{"a delivery", `{"eventType":"com.okta.event_hook","data":{"events":[` + good + "," + bad + `]}}`,
			[]string{"u-good"}, []string{"event 2 (uuid u-bad, device.user.remove): it is not an Okta LogEvent: its published is a JSON number"}},
		{"a delivery of a malformed event", `{"eventType":"com.okta.event_hook","data":{"events":[` + bad + `]}}`,
			nil, []string{"event 1 (uuid u-bad, device.user.remove): it is not an Okta LogEvent: its published is a JSON number"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			evs, unusable, err := LogEventsOf([]byte(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			var uuids, named []string
			for _, e := range evs {
				uuids = append(uuids, e.UUID)
			}
			for _, m := range unusable {
				named = append(named, m.String())
			}
			if strings.Join(uuids, ",") != strings.Join(tt.good, ",") || strings.Join(named, "\n") != strings.Join(tt.bad, "\n") {
				t.Errorf("got %q and unusable %q; want %q and %q", uuids, named, tt.good, tt.bad)
			}
		})
	}
}
