package oktaemu_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestFaultAnswers covers every kind of answer a fault gives.
func TestFaultAnswers(t *testing.T) {
	const route = "/api/v1/devices/{deviceId}"
	tests := []struct {
		name   string
		fault  emutest.FaultSpec
		status int
		check  func(t *testing.T, r emuResp)
	}{
		{name: "json", fault: emutest.FaultSpec{Status: 502}, status: 502, check: func(t *testing.T, r emuResp) {
			if r.errorCode() != "E0000009" || r.header.Get("X-Okta-Request-Id") == "" {
				t.Errorf("body %s request id %q; want E0000009 and a request id", r.body, r.header.Get("X-Okta-Request-Id"))
			}
		}},
		{name: "html", fault: emutest.FaultSpec{Status: 504, Body: "html"}, status: 504, check: func(t *testing.T, r emuResp) {
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "<h1>504 Gateway Timeout</h1>") {
				t.Errorf("%s %q; want an HTML page", r.header.Get("Content-Type"), r.body)
			}
		}},
		{name: "echo", fault: emutest.FaultSpec{Status: 403, Body: "echo"}, status: 403, check: func(t *testing.T, r emuResp) {
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") || !strings.Contains(r.body, "The request was:") ||
				!strings.Contains(r.body, "GET /api/v1/devices/guo") || !strings.Contains(r.body, "Authorization: "+sswsAdmin) {
				t.Errorf("%s %q; want a text page repeating the request and its Authorization header", r.header.Get("Content-Type"), r.body)
			}
		}},
		{name: "empty", fault: emutest.FaultSpec{Status: 500, Body: "empty"}, status: 500, check: func(t *testing.T, r emuResp) {
			if r.body != "" {
				t.Errorf("body %q; want none", r.body)
			}
		}},
		{name: "truncated answer of the org", fault: emutest.FaultSpec{After: true, Body: "truncated"}, status: 200, check: func(t *testing.T, r emuResp) {
			var v any
			if err := json.Unmarshal([]byte(r.body), &v); err == nil || !strings.HasPrefix(r.body, `{"id":"guo`) {
				t.Errorf("body %q; want the device's JSON cut short", r.body)
			}
		}},
		{name: "headers and resetIn", fault: emutest.FaultSpec{Status: 429, Headers: map[string]string{"Date": "", "X-Rate-Limit-Limit": "abc"}, ResetIn: "-30s"}, status: 429,
			check: func(t *testing.T, r emuResp) {
				reset, _ := strconv.ParseInt(r.header.Get("X-Rate-Limit-Reset"), 10, 64)
				if r.header.Get("Date") != "" || r.header.Get("X-Rate-Limit-Limit") != "abc" || reset >= time.Now().Unix() || r.errorCode() != "E0000047" {
					t.Errorf("headers %v body %s; want no Date, limit abc and a reset in the past", r.header, r.body)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := emutest.Start(t, oktaemu.Config{Devices: 3})
			id := emuDevicesByStatus(t, s)["ACTIVE"][0]
			f := tt.fault
			f.Method, f.Path = "GET", route
			s.Inject(t, f)
			r := emuCall(t, s, "GET", "/api/v1/devices/"+id, sswsAdmin, "")
			if r.status != tt.status {
				t.Fatalf("status %d (%s); want %d", r.status, r.body, tt.status)
			}
			tt.check(t, r)
			if r := emuCall(t, s, "GET", "/api/v1/devices/"+id, sswsAdmin, ""); r.status != 200 {
				t.Errorf("after the fault: %d; want 200", r.status)
			}
		})
	}
}

// TestFaultLosesAnswer: with after, the org does the work and the client
// gets no usable answer; without it, the org does nothing.
func TestFaultLosesAnswer(t *testing.T) {
	for _, body := range []string{"reset", "cut", "json"} {
		for _, after := range []bool{false, true} {
			t.Run(body+"/after="+strconv.FormatBool(after), func(t *testing.T) {
				s := emutest.Start(t, oktaemu.Config{Devices: 3})
				id := emuDevicesByStatus(t, s)["ACTIVE"][0]
				f := emutest.FaultSpec{Method: "POST", Path: "/api/v1/devices/{deviceId}/lifecycle/suspend", Body: body, After: after}
				if body == "json" || !after && body == "cut" {
					f.Status = 502
				}
				s.Inject(t, f)
				req, _ := http.NewRequest("POST", s.URL+"/api/v1/devices/"+id+"/lifecycle/suspend", nil)
				req.Header.Set("Authorization", sswsAdmin)
				resp, err := s.Client.Do(req)
				if err == nil {
					_, err = io.ReadAll(resp.Body)
					_ = resp.Body.Close()
				}
				switch {
				case body == "json" && (err != nil || resp.StatusCode != 502):
					t.Errorf("answer %v %v; want 502", resp, err)
				case body != "json" && err == nil:
					t.Errorf("answer %d; want the connection to fail", resp.StatusCode)
				}
				want := "ACTIVE"
				if after {
					want = "SUSPENDED"
				}
				if got := emuDeviceStatus(t, s, id); got != want {
					t.Errorf("device %s; want %s", got, want)
				}
			})
		}
	}
}

// TestFaultHangs holds the answer until the client gives up.
func TestFaultHangs(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 3})
	s.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/devices", Body: "hang"})
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/api/v1/devices", nil)
	req.Header.Set("Authorization", sswsAdmin)
	done := make(chan error, 1)
	go func() {
		resp, err := s.Client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		done <- err
	}()
	// The request is counted once the org has it.
	for s.Stats(t)["GET /api/v1/devices"] == 0 {
		select {
		case err := <-done:
			t.Fatalf("answered before the client gave up: %v", err)
		default:
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("error %v; want the client's cancellation", err)
	}
}

func TestFaultRefusals(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 1})
	for _, body := range []string{
		`{"path":"/api/v1/devices"}`,
		`{"path":"/api/v1/devices","status":503,"body":"xml"}`,
		`{"path":"/api/v1/devices","status":503,"body":"reset"}`,
		`{"path":"/api/v1/devices","status":503,"resetIn":"soon"}`,
		`{"path":"/api/v1/devices","status":503,"delay":"soon"}`,
	} {
		resp, err := s.Client.Post(s.URL+"/_emulator/faults", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s: %d; want 400", body, resp.StatusCode)
		}
	}
}

// emuDeviceStatus reads a device's status.
func emuDeviceStatus(t *testing.T, s *emutest.Server, id string) string {
	t.Helper()
	r := emuCall(t, s, "GET", "/api/v1/devices/"+id, sswsAdmin, "")
	var d struct{ Status string }
	if r.status != 200 || json.Unmarshal([]byte(r.body), &d) != nil {
		t.Fatalf("read device %s: %d %s", id, r.status, r.body)
	}
	return d.Status
}

// TestFaultSkip lets the first matching requests through.
func TestFaultSkip(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 3})
	s.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/devices", Status: 503, Skip: 2})
	var got []int
	for range 4 {
		got = append(got, emuCall(t, s, "GET", "/api/v1/devices", sswsAdmin, "").status)
	}
	if want := []int{200, 200, 503, 200}; !slices.Equal(got, want) {
		t.Errorf("statuses %v; want %v", got, want)
	}
}
