package api

import "time"

// Token is a personal API token (never its hash). Token, the secret
// itself, is set only in the answer that creates it.
type Token struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	Owner      *Actor     `json:"owner"`
	CreatedAt  time.Time  `json:"createdAt"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	Token      string     `json:"token,omitempty"`
	// Lowered is set only in the answer of a sign-in (POST
	// /api/v1/auth/cli-token) whose role is below what the person held:
	// their other sessions and tokens it lowered to that role.
	Lowered *RoleLowered `json:"lowered,omitempty"`
}

// RoleLowered is what a sign-in with a lower role lowered to it: how many
// of the person's other live console sessions, and which of their tokens
// (by name).
type RoleLowered struct {
	Role     string   `json:"role"`
	Sessions int      `json:"sessions"`
	Tokens   []string `json:"tokens"`
}

// TokenList is GET /api/v1/tokens[?all=true]; Tokens is never null.
type TokenList struct {
	Tokens []Token `json:"tokens"`
	// Next, when the page is full, is the address of the next (older)
	// page: the same filters with before and beforeId of the last token.
	Next string `json:"next,omitempty"`
}

// TokenRequest is the body of POST /api/v1/tokens. Role "" is the
// caller's own; ExpiresIn is a Go duration ("720h"), "" the default.
type TokenRequest struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	ExpiresIn string `json:"expiresIn"`
}

// PersonalTokenPrefix starts every personal API token (access.TokenPrefix,
// which the server's tests keep equal): the CLI tells a token from a
// token's id by it.
const PersonalTokenPrefix = "cfp_"

// Whoami is GET /api/v1/whoami: who the caller is and its role.
type Whoami struct {
	Actor *Actor `json:"actor"`
	Role  string `json:"role"`
	// TokenID is the id of the personal API token the request was made
	// with, which tokens revoke takes; absent for the server's API token
	// and a console session.
	TokenID string `json:"tokenId,omitempty"`
	// TokenExpiresAt is when that token expires; absent with TokenID.
	TokenExpiresAt *time.Time `json:"tokenExpiresAt,omitempty"`
}

// AuthConfig is GET /api/v1/auth/config: how cardflow login starts a
// sign-in with the server's identity provider.
type AuthConfig struct {
	Issuer                string   `json:"issuer"`
	AuthorizationEndpoint string   `json:"authorizationEndpoint"`
	ClientID              string   `json:"clientId"`
	Scopes                []string `json:"scopes"`
}

// CLITokenRequest is the body of POST /api/v1/auth/cli-token: what cardflow
// login sends after the provider redirected the browser to its loopback
// address (the server holds the client secret, the CLI the PKCE
// verifier). The answer is a Token of the person's role.
type CLITokenRequest struct {
	Code         string `json:"code"`
	CodeVerifier string `json:"codeVerifier"`
	RedirectURI  string `json:"redirectUri"`
	Nonce        string `json:"nonce"`
	Name         string `json:"name"`
}

// Person is one entry of GET /api/v1/people: someone who has access now,
// with what they hold.
type Person struct {
	Login string `json:"login"`
	Name  string `json:"name,omitempty"`
	// Role is the highest role of their live console sessions and
	// unexpired tokens: the most they can do now.
	Role     string         `json:"role"`
	Sessions PersonSessions `json:"sessions"`
	Tokens   PersonTokens   `json:"tokens"`
	// LastActivity is their latest request with a session or a token.
	LastActivity time.Time `json:"lastActivity"`
	// EnabledFlows are the names of the enabled flows they enabled, whose
	// triggered runs act as them (a revoke leaves those running).
	EnabledFlows []string `json:"enabledFlows"`
	// Subject is the account at the identity provider (the ID token's
	// sub) their login is bound to: a sign-in as the login with another
	// subject is refused. Absent when they have not signed in since
	// cardflow kept subjects.
	Subject string `json:"subject,omitempty"`
	// Issuer is the identity provider the subject belongs to (the ID
	// token's iss): a sign-in as the login from another issuer is refused
	// too. Absent when they have not signed in since cardflow kept
	// issuers.
	Issuer string `json:"issuer,omitempty"`
}

// PersonSessions are a person's live console sessions; LastSeen is null
// without one.
type PersonSessions struct {
	Count    int        `json:"count"`
	LastSeen *time.Time `json:"lastSeen"`
}

// PersonTokens are a person's unexpired personal API tokens; the expiries
// are null without one.
type PersonTokens struct {
	Count         int        `json:"count"`
	SoonestExpiry *time.Time `json:"soonestExpiry"`
	LatestExpiry  *time.Time `json:"latestExpiry"`
}

// PeopleList is GET /api/v1/people, most recently active first; People is
// never null.
type PeopleList struct {
	People []Person `json:"people"`
	// Next, when the page is full, is the address of the next page:
	// before (lastActivity) and beforeId (login) of the last person.
	Next string `json:"next,omitempty"`
	// Bound are the logins that hold nothing now (none of People's, on
	// any page) but stay bound to the account at the identity provider
	// they were first signed in with, by login ignoring case, paged apart
	// from People: the page after boundAfter (a login), the first without
	// it. Never null.
	Bound []BoundSignIn `json:"bound"`
	// BoundNext, when Bound's page is full, is the address of its next
	// page: boundAfter is the last login of Bound (People's page kept).
	BoundNext string `json:"boundNext,omitempty"`
	// FlowsWithoutAccess are the logins that hold no access now (none of
	// People's, on any page) whose enabled flows still act as them (a
	// revoke, signing out or tokens expiring leave them running), by
	// login ignoring case; every page has them all. Never null.
	FlowsWithoutAccess []FlowsActingAs `json:"flowsWithoutAccess"`
}

// FlowsActingAs is a login without access whose enabled flows act as
// them: disable the flows, or enable them again as someone who holds
// access, to have them act as that person.
type FlowsActingAs struct {
	Login        string   `json:"login"`
	EnabledFlows []string `json:"enabledFlows"`
}

// BoundSignIn is a login that holds nothing but its binding to an account
// at an identity provider: a sign-in as the login by another account, or
// from another identity provider, is refused until a revoke forgets it
// (POST /api/v1/people/{login}/revoke).
type BoundSignIn struct {
	Login string `json:"login"`
	// Subject is the account at the identity provider (the ID token's
	// sub) the login is bound to.
	Subject string `json:"subject"`
	// Issuer is the identity provider the subject belongs to (the ID
	// token's iss); absent for a login bound before cardflow kept issuers
	// and not signed in to since.
	Issuer string `json:"issuer,omitempty"`
	// IssuerNotCurrent is set when Issuer is not the identity provider
	// the server signs in with now (its -oidc-issuer moved): every sign-in
	// as the login is refused until its binding is forgotten.
	IssuerNotCurrent bool `json:"issuerNotCurrent,omitempty"`
	// BoundSince is the sign-in that bound it.
	BoundSince time.Time `json:"boundSince"`
}

// PersonRevoked is POST /api/v1/people/{login}/revoke: what ended.
type PersonRevoked struct {
	Login         string `json:"login"`
	SessionsEnded int    `json:"sessionsEnded"`
	TokensRevoked int    `json:"tokensRevoked"`
	// EnabledFlows are the names of the enabled flows the person enabled:
	// they keep running as the person until an admin disables them or
	// enables them again as themself.
	EnabledFlows []string `json:"enabledFlows"`
	// SubjectForgotten is whether the login was bound to an account at
	// the identity provider (the subject of its first sign-in), which the
	// revoke forgot: the next sign-in as the login binds it anew.
	SubjectForgotten bool `json:"subjectForgotten"`
	// Issuer, when SubjectForgotten, is the identity provider the
	// forgotten binding was at (the ID token's iss); absent for a binding
	// made before cardflow kept issuers.
	Issuer string `json:"issuer,omitempty"`
	// FlowRunsCanceled counts the flow runs the person started by hand
	// (runs and reruns, not those of a schedule or an event) that were
	// queued or running and that the revoke canceled.
	FlowRunsCanceled int `json:"flowRunsCanceled"`
	// Warning, when not empty, says that not every such run could be
	// canceled, and how to cancel the rest; the access is revoked.
	Warning string `json:"warning,omitempty"`
}
