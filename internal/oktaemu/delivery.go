package oktaemu

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"
)

// maxDeliveryBatch is the most events one delivery carries.
const maxDeliveryBatch = 50

// DefaultHookTimeout is how long the org waits for an event hook's answer.
const DefaultHookTimeout = 3 * time.Second

// DeliveryStats counts event hook deliveries (one delivery is one POST of
// a batch of events; its retry is part of it).
type DeliveryStats struct {
	// Sent is how many deliveries the hook answered with 2xx; a duplicated
	// delivery counts twice.
	Sent int `json:"sent"`
	// Failed is how many deliveries were given up: a 4xx, or a 5xx or
	// timeout twice.
	Failed int `json:"failed"`
	// Dropped is how many deliveries a fault dropped.
	Dropped int `json:"dropped"`
	// Duplicated and Delayed count the deliveries those faults changed.
	Duplicated int `json:"duplicated"`
	Delayed    int `json:"delayed"`
	// Retried counts second attempts.
	Retried int `json:"retried"`
	// Pending is how many deliveries are queued, delayed or in flight.
	Pending int `json:"pending"`
}

// hookFault changes the next deliveries: Kind "drop", "duplicate" or
// "delay". With Probability in (0, 1] each delivery is affected with that
// probability (a generator seeded with Seed decides), at most Count times
// (0: until reset); without it, the next Count deliveries are.
type hookFault struct {
	Kind        string
	Count       int
	Delay       time.Duration
	Probability float64
	rnd         *rand.Rand
}

// delivery is one POST of a batch of events to a hook.
type delivery struct {
	hookID  string
	eventID string
	events  []*logEvent
	due     time.Time // for delayed deliveries: the emulator time to send
}

// deliverer queues event hook deliveries and sends them from one
// goroutine, started when there is work. Delayed deliveries wait for the
// emulator clock.
type deliverer struct {
	mu      sync.Mutex
	gen     int                    // bumped by reset; stale work is discarded
	open    map[string][]*logEvent // events not yet in a delivery, per hook
	opened  []string               // hook ids with open events, in order
	ready   []*delivery
	delayed []*delivery
	running bool
	flight  int
	faults  []*hookFault
	stats   DeliveryStats
	changed chan struct{} // closed and replaced on every change
	wake    chan struct{} // wakes the sender early (new work, clock moved)
}

func newDeliverer() *deliverer {
	return &deliverer{open: map[string][]*logEvent{}, changed: make(chan struct{}), wake: make(chan struct{}, 1)}
}

// notify wakes waiters; callers hold mu.
func (d *deliverer) notify() {
	close(d.changed)
	d.changed = make(chan struct{})
}

func (d *deliverer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// advance releases the delayed deliveries that the emulator clock has
// made due, so that they are pending when AdvanceClock returns.
func (d *deliverer) advance(o *Org) {
	d.mu.Lock()
	d.release(o.now())
	start := len(d.ready) > 0 && !d.running
	if start {
		d.running = true
	}
	d.notify()
	d.mu.Unlock()
	if start {
		go d.run(o)
	} else {
		d.poke()
	}
}

// release moves the delayed deliveries due at now to the ready queue, in
// due order; callers hold mu.
func (d *deliverer) release(now time.Time) {
	slices.SortStableFunc(d.delayed, func(a, b *delivery) int { return a.due.Compare(b.due) })
	for len(d.delayed) > 0 && !d.delayed[0].due.After(now) {
		d.ready = append(d.ready, d.delayed[0])
		d.delayed = d.delayed[1:]
	}
}

func (d *deliverer) reset() {
	d.mu.Lock()
	d.gen++
	clear(d.open)
	d.opened, d.ready, d.delayed, d.faults = nil, nil, nil, nil
	d.stats = DeliveryStats{}
	d.notify()
	d.mu.Unlock()
	d.poke()
}

func (d *deliverer) addFault(f *hookFault) {
	d.mu.Lock()
	d.faults = append(d.faults, f)
	d.mu.Unlock()
}

func (d *deliverer) clearFaults() {
	d.mu.Lock()
	d.faults = nil
	d.mu.Unlock()
}

// enqueue queues e for every hook that receives its type.
func (d *deliverer) enqueue(o *Org, s *state, e *logEvent) {
	s.mu.RLock()
	var ids []string
	for _, id := range s.hookOrder {
		if s.hooks[id].receives(e.eventType) {
			ids = append(ids, id)
		}
	}
	s.mu.RUnlock()
	if len(ids) == 0 {
		return
	}
	d.mu.Lock()
	for _, id := range ids {
		if len(d.open[id]) == 0 {
			d.opened = append(d.opened, id)
		}
		d.open[id] = append(d.open[id], e)
	}
	start := !d.running
	d.running = true
	d.notify()
	d.mu.Unlock()
	if start {
		go d.run(o)
	} else {
		d.poke()
	}
}

// takeFault returns the fault that applies to the next delivery; callers
// hold mu.
func (d *deliverer) takeFault() *hookFault {
	for i, f := range d.faults {
		if f.Probability > 0 && f.rnd.Float64() >= f.Probability {
			continue
		}
		got := *f
		if f.Count > 0 {
			f.Count--
			if f.Count == 0 {
				d.faults = slices.Delete(d.faults, i, i+1)
			}
		}
		return &got
	}
	return nil
}

// batch turns the open events into deliveries, applying faults; callers
// hold mu.
func (d *deliverer) batch(now time.Time) {
	for _, id := range d.opened {
		evs := d.open[id]
		for len(evs) > 0 {
			n := min(len(evs), maxDeliveryBatch)
			dl := &delivery{hookID: id, eventID: newUUID(), events: evs[:n:n]}
			evs = evs[n:]
			f := d.takeFault()
			switch {
			case f == nil:
				d.ready = append(d.ready, dl)
			case f.Kind == "drop":
				d.stats.Dropped++
			case f.Kind == "duplicate":
				d.stats.Duplicated++
				d.ready = append(d.ready, dl, dl)
			case f.Kind == "delay":
				d.stats.Delayed++
				dl.due = now.Add(f.Delay)
				d.delayed = append(d.delayed, dl)
			}
		}
		delete(d.open, id)
	}
	d.opened = d.opened[:0]
}

// run sends deliveries until there is nothing left to send.
func (d *deliverer) run(o *Org) {
	for {
		d.mu.Lock()
		now := o.now()
		d.batch(now)
		d.release(now)
		if len(d.ready) == 0 {
			if len(d.delayed) == 0 {
				d.running = false
				d.notify()
				d.mu.Unlock()
				return
			}
			wait := d.delayed[0].due.Sub(now)
			d.notify() // the open events may have become delayed ones
			d.mu.Unlock()
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-d.wake:
			}
			t.Stop()
			continue
		}
		dl := d.ready[0]
		d.ready = d.ready[1:]
		d.flight++
		gen := d.gen
		d.mu.Unlock()

		outcome, retried := o.send(dl)

		d.mu.Lock()
		d.flight--
		if gen == d.gen {
			if retried {
				d.stats.Retried++
			}
			switch outcome {
			case outcomeSent:
				d.stats.Sent++
			case outcomeFailed:
				d.stats.Failed++
			}
		}
		d.notify()
		d.mu.Unlock()
	}
}

// snapshot returns the statistics with the pending count.
func (d *deliverer) snapshot() DeliveryStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.stats
	for _, evs := range d.open {
		st.Pending += (len(evs) + maxDeliveryBatch - 1) / maxDeliveryBatch
	}
	st.Pending += len(d.ready) + len(d.delayed) + d.flight
	return st
}

// idle reports whether nothing but delayed deliveries is left; callers
// hold mu.
func (d *deliverer) idle() bool {
	return len(d.opened) == 0 && len(d.ready) == 0 && d.flight == 0
}

// wait blocks until the deliverer is idle (delayed deliveries aside) or
// ctx ends.
func (d *deliverer) wait(ctx context.Context) error {
	for {
		d.mu.Lock()
		if d.idle() {
			d.mu.Unlock()
			return nil
		}
		ch := d.changed
		d.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type envelopeJSON struct {
	EventType          string `json:"eventType"`
	EventTypeVersion   string `json:"eventTypeVersion"`
	CloudEventsVersion string `json:"cloudEventsVersion"`
	Source             string `json:"source"`
	EventID            string `json:"eventId"`
	EventTime          string `json:"eventTime"`
	ContentType        string `json:"contentType"`
	Data               struct {
		Events []json.RawMessage `json:"events"`
	} `json:"data"`
}

// hookOrigin is the org origin deliveries name as their source: the
// origin the org was last called on.
func (o *Org) hookOrigin() string {
	if v, ok := o.lastOrigin.Load().(string); ok {
		return v
	}
	return "http://127.0.0.1"
}

// Outcomes of a delivery.
const (
	outcomeSent    = "sent"
	outcomeFailed  = "failed"
	outcomeSkipped = "skipped" // the hook no longer receives events
)

// send POSTs a delivery to its hook, retrying once after a 5xx or a
// timeout or network error. It reports the outcome and whether it retried.
func (o *Org) send(dl *delivery) (outcome string, retried bool) {
	s := o.st()
	s.mu.RLock()
	h := s.hooks[dl.hookID]
	s.mu.RUnlock()
	if h == nil || h.status != "ACTIVE" || h.verification != "VERIFIED" {
		return outcomeSkipped, false
	}
	env := envelopeJSON{EventType: "com.okta.event_hook", EventTypeVersion: "1.0", CloudEventsVersion: "0.1",
		Source: o.hookOrigin() + "/api/v1/eventHooks/" + h.id, EventID: dl.eventID,
		EventTime: formatTime(o.now()), ContentType: "application/json"}
	for _, e := range dl.events {
		env.Data.Events = append(env.Data.Events, e.body)
	}
	body := encodeJSON(env)
	var status int
	var err error
	for attempt := range 2 {
		status, err = o.callHook(context.Background(), h, http.MethodPost, body, "")
		if err == nil && status < 500 {
			break
		}
		if attempt == 0 {
			retried = true
		}
	}
	if err == nil && status >= 200 && status < 300 {
		return outcomeSent, retried
	}
	why := fmt.Sprintf("status %d", status)
	if err != nil {
		why = err.Error()
	}
	o.log.Debug("event hook delivery failed", slog.String("hook", h.id), slog.String("reason", why))
	o.recordOutcome(nil, systemActor, "", "event_hook.delivery", "FAILURE", hookTarget(h))
	return outcomeFailed, retried
}

// callHook makes one request to a hook with its headers and auth scheme,
// within the hook timeout, and returns the status and the body.
func (o *Org) callHook(ctx context.Context, h *eventHook, method string, body []byte, challenge string) (int, error) {
	status, _, err := o.callHookBody(ctx, h, method, body, challenge)
	return status, err
}

func (o *Org) callHookBody(ctx context.Context, h *eventHook, method string, body []byte, challenge string) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, o.hookTimeoutNow())
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, h.uri, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "Okta-Integrations")
	req.Header.Set("X-Okta-Request-Id", newRequestID())
	for _, hd := range h.headers {
		req.Header.Set(hd.Key, hd.Value)
	}
	if h.authKey != "" {
		req.Header.Set(h.authKey, h.authValue)
	}
	if challenge != "" {
		req.Header.Set("X-Okta-Verification-Challenge", challenge)
	}
	resp, err := o.hookClient().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

func (o *Org) hookTimeoutNow() time.Duration {
	if d := time.Duration(o.hookTimeout.Load()); d > 0 {
		return d
	}
	return DefaultHookTimeout
}

// defaultHookClient never follows redirects.
var defaultHookClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (o *Org) hookClient() *http.Client {
	if o.cfg.HookClient != nil {
		return o.cfg.HookClient
	}
	return defaultHookClient
}

// verify sends the one-time verification GET and checks the answer,
// retrying once.
func (d *deliverer) verify(ctx context.Context, o *Org, h *eventHook) error {
	challenge := newRequestID() + newRequestID()
	var err error
	for range 2 {
		var status int
		var body []byte
		status, body, err = o.callHookBody(ctx, h, http.MethodGet, nil, challenge)
		if err == nil {
			var got struct {
				Verification string `json:"verification"`
			}
			switch {
			case status != http.StatusOK:
				err = fmt.Errorf("the endpoint answered %d", status)
			case json.Unmarshal(body, &got) != nil || got.Verification != challenge:
				err = errors.New(`the endpoint did not answer {"verification": <the X-Okta-Verification-Challenge header>}`)
			default:
				return nil
			}
		}
		if ctx.Err() != nil {
			break
		}
	}
	return err
}

// newUUID returns a random RFC 4122 version 4 UUID.
func newUUID() string {
	var b [16]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
