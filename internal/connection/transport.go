package connection

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// HTTPClient returns a client that calls the connection's org with its
// access token: it adds "Authorization: Bearer" (or DPoP and its proof),
// refreshes the token first when it is about to expire, and on a 401 that
// rejects the token (invalid_token, or Okta's E0000011 without a
// challenge) refreshes once and retries once; on a DPoP resource server's
// use_dpop_nonce it retries once with its nonce (when the request body
// can be replayed). A refused DPoP proof is answered as it came. It sends the token
// only to the connection's own origin, never follows redirects and uses the
// guarded transport. Errors from Token (a needs_reauthorization problem, for
// one) come back wrapped in the *url.Error; find them with problem.As. The
// Date of each answer to a user connection's call keeps the connection's
// org clock offset up to date (noteOrgClock), which its refresh token's
// expiry is judged by.
func (m *Manager) HTTPClient(id string) *http.Client { return m.httpClientFor(id, nil) }

// httpClientFor is HTTPClient whose first request may use primed, the
// connection as its caller just read it.
func (m *Manager) httpClientFor(id string, primed *store.Connection) *http.Client {
	t := &bearerTransport{m: m, id: id}
	if primed != nil {
		t.primed.Store(primed)
	}
	return m.bearerClient(t)
}

// clientWithToken is HTTPClient for a token that is not stored (yet): its
// requests carry tok alone, which is never refreshed.
func (m *Manager) clientWithToken(tok *Token) *http.Client {
	return m.bearerClient(&bearerTransport{m: m, fixed: tok})
}

// bearerClient is a client of t over the guarded transport.
func (m *Manager) bearerClient(t *bearerTransport) *http.Client {
	base := m.httpClient()
	t.base = base.Transport
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	return &http.Client{
		Transport:     t,
		Timeout:       base.Timeout,
		CheckRedirect: noRedirects,
	}
}

type bearerTransport struct {
	m    *Manager
	id   string
	base http.RoundTripper
	// primed is the connection as read just before the client was made;
	// the first request takes it.
	primed atomic.Pointer[store.Connection]
	// fixed, when set, is the only token sent (clientWithToken).
	fixed *Token
}

// token is the access token for a request: fixed when set; the primed
// record's, once, when it is usable and fresh; otherwise Token's.
func (t *bearerTransport) token(ctx context.Context) (*Token, error) {
	if t.fixed != nil {
		return t.fixed, nil
	}
	if c := t.primed.Swap(nil); c != nil && usable(c) == nil && !t.m.refreshExpired(c) {
		if tok, ok := t.m.storedToken(c, ""); ok && (c.Auth != store.AuthService || c.Status == store.StatusActive) {
			t.m.learnExpiry(ctx, c, expiryAskTimeout) // as Token does
			return tok, nil
		}
	}
	return t.m.Token(ctx, t.id)
}

func (t *bearerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	tok, err := t.token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if !sameOrigin(req, tok.BaseURL) {
		closeBody(req)
		return nil, problem.New(problem.InvalidInput, "refusing to send the connection's token to %s://%s; it belongs to %s",
			req.URL.Scheme, req.URL.Host, tok.BaseURL).WithRemedy("call only URLs under the connection's org")
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	nonceRetried, refreshed := false, false
	for attempt := 0; ; attempt++ {
		send := req.Clone(ctx)
		if attempt > 0 && req.GetBody != nil {
			if send.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
		if err := t.m.authorize(send, tok); err != nil {
			closeBody(send)
			return nil, err
		}
		sent := t.m.now()
		resp, err := t.base.RoundTrip(send)
		if err == nil && tok.user && t.id != "" {
			if seen, ok := seeOrgClock(resp.Header, sent, t.m.now()); ok && !seen.agrees(tok.orgClock) {
				t.m.noteOrgClock(ctx, t.id, tok.orgClock, seen)
				tok.orgClock = seen.offset()
			}
		}
		if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable {
			return resp, err
		}
		// A 401 says why in its challenge (RFC 6750 §3, RFC 9449 §7.1).
		switch why := okta.ChallengeError(resp.Header); {
		case why == "use_dpop_nonce" && tok.Type == "DPoP" && resp.Header.Get("DPoP-Nonce") != "" && !nonceRetried:
			// The resource server wants its nonce in the proof (RFC 9449
			// §9): the token is fine; send again once with the nonce.
			nonceRetried = true
			t.m.setResourceNonce(send.URL.Scheme+"://"+send.URL.Host, resp.Header.Get("DPoP-Nonce"))
		case (why == "" || why == "invalid_token") && !refreshed && t.fixed == nil:
			// The access token is rejected (expired early, revoked):
			// refresh once, unless another refresh already replaced it,
			// and send again once.
			refreshed = true
			if tok, err = t.m.refresh(ctx, t.id, tok.AccessToken.Reveal()); err != nil {
				drain(resp)
				return nil, err
			}
		default:
			// A refused DPoP proof, or a second 401 of its kind: no new
			// token would help; the caller reports the answer.
			return resp, nil
		}
		drain(resp)
	}
}

// drain reads what is left of resp's body (up to 64 KiB, so that the
// connection can be reused) and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// authorize sets the request's Authorization header, and for a DPoP-bound
// token its DPoP proof (with ath and the resource server's nonce when it
// asked for one; RFC 9449 §7, §9).
func (m *Manager) authorize(req *http.Request, tok *Token) error {
	if tok.Type != "DPoP" {
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken.Reveal())
		return nil
	}
	if tok.dpopKey == nil {
		return problem.New(problem.Internal, "the connection's DPoP key cannot be read").
			WithRemedy("check the server's keyring; if the data was altered, delete the connection and create it again")
	}
	origin := req.URL.Scheme + "://" + req.URL.Host
	proof, err := m.dpopProof(tok.dpopKey, req.Method, origin+req.URL.Path, tok.AccessToken.Reveal(), m.resourceNonce(origin))
	if err != nil {
		return internal("sign DPoP proof", err)
	}
	req.Header.Set("Authorization", "DPoP "+tok.AccessToken.Reveal())
	req.Header.Set("DPoP", proof)
	return nil
}

func sameOrigin(req *http.Request, origin string) bool {
	return strings.EqualFold(req.URL.Scheme+"://"+req.URL.Host, origin)
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
