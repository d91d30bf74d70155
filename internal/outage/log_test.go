package outage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// line is a logged record as the tests read it.
type line struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

func (l line) String() string { return fmt.Sprintf("%s %q %v", l.level, l.msg, l.attrs) }

// capture is a slog.Handler that keeps the records.
type capture struct {
	mu    sync.Mutex
	lines []line
}

func (c *capture) Enabled(context.Context, slog.Level) bool { return true }
func (c *capture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *capture) WithGroup(string) slog.Handler            { return c }
func (c *capture) Handle(_ context.Context, r slog.Record) error {
	l := line{level: r.Level, msg: r.Message, attrs: map[string]string{}}
	r.Attrs(func(a slog.Attr) bool { l.attrs[a.Key] = a.Value.String(); return true })
	c.mu.Lock()
	c.lines = append(c.lines, l)
	c.mu.Unlock()
	return nil
}

// take returns the lines logged since the last take.
func (c *capture) take() []line {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lines
	c.lines = nil
	return l
}

// clock is a manual clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newLog() (*Log, *capture, *clock, *int) {
	c := &capture{}
	clk := &clock{t: time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)}
	failed := new(int)
	return &Log{Logger: slog.New(c), Now: clk.Now, Failed: func() { *failed++ }}, c, clk, failed
}

func wantLines(t *testing.T, got []line, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("logged %d lines %v; want %d: %q", len(got), got, len(want), want)
	}
	for i, w := range want {
		if s := got[i].String(); !strings.Contains(s, w) {
			t.Errorf("line %d: %s; want it to contain %q", i, s, w)
		}
	}
}

var errDown = errors.New("store: claim flow run: postgres: failed to connect to `user=cardflow database=cardflow`: dial tcp 10.0.0.7:5432: connect: connection refused")

// TestOutageLogsFirstSummaryRecovery: a loop failing every 2 s for an
// hour logs its first failure, a summary every 5 minutes and its
// recovery: 14 lines, not 1800; every failure is counted.
func TestOutageLogsFirstSummaryRecovery(t *testing.T) {
	l, c, clk, failed := newLog()
	ctx := context.Background()
	l.OK(ctx, "claim a flow run")
	wantLines(t, c.take()) // nothing failed: nothing to say

	start := clk.Now()
	l.Fail(ctx, "claim a flow run", errDown)
	wantLines(t, c.take(), `ERROR "claim a flow run"`)
	var all []line
	for range 1799 {
		clk.Advance(2 * time.Second)
		l.Fail(ctx, "claim a flow run", errDown)
		all = append(all, c.take()...)
	}
	if len(all) != 11 {
		t.Fatalf("an hour of failures every 2 s logged %d lines after the first: %v; want 11 summaries (one every 5 min)", len(all), all)
	}
	for i, ln := range all {
		if ln.level != slog.LevelError || ln.msg != "claim a flow run: still failing" ||
			ln.attrs["failing_since"] != start.String() || ln.attrs["error"] != errDown.Error() {
			t.Errorf("summary %d: %s; want ERROR still failing since %v with the error", i, ln, start)
		}
	}
	if got, want := all[0].attrs["failures"], "151"; got != want { // 1 + 150 at 2 s each, 5 min on
		t.Errorf("first summary: failures %s; want %s", got, want)
	}
	if got, want := all[0].attrs["repeats"], "150"; got != want {
		t.Errorf("first summary: repeats %s; want %s", got, want)
	}
	clk.Advance(2 * time.Second)
	l.OK(ctx, "claim a flow run")
	wantLines(t, c.take(), `INFO "claim a flow run: recovered"`)
	l.OK(ctx, "claim a flow run")
	wantLines(t, c.take()) // recovered once
	if *failed != 1800 {
		t.Errorf("counted %d failures; want 1800", *failed)
	}

	// A new outage starts over.
	clk.Advance(time.Minute)
	l.Fail(ctx, "claim a flow run", errDown)
	wantLines(t, c.take(), `ERROR "claim a flow run"`)
}

// TestOutageRecoveryLine: the recovery says how many failures over how
// long, since the first.
func TestOutageRecoveryLine(t *testing.T) {
	l, c, clk, _ := newLog()
	ctx := context.Background()
	start := clk.Now()
	for range 42 {
		l.Fail(ctx, "schedule tick", errDown)
		clk.Advance(5 * time.Second)
	}
	c.take()
	l.OK(ctx, "schedule tick")
	got := c.take()
	wantLines(t, got, "recovered")
	want := map[string]string{"failures": "42", "failing_since": start.String(), "failing_for": (210 * time.Second).String()}
	for k, v := range want {
		if got[0].attrs[k] != v {
			t.Errorf("recovery: %s = %q; want %q (%s)", k, got[0].attrs[k], v, got[0])
		}
	}
	if _, ok := got[0].attrs["error"]; ok {
		t.Errorf("recovery: %s; want no error", got[0])
	}
}

// TestOutageNewErrorLoggedAtOnce: a different error during an outage is
// logged at once; errors already logged in it, coming back, are repeats.
func TestOutageNewErrorLoggedAtOnce(t *testing.T) {
	l, c, clk, _ := newLog()
	ctx := context.Background()
	full := errors.New("store: claim flow run: sqlite: database or disk is full (13)")
	l.Fail(ctx, "claim a flow run", errDown)
	clk.Advance(2 * time.Second)
	l.Fail(ctx, "claim a flow run", errDown)
	clk.Advance(2 * time.Second)
	l.Fail(ctx, "claim a flow run", full)
	got := c.take()
	wantLines(t, got, "connection refused", "disk is full")
	if got[1].level != slog.LevelError || got[1].attrs["failures"] != "3" {
		t.Errorf("the new error: %s; want ERROR with failures 3", got[1])
	}
	// Flapping between the two logs nothing more until the summary.
	for i := range 100 {
		clk.Advance(2 * time.Second)
		l.Fail(ctx, "claim a flow run", []error{errDown, full}[i%2])
	}
	if got := c.take(); len(got) != 0 {
		t.Errorf("alternating between two errors already logged: %v; want no line within 5 minutes", got)
	}
	// Errors that differ every time are not a line each either.
	for i := range 100 {
		clk.Advance(time.Second)
		l.Fail(ctx, "claim a flow run", fmt.Errorf("attempt %d failed", i))
	}
	if got := c.take(); len(got) > maxKinds {
		t.Errorf("100 errors differing in a number logged %d lines; want at most %d", len(got), maxKinds)
	}
}

// TestOutageByWork: pieces of work with different attributes (one
// connection and another) fail and recover apart.
func TestOutageByWork(t *testing.T) {
	l, c, clk, _ := newLog()
	ctx := context.Background()
	a, b := slog.String("connection", "c1"), slog.String("connection", "c2")
	l.Fail(ctx, "poll", errDown, a)
	l.Fail(ctx, "poll", errDown, b)
	wantLines(t, c.take(), "connection:c1", "connection:c2")
	clk.Advance(time.Second)
	l.OK(ctx, "poll", a)
	l.Fail(ctx, "poll", errDown, b)
	wantLines(t, c.take(), `INFO "poll: recovered" map[connection:c1`)
}

// publicErr is an error with a public message that keeps its cause, as
// problem.Error does.
type publicErr struct{ err error }

func (e publicErr) Error() string { return "internal error (list connections)" }
func (e publicErr) Unwrap() error { return e.err }

// TestOutageLogsHiddenCause: an error whose text hides its cause (a
// public message) is logged with the cause, which tells repeats apart.
func TestOutageLogsHiddenCause(t *testing.T) {
	l, c, _, _ := newLog()
	ctx := context.Background()
	l.Fail(ctx, "check connection expiries", publicErr{errDown})
	l.Fail(ctx, "check connection expiries", publicErr{errDown})
	l.Fail(ctx, "check connection expiries", publicErr{errors.New("store: list connections: sqlite: database is locked")})
	got := c.take()
	wantLines(t, got, "cause:"+errDown.Error(), "database is locked")
	if got[0].attrs["error"] != "internal error (list connections)" {
		t.Errorf("first line %s; want the error as it is, and its cause", got[0])
	}
	l.Fail(ctx, "wrapped", fmt.Errorf("claim: %w", errDown))
	if got := c.take(); len(got) != 1 || got[0].attrs["cause"] != "" {
		t.Errorf("an error whose text holds its cause: %v; want no cause attribute", got)
	}
}

// TestOutageErrorsWithIDs: errors that differ only in a request id are
// one error; a different status is another.
func TestOutageErrorsWithIDs(t *testing.T) {
	l, c, clk, _ := newLog()
	ctx := context.Background()
	for _, id := range []string{"XkQ3bL2mN0aa", "Zz9yX8wV7uTt", "a1b2c3d4e5f6"} {
		clk.Advance(30 * time.Second)
		l.Fail(ctx, "events: polling the System Log", fmt.Errorf("events: polling the System Log of conn_7: okta: 500 E0000009 Internal Server Error [request %s]", id))
	}
	clk.Advance(30 * time.Second)
	l.Fail(ctx, "events: polling the System Log", errors.New("events: polling the System Log of conn_7: okta: 503 E0000010 Service Unavailable [request Qq1Ww2Ee3Rr4]"))
	wantLines(t, c.take(), "okta: 500", "okta: 503")
}

func TestShape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"okta: 429 E0000047 API call exceeded rate limit [request XkQ3bL2mN0]", "okta: 429 # API call exceeded rate limit [request #]"},
		{"dial tcp 10.255.0.1:5432: connect: connection refused", "dial tcp 10.255.0.1:#: connect: connection refused"},
		{"sqlite: database or disk is full (13)", "sqlite: database or disk is full (13)"},
		{"okta: 400 [request kai27-2aCPx_9JUR4OheaRWiFa0] [request gHXplOYbBQDCPIPKpeogtt]", "okta: 400 [request #] [request #]"},
		{"flow run fr_0f3a9c at 2026-12-05T03:00:00Z", "flow run # at #:00:00Z"},
	} {
		if got := shape(tc.in); got != tc.want {
			t.Errorf("shape(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

// TestFallback: a component's own Log is used when set; otherwise one Log,
// made on first use, serves every call, so repeats are remembered.
func TestFallback(t *testing.T) {
	var f Fallback
	own := &Log{}
	if got := f.Or(own, nil, nil); got != own {
		t.Errorf("Or(own) = %p; want the component's own Log %p", got, own)
	}
	first := f.Or(nil, nil, nil)
	if first == nil || f.Or(nil, nil, nil) != first {
		t.Errorf("Or(nil) made %p, then %p; want one Log for every call", first, f.Or(nil, nil, nil))
	}
}
