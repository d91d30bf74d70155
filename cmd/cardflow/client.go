package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cardflow/cardflow/internal/api"
)

const defaultServer = "http://127.0.0.1:8080"

// defaultRequestTimeout bounds an ordinary request (one that does not
// wait for work at Okta) when neither --request-timeout nor
// CARDFLOW_REQUEST_TIMEOUT sets another bound.
const defaultRequestTimeout = 60 * time.Second

// clientOpts are the flags every client command shares, and the flag set
// that holds them.
type clientOpts struct {
	server string
	json   bool
	// requestTimeout is --request-timeout as given (its default
	// CARDFLOW_REQUEST_TIMEOUT's), parsed by anonymousClient.
	requestTimeout string
	e              *env
	fs             *flag.FlagSet
}

// newClientFlagSet is newFlagSet for a command that talks to the server:
// the flags every client command shares are defined in o; the command
// adds its own to fs.
func newClientFlagSet(e *env, name, usage string) (fs *flag.FlagSet, o *clientOpts) {
	fs = newFlagSet(e, name, usage)
	o = &clientOpts{e: e, fs: fs}
	def := e.getenv("CARDFLOW_SERVER")
	if def == "" {
		def = defaultServer
	}
	fs.StringVar(&o.server, "server", def, "cardflow server URL (env CARDFLOW_SERVER)")
	fs.BoolVar(&o.json, "json", false, "print JSON for scripts instead of text")
	defTimeout := e.getenv("CARDFLOW_REQUEST_TIMEOUT")
	if defTimeout == "" {
		defTimeout = defaultRequestTimeout.String()
	}
	fs.StringVar(&o.requestTimeout, "request-timeout", defTimeout,
		"how long to wait for the server's answer to a request, e.g. 2m; 0 waits as long as the connection lives (env CARDFLOW_REQUEST_TIMEOUT)")
	return fs, o
}

// parseNoArgs parses the command line of a command without positional
// arguments and returns the client.
func (o *clientOpts) parseNoArgs(args []string) (*client, error) {
	if err := parseNoArgs(o.fs, args); err != nil {
		return nil, err
	}
	return o.client()
}

// parseOneArg parses the command line of a command with one positional
// argument (what names it in errors) and returns it and the client.
func (o *clientOpts) parseOneArg(args []string, what string) (string, *client, error) {
	arg, err := oneArg(o.fs, args, what)
	if err != nil {
		return "", nil, err
	}
	c, err := o.client()
	return arg, c, err
}

// client talks to a cardflow server's API.
type client struct {
	base  string
	token string
	http  *http.Client
	// timeout bounds each request but those that wait for work at Okta
	// (waitsForOkta), from sending it to the end of the answer; zero means
	// none.
	timeout time.Duration
	// kept is the sign-in of cardflow login whose token the client sends,
	// nil when the token came from CARDFLOW_API_TOKEN.
	kept *credential
}

// client returns a client with the token of CARDFLOW_API_TOKEN, else the
// one cardflow login keeps for the server.
func (o *clientOpts) client() (*client, error) {
	c, err := o.anonymousClient()
	if err != nil {
		return nil, err
	}
	c.token = strings.TrimSpace(o.e.getenv("CARDFLOW_API_TOKEN"))
	if c.token == "" {
		if cred, ok := keptLogin(o.e, c.base); ok {
			c.token, c.kept = cred.Token, &cred
		}
	}
	if c.token == "" {
		return nil, usagef("%s", loginHint(c.base))
	}
	if i := strings.IndexFunc(c.token, func(r rune) bool { return r < 0x20 || r == 0x7f }); i >= 0 && c.kept == nil {
		// No HTTP request can carry it: the transport would refuse to
		// send it, which reads as a server that cannot be reached.
		return nil, usagef("CARDFLOW_API_TOKEN holds a control character (byte %d, 0x%02x), which no request can carry; it was not sent: set the variable to the one token alone", i, c.token[i])
	}
	if u, _ := url.Parse(c.base); u.Scheme == "http" && !loopbackHost(u.Hostname()) {
		fmt.Fprintf(o.e.stderr, "cardflow: warning: the API token goes to %s over plain http, readable by anyone on the way; use the server's https address\n", u.Host)
	}
	return c, nil
}

// loopbackHost reports whether host (a name or an IP address) is this
// machine: localhost or a loopback address.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// anonymousClient returns a client without a token.
func (o *clientOpts) anonymousClient() (*client, error) {
	u, err := url.Parse(strings.TrimSuffix(o.server, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usagef("--server %q is not an http(s) URL: give the server's address, e.g. http://127.0.0.1:8080 (--server or CARDFLOW_SERVER)", o.server)
	}
	// A user name and password are never sent (the API token is, in the
	// Authorization header they would go in), but every message naming
	// the server would print them: refused without quoting them.
	if u.User != nil {
		return nil, usagef("--server has a user name or password in it (%s://…@%s): cardflow signs in with its API token, not with those; give the server's address alone, %s://%s (--server or CARDFLOW_SERVER)", u.Scheme, u.Host, u.Scheme, u.Host)
	}
	// A server is served at the root of its host (serve refuses a public
	// URL with a path), so a path here is a mistake such as the API's
	// /api/v1, which every request would then carry twice.
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" {
		what := "a path"
		if u.Path == "" {
			what = "a query or fragment"
		}
		return nil, usagef("--server %q has %s: give the server's address alone, %s://%s (--server or CARDFLOW_SERVER)", o.server, what, u.Scheme, u.Host)
	}
	timeout, err := time.ParseDuration(o.requestTimeout)
	if err != nil || timeout < 0 {
		what := "is not a duration"
		if err == nil {
			what = "is negative"
		}
		return nil, usagef("--request-timeout %q %s: give one such as 60s or 5m, or 0 for none (--request-timeout or CARDFLOW_REQUEST_TIMEOUT)", o.requestTimeout, what)
	}
	hc := newHTTPClient()
	hc.CheckRedirect = stayOn(u)
	return &client{base: u.String(), http: hc, timeout: timeout}, nil
}

// stayOn follows a redirect only to the server's own origin (base's
// scheme, host and port): the API token goes along with the request to
// the same host on another port or scheme (http too) and to its
// subdomains, and a 307 or 308 sends the body again (a client secret,
// say) to any host. The redirect answer is then the request's answer.
func stayOn(base *url.URL) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if req.URL.Scheme != base.Scheme || !strings.EqualFold(req.URL.Host, base.Host) {
			return http.ErrUseLastResponse
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
}

// connectTimeout bounds connecting to the server, and then its TLS
// handshake: a server that does not answer a connection in that long is
// not reached.
const connectTimeout = 10 * time.Second

// newHTTPClient is the client of the server's API. Connecting and the TLS
// handshake are bounded; a connection that dies while a request waits for
// its answer (the server's machine gone, the network cut) is found by TCP
// keep-alive probes (and HTTP/2 pings) within about half a minute, so
// that a request that may take long (waitsForOkta) ends then too.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: connectTimeout, KeepAliveConfig: net.KeepAliveConfig{
		Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3,
	}}
	t.DialContext = d.DialContext
	t.TLSHandshakeTimeout = connectTimeout
	t.HTTP2 = &http.HTTP2Config{SendPingTimeout: 15 * time.Second, PingTimeout: 15 * time.Second}
	return &http.Client{Transport: t}
}

// apiError is an error answer of the API: its HTTP status and its body.
type apiError struct {
	Status int
	Body   api.Error
	// warningsSaid is set once the command has printed details.warnings,
	// a refused flow document's, as "warning: FILE:..." lines: Error
	// leaves them out (--json's error keeps them).
	warningsSaid bool
	// issuesSaid is set once the command has printed details.errors, a
	// refused flow document's problems, as "FILE:..." lines: it is the
	// message that Error then says in place of the server's, which lists
	// them again.
	issuesSaid string
}

// waitsForOkta reports whether the server answers method path only after
// work at Okta that the org's rate limit can hold up for minutes: a card
// run, a plan, a connection test, creating a connection (a service app's
// first token), deleting one (its refresh token revoked, its event hook
// deleted) and rotating a connection's key (a token with the new key).
// Such a request waits for its answer as long as the connection lives,
// not only the client's timeout.
func waitsForOkta(method, path string) bool {
	path, _, _ = strings.Cut(path, "?")
	if method == http.MethodPost && (path == "/api/v1/runs" || strings.HasPrefix(path, "/api/v1/flows/") && strings.HasSuffix(path, "/plan")) {
		return true
	}
	rest, ok := strings.CutPrefix(path, "/api/v1/connections")
	switch {
	case !ok:
		return false
	case method == http.MethodPost && rest == "":
		return true
	case method == http.MethodDelete && strings.Count(rest, "/") == 1:
		return true
	}
	return method == http.MethodPost && (strings.HasSuffix(rest, "/rotate-key") || strings.HasSuffix(rest, "/test"))
}

// do sends a request and decodes a JSON answer into out (when not nil).
// body is JSON-encoded unless it is a []byte, which is sent as YAML. The
// request, answer included, must end within the client's timeout, unless
// its answer waits for work at Okta (waitsForOkta).
func (c *client) do(ctx context.Context, method, path string, body, out any) error {
	waiting := waitsForOkta(method, path)
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), "application/yaml"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return err
		}
		rd, ct = bytes.NewReader(data), "application/json"
	}
	rctx := ctx
	if c.timeout > 0 && !waiting {
		var cancel context.CancelFunc
		rctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	// connected tells a server that could not be reached from one that
	// was and then did not answer.
	var connected atomic.Bool
	rctx = httptrace.WithClientTrace(rctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { connected.Store(true) }})
	req, err := http.NewRequestWithContext(rctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("Accept", "application/json")
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return c.interrupted(connected.Load(), method, path)
		}
		if !connected.Load() && !errors.Is(rctx.Err(), context.DeadlineExceeded) {
			return &unreachableError{msg: fmt.Sprintf("cannot reach the cardflow server at %s: %v; is `cardflow serve` running there? (set --server or CARDFLOW_SERVER)", c.base, unwrapURLError(err))}
		}
		// The timeout may run out while connecting: then the request
		// was not sent, and the server did nothing.
		return c.noAnswer(rctx, connected.Load(), method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		if ctx.Err() != nil {
			return c.interrupted(true, method, path)
		}
		return c.noAnswer(rctx, true, method, path, err)
	}
	if resp.StatusCode >= 300 {
		var eb api.ErrorBody
		if loc, lerr := resp.Location(); resp.StatusCode < 400 && lerr == nil {
			// A redirect elsewhere (stayOn): the server never answers
			// the API with one.
			return &apiError{Status: resp.StatusCode, Body: api.Error{
				Message: fmt.Sprintf("the server at %s answered %s %s with a redirect to %s://%s, which cardflow does not follow: the API token (and the request) would go there",
					c.base, method, path, loc.Scheme, loc.Host),
				Details: map[string]any{"remedy": "give cardflow's own address with --server or CARDFLOW_SERVER (what `cardflow serve` prints; its https address behind a proxy that redirects to it)"},
			}}
		}
		if json.Unmarshal(data, &eb) != nil || eb.Error.Code == "" {
			// cardflow answers every API request with its own error body:
			// this answer is another server's (the Okta org's address
			// given for cardflow's, or a proxy whose backend is gone).
			return &apiError{Status: resp.StatusCode, Body: api.Error{
				Message: fmt.Sprintf("the server at %s answered %s %s with HTTP %d and no cardflow error (%s): it is not a cardflow server, or a proxy in front of one answered for it",
					c.base, method, path, resp.StatusCode, strings.TrimSpace(string(truncate(data, 200)))),
				Details: map[string]any{"remedy": "give cardflow's own address with --server or CARDFLOW_SERVER (what `cardflow serve` prints, not the Okta org's); behind a proxy, check that it reaches the cardflow server"},
			}}
		}
		switch {
		case resp.StatusCode == http.StatusForbidden && c.kept != nil:
			eb.Error = c.kept.beyondRole(eb.Error)
		case resp.StatusCode != http.StatusUnauthorized:
		case c.kept != nil:
			eb.Error = c.kept.refused(c.base, eb.Error)
		case c.token != "":
			eb.Error = envTokenRefused(c.base, eb.Error)
		}
		return &apiError{Status: resp.StatusCode, Body: eb.Error}
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the server's answer to %s %s is not the expected JSON: %w", method, path, err)
	}
	return nil
}

// noAnswer is the error of a request whose answer did not come (whole)
// over a connection to the server: the client's timeout ran out (rctx is
// the request's context), or the connection broke. sent tells whether
// the request may have reached the server (a connection was made).
func (c *client) noAnswer(rctx context.Context, sent bool, method, path string, err error) error {
	maybeDone := sent && method != http.MethodGet
	unknown := ""
	if maybeDone {
		unknown = "; whether the server did it is unknown, so look before trying again"
	}
	if errors.Is(rctx.Err(), context.DeadlineExceeded) {
		return &unansweredError{maybeDone: maybeDone, msg: fmt.Sprintf("the cardflow server at %s did not answer %s %s within %s (--request-timeout)%s; "+
			"if it is busy or the network slow, allow longer with --request-timeout 5m or CARDFLOW_REQUEST_TIMEOUT=5m (0 for no limit); "+
			"if it answers nothing at all, check that it runs and its log (is its database reachable?)", c.base, method, path, c.timeout, unknown)}
	}
	return &unansweredError{maybeDone: maybeDone, msg: fmt.Sprintf("the connection to the cardflow server at %s broke before %s %s was answered: %v%s; "+
		"check that the server still runs (it may have restarted) and the network to it, then try again", c.base, method, path, unwrapURLError(err), unknown)}
}

// interrupted is the error of a request whose answer the command stopped
// waiting for (Ctrl-C, SIGTERM): sent tells whether the request may have
// reached the server, which may then have done it.
func (c *client) interrupted(sent bool, method, path string) error {
	maybeDone := sent && method != http.MethodGet
	msg := fmt.Sprintf("interrupted before the cardflow server at %s answered %s %s", c.base, method, path)
	if maybeDone {
		msg += "; whether the server did it is unknown, so look before trying again"
	}
	return &unansweredError{maybeDone: maybeDone, msg: msg}
}

// unansweredError is a request whose answer did not come (noAnswer);
// maybeDone tells that the server may have done it, so that a command
// can say where to look.
type unansweredError struct {
	msg       string
	maybeDone bool
}

func (e *unansweredError) Error() string { return e.msg }

// unreachableError is a request that could not be sent: no connection to
// the server could be made.
type unreachableError struct{ msg string }

func (e *unreachableError) Error() string { return e.msg }

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func truncate(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// pollEvery is the interval of the commands that wait for the server; the
// tests shorten it.
var pollEvery = 500 * time.Millisecond

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// pathEscape escapes one path segment (ids and nicknames).
func pathEscape(s string) string { return url.PathEscape(s) }

// fetch GETs path and prints the answer: as the server sent it with
// --json, else decoded into a T and printed for people by human.
// A GET asks only what the command line says (an id, the filters of a
// list): the server's refusal of it (runs list --card nope, audit --action
// nope) is a wrong command line, as a --limit out of range is.
func fetch[T any](ctx context.Context, c *client, o *clientOpts, w io.Writer, path string, human func(io.Writer, *T)) error {
	return inputRefused(exchange(ctx, c, o, w, "GET", path, nil, human), anyRefusal)
}

// exchange is fetch for any method, with a request body.
func exchange[T any](ctx context.Context, c *client, o *clientOpts, w io.Writer, method, path string, body any, human func(io.Writer, *T)) error {
	return exchangeInto(ctx, c, o, w, nil, method, path, body, human)
}

// exchangeInto is exchange that also decodes the answer into v when v is
// set, with --json too, for what a command says of it besides (on
// stderr). With v nil, --json prints the answer as the server sent it,
// undecoded.
func exchangeInto[T any](ctx context.Context, c *client, o *clientOpts, w io.Writer, v *T, method, path string, body any, human func(io.Writer, *T)) error {
	var raw json.RawMessage
	if err := c.do(ctx, method, path, body, &raw); err != nil {
		return err
	}
	if o.json && v == nil {
		return printJSON(w, raw)
	}
	if v == nil {
		v = new(T)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("the server's answer to %s %s is not the expected JSON: %w", method, path, err)
	}
	if o.json {
		return printJSON(w, raw)
	}
	human(w, v)
	return nil
}

// listPath is base with ?limit=N and each non-empty filter, given as name,
// value pairs.
// checkLimit refuses a --limit the server would refuse, as a mistake on
// the command line.
func checkLimit(limit int) error {
	if limit < 1 || limit > 1000 {
		return usagef("--limit %d: want a number from 1 to 1000", limit)
	}
	return nil
}

func listPath(base string, limit int, filters ...string) string {
	q := url.Values{"limit": {strconv.Itoa(limit)}}
	for i := 0; i+1 < len(filters); i += 2 {
		if filters[i+1] != "" {
			q.Set(filters[i], filters[i+1])
		}
	}
	return base + "?" + q.Encode()
}
