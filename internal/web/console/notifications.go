package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/web"
)

func (c *Console) notificationRoutes(mux *web.Mux) {
	if c.Notifications == nil {
		return
	}
	mux.Handle("POST /notifications/test", c.auth(c.testNotifications))
}

// testNotifications posts a test message to every notification receiver
// of this server (as cardflow notifications test does) and says on the
// Flows page how each answered.
func (c *Console) testNotifications(w http.ResponseWriter, r *http.Request, s *reqState) {
	results := c.Notifications.Test(r.Context(), s.actor().String())
	var refused, remedies []string
	for _, res := range results {
		switch {
		case res.Unreached:
			refused = append(refused, res.Receiver+" could not be reached: "+unreachedText(res.Err))
		case res.Err != nil:
			refused = append(refused, res.Receiver+" refused it: "+res.Err.Error())
		default:
			continue
		}
		if rem := res.Remedy(); !slices.Contains(remedies, rem) {
			remedies = append(remedies, rem)
		}
	}
	switch {
	case len(results) == 0:
		_, e := c.publicError(r.Context(), web.NoNotificationReceivers())
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: e.Message, Remedy: e.Remedy})
	case len(refused) == 0:
		c.addFlash(r.Context(), s.session, flash{Kind: "ok", Message: fmt.Sprintf("Test notification sent: each of the %d receivers took it.", len(results))})
	default:
		c.addFlash(r.Context(), s.session, flash{Kind: "error",
			Message: fmt.Sprintf("%d of %d notification receivers did not take the test notification: %s.", len(refused), len(results), strings.Join(refused, "; ")),
			Remedy:  "For each receiver that did not take it, " + strings.Join(remedies, "; or ") + "; then test again."})
	}
	if len(results) > 0 {
		e, err := web.NotificationTestAudit(s.actor(), results)
		c.audit(r, e, err)
	}
	http.Redirect(w, r, "/flows", http.StatusSeeOther)
}

// unreachedText is why a receiver could not be reached, in brief: the
// network's reason (dial tcp 10.0.0.9:443: connect: connection refused),
// or the wait that ran out (no answer within 10s), without the request
// that failed, whose receiver the sentence has named already.
func unreachedText(err error) string {
	msg := err.Error()
	var ue *url.Error
	if !errors.As(err, &ue) {
		return msg
	}
	if head, _, ok := strings.Cut(msg, ": "+ue.Error()); ok && head != "post" {
		return head
	}
	return ue.Err.Error()
}
