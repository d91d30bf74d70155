package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

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
	// unknown, a timeout) rather than an answer refusing the message;
	// TimedOut, that it is a timeout.
	Unreached, TimedOut bool
	// Status is the HTTP status of the receiver's answer, 0 when none
	// came.
	Status int
	// Waiting is how many notifications wait in the outbox for the
	// receiver (not delivered yet), the oldest made at WaitingSince;
	// LastError says why the latest attempt at one of them failed.
	Waiting      int
	WaitingSince time.Time
	LastError    string
}

// Remedy is what to do about a receiver that did not take the test
// message. Only a refusal that says the request was wrong (a 4xx: not
// found, a chat webhook refusing cardflow's JSON) calls for another
// -notify-url; a receiver that failed on its side (5xx), that may not
// check the signature with this server's secret (401, 403 for cardflow's
// JSON), that could not be reached or was slow to answer may well have the
// right one, and restarting cardflow would change nothing.
func (r NotificationResult) Remedy() string {
	const kept = "cardflow keeps its notifications and sends them once it takes them"
	switch {
	case r.TimedOut:
		return "make the receiver answer within 30 s (one that does its work before answering should answer first: cardflow posts again a notification it got no answer to, which the receiver then gets twice), or fix the network between this server and it if a firewall drops the packets (its -notify-url may be right): " + kept
	case r.Unreached:
		return "start the receiver, or fix the network or name lookup between this server and it (its -notify-url may be right): cardflow keeps its notifications and sends them once it answers"
	case r.Status >= 500:
		return "see the receiver's logs and fix what fails there (it answered with a server error; its -notify-url may be right): " + kept
	case r.Status == http.StatusTooManyRequests:
		return "test again later (the receiver limits how often it may be posted to; its -notify-url may be right): " + kept
	case (r.Status == http.StatusUnauthorized || r.Status == http.StatusForbidden) && r.Body == "cardflow":
		return "check that the receiver verifies X-Cardflow-Signature with this server's CARDFLOW_NOTIFY_SECRET (every server's must be the same), or fix its -notify-url if the receiver wants a key there, and restart the server"
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
		out.Receivers[i] = api.NotificationTestResult{Receiver: res.Receiver, Body: res.Body, Delivered: res.Err == nil,
			Waiting: res.Waiting, LastError: res.LastError}
		if res.Waiting > 0 {
			since := res.WaitingSince.UTC()
			out.Receivers[i].WaitingSince = &since
		}
		if res.Err != nil {
			out.Receivers[i].Error = res.Err.Error()
			out.Receivers[i].Unreached, out.Receivers[i].Status, out.Receivers[i].Remedy = res.Unreached, res.Status, res.Remedy()
		}
	}
	e, err := NotificationTestAudit(p.Actor, results)
	s.audit(r, e, err)
	writeJSON(w, http.StatusOK, out)
}
