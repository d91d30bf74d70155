package connection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// probe makes the read-only test call (GET /api/v1/devices?limit=1)
// with a new access token and explains a refusal; nil means it worked.
func (m *Manager) probe(ctx context.Context, c *store.Connection, access, login string) *problem.Error {
	origin := OriginOf(c.Domain)
	pctx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(pctx, http.MethodGet, origin+"/api/v1/devices?limit=1", nil)
	if err != nil {
		return internal("build probe request", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := m.httpClient().Do(req)
	if err != nil {
		return problem.New(problem.UpstreamError, "could not check the account's permissions at %s: %s", origin, transportCause(err)).
			WithRemedy("check that the org is reachable, then try again").Wrap(err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := ReadCapped(resp.Body, 64<<10)
	reqID := cleanText(resp.Header.Get("X-Okta-Request-Id"), 64)
	var oe struct {
		ErrorCode    string `json:"errorCode"`
		ErrorSummary string `json:"errorSummary"`
	}
	_ = json.Unmarshal(body, &oe)
	var p *problem.Error
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusForbidden && oe.ErrorCode == "E0000006":
		p = problem.New(problem.Forbidden, "account %s is not an administrator with device permissions (the org answered E0000006 to a read-only device call)", login).
			WithRemedy("authorize with a super admin (a dedicated service account is recommended): reauthorize and sign in as that account; or, to go on signing in as %s, give it an admin role in Okta Admin Console › Security › Administrators (super, org or mobile administrator; read-only administrator for the read cards alone), then reauthorize", login)
	case resp.StatusCode == http.StatusForbidden && strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope"):
		p = problem.New(problem.InsufficientScope, "the org refused a device read for lack of scope although the token lists okta.devices.read").
			WithRemedy("grant okta.devices.read on the app's Okta API Scopes tab, then reauthorize")
	case resp.StatusCode == http.StatusUnauthorized:
		p = problem.New(problem.NeedsReauthorization, "the org rejected the connection's access token (%s)", orDefault(oe.ErrorCode, "HTTP 401")).
			WithRemedy("%s", problem.Reauthorize(c.Nickname))
	case resp.StatusCode == http.StatusTooManyRequests:
		p = problem.New(problem.RateLimited, "the org's rate limit was reached while checking the account's permissions").
			WithRemedy("wait a minute, then try again")
	default:
		p = problem.New(problem.UpstreamError, "the org answered HTTP %d %s to a read-only device call", resp.StatusCode, cleanText(oe.ErrorSummary, 200)).
			WithRemedy("check the org's status, then try again")
	}
	if reqID != "" {
		p.WithDetail("oktaRequestId", reqID)
	}
	return p
}

// probeReasonCode is the store.Reason* of a problem probe reported.
func probeReasonCode(p *problem.Error) string {
	switch {
	case p.Code == problem.Forbidden:
		return store.ReasonNoAdminRole
	case p.Code == problem.InsufficientScope:
		return store.ReasonScopeNotGranted
	case p.Code == problem.NeedsReauthorization:
		return store.ReasonTokenRefused
	case p.Code == problem.UpstreamError && p.Err != nil:
		return store.ReasonOrgUnreachable
	}
	return store.ReasonPermissionCheckFailed
}

// revoke revokes a refresh token at the org (RFC 7009), authenticating
// with the client secret (client_secret_basic).
func (m *Manager) revoke(ctx context.Context, c *store.Connection, secret, token string) error {
	rctx, cancel := context.WithTimeout(ctx, tokenCallTimeout)
	defer cancel()
	form := url.Values{"token": {token}, "token_type_hint": {"refresh_token"}}
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, OriginOf(c.Domain)+"/oauth2/v1/revoke", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(secret))
	resp, err := m.httpClient().Do(req)
	if err != nil {
		return errors.New(transportCause(err))
	}
	defer func() { _ = resp.Body.Close() }()
	body, _ := ReadCapped(resp.Body, 64<<10)
	if resp.StatusCode == http.StatusOK {
		// The org answers an empty body (or JSON); a page is something
		// else answering for it, and the token may well live on.
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); len(bytes.TrimSpace(body)) > 0 && mt != "application/json" {
			return fmt.Errorf("the revocation was answered with %s instead of the org's answer", cleanText(orDefault(mt, "a body"), 100))
		}
		return nil
	}
	var e struct {
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
	}
	_ = json.Unmarshal(body, &e)
	return newOAuthError(resp.StatusCode, e.Error, e.ErrorDescription)
}

// revokeQuietly revokes tokens cardflow obtained but will not keep.
func (m *Manager) revokeQuietly(ctx context.Context, c *store.Connection, secret, token string) {
	if err := m.revoke(ctx, c, secret, token); err != nil {
		m.log.WarnContext(ctx, "could not revoke an unused refresh token", "connection", c.ID, "error", err)
	}
}

// TestResult is the outcome of a health check.
type TestResult struct {
	OK           bool
	Status       string
	StatusReason string
	Remedy       string
	// StatusReasonCode is the stored code of a connection left in
	// another status than active (as in View); empty otherwise.
	StatusReasonCode string
	// MissingScopes are the scopes requested and not granted once the
	// check is done, as in View: a passed check may find that the org
	// stopped granting one since the last sign-in. MissingScopeCards
	// names the cards each one breaks. Set only when OK.
	MissingScopes     []string
	MissingScopeCards map[string][]string
	// Auth is the connection's kind (store.AuthUser or store.AuthService),
	// which decides how a missing scope is fixed.
	Auth string
	// KeyRotation, of a passed check of a service connection whose key is
	// being rotated (rotate-key), says where the rotation stands and what
	// to do next: the new key is not accepted yet (add it to the app; keep
	// the old one), or the check switched to it (remove the old one).
	KeyRotation string
}

// Test re-verifies a connection: it refreshes the access token
// (proving the refresh token and client secret still work) and repeats the
// read-only device call, then updates the status. A connection that is not
// active is reported as it is, but for a user connection whose account
// lacked an admin role (awaitsRole): checked the same way, it becomes
// active again once the org answers the device call.
func (m *Manager) Test(ctx context.Context, id string, actor store.Actor) (*TestResult, error) {
	m.init()
	c, err := m.lookup(ctx, "", id)
	if err != nil {
		return nil, err
	}
	// On a server whose keyring is behind, the check is refused as a card
	// run is (503, to try again on a server that has the key): it would
	// fail here, or seal what the other servers cannot open.
	if err := m.sealedBehind(ctx, c); err != nil {
		return nil, err
	}
	res := m.test(ctx, c, actor)
	if res.OK && len(c.SealedNextPrivateKey) > 0 {
		res.KeyRotation = m.rotationAfterTest(ctx, c)
	}
	res.Auth = store.AuthUser
	if c.Auth == store.AuthService {
		res.Auth = store.AuthService
	}
	if res.OK {
		// The check stored what the org grants now.
		if cur, err := m.Store.GetConnection(ctx, c.ID); err == nil {
			v := m.view(cur)
			res.MissingScopes, res.MissingScopeCards = v.MissingScopes, v.MissingScopeCards
		}
	}
	ev := store.AuditEvent{Actor: actor, Action: store.ActionConnectionTest, ConnectionID: c.ID, ActingAs: c.AuthorizedLogin, InputSummary: "health check"}
	if res.OK {
		m.audit(ctx, ev, nil)
		if m.OnTestPassed != nil {
			m.OnTestPassed(c.ID)
		}
	} else {
		m.audit(ctx, ev, problem.New(problem.UpstreamError, "%s", res.StatusReason).WithRemedy("%s", res.Remedy))
	}
	return res, nil
}

func (m *Manager) test(ctx context.Context, c *store.Connection, actor store.Actor) *TestResult {
	if c.Auth == store.AuthService {
		return m.serviceTest(ctx, c)
	}
	if awaitsRole(c) {
		// Its account may have its admin role back: the check tells.
		if _, err := m.roleBack(ctx, c.ID, true, actor); err != nil {
			return m.testFailure(ctx, c.ID, err)
		}
		return &TestResult{OK: true, Status: store.StatusActive}
	}
	if c.Status != store.StatusActive {
		return &TestResult{Status: c.Status, StatusReason: c.StatusReason, Remedy: c.Remedy, StatusReasonCode: c.StatusReasonCode}
	}
	current := ""
	if at, err := m.Keyring.Open(c.SealedAccessToken, sealedAAD(c.ID, fieldAccessToken)); err == nil {
		current = string(at)
	}
	var tok *Token
	var err error
	if current != "" {
		tok, err = m.refresh(ctx, c.ID, current)
	} else {
		tok, err = m.Token(ctx, c.ID)
	}
	if err != nil {
		return m.testFailure(ctx, c.ID, err)
	}
	if hasDeviceRead(tok.Scopes) {
		if p := m.probe(ctx, c, tok.AccessToken.Reveal(), tok.ActingAs); p != nil {
			if p.Code == problem.Forbidden {
				p.WithRemedy("%s", roleRemedy(c.Nickname, tok.ActingAs))
			}
			if p.Code == problem.Forbidden || p.Code == problem.NeedsReauthorization || p.Code == problem.InsufficientScope {
				cur, err := m.Store.GetConnection(ctx, c.ID)
				if err == nil {
					m.setNeedsReauth(ctx, c.ID, cur.SealedRefreshToken, probeReasonCode(p), p.Message, p.Remedy)
				}
			}
			return m.testFailure(ctx, c.ID, p)
		}
	}
	return &TestResult{OK: true, Status: store.StatusActive}
}

// testFailure reports err with the connection's status as now stored.
func (m *Manager) testFailure(ctx context.Context, id string, err error) *TestResult {
	res := &TestResult{Status: store.StatusActive}
	if cur, gerr := m.Store.GetConnection(ctx, id); gerr == nil {
		res.Status = cur.Status
		if cur.Status != store.StatusActive {
			res.StatusReason, res.Remedy, res.StatusReasonCode = cur.StatusReason, cur.Remedy, cur.StatusReasonCode
			return res
		}
	}
	if p, ok := problem.As(err); ok {
		res.StatusReason, res.Remedy = p.Message, p.Remedy
	} else {
		res.StatusReason, res.Remedy = "the health check failed", "try again"
	}
	return res
}

// DeleteResult tells what Delete did besides deleting.
type DeleteResult struct {
	// ID and Nickname name the deleted connection (Delete takes either).
	ID       string
	Nickname string
	// Revoked is true when the org confirmed the refresh token's revocation.
	Revoked bool
	// Warning explains a revocation that failed, or an Okta event hook
	// that could not be deleted (the deletion went on).
	Warning string
	// InUse names the enabled flows that still used the connection
	// (Manager.FlowsUsing) and what to do about them, in the API's and the
	// command line's terms ("" when none, or FlowsUsing is nil).
	InUse string
}

// WarningAndInUse is Warning and InUse in one text, as the API answers
// them.
func (r *DeleteResult) WarningAndInUse() string {
	if r.Warning == "" || r.InUse == "" {
		return r.Warning + r.InUse
	}
	return r.Warning + "; " + r.InUse
}

// UsingFlow names an enabled flow that uses a connection
// (Manager.FlowsUsing).
type UsingFlow struct{ ID, Name string }

// ReasonConnectionInUse is the details.reasonCode of DeleteIfUnused's
// refusal: its code is conflict, as of every 409, and this stable code
// tells it from other conflicts, whose messages are words that may change.
const ReasonConnectionInUse = "connection_in_use"

// Delete revokes the connection's refresh token at the org (RFC 7009; a
// failure is logged and audited, not fatal) and deletes the connection and
// its secrets. Runs that referenced it keep their history.
func (m *Manager) Delete(ctx context.Context, id string, actor store.Actor) error {
	_, err := m.DeleteWithResult(ctx, id, actor)
	return err
}

// DeleteWithResult is Delete, also reporting whether the revocation worked
// and which enabled flows used the connection.
func (m *Manager) DeleteWithResult(ctx context.Context, id string, actor store.Actor) (*DeleteResult, error) {
	return m.delete(ctx, id, false, actor)
}

// DeleteIfUnused is DeleteWithResult for a connection that no enabled flow
// uses (Manager.FlowsUsing). A connection they use is not deleted and
// nothing of it changes at the org (its refresh token and event hook
// stay): the answer is a conflict (details.reasonCode
// ReasonConnectionInUse) naming the flows by id and name (details.flows)
// and how to go on, audited as a failed connection.delete as the other
// refusals of a connection's actions are. A flow that comes to use the
// connection while it is being deleted is not refused (see delete).
func (m *Manager) DeleteIfUnused(ctx context.Context, id string, actor store.Actor) (*DeleteResult, error) {
	return m.delete(ctx, id, true, actor)
}

func (m *Manager) delete(ctx context.Context, id string, ifUnused bool, actor store.Actor) (*DeleteResult, error) {
	m.init()
	c, err := m.lookup(ctx, "", id)
	if err != nil {
		m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionDelete, InputSummary: "connection " + truncate(id, 100)}, err)
		return nil, err
	}
	if ifUnused {
		// Before anything is done at the org (the hook's deletion below,
		// the revocation): a refused deletion leaves the connection as
		// it was.
		if err := m.refuseInUse(ctx, c); err != nil {
			m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionDelete, ConnectionID: c.ID, ActingAs: c.AuthorizedLogin,
				InputSummary: "nickname " + c.Nickname + ", if unused"}, err)
			return nil, err
		}
	}
	var before string
	if m.BeforeDelete != nil {
		// Before the lease below: what it does may refresh the token.
		before = m.BeforeDelete(ctx, c.ID)
	}
	// Wait briefly for a refresh in flight, so its new refresh token is the
	// one revoked; proceed without the lease if it takes too long.
	lctx, cancel := context.WithTimeout(ctx, 2*m.leaseTTL())
	unlock, lerr := m.lockConn(lctx, c.ID, nil)
	cancel()
	if lerr == nil {
		defer unlock()
		if cur, err := m.Store.GetConnection(ctx, c.ID); err == nil {
			c = cur
		}
	}
	res := &DeleteResult{ID: c.ID, Nickname: c.Nickname}
	if len(c.SealedRefreshToken) > 0 {
		rt, err1 := m.Keyring.Open(c.SealedRefreshToken, sealedAAD(c.ID, fieldRefreshToken))
		secret, err2 := m.Keyring.Open(c.SealedClientSecret, sealedAAD(c.ID, fieldClientSecret))
		switch {
		case err1 != nil || err2 != nil:
			res.Warning = "the refresh token could not be revoked: it cannot be decrypted with the current keyring"
		default:
			if err := m.revoke(ctx, c, string(secret), string(rt)); err != nil {
				res.Warning = "the refresh token could not be revoked at the org (" + err.Error() + "); revoke the app's tokens in the Okta Admin Console if needed"
			} else {
				res.Revoked = true
			}
		}
	}
	if before != "" {
		res.Warning = strings.TrimPrefix(res.Warning+"; "+before, "; ")
	}
	// The flows are read as late as the connection still exists (once it
	// is gone no flow resolves to it). ifUnused's check above cannot be
	// this late: it must come before the org's calls. Nothing holds the
	// flows back between the two (a flow names its connection inside its
	// document, which the deletion's transaction cannot check), so a flow
	// stored or enabled meanwhile, on this server or another, while the
	// hook was deleted and the token revoked (as long as the org takes to
	// answer, and the few seconds at most that the leases above wait),
	// loses its connection all the same: it is named here, as without
	// ifUnused.
	res.InUse = m.inUse(ctx, c.ID)
	if err := m.Store.DeleteConnection(ctx, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		p := internal("delete connection", err)
		m.audit(ctx, store.AuditEvent{Actor: actor, Action: store.ActionConnectionDelete, ConnectionID: c.ID, ActingAs: c.AuthorizedLogin}, p)
		return nil, p
	}
	warning := res.WarningAndInUse()
	if warning != "" {
		m.log.WarnContext(ctx, "connection deleted with a warning", "connection", c.ID, "warning", warning)
	}
	m.log.InfoContext(ctx, "connection deleted", "connection", c.ID, "revoked", res.Revoked)
	ev := store.AuditEvent{Actor: actor, Action: store.ActionConnectionDelete, ConnectionID: c.ID, ActingAs: c.AuthorizedLogin,
		InputSummary: "nickname " + c.Nickname, Outcome: "success", Error: warning, DeletedNickname: c.Nickname}
	m.appendAudit(ctx, &ev)
	return res, nil
}

// inUse says which enabled flows use the connection and what to do about
// them, for DeleteResult.InUse.
func (m *Manager) inUse(ctx context.Context, id string) string {
	if m.FlowsUsing == nil {
		return ""
	}
	flows, err := m.FlowsUsing(ctx, id)
	if err != nil {
		m.log.ErrorContext(ctx, "reading the flows that use a connection being deleted", "connection", id, "error", err)
		return "the enabled flows that use it could not be read: check cardflow flows list"
	}
	if len(flows) == 0 {
		return ""
	}
	names := make([]string, len(flows))
	for i, f := range flows {
		names[i] = f.Name
	}
	return usedBy(names) + ": until each such flow names another connection (store it again) or is disabled (cardflow flows disable NAME), its scheduled runs fail and Okta events start no run of it"
}

// refuseInUse is DeleteIfUnused's refusal of connection c when enabled
// flows use it (or they cannot be read); nil when none does.
func (m *Manager) refuseInUse(ctx context.Context, c *store.Connection) error {
	if m.FlowsUsing == nil {
		return nil
	}
	flows, err := m.FlowsUsing(ctx, c.ID)
	if err != nil {
		return internal("read the enabled flows that use the connection", err)
	}
	if len(flows) == 0 {
		return nil
	}
	names := make([]string, len(flows))
	list := make([]map[string]string, len(flows))
	for i, f := range flows {
		names[i] = f.Name + " (" + f.ID + ")"
		list[i] = map[string]string{"id": f.ID, "name": f.Name}
	}
	them := "their scheduled runs would fail and Okta events would start no run of them"
	if len(flows) == 1 {
		them = "its scheduled runs would fail and Okta events would start no run of it"
	}
	return problem.New(problem.Conflict, "connection %q was not deleted: %s; without the connection %s", c.Nickname, usedBy(names), them).
		WithRemedy("disable each such flow (cardflow flows disable NAME) or store it again naming another connection, then delete the connection again; "+
			"or delete it anyway, without ifUnused=true (cardflow connections delete %q --force)", c.Nickname).
		WithDetail("reasonCode", ReasonConnectionInUse).WithDetail("connection", c.ID).WithDetail("flows", list)
}

// usedBy is "the enabled flow A uses it" or "the enabled flows A, B and C
// use it".
func usedBy(names []string) string {
	if len(names) == 1 {
		return "the enabled flow " + names[0] + " uses it"
	}
	return fmt.Sprintf("the enabled flows %s and %s use it", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
}

// audit records an action: outcome success when err is nil,
// else failure with err's public message. Secrets never get here: only
// problem messages are recorded, never internal causes.
func (m *Manager) audit(ctx context.Context, ev store.AuditEvent, err error) {
	ev.Outcome = "success"
	if err != nil {
		ev.Outcome = "failure"
		if p, ok := problem.As(err); ok {
			ev.Error = p.Error()
		} else {
			ev.Error = "internal error"
		}
	}
	m.appendAudit(ctx, &ev)
}

func (m *Manager) appendAudit(ctx context.Context, ev *store.AuditEvent) {
	if ev.Time.IsZero() {
		ev.Time = m.now()
	}
	if err := m.Store.AppendAudit(context.WithoutCancel(ctx), ev); err != nil {
		m.log.ErrorContext(ctx, "cannot append audit event", "action", ev.Action, "connection", ev.ConnectionID, "error", err)
	}
}
