package app

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestNeverAuthorizedConnectionIsNotAFailingPoll: the connection of an
// enabled event flow was never authorized (pending, or a person's
// connection whose first sign-in failed). Its polls are refused
// connection_pending for as long as nobody signs in: they wait for the
// connection, as those of one that needs reauthorization do, so they are
// counted but neither logged as failing nor alerted (events.poll_failing)
// after -event-poll-alert-after; the poll status says why.
func TestNeverAuthorizedConnectionIsNotAFailingPoll(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, status, reason string
	}{
		{"pending", store.StatusPending, "waiting for an administrator to finish signing in to the org"},
		{"sign-in failed", store.StatusError, "the account is not assigned to the OAuth app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			emu := emutest.Start(t, oktaemu.Config{Devices: 3})
			received := make(chan map[string]any, 16)
			h := startServer(t, emu, t.TempDir(), func(c *Config) {
				c.Now = emu.Now
				c.EventPollInterval = 100 * time.Millisecond
				c.EventPollAlertAfter = 15 * time.Minute
				c.NotifyURLs, c.NotifySecret = []string{notificationReceiver(t, received)}, "a-long-random-notification-secret"
			})
			conn := h.connect("Prod devices")
			storeEnabledFlow(t, h, "poll")
			err := h.app.Store.UpdateConnection(t.Context(), conn.ID, func(c *store.Connection) error {
				c.Status, c.StatusReason, c.Remedy = tc.status, tc.reason, "sign in again"
				c.AuthorizedAt = time.Time{}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			polled := func() string {
				src, err := h.app.Store.GetEventSource(t.Context(), conn.ID)
				if err != nil {
					return ""
				}
				return src.Poll.Error
			}
			waitFor(t, "the poll status to say the connection is not authorized yet", func() bool {
				return strings.Contains(polled(), "is not authorized yet")
			})
			// Rounds past the alert time fail for it too.
			emu.AdvanceClock(t, 20*time.Minute)
			failed := func() float64 { return h.failures()["events"] }
			before := failed()
			waitFor(t, "rounds failing for the connection after the alert time", func() bool { return failed() >= before+4 })

			ns, err := h.app.Store.ListNotifications(t.Context(), 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range ns {
				if n.Type == notify.TypePollFailing {
					t.Errorf("notification %s: %s; want none for a connection never authorized", n.Type, n.Body)
				}
			}
			for _, l := range strings.Split(h.logs.String(), "\n") {
				if strings.Contains(l, `"msg":"events:`) && strings.Contains(l, conn.ID) && (strings.Contains(l, `"level":"ERROR"`) || strings.Contains(l, `"level":"WARN"`)) {
					t.Errorf("logged as a failure: %.300s", l)
				}
			}
		})
	}
}
