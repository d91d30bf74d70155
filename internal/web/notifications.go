package web

import (
	"context"
	"fmt"
	"net/http"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// Notifications sends test notifications to the server's receivers
// (-notify-url), outside the outbox.
type Notifications interface {
	// Test posts a test message naming by to every receiver and says
	// how each answered; none without receivers.
	Test(ctx context.Context, by string) []NotificationResult
	// Receivers is how many receivers the server has.
	Receivers() int
}

// NotificationResult is how one receiver answered a test message:
// Receiver as logs show it, the Body it is sent, and Err when it did not
// take the message (an error that names the receiver only as Receiver
// does).
type NotificationResult struct {
	Receiver, Body string
	Err            error
	// Unreached says that Err is no answer (the receiver down, its host
	// unknown, a timeout) rather than an answer refusing the message.
	Unreached bool
}

// NotificationTestRemedy is what to do about a receiver that did not
// take the test message: one that could not be reached is started (its
// URL may be right, and restarting cardflow would change nothing), one that
// answered with a refusal is given another -notify-url.
func NotificationTestRemedy(unreached bool) string {
	if unreached {
		return "start the receiver, or fix the network or name lookup between this server and it (its -notify-url may be right): cardflow keeps its notifications and sends them once it answers"
	}
	return "fix the receiver's -notify-url (a chat webhook's URL as its service gave it, or BODY=URL to name the body it takes) and restart the server"
}

// NoNotificationReceivers is the error of a test on a server without
// notification receivers.
func NoNotificationReceivers() error {
	return problem.New(problem.Conflict, "this server has no notification receivers").
		WithRemedy("start the server (cardflow serve, or cardflow demo) with -notify-url URL (or CARDFLOW_NOTIFY_URLS) and CARDFLOW_NOTIFY_SECRET, then test again")
}

// NotificationTestAudit is the audit event of a test by actor that had
// results, with its error: nil when every receiver took the message.
func NotificationTestAudit(actor store.Actor, results []NotificationResult) (store.AuditEvent, error) {
	refused := 0
	for _, res := range results {
		if res.Err != nil {
			refused++
		}
	}
	var err error
	if refused > 0 {
		err = problem.New(problem.UpstreamError, "%d of %d notification receivers did not take the test message", refused, len(results))
	}
	return store.AuditEvent{Actor: actor, Action: store.ActionNotificationTest, InputSummary: fmt.Sprintf("%d receivers", len(results))}, err
}

// testNotifications answers POST /api/v1/notifications/test: a test
// message to every receiver of this server, with how each answered, so
// that a receiver that would refuse every notification is found now rather
// than at the first failed flow run.
func (s *Server) testNotifications(w http.ResponseWriter, r *http.Request) {
	p, _ := PrincipalOf(r.Context())
	results := s.Notifications.Test(r.Context(), p.Actor.String())
	if len(results) == 0 {
		s.writeError(w, r, NoNotificationReceivers())
		return
	}
	out := api.NotificationTest{Receivers: make([]api.NotificationTestResult, len(results))}
	for i, res := range results {
		out.Receivers[i] = api.NotificationTestResult{Receiver: res.Receiver, Body: res.Body, Delivered: res.Err == nil}
		if res.Err != nil {
			out.Receivers[i].Error = res.Err.Error()
			out.Receivers[i].Unreached, out.Receivers[i].Remedy = res.Unreached, NotificationTestRemedy(res.Unreached)
		}
	}
	e, err := NotificationTestAudit(p.Actor, results)
	s.audit(r, e, err)
	writeJSON(w, http.StatusOK, out)
}
