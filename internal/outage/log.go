package outage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// DefaultEvery is how often a Log summarises the repeats of a failure
// when Log.Every is zero.
const DefaultEvery = 5 * time.Minute

// maxKinds bounds the distinct errors an outage remembers; past it, a new
// error is summarised as a repeat, so that errors that differ every time
// (a counter in their text) do not log a line each.
const maxKinds = 16

// Log reports the failures of a background loop's work, each piece of
// work named by what it does ("claim a flow run") and its attributes (the
// connection it is for). For each, while it fails:
//
//   - the first failure is logged at ERROR with the error;
//   - a repeat of an error seen since is not logged, but summarised at
//     most once every Every ("... still failing", with failing_since and
//     failures, the count since the first); errors that differ only in
//     words with digits (request ids, run ids, times) are repeats;
//   - an error not seen since is logged at once, at ERROR;
//   - the first success after failures is logged once at INFO ("...
//     recovered", with failures and failing_for, a duration such as
//     "1h2m5s" in JSON logs too).
//
// Set its fields before use; it is then safe for concurrent use. A Log
// for one loop's work keeps a little state per failing piece of work,
// dropped when it works again.
type Log struct {
	// Logger receives the lines; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Every is the least time between two summaries of one piece of
	// work's repeated failures; zero means DefaultEvery.
	Every time.Duration
	// Failed, when set, is called at each failure (to count it in a
	// metric); it must not block.
	Failed func()

	mu      sync.Mutex
	failing map[string]*failure
}

// failure is the state of one piece of work that is failing.
type failure struct {
	since    time.Time       // the first failure
	n        int             // failures since then
	reported time.Time       // the last line logged about it
	seen     map[string]bool // the errors logged, by text
	repeats  int             // failures since the last line
}

func (l *Log) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

func (l *Log) every() time.Duration {
	if l.Every > 0 {
		return l.Every
	}
	return DefaultEvery
}

func (l *Log) logger() *slog.Logger {
	if l.Logger != nil {
		return l.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// key names a piece of work: what it does and its attributes.
func key(what string, attrs []slog.Attr) string {
	var b strings.Builder
	b.WriteString(what)
	for _, a := range attrs {
		fmt.Fprintf(&b, "\x00%s=%s", a.Key, a.Value)
	}
	return b.String()
}

// Fail reports that the work what (with attrs) failed with err.
func (l *Log) Fail(ctx context.Context, what string, err error, attrs ...slog.Attr) {
	if l.Failed != nil {
		l.Failed()
	}
	now := l.now()
	errAttrs := []slog.Attr{slog.Any("error", err)}
	c := cause(err)
	if c != "" {
		errAttrs = append(errAttrs, slog.String("cause", c))
	}
	text := shape(err.Error() + "\x00" + c)
	k := key(what, attrs)
	l.mu.Lock()
	f := l.failing[k]
	if f == nil {
		if l.failing == nil {
			l.failing = map[string]*failure{}
		}
		f = &failure{since: now, seen: map[string]bool{}}
		l.failing[k] = f
	}
	f.n++
	first, n, since := f.n == 1, f.n, f.since
	news := !f.seen[text] && len(f.seen) < maxKinds
	summary := !news && now.Sub(f.reported) >= l.every()
	repeats := f.repeats + 1
	if news || summary {
		f.seen[text] = true
		f.reported, f.repeats = now, 0
	} else {
		f.repeats++
	}
	l.mu.Unlock()

	log := l.logger()
	attrs = attrs[:len(attrs):len(attrs)] // the appends below copy
	switch {
	case first:
		log.LogAttrs(ctx, slog.LevelError, what, append(attrs, errAttrs...)...)
	case news:
		log.LogAttrs(ctx, slog.LevelError, what, append(append(attrs, errAttrs...),
			slog.Time("failing_since", since), slog.Int("failures", n))...)
	case summary:
		log.LogAttrs(ctx, slog.LevelError, what+": still failing", append(append(attrs, errAttrs...),
			slog.Time("failing_since", since), slog.Int("failures", n), slog.Int("repeats", repeats))...)
	}
}

// OK reports that the work what (with attrs) worked; after failures, it
// logs the recovery.
func (l *Log) OK(ctx context.Context, what string, attrs ...slog.Attr) {
	k := key(what, attrs)
	l.mu.Lock()
	f := l.failing[k]
	delete(l.failing, k)
	l.mu.Unlock()
	if f == nil {
		return
	}
	attrs = attrs[:len(attrs):len(attrs)]
	l.logger().LogAttrs(ctx, slog.LevelInfo, what+": recovered", append(attrs, slog.Int("failures", f.n),
		slog.Time("failing_since", f.since), slog.String("failing_for", l.now().Sub(f.since).Round(time.Second).String()))...)
}

// cause returns the text of the first error that err wraps and whose text
// err's does not hold, or "": an error written for the API's callers
// (problem.Error) shows a public message and keeps its cause for the log.
func cause(err error) string {
	text := err.Error()
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		if t := e.Error(); !strings.Contains(text, t) {
			return t
		}
	}
	return ""
}

// shape is an error's text for telling errors apart: each word (a run of
// letters, digits, '-' and '_') of four or more characters with a digit
// in it, or of 20 or more, becomes "#", so that errors differing only in
// a request id, a record id, a time or a port are one error, while an
// HTTP status (429 or 500) still tells two apart.
func shape(text string) string {
	var b strings.Builder
	word, digit := 0, false
	flush := func(end int) {
		if word > 0 {
			w := text[end-word : end]
			if digit && len(w) >= 4 || len(w) >= 20 {
				w = "#"
			}
			b.WriteString(w)
		}
		word, digit = 0, false
	}
	for i := 0; i < len(text); i++ {
		ch := text[i]
		switch {
		case ch >= '0' && ch <= '9':
			word, digit = word+1, true
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch == '-', ch == '_':
			word++
		default:
			flush(i)
			b.WriteByte(ch)
		}
	}
	flush(len(text))
	return b.String()
}

// Fallback is the Log of a component whose own Log field was left nil:
// made on first use from the component's logger and clock, and kept, so
// that the failures it follows are remembered between calls. The zero
// value is ready; it is safe for concurrent use.
type Fallback struct {
	once sync.Once
	log  *Log
}

// Or returns set when it is not nil, else the Fallback's Log of logger
// and now.
func (f *Fallback) Or(set *Log, logger *slog.Logger, now func() time.Time) *Log {
	if set != nil {
		return set
	}
	f.once.Do(func() { f.log = &Log{Logger: logger, Now: now} })
	return f.log
}
