package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/cardflow/cardflow/internal/outage"
	"github.com/cardflow/cardflow/internal/store"
)

// SignatureHeader carries the body's HMAC-SHA256 as "sha256=<hex>".
const SignatureHeader = "X-Cardflow-Signature"

// Sign is the SignatureHeader value of body under secret.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Sender delivers the outbox. Several servers may run one each on the same
// store: a message is leased to one sender at a time. Set the fields
// before Run.
type Sender struct {
	// Store holds the outbox (required).
	Store store.Store
	// Secret signs every body (CARDFLOW_NOTIFY_SECRET; required).
	Secret []byte
	// HTTP posts the messages; nil means a client with a 10 s timeout.
	// A redirect is an answer like any other that is not 2xx, never
	// followed: give the client a CheckRedirect that does not follow
	// (http.ErrUseLastResponse), or the signed message goes wherever the
	// receiver points.
	HTTP *http.Client
	// Owner names this server in leases (required).
	Owner string
	// Receivers are the receivers it delivers to (-notify-url): a message
	// to a receiver that is not among them (removed from this server's
	// configuration, or another server's) stays in the outbox for a
	// server that has it. Nil delivers nothing.
	Receivers []Receiver
	// MinBackoff is the wait after a first failed attempt, doubled after
	// each further one up to MaxBackoff; zero means 1 s and 5 min. It
	// applies to each message and to its receiver: a receiver whose last
	// attempt failed gets no other message until its own backoff (of its
	// consecutive failures) has passed.
	MinBackoff, MaxBackoff time.Duration
	// Poll is how often the outbox is read when idle; zero means 2 s.
	Poll time.Duration
	// Logger receives a line per receiver at start and one per failed
	// attempt; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Attempts counts attempts by outcome ("delivered", "failed"); nil
	// counts nothing.
	Attempts func(outcome string)
	// Outage logs the failures to read the outbox (the database down)
	// and to deliver to a receiver (down, or refusing): the first, a
	// summary of repeats, and the recovery. Nil means one of Logger and
	// Now.
	Outage *outage.Log

	wakeMu   sync.Mutex
	wakes    []chan struct{} // one per receiver's loop in Run
	fallback outage.Fallback

	mu   sync.Mutex
	held map[string]receiverHold // by digest: receivers whose last attempt failed
}

// receiverHold is a receiver that failed its last attempts: it is tried
// again, with one message, once until has come.
type receiverHold struct {
	fails int
	until time.Time
}

func (s *Sender) outage() *outage.Log {
	return s.fallback.Or(s.Outage, s.Logger, s.Now)
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Wake makes Run read the outbox now (after an Enqueue on this server).
func (s *Sender) Wake() {
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	for _, w := range s.wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// Run delivers due messages until ctx ends. It first logs each receiver
// as String shows it, so that an operator can tell which fingerprint is
// which receiver. Each receiver's messages are sent on their own, so that
// a post waiting for a receiver's answer (up to 30 s when it is slow, or
// when a firewall drops the packets) holds up no other receiver's.
func (s *Sender) Run(ctx context.Context) {
	for _, r := range s.Receivers {
		s.logger().InfoContext(ctx, "notification receiver", slog.Any("receiver", r), slog.String("body", r.Body()))
	}
	poll := s.Poll
	if poll <= 0 {
		poll = 2 * time.Second
	}
	var wg sync.WaitGroup
	for _, r := range s.Receivers {
		wake := make(chan struct{}, 1)
		s.wakeMu.Lock()
		s.wakes = append(s.wakes, wake)
		s.wakeMu.Unlock()
		wg.Go(func() { s.run(ctx, r.Digest(), wake, poll) })
	}
	wg.Wait()
}

// run delivers the due messages of the receiver digest until ctx ends.
func (s *Sender) run(ctx context.Context, digest string, wake chan struct{}, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		for ctx.Err() == nil && s.sendDue(ctx, digest) {
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-wake:
		}
	}
}

// SendDue makes one attempt at one due message, of any receiver, and
// reports whether there was one.
func (s *Sender) SendDue(ctx context.Context) bool { return s.sendDue(ctx, "") }

// sendDue makes one attempt at one due message of the receiver digest
// ("" for any) and reports whether there was one.
func (s *Sender) sendDue(ctx context.Context, digest string) bool {
	if len(s.Receivers) == 0 {
		return false
	}
	// A receiver that failed is left alone until its backoff has passed,
	// whatever else is due for it: each attempt at one that is unreachable
	// can take the post's whole timeout, and one attempt per queued message
	// would hold up its own messages for as long.
	digests := s.open(s.now())
	if digest != "" {
		digests = slices.DeleteFunc(digests, func(d string) bool { return d != digest })
	}
	if len(digests) == 0 {
		return false
	}
	n, err := s.Store.ClaimNotification(ctx, s.Owner, digests, time.Minute, s.now())
	switch {
	case ctx.Err() != nil:
		return false
	case err != nil && !errors.Is(err, store.ErrNotFound):
		s.outage().Fail(ctx, "claim a notification", err)
		return false
	}
	s.outage().OK(ctx, "claim a notification")
	if err != nil {
		return false // none due
	}
	log := s.logger()
	r := s.Receivers[slices.IndexFunc(s.Receivers, func(r Receiver) bool { return r.Digest() == n.Receiver })]
	err = s.post(ctx, r, n)
	n.Attempts++
	if ctx.Err() == nil { // an attempt cut short by shutdown tells nothing of the receiver
		s.attempted(n.Receiver, err == nil)
	}
	if err == nil {
		n.DeliveredAt, n.LastError = s.now(), ""
		s.count("delivered")
		s.outage().OK(ctx, "deliver notifications", slog.Any("receiver", r))
	} else {
		n.LastError = err.Error()
		n.NextAttemptAt = s.now().Add(s.backoff(n.Attempts))
		s.count("failed")
		// The receiver's failure is logged once, then summarised; each
		// message's attempts are at debug level and in the outbox.
		s.outage().Fail(ctx, "deliver notifications", err, slog.Any("receiver", r))
		log.DebugContext(ctx, "notification not delivered; retrying later", slog.String("notification", n.ID),
			slog.String("type", n.Type), slog.Any("receiver", r), slog.Int("attempts", n.Attempts),
			slog.Time("next_attempt_at", n.NextAttemptAt), slog.String("error", n.LastError))
	}
	switch err := s.Store.UpdateNotification(context.WithoutCancel(ctx), n); {
	case errors.Is(err, store.ErrConflict):
		// The attempt outlasted the lease and another server took the
		// message over: its attempt's outcome is the one kept.
		log.InfoContext(ctx, "notification taken over by another server; this attempt's outcome is not stored",
			slog.String("notification", n.ID), slog.Any("receiver", r))
	case err != nil:
		s.outage().Fail(ctx, "store a notification's attempt", err)
	default:
		s.outage().OK(ctx, "store a notification's attempt")
	}
	return true
}

// open returns the digests of the receivers that are not held at now.
func (s *Sender) open(now time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	digests := make([]string, 0, len(s.Receivers))
	for _, r := range s.Receivers {
		if h, ok := s.held[r.Digest()]; !ok || !now.Before(h.until) {
			digests = append(digests, r.Digest())
		}
	}
	return digests
}

// attempted records how an attempt at the receiver digest fared: ok
// releases it, a failure holds it for the backoff of its consecutive
// failures.
func (s *Sender) attempted(digest string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		delete(s.held, digest)
		return
	}
	if s.held == nil {
		s.held = map[string]receiverHold{}
	}
	h := s.held[digest]
	h.fails++
	h.until = s.now().Add(s.backoff(h.fails))
	s.held[digest] = h
}

// post sends n to r. Its error names r as r.String does, never by its
// URL: the error is logged and stored.
func (s *Sender) post(ctx context.Context, r Receiver, n *store.Notification) error {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	body, err := postBody(r, n.Body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url(), bytes.NewReader(body))
	if err != nil {
		// ParseReceiver took the URL; NewRequest's error would quote it.
		return fmt.Errorf("bad receiver URL %s", r)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cardflow-notify")
	req.Header.Set(SignatureHeader, Sign(s.Secret, body))
	hc := s.HTTP
	if hc == nil {
		hc = defaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = r.String()
		}
		if TimedOut(err) {
			return fmt.Errorf("no answer within %s: %w", postTimeout, err)
		}
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		to := "elsewhere"
		if loc, err := resp.Location(); err == nil && loc.Host != "" {
			to = loc.Scheme + "://" + loc.Host + "/…" // not its path: it may be the key of a webhook
		}
		return &AnswerError{Status: resp.StatusCode, msg: fmt.Sprintf("the receiver answered %s, to %s: cardflow does not follow redirects (they could take the signed message anywhere); give -notify-url as the address it redirects to", resp.Status, to)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &AnswerError{Status: resp.StatusCode, msg: fmt.Sprintf("the receiver answered %s%s", resp.Status, r.excerpt(answer))}
	}
	return nil
}

// postTimeout is how long a receiver has to answer a post.
const postTimeout = 30 * time.Second

// AnswerError is a receiver's answer to a post that was not 2xx.
type AnswerError struct {
	// Status is the answer's HTTP status.
	Status int
	msg    string
}

func (e *AnswerError) Error() string { return e.msg }

// AnswerStatus is the HTTP status of the answer that err, of a post to a
// receiver, reports: 0 when the receiver did not answer (or took it).
func AnswerStatus(err error) int {
	var ae *AnswerError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// TimedOut reports whether err, of a post to a receiver, is one that got
// no answer in time: the receiver slow to answer, or a network that drops
// the packets on the way.
func TimedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// defaultClient posts when Sender.HTTP is nil: a 10 s timeout, redirects
// not followed.
var defaultClient = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
	return http.ErrUseLastResponse
}}

// backoff is the wait after the attempts-th failed attempt.
func (s *Sender) backoff(attempts int) time.Duration {
	lo, hi := s.MinBackoff, s.MaxBackoff
	if lo <= 0 {
		lo = time.Second
	}
	if hi <= 0 {
		hi = 5 * time.Minute
	}
	d := lo
	for i := 1; i < attempts && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

func (s *Sender) count(outcome string) {
	if s.Attempts != nil {
		s.Attempts(outcome)
	}
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}
