package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// challengeAnswerer is a hook endpoint that answers Okta's verification.
func challengeAnswerer(t *testing.T, secret string) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != secret {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet {
			_ = json.NewEncoder(w).Encode(map[string]string{"verification": r.Header.Get("X-Okta-Verification-Challenge")})
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func TestEventHookCalls(t *testing.T) {
	_, c := startOrg(t, oktaemu.Config{Devices: 5})
	ctx := context.Background()
	rcv := challengeAnswerer(t, "s3cret")
	h, err := c.CreateEventHook(ctx, NewEventHook("cardflow", rcv.URL+"/hooks/okta/x", "s3cret", []string{"device.user.remove"}))
	if err != nil {
		t.Fatalf("CreateEventHook: %v", err)
	}
	if h.Status != "ACTIVE" || h.VerificationStatus != "UNVERIFIED" || h.ID == "" || h.Channel.Config.AuthScheme == nil || h.Channel.Config.AuthScheme.Value != "" {
		t.Errorf("created %+v", h)
	}
	if h, err = c.HookLifecycle(ctx, h.ID, "verify"); err != nil || h.VerificationStatus != "VERIFIED" {
		t.Fatalf("verify: %v %+v", err, h)
	}
	upd := NewEventHook("cardflow", rcv.URL+"/hooks/okta/x", "s3cret", []string{"device.user.remove", "device.user.add"})
	if h, err = c.ReplaceEventHook(ctx, h.ID, upd); err != nil || len(h.Events.Items) != 2 || h.VerificationStatus != "VERIFIED" {
		t.Fatalf("replace: %v %+v", err, h)
	}
	if got, err := c.GetEventHook(ctx, h.ID); err != nil || got.Name != "cardflow" {
		t.Fatalf("get: %v %+v", err, got)
	}
	err = c.DeleteEventHook(ctx, h.ID)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Status != 400 {
		t.Errorf("delete of an ACTIVE hook: %v; want a 400 APIError", err)
	}
	if _, err := c.HookLifecycle(ctx, h.ID, "deactivate"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteEventHook(ctx, h.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := c.GetEventHook(ctx, h.ID); !IsNotFound(err) {
		t.Errorf("get after delete: %v; want not found", err)
	}
	if _, err := c.HookLifecycle(ctx, "../x", "verify"); err == nil {
		t.Errorf("a bad hook id was sent")
	}
	if _, err := c.HookLifecycle(ctx, "who1", "explode"); err == nil {
		t.Errorf("a bad action was sent")
	}
}

func TestPollLogs(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 5})
	ctx := context.Background()
	since := srv.Org.Now().Add(-time.Minute)
	enroll := func() {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/_emulator/devices", strings.NewReader(`{"user":"admin@example.com"}`))
		resp, err := srv.Client.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("enroll: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	enroll()
	filter := `eventType eq "device.enrollment.create" or eventType eq "device.user.add"`
	page, err := c.PollLogs(ctx, "", since, filter, 1)
	if err != nil || len(page.Events) != 1 || page.Next == "" {
		t.Fatalf("first page: %v %+v", err, page)
	}
	e := page.Events[0]
	dev, ok := e.TargetOf("UDDevice")
	user, uok := e.TargetOf("User")
	if e.EventType != "device.enrollment.create" || !ok || dev.ID == "" || !uok || user.AlternateID != oktaemu.AdminLogin || e.UUID == "" || len(e.Raw) == 0 || e.Published.IsZero() {
		t.Errorf("event %+v", e)
	}
	page, err = c.PollLogs(ctx, page.Next, time.Time{}, "", 0)
	if err != nil || len(page.Events) != 1 || page.Events[0].EventType != "device.user.add" {
		t.Fatalf("second page: %v %+v", err, page)
	}
	// Nothing new: an empty page that links on, to the next event.
	empty, err := c.PollLogs(ctx, page.Next, time.Time{}, "", 0)
	if err != nil || len(empty.Events) != 0 || empty.Next == "" {
		t.Fatalf("empty page: %v %+v", err, empty)
	}
	enroll()
	more, err := c.PollLogs(ctx, empty.Next, time.Time{}, "", 0)
	if err != nil || len(more.Events) != 1 || more.Events[0].UUID == e.UUID {
		t.Fatalf("after a new enrollment: %v %+v", err, more)
	}
	if _, err := c.PollLogs(ctx, "https://evil.example.com/api/v1/logs?after=x", time.Time{}, "", 0); err == nil {
		t.Errorf("a next link elsewhere was followed")
	}
	// Without okta.logs.read the scope error says so.
	tok := accessToken(t, srv, oktaemu.AdminLogin, "okta.devices.read")
	_, err = clientFor(t, srv, "Bearer "+tok).PollLogs(ctx, "", since, "", 0)
	var se *ScopeError
	if !errors.As(err, &se) || se.Scope != "okta.logs.read" {
		t.Errorf("without okta.logs.read: %v; want a ScopeError naming it", err)
	}
}

// TestPollLogsSetsApartUndecodableEvents: a System Log page whose events
// include one with a published that is a number, one with an actor that is
// a string and one that is no object (made so by a proxy in front of the
// org) is not an error: the others are its Events, these its Undecodable,
// each with its place, its JSON and a type error naming the field. A body
// that is not JSON still fails the page.
func TestPollLogsSetsApartUndecodableEvents(t *testing.T) {
	srv, c := startOrg(t, oktaemu.Config{Devices: 5})
	since := srv.Org.Now().Add(-time.Minute)
	for range 3 {
		req, _ := http.NewRequest("POST", srv.URL+"/_emulator/devices", strings.NewReader(`{"user":"admin@example.com"}`))
		resp, err := srv.Client.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("enroll: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	altered := []string{1: `{"uuid":"u-1","eventType":"device.user.add","published":12}`,
		3: `{"uuid":"u-3","eventType":"device.user.add","published":"2026-03-02T10:00:00.000Z","actor":"x"}`,
		4: `"not an event"`}
	var broken atomic.Bool
	target, _ := url.Parse(srv.URL)
	proxy := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host // the org's links name the proxy
		},
		ModifyResponse: func(resp *http.Response) error {
			var evs []json.RawMessage
			if err := json.NewDecoder(resp.Body).Decode(&evs); err != nil {
				return err
			}
			resp.Body.Close()
			for i, a := range altered {
				if a != "" && i < len(evs) {
					evs[i] = json.RawMessage(a)
				}
			}
			b, _ := json.Marshal(evs)
			if broken.Load() {
				b = b[:len(b)-1]
			}
			resp.Body = io.NopCloser(bytes.NewReader(b))
			resp.ContentLength = int64(len(b))
			resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
			return nil
		},
	})
	t.Cleanup(proxy.Close)
	c.BaseURL, _ = url.Parse(proxy.URL)

	page, err := c.PollLogs(t.Context(), "", since, "", 100)
	if err != nil {
		t.Fatalf("PollLogs: %v; want the page with its undecodable events set apart", err)
	}
	if page.Len() != 6 || len(page.Events) != 3 || len(page.Undecodable) != 3 || page.Next == "" {
		t.Fatalf("page of %d events: %d events, %d undecodable, next %q; want 3 and 3, and a next link",
			page.Len(), len(page.Events), len(page.Undecodable), page.Next)
	}
	for _, e := range page.Events {
		if e.UUID == "" || e.Published.IsZero() || len(e.Raw) == 0 {
			t.Errorf("event %+v; want it decoded, with its JSON", e)
		}
	}
	for i, want := range []struct {
		index        int
		field, value string
	}{{1, "published", "number"}, {3, "actor", "string"}, {4, "", "string"}} {
		u := page.Undecodable[i]
		var te *json.UnmarshalTypeError
		if u.Index != want.index || string(u.Raw) != altered[want.index] || !errors.As(&u, &te) || te.Field != want.field || te.Value != want.value {
			t.Errorf("undecodable %d: index %d, %s, %v; want event %d, a JSON %s as its %q", i, u.Index, u.Raw, u.Err, want.index, want.value, want.field)
		}
	}

	broken.Store(true)
	var de *DecodeError
	if _, err := c.PollLogs(t.Context(), page.Next, time.Time{}, "", 0); !errors.As(err, &de) {
		t.Errorf("a page that breaks off: %v; want a DecodeError", err)
	}
}
