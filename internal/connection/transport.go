package connection

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// HTTPClient returns a client that calls the connection's org with its
// access token: it adds "Authorization: Bearer", refreshes the
// token first when it is about to expire, and on a 401 refreshes once and
// retries once (when the request body can be replayed). It sends the token
// only to the connection's own origin, never follows redirects and uses the
// guarded transport. Errors from Token (a needs_reauthorization problem, for
// one) come back wrapped in the *url.Error; find them with problem.As.
func (m *Manager) HTTPClient(id string) *http.Client { return m.httpClientFor(id, nil) }

// httpClientFor is HTTPClient whose first request may use primed, the
// connection as its caller just read it.
func (m *Manager) httpClientFor(id string, primed *store.Connection) *http.Client {
	base := m.httpClient()
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t := &bearerTransport{m: m, id: id, base: rt}
	if primed != nil {
		t.primed.Store(primed)
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
}

// token is the access token for a request: the primed record's, once, when
// it is usable and fresh; otherwise Token's.
func (t *bearerTransport) token(ctx context.Context) (*Token, error) {
	if c := t.primed.Swap(nil); c != nil && usable(c) == nil && !t.m.refreshExpired(c) {
		if tok, ok := t.m.storedToken(c, ""); ok && (c.Auth != store.AuthService || c.Status == store.StatusActive) {
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
	first := req.Clone(ctx)
	if err := t.m.authorize(first, tok); err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.base.RoundTrip(first)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	tok2, err := t.m.refresh(ctx, t.id, tok.AccessToken.Reveal())
	if err != nil {
		return nil, err
	}
	second := req.Clone(ctx)
	if req.GetBody != nil {
		if second.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	if err := t.m.authorize(second, tok2); err != nil {
		closeBody(second)
		return nil, err
	}
	return t.base.RoundTrip(second)
}

// authorize sets the request's Authorization header, and for a DPoP-bound
// token its DPoP proof (with ath; RFC 9449 §7).
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
	proof, err := m.dpopProof(tok.dpopKey, req.Method, origin+req.URL.Path, tok.AccessToken.Reveal(), origin)
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
