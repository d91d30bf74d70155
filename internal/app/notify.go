package app

import (
	"context"
	"net/http"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
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

// notifyHTTPClient posts notifications. Receivers are the operator's own
// endpoints (often on the same host), so unlike org calls they are not
// held to the org domain policy.
func notifyHTTPClient(Config) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}
