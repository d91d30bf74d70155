package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// Message types.
const (
	TypeFlowRunFailed = "flow_run.failed"
	// TypeFlowRunRecovered: a flow's run succeeded after failed runs.
	TypeFlowRunRecovered     = "flow_run.recovered"
	TypeNeedsReauthorization = "connection.needs_reauthorization"
	TypeConnectionExpiring   = "connection.expiring"
	// TypeConnectionFailing: a service connection went into error (the
	// org stopped accepting its key, its app was deactivated or lost its
	// admin role), so its cards and flows fail until it works again;
	// TypeConnectionRecovered: it works again (sent only after a
	// TypeConnectionFailing, in the same thread).
	TypeConnectionFailing   = "connection.failing"
	TypeConnectionRecovered = "connection.recovered"
	// TypePollFailing: a connection's System Log polls have failed for a
	// while, so its poll-delivered event flows start no runs;
	// TypePollRecovered: they work again (sent only after a
	// TypePollFailing).
	TypePollFailing   = "events.poll_failing"
	TypePollRecovered = "events.poll_recovered"
	// TypePollRestarted: a connection's System Log poll read on from a
	// point in time instead of its cursor (Okta refused the cursor, or it
	// was older than Okta's 90 days); the message names the stretch of
	// events that may have started no runs, if any.
	TypePollRestarted = "events.poll_restarted"
	// TypeHookFailing: a connection's Okta event hook stopped working
	// (deactivated at Okta, unverified, gone, or its registration
	// failed); TypeHookRecovered: it works again.
	TypeHookFailing   = "events.hook_failing"
	TypeHookRecovered = "events.hook_recovered"
	// TypeHookReregistered: a connection's Okta event hook was gone from
	// the org (deleted at Okta), and cardflow registered a new one that
	// works, in the same look: said once, instead of TypeHookFailing and
	// TypeHookRecovered moments apart.
	TypeHookReregistered = "events.hook_reregistered"
)

// Message is one notification: the JSON body receivers get is
// {id, type, time, message, connection?, flowRun?}.
type Message struct {
	// ID identifies the message for receivers' deduplication; Enqueue
	// fills in a random one when empty. Give a stable one (e.g. derived
	// from the run id) when the same fact may be enqueued twice.
	ID         string       `json:"id"`
	Type       string       `json:"type"`
	Time       time.Time    `json:"time"`
	Message    string       `json:"message"`
	Connection *Connection  `json:"connection,omitempty"`
	FlowRun    *FlowRunInfo `json:"flowRun,omitempty"`
	// Thread, when set, names the matter the message is one of (not
	// sent): each receiver gets the messages of a thread in the order
	// they were enqueued, a later one waiting until the earlier ones were
	// delivered or given up (store.Notification.Thread).
	Thread string `json:"-"`
}

// Connection names the connection a message is about.
type Connection struct {
	ID           string `json:"id"`
	Nickname     string `json:"nickname"`
	Domain       string `json:"domain,omitempty"`
	Status       string `json:"status,omitempty"`
	StatusReason string `json:"statusReason,omitempty"`
	// StatusReasonCode is, for connection.needs_reauthorization and
	// connection.failing, the stable code of the reason (as the API's
	// statusReasonCode: key_refused, scope_not_granted ...); absent when
	// the connection's row was stored without one.
	StatusReasonCode string `json:"statusReasonCode,omitempty"`
	// ExpiresAt is, for connection.expiring, when its refresh token ends.
	ExpiresAt *time.Time `json:"expiresAt,omitempty"`
}

// FlowRunInfo names the flow run a message is about.
type FlowRunInfo struct {
	ID      string `json:"id"`
	FlowID  string `json:"flowId"`
	Flow    string `json:"flow"`
	Status  string `json:"status"`
	Error   string `json:"error,omitempty"`
	Trigger string `json:"trigger,omitempty"` // manual, schedule or event
}

// Outbox enqueues messages for every receiver. The zero value (no
// Receivers) enqueues nothing. It is safe for concurrent use.
type Outbox struct {
	// Store keeps the outbox (required when Receivers is not empty).
	Store store.Store
	// Receivers are the receivers (-notify-url).
	Receivers []Receiver
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Enqueue stores m for every receiver; a Sender delivers it. Enqueueing
// the same ID again does nothing, so a caller that may repeat itself (after
// a crash) gives a stable ID.
func (o *Outbox) Enqueue(ctx context.Context, m Message) error {
	ns, err := o.Notifications(m)
	if err != nil || len(ns) == 0 {
		return err
	}
	if err := o.Store.EnqueueNotifications(ctx, ns); err != nil {
		return fmt.Errorf("notify: enqueue %s: %w", m.Type, err)
	}
	return nil
}

// Notifications returns m as the outbox rows Enqueue would store, one per
// receiver (none without receivers), for a caller that stores them in the
// same transaction as the change they report.
func (o *Outbox) Notifications(m Message) ([]*store.Notification, error) {
	if o == nil || len(o.Receivers) == 0 {
		return nil, nil
	}
	now := time.Now()
	if o.Now != nil {
		now = o.Now()
	}
	if m.ID == "" {
		m.ID = newID()
	}
	if m.Time.IsZero() {
		m.Time = now
	}
	m.Time = m.Time.UTC()
	body, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("notify: encode %s: %w", m.Type, err)
	}
	ns := make([]*store.Notification, 0, len(o.Receivers))
	for _, r := range o.Receivers {
		ns = append(ns, &store.Notification{ID: m.ID, Receiver: r.Digest(), Type: m.Type, Body: body, NextAttemptAt: now, CreatedAt: now, Thread: m.Thread})
	}
	return ns, nil
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported systems
	return "nt_" + hex.EncodeToString(b)
}
