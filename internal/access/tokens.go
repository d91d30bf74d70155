package access

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/spelling"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// TokenPrefix starts every personal API token, so that leaked tokens are
// easy to find in logs and scanners.
const TokenPrefix = "cfp_"

// Token lifetimes.
const (
	DefaultTokenLifetime = 30 * 24 * time.Hour
	MaxTokenLifetime     = 366 * 24 * time.Hour
	// touchEvery limits how often a token's LastUsedAt is written.
	touchEvery = time.Minute
)

// TokenStore is what Tokens needs of the store.
type TokenStore interface {
	CreateAPIToken(ctx context.Context, t *store.APIToken) error
	GetAPIToken(ctx context.Context, id string) (*store.APIToken, error)
	GetAPITokenByHash(ctx context.Context, hash string) (*store.APIToken, error)
	ListAPITokens(ctx context.Context, ownerType, ownerLogin string) ([]*store.APIToken, error)
	DeleteAPIToken(ctx context.Context, id string) ([]*store.APIToken, error)
	TouchAPIToken(ctx context.Context, id string, at time.Time) error
	StartSignIn(ctx context.Context, id string, expiresAt time.Time) error
	EndSignIn(ctx context.Context, id string) error
}

// SignInTTL bounds a sign-in in flight: asking the identity provider who
// signed in takes seconds.
const SignInTTL = 10 * time.Minute

// Tokens creates, lists, revokes and checks personal API tokens. Store is
// required; a nil Now means time.Now and a nil Logger discards. Safe for
// concurrent use.
type Tokens struct {
	Store  TokenStore
	Now    func() time.Time
	Logger *slog.Logger
}

// Hours writes a token lifetime as people give it: whole hours as "720h",
// where time.Duration writes "720h0m0s"; others as time.Duration does.
func Hours(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}

// NewToken is what creating a token returns: the record and, once, the
// token itself.
type NewToken struct {
	*store.APIToken
	Token string
}

// Create makes a token for p (its owner: see Principal.Owner) named name,
// with role (empty means p's role, never more) and lifetime expiresIn (0
// means DefaultTokenLifetime). A token created with a personal token
// (p.ExpiresAt set) never outlives it: asked to, Create refuses; by
// default the new token ends when p's does.
func (t *Tokens) Create(ctx context.Context, p Principal, name string, role Role, expiresIn time.Duration) (*NewToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 100 || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return nil, problem.New(problem.InvalidInput, "a token needs a name of 1 to 100 printable characters").
			WithRemedy("name it after where it is used, e.g. \"ci\"").WithDetail("field", "name")
	}
	if role == "" {
		role = p.Role
	}
	if !role.Valid() {
		pe := problem.New(problem.InvalidInput, "unknown role %q", role).WithRemedy("use viewer, operator or admin").WithDetail("field", "role")
		if near := spelling.Closest(string(role), []string{string(Viewer), string(Operator), string(Admin)}); len(near) > 0 {
			pe.WithRemedy("did you mean %s? The roles: viewer, operator, admin", near[0]).WithDetail("suggestion", near[0])
		}
		return nil, pe
	}
	if !p.Role.Allows(role) {
		return nil, problem.New(problem.Forbidden, "you have the %s role and cannot create a token with the %s role", p.Role, role).
			WithRemedy("create it with a role of at most %s, or ask a cardflow admin for a token with the %s role", p.Role, role).WithDetail("field", "role")
	}
	asked := expiresIn
	switch {
	case expiresIn == 0:
		expiresIn = DefaultTokenLifetime
	case expiresIn < time.Minute:
		return nil, problem.New(problem.InvalidInput, "expiresIn %s is shorter than a token may last: from 1m to %s (%d days)", Hours(expiresIn), Hours(MaxTokenLifetime), MaxTokenLifetime/(24*time.Hour)).
			WithRemedy("give a Go duration such as \"24h\" or \"720h\"").WithDetail("field", "expiresIn")
	case expiresIn > MaxTokenLifetime:
		return nil, problem.New(problem.InvalidInput, "expiresIn %s is longer than a token may last: from 1m to %s (%d days)", Hours(expiresIn), Hours(MaxTokenLifetime), MaxTokenLifetime/(24*time.Hour)).
			WithRemedy("give at most %s, and create a new token before it ends", Hours(MaxTokenLifetime)).WithDetail("field", "expiresIn")
	}
	now := t.now()
	expiresAt := now.Add(expiresIn)
	// A token's tokens end when it does: a leaked token must not be able
	// to outlast its revocation-free expiry by minting a longer one.
	if end := p.ExpiresAt; !end.IsZero() && expiresAt.After(end) {
		if asked != 0 {
			return nil, problem.New(problem.Forbidden, "this token expires on %s, and a token it creates cannot outlive it; expiresIn %s would end on %s",
				timetext.Format(end), asked, timetext.Format(expiresAt)).
				WithRemedy("ask for an expiresIn of at most %s, or leave it out (the new token then ends with this one); for a longer-lived token, create it on the console's Tokens page, signed in with single sign-on", end.Sub(now).Truncate(time.Minute)).
				WithDetail("field", "expiresIn")
		}
		expiresAt = end.UTC()
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, fmt.Errorf("generate a token: %w", err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	ownerType, owner := p.Owner()
	rec := &store.APIToken{Name: name, Hash: hashToken(secret), Role: string(role), OwnerType: ownerType, OwnerLogin: owner,
		CreatedAt: now, ExpiresAt: expiresAt, ParentID: p.TokenID, SessionID: p.SessionID, SignIn: p.SignIn, Subject: p.Subject, Issuer: p.Issuer}
	err := t.Store.CreateAPIToken(ctx, rec)
	if errors.Is(err, store.ErrRevoked) {
		return nil, RevokedMeanwhile(err)
	}
	if errors.Is(err, store.ErrSubjectTaken) {
		return nil, SubjectTaken(owner, err)
	}
	if err != nil {
		return nil, fmt.Errorf("store the token: %w", err)
	}
	rec.SessionID, rec.SignIn, rec.Subject, rec.Issuer = "", "", "", ""
	return &NewToken{APIToken: rec, Token: secret}, nil
}

// List returns p's own tokens, or every token when all is set (admins
// only), newest first (by creation, then id), as every list of the API
// and the console is.
func (t *Tokens) List(ctx context.Context, p Principal, all bool) ([]*store.APIToken, error) {
	ownerType, owner := p.Owner()
	if all {
		if !p.Role.Allows(Admin) {
			return nil, problem.New(problem.Forbidden, "listing everyone's tokens needs the admin role; you have %s", p.Role).
				WithRemedy("list your own tokens instead: cardflow tokens list without --all (the API: GET /api/v1/tokens without all=true)").WithDetail("requiredRole", string(Admin))
		}
		ownerType, owner = "", ""
	}
	toks, err := t.Store.ListAPITokens(ctx, ownerType, owner)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(toks, func(a, b *store.APIToken) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return toks, nil
}

// Revoke deletes the token with id, and the tokens it created (and
// theirs), which it returns as offspring: p's own, or anyone's when p is
// an admin. Another's token is reported as not found to a non-admin, so
// token ids cannot be probed. A personal token that is not an admin's may
// revoke itself and its owner's tokens of a role at most its own, not a
// stronger one: a leaked viewer token must not cut off its owner's admin
// tokens (the owner, signed in, may).
func (t *Tokens) Revoke(ctx context.Context, p Principal, id string) (rec *store.APIToken, offspring []*store.APIToken, err error) {
	if strings.HasPrefix(id, TokenPrefix) {
		// A token itself, pasted where its id goes: it is neither
		// echoed nor looked up, since an address is logged on its way.
		return nil, nil, problem.New(problem.NotFound, "%s is a personal API token itself, not a token's id; it was not revoked", RedactTokens(id)).
			WithRemedy("revoke it by its id: GET /api/v1/whoami with the token answers its tokenId, and GET /api/v1/tokens lists your tokens' ids; cardflow tokens revoke TOKEN does that for you, without sending the token in an address")
	}
	rec, err = t.Store.GetAPIToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !p.Role.Allows(Admin) && !p.owns(rec)) {
		pe := problem.New(problem.NotFound, "no token of yours has the id %q", id).WithRemedy("list your tokens with GET /api/v1/tokens (cardflow tokens list)")
		if named := t.named(ctx, p, id); len(named) > 0 {
			// Its name, which tokens list shows beside the id.
			var ids []string
			for _, n := range named {
				ids = append(ids, n.ID)
			}
			if len(named) == 1 {
				whose := ""
				if !p.owns(named[0]) {
					whose = " of " + named[0].OwnerLogin
					if named[0].OwnerLogin == "" {
						whose = " of the bootstrap admin"
					}
				}
				pe.WithRemedy("%q is the name of the token %s%s (%s, expires %s): revoke it by its id, cardflow tokens revoke %s (DELETE /api/v1/tokens/%s)",
					id, named[0].ID, whose, named[0].Role, timetext.Format(named[0].ExpiresAt), named[0].ID, named[0].ID)
			} else {
				pe.WithRemedy("%q is the name of %d tokens, %s: revoke each by its id (cardflow tokens revoke ID; cardflow tokens list tells them apart)", id, len(named), strings.Join(ids, ", "))
			}
			pe.WithDetail("tokensNamed", ids)
		}
		return nil, nil, pe
	}
	if err != nil {
		return nil, nil, err
	}
	if p.TokenID != "" && rec.ID != p.TokenID && !p.Role.Allows(Role(rec.Role)) {
		return nil, nil, problem.New(problem.Forbidden, "revoking the token %q needs the %s role, its own; this token has the %s role", rec.Name, rec.Role, p.Role).
			WithRemedy("revoke it with a token of the %s role, signed in to the console, or as an admin", rec.Role).
			WithDetail("requiredRole", rec.Role)
	}
	// The token and its offspring in one step, which a token being
	// created with one of them meanwhile does not outlive.
	offspring, err = t.Store.DeleteAPIToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// Revoked meanwhile, with its offspring, by another request.
		return rec, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	return rec, offspring, nil
}

// named returns the tokens named name (ignoring case) that p may revoke:
// p's own, everyone's for an admin; none when they cannot be read.
func (t *Tokens) named(ctx context.Context, p Principal, name string) []*store.APIToken {
	toks, err := t.List(ctx, p, p.Role.Allows(Admin))
	if err != nil {
		return nil
	}
	var out []*store.APIToken
	for _, tok := range toks {
		if strings.EqualFold(tok.Name, name) {
			out = append(out, tok)
		}
	}
	return out
}

// owns reports whether rec is p's own token: its owner's login ignoring
// case, as the store lists a person's tokens and a revoke takes them.
func (p Principal) owns(rec *store.APIToken) bool {
	ownerType, owner := p.Owner()
	return rec.OwnerType == ownerType && strings.EqualFold(rec.OwnerLogin, owner)
}

// ErrBadToken means a presented token is not a live personal API token.
var ErrBadToken = errors.New("access: unknown, expired or revoked token")

// ExpiredError is the error of a personal API token that exists but has
// expired: only its holder can present it, so it may be told which token
// it is and when it ended. It is an ErrBadToken.
type ExpiredError struct {
	Name      string
	ExpiresAt time.Time
}

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("access: the token %q expired on %s", e.Name, timetext.Format(e.ExpiresAt))
}

// Is makes an ExpiredError match ErrBadToken.
func (e *ExpiredError) Is(target error) bool { return target == ErrBadToken }

// Authenticate returns the principal of a personal API token, recording
// its use; ErrBadToken when it is unknown or revoked, an *ExpiredError
// (which is an ErrBadToken) when it has expired.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return Principal{}, ErrBadToken
	}
	rec, err := t.Store.GetAPITokenByHash(ctx, hashToken(secret))
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, fmt.Errorf("look up the token: %w", err)
	}
	now := t.now()
	if !now.Before(rec.ExpiresAt) {
		return Principal{}, &ExpiredError{Name: rec.Name, ExpiresAt: rec.ExpiresAt}
	}
	if rec.ParentID != "" {
		// A revoke removes a token's offspring with it; a token whose
		// creator is gone nonetheless (left by a revoke of an earlier
		// version, which removed them one after the other) is refused.
		if _, err := t.Store.GetAPIToken(ctx, rec.ParentID); errors.Is(err, store.ErrNotFound) {
			return Principal{}, ErrBadToken
		} else if err != nil {
			return Principal{}, fmt.Errorf("look up the token's creator: %w", err)
		}
	}
	if now.Sub(rec.LastUsedAt) >= touchEvery {
		if err := t.Store.TouchAPIToken(ctx, rec.ID, now); err != nil && t.Logger != nil {
			t.Logger.WarnContext(ctx, "could not record a token's use", slog.String("token", rec.ID), slog.Any("cause", err))
		}
	}
	return Principal{
		Actor:     store.Actor{Type: store.ActorToken, Login: rec.OwnerLogin, TokenName: rec.Name},
		Role:      Role(rec.Role),
		TokenID:   rec.ID,
		ExpiresAt: rec.ExpiresAt,
	}, nil
}

// Identify returns the personal API token secret, live or expired,
// without recording a use of it: for a token given where it signs nothing
// in (the console's sign-in form), to say what it is. ErrBadToken when it
// is none.
func (t *Tokens) Identify(ctx context.Context, secret string) (*store.APIToken, error) {
	if !strings.HasPrefix(secret, TokenPrefix) {
		return nil, ErrBadToken
	}
	rec, err := t.Store.GetAPITokenByHash(ctx, hashToken(secret))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrBadToken
	}
	return rec, err
}

// StartSignIn records a sign-in in flight and returns its id, to be given
// as Principal.SignIn (or store.Session.SignIn) to what it creates; call
// it before asking the identity provider who signed in, so that a revoke
// of their access meanwhile refuses what the sign-in would give. EndSignIn
// forgets one that failed.
func (t *Tokens) StartSignIn(ctx context.Context) (string, error) {
	var raw [16]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("start a sign-in: %w", err)
	}
	id := hex.EncodeToString(raw[:])
	if err := t.Store.StartSignIn(ctx, id, t.now().Add(SignInTTL)); err != nil {
		return "", fmt.Errorf("start a sign-in: %w", err)
	}
	return id, nil
}

// EndSignIn forgets the sign-in in flight id, which gave nothing; one
// already ended is no error.
func (t *Tokens) EndSignIn(ctx context.Context, id string) {
	if err := t.Store.EndSignIn(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) && t.Logger != nil {
		t.Logger.WarnContext(ctx, "could not forget a failed sign-in", slog.Any("cause", err))
	}
}

// RevokedMeanwhile is the error of a session or token refused because the
// access it was created on the strength of was revoked (store.ErrRevoked)
// while it was being created.
func RevokedMeanwhile(err error) error {
	return problem.New(problem.Unauthenticated, "your access was revoked while this was being done, so no session or token was created").
		WithRemedy("sign in again; if you still have access, you get a new session or token").Wrap(err)
}

// SubjectTaken is the refusal of a sign-in whose login is bound to
// another account at the identity provider (store.ErrSubjectTaken): the
// login is a claim some identity providers let a person change, and
// another account signed in with it first. When the login was bound at
// another issuer (store.IssuerChangedError), typically because the
// server's -oidc-issuer moved to another identity provider, the refusal
// names both issuers and the remedy, whatever the subject.
func SubjectTaken(login string, err error) error {
	var moved *store.IssuerChangedError
	if errors.As(err, &moved) {
		return problem.New(problem.Forbidden, "the login %s was bound at the identity provider %s, and this sign-in comes from %s, so it gives no session or token: an account is known by its identity provider and its subject together", login, moved.Bound, moved.Issuer).
			WithRemedy("if cardflow's single sign-on moved to %s (-oidc-issuer) on purpose, a cardflow admin forgets the login's binding by revoking the person's access (cardflow people revoke %s, POST /api/v1/people/%s/revoke, or Forget binding on the console's People page), then sign in again: the sign-in binds the login at %s", moved.Issuer, login, url.PathEscape(login), moved.Issuer).
			WithDetail("boundIssuer", moved.Bound).WithDetail("issuer", moved.Issuer).
			Wrap(err)
	}
	return problem.New(problem.Forbidden, "the login %s belongs to another account at the identity provider (a different subject), so this sign-in gives no session or token", login).
		WithRemedy("if the account was replaced, a cardflow admin removes the person's access first (cardflow people revoke %s), and the next sign-in binds the login anew; otherwise ask the identity provider's administrator why your account signs in as %s", login, login).
		Wrap(err)
}

func (t *Tokens) now() time.Time {
	if t.Now != nil {
		return t.Now().UTC()
	}
	return time.Now().UTC()
}

// RedactTokens replaces every personal API token in s (TokenPrefix and the
// characters a token has) with "cfp_…", for what is logged, audited or
// answered about a request that carried one where it should not (in its
// address).
func RedactTokens(s string) string {
	if !strings.Contains(s, TokenPrefix) {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, TokenPrefix)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+len(TokenPrefix)])
		s = s[i+len(TokenPrefix):]
		n := strings.IndexFunc(s, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
		})
		if n < 0 {
			n = len(s)
		}
		if n > 0 {
			b.WriteString("…")
		}
		s = s[n:]
	}
}

// hashToken is the stored form of a token: hex SHA-256. Tokens carry 256
// random bits, so a fast hash is enough.
func hashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}
