package card

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// insufficientScope is the C8 problem: the card needs scope, the
// connection lacks it. fromOkta says Okta itself refused (403 with
// WWW-Authenticate error="insufficient_scope") rather than the preflight.
func insufficientScope(c *Card, conn ConnectionInfo, scope string, fromOkta bool) *problem.Error {
	granted := "no Okta API scope"
	if len(conn.GrantedScopes) > 0 {
		granted = strings.Join(conn.GrantedScopes, " ")
	}
	msg := fmt.Sprintf("card %q (%s) needs scope %s, but connection %q was granted %s", c.Name, c.Ref, scope, conn.Nickname, granted)
	if fromOkta {
		msg = fmt.Sprintf("Okta refused card %q (%s): the connection's access token lacks scope %s (connection %q was granted %s)", c.Name, c.Ref, scope, conn.Nickname, granted)
	}
	return problem.New(problem.InsufficientScope, "%s", msg).
		WithRemedy("%s", scopeRemedy(conn, scope)).
		WithDetail("card", c.Ref).WithDetail("requiredScope", scope).
		WithDetail("grantedScopes", append([]string{}, conn.GrantedScopes...)).WithDetail("connection", conn.ID)
}

// scopeRemedy is the fix for a connection lacking scope. A connection with
// custom scopes that did not ask for the scope is reauthorized with it
// ticked (or with the default scopes when those include it); one that asked
// for it but was not granted it needs the OAuth app to grant it first.
// Without the connection's scope mode both fixes are given.
func scopeRemedy(conn ConnectionInfo, scope string) string {
	var catalogue []string
	for _, s := range Scopes(ConnectorID) {
		catalogue = append(catalogue, s.Name)
	}
	switch {
	case conn.ServiceClientID != "" && (scope == scopeNotNamed || ScopeGranted(scope, conn.RequestedScopes)):
		// A service connection asks for its scopes with every new token.
		return fmt.Sprintf("grant %s to the API Services app %s in Okta (Okta API Scopes tab), then test connection %q so that its next token has it",
			orDefault(scope, scopeNotNamed, "the scope the call needs"), conn.ServiceClientID, conn.Nickname)
	case conn.ServiceClientID != "" && slices.Contains(catalogue, scope):
		return fmt.Sprintf("service connection %q did not request %s, and its scopes are fixed when it is created: create a service connection that requests it (for example with the default scopes)", conn.Nickname, scope)
	case scope == scopeNotNamed:
		return "check which scope the call needs, grant it to the OAuth app in Okta (Okta API Scopes tab), then reauthorize the connection"
	case !slices.Contains(catalogue, scope) && !ScopeGranted(scope, conn.GrantedScopes):
		return fmt.Sprintf("connections of %s cannot request %s (only %s); call an API those scopes allow", ConnectorID, scope, joinAnd(catalogue))
	case conn.ScopeMode == "":
		return fmt.Sprintf("grant %s to the OAuth app in Okta (Okta API Scopes tab), then reauthorize the connection; with custom scopes, also tick %s", scope, scope)
	case ScopeGranted(scope, conn.RequestedScopes):
		return fmt.Sprintf("grant %s to the OAuth app in Okta (Okta API Scopes tab), then reauthorize connection %q (cardflow connections reauthorize %q)", scope, conn.Nickname, conn.Nickname)
	}
	if defaults, _ := DefaultScopes(ConnectorID); ScopeGranted(scope, defaults) {
		return fmt.Sprintf("reauthorize connection %q with %s ticked (Customize scopes), or with the default scopes, and make sure the OAuth app grants it (%s, or --default-scopes)", conn.Nickname, scope, problem.ReauthorizeAdding(conn.Nickname, conn.RequestedScopes, scope))
	}
	return fmt.Sprintf("reauthorize connection %q with %s ticked (Customize scopes), and make sure the OAuth app grants it (%s)", conn.Nickname, scope, problem.ReauthorizeAdding(conn.Nickname, conn.RequestedScopes, scope))
}

// scopeNotNamed stands for the scope of a 403 insufficient_scope answer
// that does not name it.
const scopeNotNamed = "(not named by Okta)"

// notUsable is the problem of a connection that is not active.
func notUsable(conn ConnectionInfo) *problem.Error {
	reason := conn.StatusReason
	switch {
	case reason == "" && conn.Status == store.StatusPending:
		reason = "its authorization was never finished"
	case reason == "":
		reason = "it is " + conn.Status
	}
	remedy := conn.Remedy
	if remedy == "" {
		remedy = problem.Reauthorize(conn.Nickname)
	}
	if problem.NotActiveCode(conn.Status, conn.NeverAuthorized) == problem.ConnectionPending {
		// Never authorized: nothing to authorize again.
		msg := problem.PendingMessage(conn.Nickname, reason)
		if conn.Status != store.StatusPending {
			msg = problem.SignInFailedMessage(conn.Nickname, reason)
		}
		return problem.New(problem.ConnectionPending, "%s", msg).
			WithRemedy("%s", remedy).WithDetail("connection", conn.ID).WithDetail("status", conn.Status)
	}
	// Worded as the refresh that found it and a flow's refusal say it, so
	// that a plan's first item and the ones after it say the same.
	msg := fmt.Sprintf("connection %q cannot run cards: %s", conn.Nickname, reason)
	switch conn.Status {
	case store.StatusNeedsReauthorization:
		msg = problem.NeedsReauthorizationMessage(conn.Nickname, reason)
	case store.StatusError:
		msg = problem.InErrorMessage(conn.Nickname, conn.StatusReason)
	}
	return problem.New(problem.NeedsReauthorization, "%s", msg).
		WithRemedy("%s", remedy).WithDetail("connection", conn.ID).WithDetail("status", conn.Status)
}

// verb says what a card does, for "does not allow ..." messages.
func verb(c *Card) string {
	switch c.ID {
	case "search-devices", "read-device":
		return "reading devices"
	case "list-device-users":
		return "reading device users"
	case "delete-device":
		return "deleting devices"
	case "activate-device":
		return "activating devices"
	case "deactivate-device":
		return "deactivating devices"
	case "suspend-device":
		return "suspending devices"
	case "unsuspend-device":
		return "unsuspending devices"
	}
	return "this API call"
}

// toProblem is the package's toProblem with, for Okta's insufficient_scope,
// the connection's granted scopes as they are now: the token the org
// refused may have been refreshed during the call (after a 401), and the
// scopes read before the run would still list the one Okta refused.
func (e *Executor) toProblem(ctx context.Context, err error, iv *invocation) *problem.Error {
	if _, ok := okta.IsInsufficientScope(err); ok && iv.conn.ID != "" {
		if now, rerr := e.Connections.Resolve(ctx, ConnectorID, iv.conn.ID); rerr == nil {
			fresh := *iv
			fresh.conn.GrantedScopes = now.GrantedScopes
			return toProblem(err, &fresh)
		}
	}
	p := toProblem(err, iv)
	if okta.IsForbidden(err) && iv.conn.ID != "" {
		if fc, ok := e.Connections.(ForbiddenChecker); ok {
			if now, stopped := fc.CardForbidden(ctx, iv.conn.ID); stopped {
				p = connectionForbidden(p, now)
			}
		}
	}
	return p
}

// connectionForbidden is p, the problem of a card call Okta refused with
// E0000006, once the connection was found unable to read devices either
// and stored as not active (ForbiddenChecker): it says so, and its remedy
// is the connection's, which ends with testing it (service) or
// reauthorizing it (user) rather than running the card again, which the
// connection's status now refuses.
func connectionForbidden(p *problem.Error, conn ConnectionInfo) *problem.Error {
	p.Message += fmt.Sprintf("; the read-only device call that connections test makes is refused too, so connection %q is now %s (%s)",
		conn.Nickname, conn.Status, conn.StatusReasonCode)
	return p.WithRemedy("%s", conn.Remedy).WithDetail("connection", conn.ID).
		WithDetail("connectionStatus", conn.Status).WithDetail("statusReasonCode", conn.StatusReasonCode)
}

// toProblem maps an error from a card to its public problem. Problems pass
// through (the connection's transport raises needs_reauthorization itself);
// Okta's answers map by meaning; anything else is an upstream error.
func toProblem(err error, iv *invocation) *problem.Error {
	if p, ok := problem.As(err); ok {
		return p
	}
	c, conn := iv.card, iv.conn
	if se, ok := okta.IsInsufficientScope(err); ok {
		scope := se.Scope
		if scope == "" {
			scope = scopeNotNamed
		}
		return insufficientScope(c, conn, scope, true).WithDetail("oktaRequestId", se.RequestID).Wrap(err)
	}
	var re *okta.RequestError
	if errors.As(err, &re) {
		p := invalidField(re.Field, "input %s: %s", re.Field, re.Message)
		if re.Field == "deviceId" {
			p = p.WithRemedy("%s", deviceIDRemedy)
		} else {
			p = p.WithRemedy("correct %s and run the card again", re.Field)
		}
		return p.Wrap(err)
	}
	var ae *okta.APIError
	if errors.As(err, &ae) {
		return apiProblem(ae, iv).WithDetail("oktaRequestId", ae.RequestID).WithDetail("oktaErrorCode", ae.Code).Wrap(err)
	}
	var de *okta.DecodeError
	if errors.As(err, &de) {
		return problem.New(problem.UpstreamError, "could not read Okta's answer: %s", de.Reason()).
			WithRemedy("run the card again; if it keeps happening, check what stands between cardflow and the org (a proxy answering for it) and quote Okta's request id %s to Okta support", orDefault(de.RequestID, "", "(none)")).
			WithDetail("oktaRequestId", de.RequestID).Wrap(err)
	}
	var tl *okta.ResponseTooLargeError
	if errors.As(err, &tl) {
		return problem.New(problem.UpstreamError, "Okta's answer was larger than %d bytes; cardflow does not read it", tl.Limit).Wrap(err)
	}
	if se := (*okta.StoppedError)(nil); errors.As(err, &se) {
		// Stopped while waiting to send (StopWaiting): the call that
		// waited was not sent (again).
		why, remedy := "it was stopped", "run the card again"
		if r := (*StopReason)(nil); errors.As(se.Cause, &r) {
			why, remedy = r.Why, r.Remedy
		}
		return stoppedProblem(c, iv, se, why, remedy).Wrap(err)
	}
	if errors.Is(err, context.Canceled) {
		// Its caller went away (a CLI stopped with Ctrl-C, a closed
		// connection): the call may have reached Okta all the same.
		remedy := store.InterruptedChangeRemedy
		if c.ModeFor(iv.in) == ModeRead {
			remedy = store.InterruptedReadRemedy
		}
		return problem.New(problem.Internal, "the run was cancelled before Okta answered; whether the call reached Okta is unknown").
			WithRemedy("%s", remedy).Wrap(err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return problem.New(problem.UpstreamError, "Okta did not answer in time").
			WithRemedy("run the card again; check the org's status if it keeps happening").Wrap(err)
	}
	return problem.New(problem.UpstreamError, "could not reach Okta at %s: %v", conn.Domain, okta.RootCause(err)).
		WithRemedy("check the org's domain and the network, then run the card again").Wrap(err)
}

// apiProblem maps one of Okta's error answers.
func apiProblem(ae *okta.APIError, iv *invocation) *problem.Error {
	c, conn := iv.card, iv.conn
	switch {
	case okta.IsInvalidToken(ae):
		return problem.New(problem.NeedsReauthorization, "Okta rejected the access token of connection %q even after a refresh (%s)", conn.Nickname, ae.Summary).
			WithRemedy("%s", problem.Reauthorize(conn.Nickname)).WithDetail("connection", conn.ID)
	case okta.IsDPoPRefused(ae):
		return problem.New(problem.UpstreamError, "Okta refused the DPoP proof of connection %q (%s: %s)", conn.Nickname, ae.Challenge, ae.Summary).
			WithRemedy("check that this server's clock is right (Okta refuses a proof made more than five minutes away from its own time), then run the card again; if it keeps happening, quote Okta's request id %s to Okta support", orDefault(ae.RequestID, "", "(none)")).
			WithDetail("connection", conn.ID)
	case okta.IsForbidden(ae) && conn.ServiceClientID != "":
		return problem.New(problem.Forbidden, "the API Services app %s of connection %q has no admin role that allows %s (card %s; the org answered E0000006)", conn.ServiceClientID, conn.Nickname, verb(c), c.Ref).
			WithRemedy("in the Okta Admin Console open the app's Admin Roles tab and assign a role that may manage devices (Mobile Administrator or Super Administrator), then run it again").
			WithDetail("clientId", conn.ServiceClientID)
	case okta.IsForbidden(ae):
		who := conn.ActingAs
		if who == "" {
			who = "(unknown)"
		}
		return problem.New(problem.Forbidden, "the account %s that authorized connection %q has an admin role that does not allow %s (card %s)", who, conn.Nickname, verb(c), c.Ref).
			WithRemedy("reauthorize the connection with a super administrator (a dedicated service account is recommended)").
			WithDetail("actingAs", conn.ActingAs)
	case okta.IsNotFound(ae):
		if id := iv.str("deviceId"); id != "" {
			return problem.New(problem.NotFound, "device %s was not found in the org (%s)", id, ae.Summary).
				WithRemedy("check the device id; deleted devices are gone for good").WithDetail("deviceId", id)
		}
		return problem.New(problem.NotFound, "Okta answered 404: %s", ae.Summary).
			WithRemedy("check the path and the ids in it")
	case okta.IsRateLimited(ae):
		return problem.New(problem.RateLimited, "Okta's rate limit for the org was still exhausted after waiting for its resets").
			WithRemedy("run it again later, or lower the flow's concurrency")
	case ae.Status == http.StatusBadRequest:
		return problem.New(problem.InvalidInput, "Okta refused the request: %s", summary(ae)).
			WithRemedy("fix the input Okta names; quote Okta's request id %s if you contact Okta support", ae.RequestID)
	}
	return problem.New(problem.UpstreamError, "Okta answered %d: %s", ae.Status, summary(ae)).
		WithRemedy("run the card again later; quote Okta's request id %s if you contact Okta support", ae.RequestID)
}

// summary is Okta's summary with its causes.
func summary(ae *okta.APIError) string {
	if len(ae.Causes) == 0 {
		return ae.Summary
	}
	return ae.Summary + " (" + strings.Join(ae.Causes, "; ") + ")"
}

// joinAnd lists xs as "a, b and c".
func joinAnd(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// orDefault is def when s is unset (empty or the placeholder unset).
func orDefault(s, unset, def string) string {
	if s == "" || s == unset {
		return def
	}
	return s
}

// RunRemedy is the remedy of stored card run r. The sweep that ends the
// direct card runs of a dead server ends those of every card at once with
// the remedy of either kind (store.InterruptedDirectRemedy); for a card
// cardflow knows, it is the remedy of that card's kind, as a run cancelled
// while its server runs it gets.
func RunRemedy(r *store.Run) string {
	if r.Remedy != store.InterruptedDirectRemedy {
		return r.Remedy
	}
	c, ok := Lookup(r.Card)
	if !ok {
		return r.Remedy
	}
	var input map[string]any
	_ = json.Unmarshal(r.Input, &input) // the mode of a custom call reads its method; none: the card's
	if c.ModeFor(input) == ModeRead {
		return store.InterruptedReadRemedy
	}
	return store.InterruptedChangeRemedy
}

// stoppedProblem is the problem of a call stopped (why; remedy the
// stop's) while it waited to be sent: never sent, it changed nothing;
// sent before and refused for the org's rate limit (429), Okta did
// nothing with it; sent before and failed otherwise (a 5xx, no answer),
// whether it changed anything is unknown, as with a run interrupted.
func stoppedProblem(c *Card, iv *invocation, se *okta.StoppedError, why, remedy string) *problem.Error {
	switch {
	case se.Attempts == 0:
		return problem.New(problem.Internal, "this run did not send its call to Okta: %s while the call waited (for the org's rate limit, or to be sent again)", why).
			WithRemedy("%s", remedy)
	case se.LastStatus == http.StatusTooManyRequests:
		return problem.New(problem.UpstreamError, "Okta refused this run's call for the org's rate limit (429: it did nothing with it), and the call was not sent again: %s while it waited for the limit", why).
			WithRemedy("%s", remedy)
	}
	// "once (answered 503)", "3 times (the last got no answer)".
	outcome := "got no answer"
	if se.LastStatus != 0 {
		outcome = fmt.Sprintf("answered %d", se.LastStatus)
	}
	if se.Attempts > 1 {
		outcome = "the last " + outcome
	}
	sent := times(se.Attempts) + " (" + outcome + ")"
	if se.Method == http.MethodGet {
		return problem.New(problem.UpstreamError, "this run sent a read to Okta %s and did not send it again: %s while it waited to; a read changes nothing at the org",
			sent, why).WithRemedy("%s", remedy)
	}
	interrupted := store.InterruptedChangeRemedy
	if c.ModeFor(iv.in) == ModeRead {
		interrupted = store.InterruptedReadRemedy
	}
	return problem.New(problem.UpstreamError, "this run sent its call to Okta %s and did not send it again: %s while it waited to; whether the call changed anything at the org is unknown",
		sent, why).WithRemedy("%s", interrupted)
}

// times is "once", "twice" or "N times".
func times(n int) string {
	switch n {
	case 1:
		return "once"
	case 2:
		return "twice"
	}
	return fmt.Sprintf("%d times", n)
}
