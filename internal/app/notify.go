package app

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

// notifyAndWake enqueues a notification and wakes this server's sender,
// so that it goes out at once rather than at the sender's next poll.
type notifyAndWake struct {
	outbox *notify.Outbox
	sender *notify.Sender
}

func (n notifyAndWake) Enqueue(ctx context.Context, m notify.Message) error {
	if err := n.outbox.Enqueue(ctx, m); err != nil {
		return err
	}
	n.sender.Wake()
	return nil
}

// Notifications is m as outbox rows, for a caller that commits them with
// the change they report and then calls Notified.
func (n notifyAndWake) Notifications(m notify.Message) ([]*store.Notification, error) {
	return n.outbox.Notifications(m)
}

// Notified wakes the sender once rows from Notifications are committed.
func (n notifyAndWake) Notified() { n.sender.Wake() }

// needsReauthNotice is the connection.needs_reauthorization message of a
// connection that stops working until someone signs in again, as outbox
// rows stored with the status change. Its id is stable per change. Its
// message ends with the fix, as a connection.expiring one does: whoever
// reads it where it arrives learns what to do without opening cardflow.
// It goes out when the connection moves into the status only, unlike a
// service connection's connection.failing: nothing tests such a connection
// again while it waits (so no other cause is found), and whatever the
// reason, its fix is the same sign-in.
func needsReauthNotice(o *notify.Outbox) func(*store.Connection) ([]*store.Notification, error) {
	return func(c *store.Connection) ([]*store.Notification, error) {
		msg := fmt.Sprintf("connection %s needs reauthorization: %s", c.Nickname, c.StatusReason)
		if c.Remedy != "" {
			msg += "; " + c.Remedy
		}
		return o.Notifications(notify.Message{
			ID:      fmt.Sprintf("nt_needs_reauth_%s_%d", c.ID, c.UpdatedAt.UnixNano()),
			Type:    notify.TypeNeedsReauthorization,
			Time:    c.UpdatedAt,
			Message: msg,
			Connection: &notify.Connection{ID: c.ID, Nickname: c.Nickname, Domain: c.Domain,
				Status: c.Status, StatusReason: c.StatusReason, StatusReasonCode: c.StatusReasonCode},
		})
	}
}

// serviceStatusNotice is the connection.failing message of a service
// connection stored in error (prev was not), or still in error but for
// another kind of failure (the connection manager calls it then only),
// or the connection.recovered one of a service connection stored active
// from error, as outbox rows stored with the status change. Its id is
// stable per change; all are of one thread per connection, so a recovery
// never arrives before the failures it ends. A failing message ends with
// the fix, as a connection.needs_reauthorization one does: for another
// failure the new one, which whoever waited on the first (the org's fault,
// say) would otherwise never learn.
func serviceStatusNotice(o *notify.Outbox) func(prev, c *store.Connection) ([]*store.Notification, error) {
	return func(prev, c *store.Connection) ([]*store.Notification, error) {
		m := notify.Message{
			Time:   c.UpdatedAt,
			Thread: "connection.status/" + c.ID,
			Connection: &notify.Connection{ID: c.ID, Nickname: c.Nickname, Domain: c.Domain,
				Status: c.Status, StatusReason: c.StatusReason, StatusReasonCode: c.StatusReasonCode},
		}
		if c.Status == store.StatusError {
			m.ID = fmt.Sprintf("nt_conn_failing_%s_%d", c.ID, c.UpdatedAt.UnixNano())
			m.Type = notify.TypeConnectionFailing
			m.Message = fmt.Sprintf("service connection %s stopped working: %s; its cards and flows fail until it works again (cardflow tests it again in the background, after a minute and then at most every 30 minutes, and says so when it does)", c.Nickname, c.StatusReason)
			if prev.Status == store.StatusError {
				m.Message = fmt.Sprintf("service connection %s still does not work, now for another reason: %s (before: %s); its cards and flows fail until it works again (cardflow goes on testing it in the background, at most every 30 minutes, and says so when it works)", c.Nickname, c.StatusReason, prev.StatusReason)
			}
			if c.Remedy != "" {
				m.Message += "; " + c.Remedy
			}
		} else {
			m.ID = fmt.Sprintf("nt_conn_recovered_%s_%d", c.ID, c.UpdatedAt.UnixNano())
			m.Type = notify.TypeConnectionRecovered
			m.Message = fmt.Sprintf("service connection %s works again: the org accepts it (it was in error: %s); its cards and flows run again, and flow runs that failed meanwhile can be run again with cardflow flows rerun RUN_ID", c.Nickname, prev.StatusReason)
		}
		return o.Notifications(m)
	}
}

// notifyHTTPClient posts notifications. Receivers are the operator's own
// endpoints (often on the same host), so unlike org calls they are not
// held to the org domain policy.
func notifyHTTPClient(Config) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// connectionNotifier puts the connection manager's notifications
// (connection.expiring) in the outbox. The id is stable per connection and
// expiry, so a repeated warning is delivered once.
type connectionNotifier struct{ next notifyAndWake }

func (n connectionNotifier) Notify(ctx context.Context, c connection.Notification) error {
	exp := c.ExpiresAt
	return n.next.Enqueue(ctx, notify.Message{
		ID:      fmt.Sprintf("%s/%s/%d", c.Kind, c.ConnectionID, exp.Unix()),
		Type:    c.Kind,
		Message: c.Message + "; " + c.Remedy,
		Connection: &notify.Connection{ID: c.ConnectionID, Nickname: c.Nickname, Domain: c.Domain, Status: "active",
			ExpiresAt: &exp},
	})
}

// notificationTester is the sender as web.Notifications.
type notificationTester struct{ sender *notify.Sender }

func (t notificationTester) Receivers() int { return len(t.sender.Receivers) }

func (t notificationTester) Test(ctx context.Context, by string) []web.NotificationResult {
	results := t.sender.Test(ctx, by)
	// What waits for each receiver: a receiver that refuses the test has
	// not had those either, and they tell since when.
	waiting := map[string]store.NotificationBacklog{}
	if bs, err := t.sender.Store.NotificationBacklogs(ctx); err == nil {
		for _, b := range bs {
			waiting[b.Receiver] = b
		}
	}
	out := make([]web.NotificationResult, len(results))
	for i, r := range results {
		b := waiting[r.Receiver.Digest()]
		out[i] = web.NotificationResult{Receiver: r.Receiver.String(), Body: r.Receiver.Body(), Err: r.Err,
			Unreached: r.Err != nil && notify.Unreached(r.Err), TimedOut: r.Err != nil && notify.TimedOut(r.Err), Status: notify.AnswerStatus(r.Err),
			Waiting: b.Waiting, WaitingSince: b.Since, LastError: b.LastError}
	}
	return out
}
