package oktaemu

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Kinds of answer a fault gives (its "body").
const (
	// faultJSON is the endpoint's own error document: Okta's error body on
	// the API, an OAuth error on /oauth2/.
	faultJSON = "json"
	// faultHTML is an HTML error page, as a load balancer, a proxy or
	// Okta's edge serves instead of the JSON the client asked for.
	faultHTML = "html"
	// faultEmpty is the status with no body at all.
	faultEmpty = "empty"
	// faultTruncated is the answer's body cut in half, with a
	// Content-Length that matches: a complete answer that is not JSON.
	faultTruncated = "truncated"
	// faultCut declares the whole body, sends half of it and closes the
	// connection: the answer is cut off by the network.
	faultCut = "cut"
	// faultReset closes the connection without any answer.
	faultReset = "reset"
	// faultHang sends no answer and keeps the connection open until the
	// client gives up.
	faultHang = "hang"
	// faultEcho is a plain-text error page that repeats the request (its
	// request line, headers and body), as a proxy's or a firewall's
	// diagnostic page does: credentials the client sent come back in it.
	faultEcho = "echo"
)

// fault changes the next Count answers to requests matching Method and
// Path (see the package documentation, Control endpoints).
type fault struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	// Status is the answer's status; 0 (with After) keeps the org's own.
	Status int `json:"status"`
	Count  int `json:"count"`
	// Skip lets this many matching requests through before the fault
	// applies (the second page of a search, say).
	Skip int `json:"skip"`
	// Body is the kind of answer: one of the fault* constants; "" is
	// faultJSON.
	Body string `json:"body"`
	// After serves the request first, so that what it does (a rotated
	// refresh token, a deleted device) is done, and then replaces or
	// loses its answer.
	After bool `json:"after"`
	// Headers are set on the answer; an empty value removes the header
	// (e.g. Date or X-Rate-Limit-Reset).
	Headers map[string]string `json:"headers"`
	// ResetIn, when set, makes X-Rate-Limit-Reset the org's clock plus
	// this Go duration (negative: a reset in the past).
	ResetIn string `json:"resetIn"`
	// Delay holds the answer this long (real time) first.
	Delay time.Duration `json:"-"`
}

// check returns what is wrong with f, or "".
func (f *fault) check() string {
	switch f.Body {
	case "", faultJSON, faultHTML, faultEmpty, faultTruncated, faultCut, faultReset, faultHang, faultEcho:
	default:
		return "body must be json, html, empty, truncated, cut, reset, hang or echo"
	}
	noAnswer := f.Body == faultReset || f.Body == faultHang
	switch {
	case f.Path == "":
		return "path is required"
	case noAnswer && f.Status != 0:
		return "a " + f.Body + " fault sends no answer, so it takes no status"
	case !noAnswer && f.Status == 0 && !f.After:
		return "a status between 100 and 599 is required (0 keeps the org's own only with \"after\": true)"
	case f.Status != 0 && (f.Status < 100 || f.Status > 599):
		return "status must be between 100 and 599"
	case f.Delay < 0:
		return "delay must not be negative"
	case f.Skip < 0:
		return "skip must not be negative"
	}
	if f.ResetIn != "" {
		if _, err := time.ParseDuration(f.ResetIn); err != nil {
			return "resetIn must be a Go duration such as \"30s\" or \"-30s\""
		}
	}
	for k := range f.Headers {
		if k == "" || strings.ContainsAny(k, " :\r\n") {
			return fmt.Sprintf("%q is not a header name", k)
		}
	}
	return ""
}

type faultTable struct {
	mu     sync.Mutex
	faults []*fault
}

func (t *faultTable) clear() {
	t.mu.Lock()
	t.faults = nil
	t.mu.Unlock()
}

func (t *faultTable) add(f fault) {
	t.mu.Lock()
	t.faults = append(t.faults, &f)
	t.mu.Unlock()
}

// take consumes one use of the first fault matching the request, whose
// route pattern path is pattern and whose literal path is path.
func (t *faultTable) take(method, pattern, path string) (fault, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, f := range t.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, method) || f.Path != pattern && f.Path != path {
			continue
		}
		if f.Skip > 0 {
			f.Skip--
			return fault{}, false
		}
		f.Count--
		got := *f
		if f.Count <= 0 {
			t.faults = append(t.faults[:i], t.faults[i+1:]...)
		}
		return got, true
	}
	return fault{}, false
}

// recorder keeps an answer the org gave, for a fault to change.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

// serveFault answers r as fault f says. serve answers r as the org does
// (rate limit included); it runs first when f.After is set.
func (o *Org) serveFault(w http.ResponseWriter, r *http.Request, f fault, serve func(http.ResponseWriter)) {
	var echo []byte
	if f.Body == faultEcho {
		echo = requestDump(r)
	}
	var rec *recorder
	if f.After {
		rec = &recorder{header: w.Header().Clone()}
		serve(rec)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	switch f.Body {
	case faultHang:
		<-r.Context().Done()
		return
	case faultReset:
		if conn := hijack(w); conn != nil {
			abort(conn)
		}
		return
	}
	status, header, body := o.faultAnswer(w, r, f, rec)
	if f.Body == faultEcho && f.Status != 0 {
		header.Set("Content-Type", "text/plain; charset=utf-8")
		body = append(fmt.Appendf(nil, "%d %s\n\nThe request was:\n\n", status, http.StatusText(status)), echo...)
	}
	if f.ResetIn != "" {
		d, _ := time.ParseDuration(f.ResetIn)
		header.Set("X-Rate-Limit-Reset", strconv.FormatInt(o.now().Add(d).Unix(), 10))
	}
	for k, v := range f.Headers {
		if v == "" {
			// A nil value also keeps net/http from adding its own (Date).
			header[http.CanonicalHeaderKey(k)] = nil
		} else {
			header.Set(k, v)
		}
	}
	full := len(body)
	if f.Body == faultTruncated || f.Body == faultCut {
		body = body[:len(body)/2]
	}
	if f.Body == faultCut {
		conn := hijack(w)
		if conn == nil {
			return
		}
		header.Set("Content-Length", strconv.Itoa(full))
		var b bytes.Buffer
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
		_ = header.Write(&b)
		b.WriteString("\r\n")
		raw := b.Bytes()
		if full == 0 {
			// Nothing to cut in the body: the headers are cut instead.
			raw = raw[:len(raw)/2]
		}
		_, _ = conn.Write(raw)
		_, _ = conn.Write(body)
		abort(conn)
		return
	}
	h := w.Header()
	clear(h)
	for k, vs := range header {
		h[k] = vs
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// faultAnswer is the status, headers and body of f's answer: the org's own
// (rec, when f keeps its status) or the fault's, in the endpoint's style.
func (o *Org) faultAnswer(w http.ResponseWriter, r *http.Request, f fault, rec *recorder) (int, http.Header, []byte) {
	if f.Status == 0 {
		return rec.status, rec.header, rec.body.Bytes()
	}
	header := http.Header{}
	for _, k := range []string{"X-Okta-Request-Id", "Date"} {
		if v := w.Header().Get(k); v != "" {
			header.Set(k, v)
		}
	}
	if rec != nil {
		for _, k := range []string{"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset"} {
			if v := rec.header.Get(k); v != "" {
				header.Set(k, v)
			}
		}
	}
	if f.Status == http.StatusTooManyRequests {
		// Okta sends its rate-limit headers with every 429, the OAuth
		// endpoints' included.
		header.Set("X-Rate-Limit-Limit", "0")
		header.Set("X-Rate-Limit-Remaining", "0")
		header.Set("X-Rate-Limit-Reset", strconv.FormatInt(o.now().Add(time.Second).Unix(), 10))
	}
	switch f.Body {
	case faultEmpty:
		return f.Status, header, nil
	case faultHTML:
		header.Set("Content-Type", "text/html; charset=utf-8")
		text := fmt.Sprintf("%d %s", f.Status, http.StatusText(f.Status))
		return f.Status, header, []byte("<!DOCTYPE html>\n<html><head><title>" + text + "</title></head>\n<body><h1>" + text +
			"</h1><p>The server is temporarily unable to service your request. Please try again later.</p>" +
			"<hr><address>upstream proxy</address></body></html>\n")
	}
	header.Set("Content-Type", "application/json")
	header.Set("Cache-Control", "no-cache, no-store")
	if strings.HasPrefix(r.URL.Path, "/oauth2/") && !strings.HasPrefix(r.URL.Path, "/oauth2/v1/clients/") {
		code := "server_error"
		if f.Status == http.StatusServiceUnavailable {
			code = "temporarily_unavailable"
		}
		return f.Status, header, encodeJSON(map[string]string{"error": code, "error_description": "The server is unable to handle the request (injected fault)."})
	}
	e := oktaError{ErrorLink: "", ErrorID: "oae" + newRequestID()[:22], ErrorCauses: []errorCause{}}
	switch {
	case f.Status == http.StatusTooManyRequests:
		e.ErrorCode, e.ErrorSummary = "E0000047", "API call exceeded rate limit due to too many requests."
	case f.Status >= 500:
		e.ErrorCode, e.ErrorSummary = "E0000009", "Internal Server Error"
	case f.Status == http.StatusNotFound:
		e.ErrorCode, e.ErrorSummary = "E0000007", "Not found: Resource not found: "+r.URL.Path+" (injected fault)"
	case f.Status == http.StatusUnauthorized:
		e.ErrorCode, e.ErrorSummary = "E0000011", "Invalid token provided"
	case f.Status == http.StatusForbidden:
		e.ErrorCode, e.ErrorSummary = "E0000006", "You do not have permission to perform the requested action"
	default:
		e.ErrorCode, e.ErrorSummary = "E0000001", "Api validation failed: injected fault"
	}
	e.ErrorLink = e.ErrorCode
	return f.Status, header, encodeJSON(e)
}

// requestDump is r's request line, headers and body as text, r's body
// left readable for the org's own answer.
func requestDump(r *http.Request) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s %s\r\nHost: %s\r\n", r.Method, r.URL.RequestURI(), r.Proto, r.Host)
	_ = r.Header.Write(&b)
	b.WriteString("\r\n")
	if r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		_ = r.Body.Close()
		b.Write(body)
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	return b.Bytes()
}

// hijack takes over r's connection, or returns nil when the server does
// not allow it (HTTP/2).
func hijack(w http.ResponseWriter) net.Conn {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil
	}
	return conn
}

// abort closes conn at once; a TCP connection is reset (RST), as a
// crashed or cut-off peer's is.
func abort(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}
