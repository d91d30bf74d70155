package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Defaults used when the corresponding Client field is zero.
const (
	DefaultMaxRetries       = 3
	DefaultMaxWait          = 75 * time.Second
	DefaultRetryBackoff     = 250 * time.Millisecond
	DefaultMaxResponseBytes = 32 << 20
	// RateLimitMargin is added to the reset − Date wait after a 429, as
	// Okta's own SDKs do.
	RateLimitMargin = time.Second
	// DefaultConcurrencyWait is the first wait after a concurrency 429
	// (limit and remaining 0): it ends when calls in flight end, and its
	// reset is only Okta's estimate, so the wait starts short and doubles
	// with each retry, never beyond that estimate.
	DefaultConcurrencyWait = 2 * time.Second
)

// Client calls the Okta management API of one org. Its fields are set once
// before use; a Client is then safe for concurrent use and cheap to copy.
type Client struct {
	// BaseURL is the org's origin: https://host, or a trusted http origin
	// (the emulator). Only its scheme and host are used.
	BaseURL *url.URL
	// HTTP sends the requests; its transport adds the Authorization
	// header. Nil means http.DefaultClient. Redirects are never followed.
	HTTP *http.Client
	// Budget paces requests per org and bucket; nil means no pacing (429s
	// are still waited out).
	Budget Limiter
	// Now is the clock used to place rate-limit resets; nil means time.Now.
	// It must match Budget's clock.
	Now func() time.Time
	// Sleep waits between attempts; nil means a timer that honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnWait, when set, is called before every wait of a call: for the
	// Budget and between attempts. It must be safe for concurrent use.
	OnWait func(d time.Duration)
	// MaxRetries bounds the retries of one call: for GETs and lifecycle
	// POSTs on 5xx and network errors, and for every call on 429. Zero
	// means DefaultMaxRetries; negative means none.
	MaxRetries int
	// MaxWait caps one wait for a rate-limit reset; zero means
	// DefaultMaxWait.
	MaxWait time.Duration
	// RetryBackoff is the first wait before retrying a 5xx or network
	// error; it doubles each time. Zero means DefaultRetryBackoff.
	RetryBackoff time.Duration
	// MaxResponseBytes caps a response body; zero means
	// DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// Metrics, when set, records latency, 429s, waits and retries.
	Metrics *Metrics
	// OnResponse, when set, is called after every response from Okta
	// (retries included) with its request id; callers use it to attribute
	// their work (audit, run records). It must be safe for concurrent use.
	OnResponse func(ResponseInfo)
	// OnSend, when set, is called with the method of every request just
	// before it is sent (each attempt, whatever comes of it): a caller
	// knows from it whether a call that failed may have reached the org.
	// It must be safe for concurrent use.
	OnSend func(method string)
}

// ResponseInfo describes one response received from Okta.
type ResponseInfo struct {
	Operation string
	Method    string
	Path      string
	Status    int
	RequestID string
	Duration  time.Duration
}

// ResponseTooLargeError reports a response body over MaxResponseBytes.
type ResponseTooLargeError struct{ Limit int64 }

func (e *ResponseTooLargeError) Error() string {
	return fmt.Sprintf("okta: response body larger than %d bytes", e.Limit)
}

// RequestError reports a call the client refused to send because an
// argument is invalid; Field names the argument.
type RequestError struct {
	Field   string
	Message string
}

func (e *RequestError) Error() string { return "okta: invalid " + e.Field + ": " + e.Message }

// call is one logical API call; send may make several attempts of it.
type call struct {
	op     string
	method string
	url    *url.URL
	header http.Header
	body   []byte
	// retry allows retries on 5xx and network errors.
	retry bool
	// noContent marks a call whose success has no body (Okta answers
	// 204): a 2xx with a body that is not JSON (a proxy's page) is not
	// Okta's answer, and is a DecodeError.
	noContent bool
	// stream, when set, reads a 2xx body itself (the caller must not keep
	// the reader) and returns the response's error, if any.
	stream func(io.Reader) error
}

// response is a finished attempt.
type response struct {
	status    int
	header    http.Header
	body      []byte
	requestID string
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if c.OnWait != nil {
		c.OnWait(d)
	}
	wctx, end := stoppable(ctx)
	defer end()
	if c.Sleep != nil {
		return stoppedOr(wctx, c.Sleep(wctx, d))
	}
	return stoppedOr(wctx, SleepContext(wctx, d))
}

func (c *Client) maxRetries() int {
	switch {
	case c.MaxRetries < 0:
		return 0
	case c.MaxRetries == 0:
		return DefaultMaxRetries
	}
	return c.MaxRetries
}

func (c *Client) maxBytes() int64 {
	if c.MaxResponseBytes > 0 {
		return c.MaxResponseBytes
	}
	return DefaultMaxResponseBytes
}

// httpClient returns a copy of the configured client that never follows
// redirects: a redirect to another origin would carry the credential there.
func (c *Client) httpClient() *http.Client {
	base := c.HTTP
	if base == nil {
		base = http.DefaultClient
	}
	hc := *base
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// origin returns the org origin (scheme://host) or an error when BaseURL is
// not one.
func (c *Client) origin() (*url.URL, error) {
	u := c.BaseURL
	if u == nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return nil, errors.New("okta: client BaseURL must be an http(s) origin")
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host}, nil
}

// endpoint returns the URL of path (already cleaned) with query.
func (c *Client) endpoint(path string, query url.Values) (*url.URL, error) {
	o, err := c.origin()
	if err != nil {
		return nil, err
	}
	o.Path = path
	if len(query) > 0 {
		o.RawQuery = query.Encode()
	}
	return o, nil
}

// send runs a call with pacing, 429 waits and bounded retries, and returns
// the final 2xx response or an error (an *APIError or *ScopeError for a
// non-2xx answer).
func (c *Client) send(ctx context.Context, cl call) (*response, error) {
	hc := c.httpClient()
	org, err := c.origin()
	if err != nil {
		return nil, err
	}
	key := Key{Org: org.String(), Bucket: BucketFor(cl.url.Path)}
	retries, waits, attempts := 0, 0, 0
	var last *response
	for {
		done, err := c.waitBudget(ctx, key)
		if err != nil {
			return nil, afterAttempts(err, cl.method, attempts, last)
		}
		res, err := c.attempt(ctx, hc, cl, done)
		attempts, last = attempts+1, res
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch {
		case res != nil && res.status == http.StatusTooManyRequests:
			// Okta did not process the request: waiting out the window
			// and sending it again is safe for every method.
			if waits >= c.maxRetries() {
				return res, err
			}
			wait := c.rateLimitWait(res, waits)
			waits++
			c.Metrics.rateLimited(cl.op, wait)
			if err := c.sleep(ctx, wait); err != nil {
				return nil, afterAttempts(err, cl.method, attempts, last)
			}
		case cl.retry && retries < c.maxRetries() && (res != nil && res.status >= 500 || res == nil && isTransient(err)):
			// Idempotent calls only: a 5xx, or a network error before or
			// while reading the response.
			c.Metrics.retried(cl.op)
			if err := c.sleep(ctx, c.backoff(retries)); err != nil {
				return nil, afterAttempts(err, cl.method, attempts, last)
			}
			retries++
		default:
			return res, err
		}
	}
}

func (c *Client) waitBudget(ctx context.Context, key Key) (func(Observation), error) {
	if c.Budget == nil {
		return func(Observation) {}, nil
	}
	start := c.now()
	done, err := c.Budget.Wait(ctx, key, c.OnWait)
	if err != nil {
		return nil, err
	}
	if d := c.now().Sub(start); d > time.Millisecond {
		c.Metrics.budgetWait(d)
	}
	return done, nil
}

// attempt sends the request once. On a non-2xx answer it returns the
// response (headers, error body) together with the error.
func (c *Client) attempt(ctx context.Context, hc *http.Client, cl call, done func(Observation)) (*response, error) {
	// A POST, PUT or PATCH without body still goes out with
	// "Content-Length: 0" (net/http sends it for these methods); Okta
	// answers 411 otherwise.
	var body io.Reader
	if len(cl.body) > 0 {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, cl.url.String(), body)
	if err != nil {
		done(Observation{})
		return nil, &RequestError{Field: "request", Message: err.Error()}
	}
	for k, vs := range cl.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	if c.OnSend != nil {
		c.OnSend(cl.method)
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		done(Observation{})
		c.Metrics.request(cl.op, "error", time.Since(start))
		return nil, fmt.Errorf("okta: %s %s: %w", cl.method, cl.url.Path, classify(err))
	}
	defer resp.Body.Close()
	received := c.now()
	res := &response{status: resp.StatusCode, header: resp.Header, requestID: resp.Header.Get("X-Okta-Request-Id")}
	done(observe(resp.Header, received))

	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	limit := c.maxBytes()
	if !ok {
		limit = maxErrorBodyBytes
	}
	lr := &limitedReader{r: resp.Body, n: limit}
	if ok && cl.stream != nil {
		err = cl.stream(lr)
		if err == nil {
			// Drain what the decoder left so the connection can be reused.
			_, err = io.Copy(io.Discard, lr)
		}
	} else {
		res.body, err = io.ReadAll(lr)
	}
	c.Metrics.request(cl.op, strconv.Itoa(resp.StatusCode), time.Since(start))
	if c.OnResponse != nil {
		c.OnResponse(ResponseInfo{Operation: cl.op, Method: cl.method, Path: cl.url.Path,
			Status: resp.StatusCode, RequestID: res.requestID, Duration: time.Since(start)})
	}
	if !ok {
		// An error answer: what could be read of its body is enough.
		if lr.exceeded || err != nil {
			res.body = nil
		}
		return res, newResponseError(resp.StatusCode, resp.Header, res.body)
	}
	if lr.exceeded {
		return nil, &ResponseTooLargeError{Limit: limit}
	}
	if ct := resp.Header.Get("Content-Type"); err == nil && cl.noContent && len(res.body) > 0 && !isJSON(ct) {
		return nil, &DecodeError{Status: resp.StatusCode, ContentType: ct, RequestID: res.requestID, Err: errors.New("a body that is not JSON")}
	}
	if err != nil {
		if cl.stream != nil && !isTransient(err) {
			// The body arrived but is not what the API promises: a
			// decoding error, not worth a retry.
			return nil, &DecodeError{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), RequestID: res.requestID, Err: err}
		}
		return nil, fmt.Errorf("okta: %s %s: reading response: %w", cl.method, cl.url.Path, err)
	}
	return res, nil
}

// transientError marks a network failure worth retrying for idempotent
// calls.
type transientError struct{ err error }

func (e *transientError) Error() string { return e.err.Error() }
func (e *transientError) Unwrap() error { return e.err }

// classify marks err transient when it comes from the network (a dial,
// reset or timeout, an unexpected EOF) rather than from the transport's own
// logic, such as a token source that could not get a token.
func classify(err error) error {
	inner := err
	var ue *url.Error
	if errors.As(err, &ue) {
		inner = ue.Err
	}
	var ne net.Error
	if errors.As(inner, &ne) || errors.Is(inner, io.ErrUnexpectedEOF) || errors.Is(inner, io.EOF) ||
		errors.Is(inner, syscall.ECONNRESET) || errors.Is(inner, syscall.ECONNREFUSED) {
		return &transientError{err}
	}
	return err
}

func isTransient(err error) bool {
	var te *transientError
	return errors.As(err, &te)
}

// Unsure reports whether a failed call may still have taken effect at the
// org: the answer was a 5xx (from Okta or from what stands in front of
// it), was lost on the network, or was not Okta's (a DecodeError). A caller that must know reads the
// resource rather than sending the call again.
func Unsure(err error) bool {
	if e, ok := asAPIError(err); ok {
		return e.Status >= 500
	}
	var de *DecodeError
	return isTransient(err) || errors.As(err, &de)
}

// DecodeError is a 2xx answer whose body is not what the API promises
// (an HTML page, an empty body, JSON cut short or of another shape); it
// is never retried. Err is the decoder's error; Reason says it without
// quoting the body.
type DecodeError struct {
	Status      int
	ContentType string
	RequestID   string
	Err         error
}

func (e *DecodeError) Error() string { return "okta: decoding response: " + e.Err.Error() }
func (e *DecodeError) Unwrap() error { return e.Err }

// isJSON reports whether a Content-Type is JSON (or unset).
func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// Reason says in public words what is wrong with the answer, without any
// of its content.
func (e *DecodeError) Reason() string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	mt, _, _ := mime.ParseMediaType(e.ContentType)
	what := "a body that is not the JSON the API promises"
	switch {
	case errors.Is(e.Err, io.EOF):
		what = "an empty body"
	case !isJSON(e.ContentType):
		what = mt + " instead of JSON"
	case errors.Is(e.Err, io.ErrUnexpectedEOF):
		what = "JSON that breaks off midway"
	case errors.As(e.Err, &se):
		what = fmt.Sprintf("invalid JSON (at byte %d)", se.Offset)
	case errors.As(e.Err, &te):
		what = "JSON of an unexpected shape"
	}
	return fmt.Sprintf("Okta answered %d with %s", e.Status, what)
}

// limitedReader reads at most n bytes and records whether the body had
// more; read errors from the network are marked transient.
type limitedReader struct {
	r        io.Reader
	n        int64
	exceeded bool
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// Probe for one more byte to tell "exactly n" from "more".
		var one [1]byte
		k, err := l.r.Read(one[:])
		if k > 0 {
			l.exceeded = true
			return 0, &ResponseTooLargeError{}
		}
		if err != nil && err != io.EOF {
			return 0, &transientError{err}
		}
		return 0, io.EOF
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	k, err := l.r.Read(p)
	l.n -= int64(k)
	if err != nil && err != io.EOF {
		err = &transientError{err}
	}
	return k, err
}

// observe reads the rate-limit headers of a response received at the
// caller's time received. The reset is placed on the caller's clock from
// reset − Date, so a skewed local clock does not matter.
func observe(h http.Header, received time.Time) Observation {
	limit, err1 := strconv.Atoi(h.Get("X-Rate-Limit-Limit"))
	remaining, err2 := strconv.Atoi(h.Get("X-Rate-Limit-Remaining"))
	reset, err3 := strconv.ParseInt(h.Get("X-Rate-Limit-Reset"), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Observation{}
	}
	return Observation{Known: true, Limit: limit, Remaining: remaining, Reset: received.Add(untilReset(h, reset, received))}
}

// untilReset is the time from the server's Date to the reset epoch second;
// without a Date it falls back to the local clock.
func untilReset(h http.Header, reset int64, local time.Time) time.Duration {
	serverNow := local
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		serverNow = d
	}
	return time.Unix(reset, 0).Sub(serverNow)
}

// rateLimitWait is how long to wait after a 429: until the reset computed
// from the server's Date plus a margin, capped by MaxWait; without usable
// headers, an exponential backoff from one second; after a concurrency 429
// (limit 0), no longer than DefaultConcurrencyWait doubled per retry.
func (c *Client) rateLimitWait(res *response, n int) time.Duration {
	maxWait := c.MaxWait
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	wait := time.Second << min(n, 6)
	if res != nil {
		if reset, err := strconv.ParseInt(res.header.Get("X-Rate-Limit-Reset"), 10, 64); err == nil {
			wait = max(untilReset(res.header, reset, c.now()), 0) + RateLimitMargin
		}
		if res.header.Get("X-Rate-Limit-Limit") == "0" {
			wait = min(wait, DefaultConcurrencyWait<<min(n, 6))
		}
	}
	return min(wait, maxWait)
}

// backoff is the wait before retry n (0-based) of a 5xx or network error:
// RetryBackoff doubled each time, with up to 25 % jitter.
func (c *Client) backoff(n int) time.Duration {
	base := c.RetryBackoff
	if base <= 0 {
		base = DefaultRetryBackoff
	}
	d := base << min(n, 8)
	return d + time.Duration(rand.Int64N(int64(d)/4+1))
}

// sameOrigin reports whether u is on the origin o (scheme and host, with
// default ports and case normalised).
func sameOrigin(u, o *url.URL) bool {
	return strings.EqualFold(u.Scheme, o.Scheme) && u.User == nil &&
		hostPort(u) == hostPort(o)
}

func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch strings.ToLower(u.Scheme) {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return strings.ToLower(u.Hostname()) + ":" + port
}
