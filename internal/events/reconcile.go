package events

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// Reconciler keeps one Okta event hook per connection in line with the
// event types its enabled hook-delivery flows need: it creates, verifies,
// updates, reactivates and deletes the hook, and records the outcome (with
// a reason and a remedy when it fails) on the connection's event source.
// Set its fields before use; it is then safe for concurrent use.
type Reconciler struct {
	Store   store.Store // required
	Orgs    Orgs        // required
	Keyring Sealer      // required
	// PublicURL is the server's public origin; the hook's URI is
	// PublicURL + HookPathPrefix + the connection's hook path.
	PublicURL string
	// Now stamps updates; nil means time.Now.
	Now func() time.Time
	// URLLease, when set, is how long the public URL a connection's
	// working hook sends to is kept for the servers of that URL after one
	// of them last found it so (a store lease named by HookURLLease, owned
	// by the public URL): a server with another public URL on the same
	// database (misconfigured: each server's -public-url should be the
	// load balancer's) leaves the hook to it, with an
	// OtherPublicURLError, rather than each server pointing it at its own
	// URL in turn, every round, as long as Okta can verify the hook there.
	// A server that stops cleanly gives it up (ReleaseURL); one that
	// crashed fails that verification. Zero: every Check points the hook
	// at PublicURL.
	URLLease time.Duration
	// Outbox makes the events.hook_failing notification when a working
	// (or new) hook stops working, and events.hook_recovered when it works
	// again; they are stored with the hook's status. Nil sends none.
	Outbox *notify.Outbox
	// Notified, when set, is called after a notification was stored; it
	// must not block.
	Notified func()
	// Flows names a connection's enabled event flows by delivery, for
	// events.hook_failing to say which of them start no runs (delivery
	// hook) and which get their events by the System Log polls alone
	// (hook+poll); nil (or none named) says so of "its flows with delivery
	// hook". It must be safe for concurrent use.
	Flows func(connectionID string) PollFlows
	// RetryAfter is the wait after the first failed Attempt for the same
	// key, doubled after each further one up to RetryCap (Okta refused
	// the hook) or OutageRetryCap (Okta did not answer, or answered 5xx);
	// zero means DefaultHookRetryAfter, DefaultHookRetryCap and
	// DefaultHookOutageRetryCap.
	RetryAfter, RetryCap, OutageRetryCap time.Duration
}

// Defaults of Reconciler.RetryAfter, RetryCap and OutageRetryCap: a hook
// Okta cannot verify is tried again after 1, 2, 4, ... minutes, then
// hourly; one whose attempts meet an outage at Okta after 1, 2, 4
// minutes, then every 5, so that it works again within minutes of Okta.
const (
	DefaultHookRetryAfter     = time.Minute
	DefaultHookRetryCap       = time.Hour
	DefaultHookOutageRetryCap = 5 * time.Minute
)

// retryWait is the wait after the n-th failed attempt in a row, up to hi.
func (r *Reconciler) retryWait(n int, hi time.Duration) time.Duration {
	d := cmp.Or(r.RetryAfter, DefaultHookRetryAfter)
	for i := 1; i < n && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

// shortDuration is d as time.Duration.String writes it, without zero
// minutes and seconds: 1h, not 1h0m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Due reports whether an Attempt for key on src is due at now: unless
// src's hook failed for the same key and its backoff has not passed. A
// new key (a flow using the hook, or the connection, changed) is due at
// once.
func Due(src *store.EventSource, key string, now time.Time) bool {
	return src.HookStatus != store.HookError || src.HookFailures == 0 && src.HookOutages == 0 || src.HookRetryKey != key || !now.Before(src.HookRetryAt)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported systems
	return base64.RawURLEncoding.EncodeToString(b)
}

// Reconcile makes the connection's hook subscribe to exactly types (sorted
// and deduplicated); with no types it deletes the hook. It returns the
// stored source; a failure at Okta is recorded there (store.HookError with a
// reason and a remedy) and also returned.
func (r *Reconciler) Reconcile(ctx context.Context, connectionID string, types []string) (*store.EventSource, error) {
	return r.reconcile(ctx, connectionID, types, false, nil, false, "")
}

// Attempt is Reconcile for the intake's rounds, which try a hook that
// keeps failing less and less often: a failure counts as one more in a
// row for key (what the attempt is for: the flows and the connection),
// and sets when the next is due (HookRetryAt, see Due), doubling from
// RetryAfter; the remedy shown on the connection says when. Okta
// refusing (it could not verify the hook, refused it, the connection may
// not manage hooks) doubles up to RetryCap (HookFailures); an outage at
// Okta (no answer, or a 5xx), which passes without anyone's help, up to
// the shorter OutageRetryCap (HookOutages, counted apart, so that an
// outage does not lengthen the wait of a refusal after it, nor the other
// way round). A success clears the counts.
func (r *Reconciler) Attempt(ctx context.Context, connectionID string, types []string, key string) (*store.EventSource, error) {
	return r.reconcile(ctx, connectionID, types, false, &key, false, "")
}

// reconcile is Reconcile; with reset it also sets the hook's channel (URI
// and secret) at Okta back to this server's before verifying it. With a
// key, a failure backs off as Attempt says. With takeURL the hook is
// pointed at this server's URL even while another URL's lease lasts (Okta
// could not verify it there). Gone, when set, is why the stored hook was
// found gone from the org (Check): a new one that works is notified as
// events.hook_reregistered, one that fails as events.hook_failing with
// both reasons.
func (r *Reconciler) reconcile(ctx context.Context, connectionID string, types []string, reset bool, key *string, takeURL bool, gone string) (*store.EventSource, error) {
	types = slices.Compact(slices.Sorted(slices.Values(types)))
	src, err := r.Store.GetEventSource(ctx, connectionID)
	switch {
	case isNotFound(err) && len(types) == 0:
		// No hook to delete (nor, after the connection was deleted, a
		// client to delete it with).
		return &store.EventSource{ConnectionID: connectionID}, nil
	case isNotFound(err):
		src = &store.EventSource{ConnectionID: connectionID}
	case err != nil:
		return nil, err
	}
	prev, oldID := src.HookStatus, src.HookID
	cl, err := r.Orgs.Client(ctx, connectionID)
	if err != nil {
		return src, err
	}
	if len(types) == 0 {
		return src, r.remove(ctx, cl, src)
	}
	if src.HookPath == "" || len(src.SealedSecret) == 0 {
		src.HookPath = randomToken(18)
		secret := randomToken(32)
		if src.SealedSecret, err = r.Keyring.Seal([]byte(secret), SecretAAD(connectionID)); err != nil {
			return src, err
		}
		src.HookID = ""
		// Stored first, so that the endpoint answers Okta's verification.
		src.HookStatus, src.UpdatedAt = store.HookPending, r.now()
		if err := r.Store.PutEventHook(ctx, src); err != nil {
			return src, err
		}
	}
	secret, err := r.Keyring.Open(src.SealedSecret, SecretAAD(connectionID))
	if err != nil {
		return src, err
	}
	want := okta.NewEventHook("cardflow "+connectionID, r.hookURI(src), string(secret), types)
	err = r.apply(ctx, cl, src, want, reset, takeURL)
	if want.Channel.Config.URI == r.hookURI(src) {
		// Working at this server's URL: its servers keep it (URLLease).
		// Not working there (Okta cannot reach it): another server's URL
		// may take it at once.
		if err == nil {
			_, err = r.holdURL(ctx, connectionID)
		} else if rerr := r.ReleaseURL(ctx, connectionID); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	src.HookTypes = types
	src.HookStatus, src.HookReason, src.HookRemedy = store.HookActive, "", ""
	failures, outages, retryKey := src.HookFailures, src.HookOutages, src.HookRetryKey
	src.HookFailures, src.HookOutages, src.HookRetryAt, src.HookRetryKey = 0, 0, time.Time{}, ""
	if err != nil {
		src.HookStatus = store.HookError
		src.HookReason, src.HookRemedy = explain(err, want.Channel.Config.URI, r.auth(ctx, connectionID))
		if gone != "" {
			src.HookReason = gone + ", and a new one could not be registered: " + src.HookReason
		}
		if key != nil {
			if retryKey != *key {
				failures, outages = 0, 0
			}
			n, hi, attempts := 0, time.Duration(0), ""
			if okta.Unsure(err) {
				outages++
				n, hi = outages, cmp.Or(r.OutageRetryCap, DefaultHookOutageRetryCap)
				attempts = "an attempt Okta did not answer"
				if n > 1 {
					attempts = fmt.Sprintf("%d attempts in a row Okta did not answer", n)
				}
			} else {
				failures, outages = failures+1, 0
				n, hi = failures, cmp.Or(r.RetryCap, DefaultHookRetryCap)
				attempts = "a failed attempt"
				if n > 1 {
					attempts = fmt.Sprintf("%d failed attempts in a row", n)
				}
			}
			src.HookFailures, src.HookOutages, src.HookRetryKey = failures, outages, *key
			src.HookRetryAt = r.now().Add(r.retryWait(n, hi))
			src.HookRemedy += fmt.Sprintf(" (cardflow tries again at %s, after %s: the wait doubles after each, up to %s; at once when a flow using the hook, or the connection, changes)",
				timetext.Format(src.HookRetryAt), attempts, shortDuration(hi))
		}
	}
	src.UpdatedAt = r.now()
	replaced := ""
	if gone != "" && err == nil {
		replaced = oldID
	}
	if perr := r.putStatus(ctx, prev, src, replaced); perr != nil {
		return src, perr
	}
	return src, err
}

// HookURLLease is the name of the store lease (Reconciler.URLLease) whose
// owner is the public URL the working event hook of the connection
// connectionID sends to.
func HookURLLease(connectionID string) string { return "events-hook-url/" + connectionID }

// OtherPublicURLError is Check's answer when the connection's working hook
// sends to the public URL of another server on the same database, which
// found it so within URLLease, and Okta verifies it there still: this
// server leaves the hook as it is.
// Deliveries reach the other server, which stores them for all.
type OtherPublicURLError struct {
	Connection string        // the connection's nickname
	HookURL    string        // the public URL the hook sends to
	PublicURL  string        // this server's
	Within     time.Duration // Reconciler.URLLease
}

func (e *OtherPublicURLError) Error() string {
	return fmt.Sprintf("the event hook of connection %s sends to %s, the public URL of another cardflow server on this database, which found it working within the last %s; this server's public URL is %s, so each would point the hook at its own URL in turn: start every server with the same -public-url (the load balancer's address, which Okta reaches); this server leaves the hook as it is meanwhile, and the events it delivers reach every server through the database",
		e.Connection, e.HookURL, shortDuration(e.Within), e.PublicURL)
}

// holdURL takes or renews the URL lease for this server's public URL and
// reports whether it holds it (always true without URLLease).
func (r *Reconciler) holdURL(ctx context.Context, connectionID string) (bool, error) {
	if r.URLLease <= 0 {
		return true, nil
	}
	return r.Store.TryLease(ctx, HookURLLease(connectionID), r.PublicURL, r.URLLease, r.now())
}

// ReleaseURL gives up the URL lease of the connection's hook that this
// server's public URL holds (a server that stops cleanly), so that a
// server started with another public URL points the hook at it at once.
func (r *Reconciler) ReleaseURL(ctx context.Context, connectionID string) error {
	if r.URLLease <= 0 {
		return nil
	}
	return r.Store.ReleaseLease(ctx, HookURLLease(connectionID), r.PublicURL)
}

// publicURLOf is the public URL (origin and any path before the hook
// path) of a hook URI.
func publicURLOf(uri string) string {
	if i := strings.Index(uri, HookPathPrefix); i >= 0 {
		return uri[:i]
	}
	return uri
}

// hookURI is the URL at which this server receives src's deliveries.
func (r *Reconciler) hookURI(src *store.EventSource) string {
	return strings.TrimRight(r.PublicURL, "/") + HookPathPrefix + src.HookPath
}

// Check compares an active hook with what Okta shows: a hook Okta shows
// deactivated is recorded as store.HookDeactivated, one that is gone as
// store.HookError (the next Reconcile recreates it), as is one the
// connection may no longer read (a scope taken away), each with the reason
// and a remedy; one that sends to another URL than this server's public URL is
// reconciled to it. A hook that is gone is registered anew at once: one
// notification, events.hook_reregistered, says so when the new one works,
// rather than events.hook_failing and events.hook_recovered moments apart
// (events.hook_failing when it does not). One that is unverified had its channel changed at Okta
// (Okta asks for a new verification then): its URI and secret are set
// back to this server's and verified, since Okta would otherwise send the
// changed secret, which the endpoint refuses, at every verification.
// A deactivated hook that someone activated again at Okta (its remedy
// offers that) is active again, with events.hook_recovered. Other sources
// are returned unchanged.
func (r *Reconciler) Check(ctx context.Context, connectionID string) (*store.EventSource, error) {
	return r.check(ctx, connectionID, nil)
}

// CheckAttempt is Check for the intake's rounds: what it sets up anew at
// Okta (a new hook in place of one gone from the org, the channel of one
// changed at Okta, the hook pointed at this server's public URL) is an
// Attempt for key, so that one Okta will not take backs off as the
// round's own Attempt would (which, due no more, does not try it a second
// time in the same round).
func (r *Reconciler) CheckAttempt(ctx context.Context, connectionID, key string) (*store.EventSource, error) {
	return r.check(ctx, connectionID, &key)
}

func (r *Reconciler) check(ctx context.Context, connectionID string, attemptKey *string) (*store.EventSource, error) {
	src, err := r.Store.GetEventSource(ctx, connectionID)
	if err != nil || (src.HookStatus != store.HookActive && src.HookStatus != store.HookDeactivated) || src.HookID == "" {
		return src, err
	}
	// The key a failure below backs off for: the round's, or else (Check)
	// that of the hook's last failure.
	key := src.HookRetryKey
	if attemptKey != nil {
		key = *attemptKey
	}
	prev := src.HookStatus
	cl, err := r.Orgs.Client(ctx, connectionID)
	if err != nil {
		return src, err
	}
	h, err := cl.GetEventHook(ctx, src.HookID)
	switch {
	case prev == store.HookDeactivated && (err != nil || h.Status != "ACTIVE"):
		// Left so until its flows are enabled again (the remedy says
		// so), also when it was deleted since.
		if okta.IsNotFound(err) {
			err = nil
		}
		return src, err
	case okta.IsNotFound(err):
		// Registered anew in the same look: a hook deleted at Okta that
		// cardflow replaces at once is no failure to alarm anyone with.
		gone := "the event hook " + src.HookID + " is gone from the org (deleted in the Admin Console or by another tool)"
		return r.reconcile(ctx, connectionID, src.HookTypes, false, &key, false, gone)
	case isScopeError(err):
		// The connection may no longer read its hook (the scope was
		// taken away at Okta, or an org that forgot its grants): cardflow
		// can neither see the hook nor keep it, so it is not shown active
		// with its flows said to get their events from it. The rounds try
		// it again as any hook in error, at once when the connection
		// changes (its scope granted and tested).
		src.HookStatus = store.HookError
		src.HookReason, src.HookRemedy = explain(err, r.hookURI(src), r.auth(ctx, connectionID))
	case err != nil:
		return src, err
	case h.Status != "ACTIVE":
		src.HookStatus = store.HookDeactivated
		src.HookReason = "Okta shows the event hook " + h.ID + " as deactivated, so it sends no events"
		src.HookRemedy = "disable and enable the flows that use it (cardflow flows disable NAME, then enable NAME) to register it again, or activate it in the Admin Console (Workflow > Event Hooks); flows with delivery hook+poll still get their events from the System Log"
	case h.VerificationStatus != "VERIFIED":
		// Someone changed its channel at Okta (its secret, say, in the
		// Admin Console): Okta's answers never show the secret, so set it.
		// A failure backs off as the rounds' attempts do.
		return r.reconcile(ctx, connectionID, src.HookTypes, true, &key, false, "")
	case h.Channel.Config.URI != r.hookURI(src):
		// The server's public URL changed (-public-url, or -listen
		// without it): the hook still sends to the old one. Unless a
		// server of that URL is still running on this database and found
		// it working lately: two servers with different public URLs would
		// move the hook to and fro every round, each audited, and one of
		// a URL Okta cannot reach would make it fail and recover, notified
		// each time.
		if held, err := r.holdURL(ctx, connectionID); err != nil {
			return src, err
		} else if !held {
			// Is that server still there? It may have crashed, and this
			// one be it restarted with another URL: Okta verifying the
			// hook where it sends tells. A verification Okta could not
			// make there hands the hook to this server at once.
			_, verr := cl.HookLifecycle(ctx, h.ID, "verify")
			switch {
			case verr == nil:
				return src, &OtherPublicURLError{Connection: connectionNotice(ctx, r.Store, connectionID).Nickname, HookURL: publicURLOf(h.Channel.Config.URI), PublicURL: r.PublicURL, Within: r.URLLease}
			case okta.Unsure(verr) || isScopeError(verr):
				return src, verr // the next round asks again
			}
			return r.reconcile(ctx, connectionID, src.HookTypes, false, attemptKey, true, "")
		}
		return r.reconcile(ctx, connectionID, src.HookTypes, false, attemptKey, false, "")
	case prev == store.HookDeactivated:
		// Activated again at Okta.
		src.HookStatus, src.HookReason, src.HookRemedy = store.HookActive, "", ""
		if _, err := r.holdURL(ctx, connectionID); err != nil {
			return src, err
		}
	default:
		// Working, at this server's URL: its servers keep it.
		_, err := r.holdURL(ctx, connectionID)
		return src, err
	}
	src.UpdatedAt = r.now()
	return src, r.putStatus(ctx, prev, src, "")
}

// auth is the kind of the connection id (store.AuthUser or
// store.AuthService; "" when it cannot be read), which decides how a
// missing scope or role is given.
func (r *Reconciler) auth(ctx context.Context, id string) string {
	if c, err := r.Store.GetConnection(ctx, id); err == nil {
		return c.Auth
	}
	return ""
}

func isScopeError(err error) bool {
	_, ok := okta.IsInsufficientScope(err)
	return ok
}

// hookThread is the notification thread of a connection's event hook:
// its failing and recovered notices reach each receiver in order.
func hookThread(connectionID string) string { return "events.hook/" + connectionID }

// failing reports whether a hook status means Okta sends no events.
func failing(status string) bool { return status == store.HookError || status == store.HookDeactivated }

// putStatus stores src's hook, whose status was prev before, with the
// notification its change calls for: events.hook_failing when it stops
// working, events.hook_recovered when it works again, and
// events.hook_reregistered when it works in place of the hook replaced,
// which was gone from the org.
func (r *Reconciler) putStatus(ctx context.Context, prev string, src *store.EventSource, replaced string) error {
	var m *notify.Message
	switch {
	case replaced != "" && src.HookStatus == store.HookActive && !failing(prev):
		m = &notify.Message{ID: fmt.Sprintf("nt_hook_reregistered_%s_%d", src.ConnectionID, src.UpdatedAt.UnixNano()), Type: notify.TypeHookReregistered}
	case failing(src.HookStatus) && !failing(prev):
		m = &notify.Message{ID: fmt.Sprintf("nt_hook_failing_%s_%d", src.ConnectionID, src.UpdatedAt.UnixNano()), Type: notify.TypeHookFailing}
	case src.HookStatus == store.HookActive && failing(prev):
		m = &notify.Message{ID: fmt.Sprintf("nt_hook_recovered_%s_%d", src.ConnectionID, src.UpdatedAt.UnixNano()), Type: notify.TypeHookRecovered}
	}
	if m == nil || r.Outbox == nil {
		return r.Store.PutEventHook(ctx, src)
	}
	m.Time, m.Thread = src.UpdatedAt, hookThread(src.ConnectionID)
	m.Connection = connectionNotice(ctx, r.Store, src.ConnectionID)
	var pf PollFlows
	if r.Flows != nil && m.Type != notify.TypeHookRecovered {
		pf = r.Flows(src.ConnectionID)
	}
	switch m.Type {
	case notify.TypeHookFailing:
		m.Message = fmt.Sprintf("the Okta event hook of connection %s does not work, so %s: %s; %s",
			m.Connection.Nickname, pf.hookDown(), src.HookReason, withoutHookPollNote(src.HookRemedy))
	case notify.TypeHookReregistered:
		m.Message = fmt.Sprintf("the Okta event hook %s of connection %s was gone from the org (deleted in the Admin Console or by another tool); cardflow registered a new one, %s, which works%s; "+
			"nothing to do, unless it was deleted on purpose: then disable the flows that use it (cardflow flows disable NAME), or cardflow registers it again",
			replaced, m.Connection.Nickname, src.HookID, pf.missedWhileGone())
	default:
		m.Message = fmt.Sprintf("the Okta event hook of connection %s works again", m.Connection.Nickname)
	}
	ns, err := r.Outbox.Notifications(*m)
	if err != nil {
		return err
	}
	if err := r.Store.PutEventHook(ctx, src, ns...); err != nil {
		return err
	}
	if len(ns) > 0 && r.Notified != nil {
		r.Notified()
	}
	return nil
}

// apply brings the hook at Okta to want: created, replaced when its
// events or URI differ (or, with reset, always: Okta does not show its
// secret), activated, verified.
func (r *Reconciler) apply(ctx context.Context, cl *okta.Client, src *store.EventSource, want okta.EventHook, reset, takeURL bool) error {
	var cur *okta.EventHook
	if src.HookID != "" {
		h, err := cl.GetEventHook(ctx, src.HookID)
		switch {
		case okta.IsNotFound(err):
			// Deleted at Okta: make a new one.
		case err != nil:
			return err
		default:
			cur = h
		}
	}
	if cur == nil && src.HookID == "" {
		// A creation whose answer was lost may have made the hook all the
		// same: its URI holds this source's random path, so a hook with
		// it is ours. Creating another would leave two at the org.
		hooks, err := cl.ListEventHooks(ctx)
		if err != nil {
			return err
		}
		for i := range hooks {
			if hooks[i].Channel.Config.URI == want.Channel.Config.URI {
				cur, src.HookID = &hooks[i], hooks[i].ID
				if err := r.Store.PutEventHook(ctx, src); err != nil {
					return err
				}
				break
			}
		}
	}
	if !takeURL && cur != nil && cur.Channel.Config.URI != want.Channel.Config.URI && cur.Status == "ACTIVE" && cur.VerificationStatus == "VERIFIED" {
		// A working hook at another server's public URL (see URLLease)
		// keeps it while that server's lease lasts: its event types
		// change, and Okta verifies it there.
		held, err := r.holdURL(ctx, src.ConnectionID)
		if err != nil {
			return err
		}
		if !held {
			want.Channel.Config.URI = cur.Channel.Config.URI
		}
	}
	created := cur == nil
	if created {
		h, err := cl.CreateEventHook(ctx, want)
		if err != nil {
			return err
		}
		cur, src.HookID = h, h.ID
		// Kept at once, so that a crash does not leave a hook nobody owns.
		if err := r.Store.PutEventHook(ctx, src); err != nil {
			return err
		}
		if err := r.audit(ctx, src.ConnectionID, "registered event hook "+h.ID+" for "+strings.Join(want.Events.Items, " ")); err != nil {
			return err
		}
	} else if !slices.Equal(slices.Sorted(slices.Values(cur.Events.Items)), want.Events.Items) || cur.Channel.Config.URI != want.Channel.Config.URI || reset {
		h, err := cl.ReplaceEventHook(ctx, cur.ID, want)
		if err != nil {
			return err
		}
		sameTypes := slices.Equal(slices.Sorted(slices.Values(cur.Events.Items)), want.Events.Items)
		summary := "changed event hook " + h.ID + " to " + strings.Join(want.Events.Items, " ")
		switch {
		case sameTypes && cur.Channel.Config.URI == want.Channel.Config.URI:
			summary = "set the URI and secret of event hook " + h.ID + " back to cardflow's: its channel was changed at Okta"
		case sameTypes:
			summary = "pointed event hook " + h.ID + " at the server's public URL " + publicURLOf(want.Channel.Config.URI) + ", from " + publicURLOf(cur.Channel.Config.URI)
		case cur.Channel.Config.URI != want.Channel.Config.URI:
			summary += ", at the server's public URL " + publicURLOf(want.Channel.Config.URI) + ", from " + publicURLOf(cur.Channel.Config.URI)
		}
		cur = h
		if err := r.audit(ctx, src.ConnectionID, summary); err != nil {
			return err
		}
	}
	if cur.Status != "ACTIVE" {
		h, err := cl.HookLifecycle(ctx, cur.ID, "activate")
		if err != nil {
			return err
		}
		cur = h
		if !created {
			if err := r.audit(ctx, src.ConnectionID, "activated event hook "+h.ID+" again"); err != nil {
				return err
			}
		}
	}
	if cur.VerificationStatus != "VERIFIED" {
		if _, err := cl.HookLifecycle(ctx, cur.ID, "verify"); err != nil {
			return &verifyError{err: err}
		}
	}
	return nil
}

// audit records a change cardflow made to the connection's hook at the
// org: it changes the org's configuration, which its admins audit. No one
// asked for it as such (a flow enabled or disabled, a connection deleted,
// a hook found gone), so the server is its actor.
func (r *Reconciler) audit(ctx context.Context, connectionID, summary string) error {
	return r.Store.AppendAudit(context.WithoutCancel(ctx), &store.AuditEvent{Time: r.now(), Actor: store.ServerActor,
		Action: store.ActionConnectionEventHook, ConnectionID: connectionID, InputSummary: summary, Outcome: "success"})
}

// remove deactivates and deletes the connection's hook at Okta and
// forgets it.
func (r *Reconciler) remove(ctx context.Context, cl *okta.Client, src *store.EventSource) error {
	if src.HookID != "" {
		if _, err := cl.HookLifecycle(ctx, src.HookID, "deactivate"); err != nil && !okta.IsNotFound(err) {
			return err
		}
		if err := cl.DeleteEventHook(ctx, src.HookID); err != nil && !okta.IsNotFound(err) {
			return err
		}
		if err := r.audit(ctx, src.ConnectionID, "deleted event hook "+src.HookID); err != nil {
			return err
		}
	}
	if src.HookPath == "" && src.HookID == "" {
		return nil
	}
	*src = store.EventSource{ConnectionID: src.ConnectionID, PollNext: src.PollNext, PolledAt: src.PolledAt, UpdatedAt: r.now()}
	return r.Store.PutEventHook(ctx, src)
}

type verifyError struct{ err error }

func (e *verifyError) Error() string { return "verifying the event hook: " + e.err.Error() }
func (e *verifyError) Unwrap() error { return e.err }

// explain turns a failure at Okta into the reason and remedy shown on the
// connection.
func explain(err error, uri, auth string) (reason, remedy string) {
	var se *okta.ScopeError
	var ve *verifyError
	var ae *okta.APIError
	var de *okta.DecodeError
	switch {
	case errors.As(err, &se):
		// Listing the hooks needs only read, which manage includes: name
		// the scope the connection needs for all of it.
		scope := se.Scope
		if scope == "okta.eventHooks.read" || scope == "" {
			scope = "okta.eventHooks.manage"
		}
		msg := fmt.Sprintf("the connection was not granted %s, which event hooks need", scope)
		if auth == store.AuthService {
			return msg, fmt.Sprintf("grant %s on the API Services app's Okta API Scopes tab in the Okta Admin Console, then test the connection, or use delivery: poll", scope)
		}
		return msg, fmt.Sprintf("grant %s to the org's OAuth app (Okta API Scopes tab) and reauthorize the connection, or use delivery: poll", scope)
	case errors.As(err, &de):
		return "registering the event hook failed: could not read Okta's answer: " + de.Reason(),
			"nothing to do if it passes: cardflow tries again; if it keeps happening, check what stands between cardflow and the org (a proxy answering for it)"
	case okta.Unsure(err):
		// An outage at Okta, or a lost answer: nothing about the hook.
		what := "could not reach the org: " + okta.RootCause(err).Error()
		if errors.As(err, &ae) {
			what = fmt.Sprintf("Okta answered %d (%s)", ae.Status, ae.Summary)
		}
		step := "registering the event hook"
		if errors.As(err, &ve) {
			step = "verifying the event hook"
		}
		return step + " failed: " + what,
			"nothing to do if it passes: cardflow tries again (flows with delivery hook+poll get their events from the System Log meanwhile); if it keeps happening, check the org's status (status.okta.com) and the network between cardflow and the org"
	case errors.As(err, &ve):
		return fmt.Sprintf("Okta could not verify the event hook at %s: %v", uri, ve.err),
			"make the server's public URL reachable from Okta over https (set -public-url to it), or use delivery: poll"
	case errors.As(err, &ae) && ae.Status == 403:
		if auth == store.AuthService {
			return "the connection's API Services app may not manage event hooks (" + ae.Summary + ")",
				"assign the app the Super Administrator role on its Admin Roles tab in the Okta Admin Console, then test the connection, or use delivery: poll"
		}
		return "the connection's Okta account may not manage event hooks (" + ae.Summary + ")",
			"reauthorize the connection with a super administrator, or use delivery: poll"
	case errors.As(err, &ae) && ae.Status == 400:
		return "Okta refused the event hook: " + strings.Join(append([]string{ae.Summary}, ae.Causes...), "; "),
			"if the org already has 25 active event hooks, deactivate one it no longer needs; otherwise use delivery: poll"
	}
	return "registering the event hook failed: " + err.Error(), "check the connection (cardflow connections test), then enable the flow again"
}
