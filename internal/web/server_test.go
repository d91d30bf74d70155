package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/google/go-cmp/cmp"
)

const testToken = "test-api-token-0123456789"

// newTestServer returns a served Server with the test token and a log
// buffer.
func newTestServer(t *testing.T, s *Server) (*httptest.Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s.APIToken = &access.APIToken{Store: tokenHash(sha256.Sum256([]byte(testToken)))}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, &logs
}

func do(t *testing.T, method, url, token, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, url, err)
	}
	return resp, m
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestAPIAuth(t *testing.T) {
	ts, logs := newTestServer(t, &Server{})
	tests := []struct {
		name       string
		header     string
		wantStatus int
		wantCode   string
	}{
		{name: "no header", wantStatus: 401, wantCode: "unauthenticated"},
		{name: "wrong token", header: "Bearer nope", wantStatus: 401, wantCode: "unauthenticated"},
		{name: "basic scheme", header: "Basic " + testToken, wantStatus: 401, wantCode: "unauthenticated"},
		{name: "right token, unknown path", header: "Bearer " + testToken, wantStatus: 404, wantCode: "not_found"},
		{name: "lower-case scheme", header: "bearer " + testToken, wantStatus: 404, wantCode: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", ts.URL+"/api/v1/nothing", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&m)
			if resp.StatusCode != tt.wantStatus || errCode(m) != tt.wantCode {
				t.Errorf("got %d %q; want %d %q", resp.StatusCode, errCode(m), tt.wantStatus, tt.wantCode)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Errorf("got no X-Request-Id header")
			}
		})
	}
	if strings.Contains(logs.String(), testToken) {
		t.Errorf("the API token appears in the log:\n%s", logs)
	}
}

// tokenHash is a store holding the API token's hash and no other setting.
type tokenHash [32]byte

func (h tokenHash) GetSetting(_ context.Context, key string) ([]byte, error) {
	if key != access.APITokenSetting {
		return nil, store.ErrNotFound
	}
	return h[:], nil
}

func TestNoAPITokenRefusesEverything(t *testing.T) {
	for _, s := range []*Server{{}, {APIToken: &access.APIToken{}}} {
		for _, tok := range []string{"", "x"} {
			if ok, err := s.CheckToken(t.Context(), tok); ok || err != nil {
				t.Errorf("CheckToken(%q) on a server without an API token = %v, %v; want false", tok, ok, err)
			}
		}
	}
}

func TestMethodNotAllowedIsJSON(t *testing.T) {
	ts, _ := newTestServer(t, &Server{History: emptyHistory{}})
	resp, m := do(t, "DELETE", ts.URL+"/api/v1/runs", testToken, "")
	if resp.StatusCode != 405 || errCode(m) != "invalid_input" {
		t.Errorf("got %d %v; want 405 invalid_input", resp.StatusCode, m)
	}
	if got := resp.Header.Get("Allow"); got != "GET" {
		t.Errorf("got Allow %q; want GET", got)
	}
}

func TestPublicError(t *testing.T) {
	ctx := WithRequestID(t.Context(), "req-1")
	tests := []struct {
		name       string
		err        error
		wantStatus int
		want       api.Error
	}{
		{
			name:       "problem with remedy and details",
			err:        problem.New(problem.InsufficientScope, "card X needs okta.devices.manage").WithRemedy("grant it, then reauthorize").WithDetail("requiredScope", "okta.devices.manage"),
			wantStatus: 403,
			want: api.Error{Code: "insufficient_scope", Message: "card X needs okta.devices.manage; grant it, then reauthorize",
				Details: map[string]any{"remedy": "grant it, then reauthorize", "requiredScope": "okta.devices.manage"}},
		},
		{
			name:       "wrapped problem keeps its code, hides its cause",
			err:        fmt.Errorf("outer: %w", problem.New(problem.Conflict, "nickname taken").Wrap(errors.New("secret cause"))),
			wantStatus: 409,
			want:       api.Error{Code: "conflict", Message: "nickname taken"},
		},
		{
			name:       "store not found",
			err:        fmt.Errorf("get: %w", store.ErrNotFound),
			wantStatus: 404,
			want:       api.Error{Code: "not_found", Message: "not found; check the id", Details: map[string]any{"remedy": "check the id"}},
		},
		{
			name:       "unknown error is internal with the request id",
			err:        errors.New("db exploded at /var/secret"),
			wantStatus: 500,
			want: api.Error{Code: "internal", Message: "internal error; the server log has the cause under request id req-1",
				Details: map[string]any{"requestId": "req-1"}},
		},
		{
			name:       "internal problem hides its message",
			err:        problem.New(problem.Internal, "sql: bad thing"),
			wantStatus: 500,
			want: api.Error{Code: "internal", Message: "internal error; the server log has the cause under request id req-1",
				Details: map[string]any{"requestId": "req-1"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, got := publicError(ctx, tt.err)
			if status != tt.wantStatus {
				t.Errorf("got status %d; want %d", status, tt.wantStatus)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("public error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatusOfEveryCode(t *testing.T) {
	want := map[problem.Code]int{
		problem.InvalidInput: 400, problem.Unauthenticated: 401, problem.Forbidden: 403,
		problem.NotFound: 404, problem.Conflict: 409, problem.InsufficientScope: 403,
		problem.NeedsReauthorization: 409, problem.ConnectionPending: 409, problem.RateLimited: 429, problem.UpstreamError: 502,
		problem.Internal: 500, problem.Code("unknown"): 500,
	}
	for code, status := range want {
		if got := HTTPStatus(code); got != status {
			t.Errorf("HTTPStatus(%s) = %d; want %d", code, got, status)
		}
	}
}

func TestInternalErrorLogsCauseWithRequestID(t *testing.T) {
	s := &Server{}
	ts, logs := newTestServer(t, s)
	_ = ts
	req := httptest.NewRequest("GET", "/x", nil)
	req = req.WithContext(WithRequestID(req.Context(), "rid-42"))
	rec := httptest.NewRecorder()
	s.writeError(rec, req, errors.New("disk on fire"))
	if rec.Code != 500 {
		t.Errorf("got %d; want 500", rec.Code)
	}
	if strings.Contains(rec.Body.String(), "disk on fire") {
		t.Errorf("the response leaks the cause: %s", rec.Body)
	}
	var line map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		_ = json.Unmarshal([]byte(l), &line)
		if line["msg"] == "request failed" {
			break
		}
	}
	if line["request_id"] != "rid-42" || line["cause"] != "disk on fire" {
		t.Errorf("got log line %v; want request_id rid-42 and cause", line)
	}
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Name   string    `json:"name"`
		Count  int       `json:"count"`
		Scopes *[]string `json:"scopes"`
		Input  any       `json:"input"`
		Small  uint8     `json:"small"`
	}
	tests := []struct {
		name       string
		ct         string
		in         string
		allowEmpty bool
		wantMsg    string
		wantField  string
		wantRemedy string // "" means any remedy, as long as there is one
	}{
		{name: "ok", in: `{"name":"a","count":1}`},
		{name: "unknown field", in: `{"name":"a","colour":"red"}`, wantMsg: `unknown field "colour"`, wantField: "colour",
			wantRemedy: "remove it or fix its spelling; the fields are name, count, scopes, input, small"},
		{name: "a misspelt field", in: `{"name":"a","scoeps":[]}`, wantMsg: `unknown field "scoeps"`, wantField: "scoeps",
			wantRemedy: `did you mean "scopes"? The fields are name, count, scopes, input, small`},
		{name: "a field in other capitals", in: `{"Name":"a"}`, wantMsg: `unknown field "Name"`, wantField: "Name",
			wantRemedy: `field names are exact: write "name"`},
		{name: "wrong type", in: `{"count":"x"}`, wantMsg: `field "count" must be a whole number, not a string`, wantField: "count"},
		{name: "a fraction for a whole number", in: `{"count":1.5}`, wantMsg: `field "count" must be a whole number, not 1.5`, wantField: "count"},
		{name: "a number too large for any", in: `{"input":{"body":1e400}}`, wantMsg: `field "input" holds the number 1e400, which is out of range`, wantField: "input",
			wantRemedy: "send input as a number from -1.7976931348623157e+308 to 1.7976931348623157e+308"},
		{name: "a number too large for a whole number", in: `{"count":1e30}`, wantMsg: `field "count" holds the number 1e30, which is out of range`, wantField: "count",
			wantRemedy: "send count as a number from -9223372036854775808 to 9223372036854775807"},
		{name: "one past the largest whole number", in: `{"count":9223372036854775808}`, wantMsg: `field "count" holds the number 9223372036854775808, which is out of range`, wantField: "count"},
		{name: "a negative number for an unsigned one", in: `{"small":-1}`, wantMsg: `field "small" holds the number -1, which is out of range`, wantField: "small",
			wantRemedy: "send small as a number from 0 to 255"},
		{name: "a whole number written with an exponent", in: `{"count":1e3}`, wantMsg: `field "count" must be a whole number written in digits, not 1e3`, wantField: "count",
			wantRemedy: "send count as 1000"},
		{name: "an array for the body", in: `[]`, wantMsg: "request body must be an object, not an array"},
		{name: "syntax", in: `{"name":`, wantMsg: "request body is truncated JSON"},
		{name: "bad syntax", in: `{"name" 1}`, wantMsg: "request body is not valid JSON (at byte 9)"},
		{name: "trailing data", in: `{"name":"a"} {}`, wantMsg: "request body must hold exactly one JSON value"},
		{name: "empty", in: ``, wantMsg: "request body is empty"},
		{name: "empty allowed", in: ``, allowEmpty: true},
		{name: "not json content type", ct: "text/plain", in: `{}`, wantMsg: `request body must be JSON (Content-Type: application/json), not "text/plain"`},
		{name: "too large", in: `{"name":"` + strings.Repeat("a", 200) + `"}`, wantMsg: "request body is larger than 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{MaxBodyBytes: 100}
			req := httptest.NewRequest("POST", "/", strings.NewReader(tt.in))
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			var b body
			err := s.decodeJSON(httptest.NewRecorder(), req, &b, tt.allowEmpty)
			if tt.wantMsg == "" {
				if err != nil {
					t.Fatalf("got error %v; want none", err)
				}
				return
			}
			p, ok := problem.As(err)
			if !ok || p.Code != problem.InvalidInput {
				t.Fatalf("got %v; want an invalid_input problem", err)
			}
			if p.Message != tt.wantMsg {
				t.Errorf("got message %q; want %q", p.Message, tt.wantMsg)
			}
			if got, _ := p.Details["field"].(string); got != tt.wantField {
				t.Errorf("got field %q; want %q", got, tt.wantField)
			}
			// Every error says how to fix it.
			if p.Remedy == "" || tt.wantRemedy != "" && p.Remedy != tt.wantRemedy {
				t.Errorf("got remedy %q; want %q (or any, when that is empty)", p.Remedy, tt.wantRemedy)
			}
		})
	}
}

func TestMetricsRequireTokenUnlessPublic(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "m 1") })
	tests := []struct {
		name       string
		public     bool
		token      string
		wantStatus int
	}{
		{name: "private without token", wantStatus: 401},
		{name: "private with token", token: testToken, wantStatus: 200},
		{name: "public without token", public: true, wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, _ := newTestServer(t, &Server{Metrics: metrics, PublicMetrics: tt.public})
			req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("got %d; want %d", resp.StatusCode, tt.wantStatus)
			}
		})
	}
}

// /metrics checks the API token too, so wrong tokens sent to it count
// against the client address's limit like the API's: without it, it was
// a way to guess the token with no limit.
func TestMetricsWrongTokensAreRateLimited(t *testing.T) {
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "m 1") })
	ts, _ := newTestServer(t, &Server{Metrics: metrics})
	limited := 0
	for i := range 25 {
		req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
		req.Header.Set("Authorization", fmt.Sprintf("Bearer wrong-%d", i))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = i + 1
			break
		}
	}
	if limited == 0 {
		t.Fatal("25 wrong tokens in a row at /metrics were all checked; want 429 after 20")
	}
	// The same address is refused on the API as well: one limit.
	resp, _ := do(t, "GET", ts.URL+"/api/v1/connections", testToken, "")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the API answered %d after the wrong tokens at /metrics; want 429", resp.StatusCode)
	}
}

func TestHealthz(t *testing.T) {
	ts, _ := newTestServer(t, &Server{})
	resp, m := do(t, "GET", ts.URL+"/healthz", "", "")
	if resp.StatusCode != 200 || m["status"] != "ok" {
		t.Errorf("got %d %v; want 200 ok", resp.StatusCode, m)
	}
	ts2, _ := newTestServer(t, &Server{Health: func(ctxArg ctxT) error { return errors.New("db down") }})
	resp, m = do(t, "GET", ts2.URL+"/healthz", "", "")
	if resp.StatusCode != 503 || m["status"] != "unavailable" {
		t.Errorf("got %d %v; want 503 unavailable", resp.StatusCode, m)
	}
}

func TestPanicBecomesInternalError(t *testing.T) {
	console := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom") })
	ts, logs := newTestServer(t, &Server{Console: console})
	resp, m := do(t, "GET", ts.URL+"/", "", "")
	if resp.StatusCode != 500 || errCode(m) != "internal" {
		t.Errorf("got %d %v; want 500 internal", resp.StatusCode, m)
	}
	if !strings.Contains(logs.String(), "panic serving request") {
		t.Errorf("the panic is not logged:\n%s", logs)
	}
}

// TestWriteJSON: an answer is indented for people reading it, unless it is
// large (then it goes out as encoded, without a second, larger copy); a
// value that cannot be encoded is a 500 with nothing of it sent.
func TestWriteJSON(t *testing.T) {
	small := httptest.NewRecorder()
	writeJSON(small, http.StatusOK, map[string]any{"status": "ok"})
	if got := small.Body.String(); got != "{\n  \"status\": \"ok\"\n}\n" {
		t.Errorf("small answer %q; want it indented", got)
	}

	devices := make([]map[string]string, 20000)
	for i := range devices {
		devices[i] = map[string]string{"id": fmt.Sprintf("guo%016d", i), "status": "ACTIVE", "displayName": "Laptop <&>"}
	}
	large := httptest.NewRecorder()
	writeJSON(large, http.StatusOK, map[string]any{"devices": devices})
	body := large.Body.Bytes()
	if len(body) <= indentUpTo || bytes.Contains(body, []byte("\n  ")) {
		t.Errorf("large answer of %d bytes is indented; want it as encoded", len(body))
	}
	var back struct{ Devices []map[string]string }
	if err := json.Unmarshal(body, &back); err != nil || len(back.Devices) != len(devices) || back.Devices[7]["displayName"] != "Laptop <&>" {
		t.Errorf("large answer does not read back: %v, %d devices", err, len(back.Devices))
	}
	if bytes.Contains(body, []byte("<&>")) {
		t.Errorf("large answer holds HTML characters unescaped")
	}

	bad := httptest.NewRecorder()
	writeJSON(bad, http.StatusOK, map[string]any{"ratio": math.Inf(1)})
	var problemBody api.ErrorBody
	if err := json.Unmarshal(bad.Body.Bytes(), &problemBody); err != nil || bad.Code != http.StatusInternalServerError ||
		problemBody.Error.Code != "internal" || strings.Contains(bad.Body.String(), "ratio") {
		t.Errorf("unencodable answer: %d %q; want 500 with the internal problem only", bad.Code, bad.Body.String())
	}
}

// TestWrongTokensSayWhenRefusalEnds: the wrong token that uses up an
// address's limit says that the right token is refused too, until when;
// so does every refusal after it, rounded up to the second, and the
// right token works from then on.
func TestWrongTokensSayWhenRefusalEnds(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "m 1") })
	ts, _ := newTestServer(t, &Server{Metrics: metrics, Now: func() time.Time { return now }})
	get := func(token string) (int, api.Error) {
		t.Helper()
		req, _ := http.NewRequest("GET", ts.URL+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var eb api.ErrorBody
		if resp.StatusCode != http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil {
				t.Fatalf("status %d: %v", resp.StatusCode, err)
			}
		}
		return resp.StatusCode, eb.Error
	}
	for i := range 19 {
		code, e := get(fmt.Sprintf("wrong-%d", i))
		if code != http.StatusUnauthorized || e.Details["refusedUntil"] != nil || strings.Contains(fmt.Sprint(e.Details["remedy"]), "refused") {
			t.Fatalf("wrong token %d: %d %+v; want 401 with the usual remedy", i+1, code, e)
		}
		now = now.Add(time.Second)
	}
	// The 20th, 19 s after the first: the address is refused for the 41 s
	// left of its minute.
	code, e := get("wrong-20")
	const until = "until 10:01:00 UTC"
	if remedy := fmt.Sprint(e.Details["remedy"]); code != http.StatusUnauthorized || e.Details["refusedUntil"] != "2026-03-01T10:01:00Z" ||
		!strings.Contains(remedy, "wait 41s ("+until+")") || !strings.Contains(remedy, "even with the right token") || !strings.Contains(remedy, "Authorization: Bearer") {
		t.Errorf("the 20th wrong token: %d %+v; want 401 saying that every token is refused %s", code, e, until)
	}
	now = now.Add(40*time.Second + 500*time.Millisecond)
	code, e = get(testToken)
	if code != http.StatusTooManyRequests || !strings.Contains(fmt.Sprint(e.Details["remedy"]), "wait 1s ("+until+")") {
		t.Errorf("the right token half a second before the end: %d %+v; want 429 saying to wait 1s", code, e)
	}
	now = now.Add(500 * time.Millisecond)
	if code, e := get(testToken); code != http.StatusOK {
		t.Errorf("the right token %s: %d %+v; want 200", until, code, e)
	}
}
