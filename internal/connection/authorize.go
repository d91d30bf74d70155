package connection

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// AuthRequestTTL is how long an administrator has to finish signing in
// before the one-time state expires.
const AuthRequestTTL = 10 * time.Minute

const pendingReason = "waiting for an administrator to finish signing in to the org"

// pendingRemedy is how a user connection's first sign-in is finished.
func pendingRemedy(nickname string) string {
	return fmt.Sprintf("open the authorize URL and sign in with an account assigned to the OAuth app (a super admin), or reauthorize to get a new URL (cardflow connections reauthorize %q; an authorize URL works for %d minutes)",
		nickname, int(AuthRequestTTL/time.Minute))
}

// RedirectURI is where the org sends the browser back after sign-in:
// PublicURL + "/oauth/callback". Register it on the OAuth app.
func (m *Manager) RedirectURI() string {
	return strings.TrimRight(m.PublicURL, "/") + "/oauth/callback"
}

// oauthConfig is the org authorization server as golang.org/x/oauth2 sees
// it. The client secret goes in the Authorization header
// (client_secret_basic), never in a URL.
func (m *Manager) oauthConfig(c *store.Connection, clientSecret string, scopes []string) *oauth2.Config {
	origin := OriginOf(c.Domain)
	return &oauth2.Config{
		ClientID:     c.ClientID,
		ClientSecret: clientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   origin + "/oauth2/v1/authorize",
			TokenURL:  origin + "/oauth2/v1/token",
			AuthStyle: oauth2.AuthStyleInHeader,
		},
		RedirectURL: m.RedirectURI(),
		Scopes:      scopes,
	}
}

// oauthContext makes golang.org/x/oauth2 use the guarded client.
func (m *Manager) oauthContext(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, m.httpClient())
}

// startAuthorization stores a one-time AuthRequest (state, sealed PKCE
// verifier, nonce) and returns the org's authorize URL.
func (m *Manager) startAuthorization(ctx context.Context, c *store.Connection, mode string, scopes []string, reauth bool, actor store.Actor) (string, error) {
	if m.PublicURL == "" {
		return "", problem.New(problem.Internal, "cardflow has no public URL configured, so the org cannot redirect back to it").
			WithRemedy("set the server's public URL")
	}
	now := m.now()
	if err := m.Store.DeleteExpiredAuthRequests(ctx, now); err != nil {
		m.log.WarnContext(ctx, "could not delete expired authorization requests", "error", err)
	}
	state := randomToken(32)
	verifier := oauth2.GenerateVerifier()
	sealed, err := m.Keyring.Seal([]byte(verifier), verifierAAD(c.ID, state))
	if err != nil {
		return "", internal("seal PKCE verifier", err)
	}
	nonce := randomToken(16)
	ar := &store.AuthRequest{
		State: state, ConnectionID: c.ID, Reauthorize: reauth, ScopeMode: mode, RequestedScopes: scopes,
		SealedVerifier: sealed, Nonce: nonce, Actor: actor, CreatedAt: now, ExpiresAt: now.Add(AuthRequestTTL),
	}
	if err := m.Store.CreateAuthRequest(ctx, ar); err != nil {
		return "", internal("store authorization request", err)
	}
	cfg := m.oauthConfig(c, "", scopes)
	return cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce)), nil
}

func verifierAAD(connID, state string) string { return connID + "/code_verifier/" + state }

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// oauthError is an error answer of the org's token or revoke endpoint,
// reduced to what may be shown: never the raw body.
type oauthError struct {
	Status      int
	Code        string
	Description string
}

func (e *oauthError) Error() string {
	s := "the org answered HTTP " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Description != "" {
		s += ": " + e.Description
	}
	return s
}

// asOAuthError extracts the org's answer from a golang.org/x/oauth2 error;
// ok is false when no answer arrived (a transport error).
func asOAuthError(err error) (*oauthError, bool) {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return nil, false
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	return newOAuthError(status, re.ErrorCode, re.ErrorDescription), true
}

// withoutBody drops the answer's body from a token endpoint's error
// (oauth2.RetrieveError), so that no log or problem holds it: the error's
// text repeats the body of an answer without an OAuth error code, and a
// proxy's or a firewall's page may repeat the request, its client secret,
// refresh token, code verifier or client assertion included. The parsed
// error code, description and the response's headers stay.
func withoutBody(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		re.Body = nil
	}
	return err
}

// newOAuthError keeps what may be shown of the org's error code and
// description (untrusted text).
func newOAuthError(status int, code, description string) *oauthError {
	return &oauthError{Status: status, Code: cleanText(code, 64), Description: cleanText(description, 300)}
}

// neverSent reports whether a transport error happened before the request
// could reach the org (DNS or dial failure, refused address), so the
// refresh token was certainly not presented.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	var addrErr *AddressError
	var opErr *net.OpError
	return errors.As(err, &dnsErr) || errors.As(err, &addrErr) || (errors.As(err, &opErr) && opErr.Op == "dial")
}

// Causes transportCause gives for an org that was reached.
const (
	causeBroke    = "the connection to the org broke before its answer arrived"
	causeUnusable = "the org's answer could not be used (it is not the JSON OAuth promises)"
)

// transportCause says in public words why a call to the org got no answer.
func transportCause(err error) string {
	var re *RedirectError
	var ae *AddressError
	var dnsErr *net.DNSError
	var ne net.Error
	switch {
	case errors.As(err, &re):
		return re.Error()
	case errors.As(err, &ae):
		return ae.Error()
	case errors.Is(err, ErrResponseTooLarge):
		return "the org's answer was too large"
	case errors.As(err, &dnsErr):
		return "the org's host name does not resolve"
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "the org did not answer in time"
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET):
		return causeBroke
	case !errors.As(err, new(*url.Error)) && !errors.As(err, &ne):
		// Not from the network (net/http wraps all of those in a
		// url.Error): the answer arrived but is not what OAuth promises.
		return causeUnusable
	}
	return "the org could not be reached"
}

// cleanText keeps printable ASCII of untrusted text (error descriptions
// from the org or the callback URL), at most n bytes.
func cleanText(s string, n int) string {
	var b strings.Builder
	for _, r := range s {
		if b.Len() >= n {
			b.WriteString("...")
			break
		}
		if r >= ' ' && r <= '~' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
