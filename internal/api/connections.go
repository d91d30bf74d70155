package api

import (
	"encoding/json"
	"time"
)

// Connection is a connection. It never holds a secret.
type Connection struct {
	ID        string `json:"id"`
	Connector string `json:"connector"`
	Nickname  string `json:"nickname"`
	Domain    string `json:"domain"`
	// ClientID is the org app's client ID (the OAuth app, or a service
	// connection's API Services app). Not a secret.
	ClientID     string `json:"clientId"`
	Status       string `json:"status"`
	StatusReason string `json:"statusReason"`
	Remedy       string `json:"remedy"`
	// StatusReasonCode is the stable code of why the connection is not
	// active (key_refused, scope_not_granted, no_admin_role,
	// refresh_token_expired ...; README lists them), to tell failures
	// apart by where statusReason and remedy are words that may change;
	// "" while active, and for a connection stored in another status by
	// a cardflow that kept no codes (until its status changes again).
	StatusReasonCode string `json:"statusReasonCode"`
	// ScopeMode is "default" or "custom".
	ScopeMode string `json:"scopeMode"`
	// RequestedScopes, GrantedScopes and MissingScopes are never null.
	RequestedScopes []string `json:"requestedScopes"`
	GrantedScopes   []string `json:"grantedScopes"`
	MissingScopes   []string `json:"missingScopes"`
	// MissingScopeCards names, for each missing scope, the cards that fail
	// without it; never null.
	MissingScopeCards map[string][]string `json:"missingScopeCards"`
	AuthorizedBy      *AuthorizedBy       `json:"authorizedBy"`
	AuthorizedAt      *time.Time          `json:"authorizedAt"`
	// Auth is "user" (a person signed in; refresh tokens) or "service" (an
	// API Services app with private_key_jwt).
	Auth string `json:"auth"`
	// RefreshTokenExpiresAt is when a user connection's refresh token
	// expires; null when unknown or for a service connection. ExpiresSoon
	// is true within the expiry warning of that time, RefreshTokenExpired
	// once it has passed (by the org's clock): the connection needs a new
	// sign-in, whether or not a card has found that yet.
	RefreshTokenExpiresAt *time.Time `json:"refreshTokenExpiresAt"`
	ExpiresSoon           bool       `json:"expiresSoon"`
	RefreshTokenExpired   bool       `json:"refreshTokenExpired"`
	// DPoP is true when the connection sends DPoP proofs.
	DPoP bool `json:"dpop"`
	// PublicJWK is the public half of a service connection's key, to add
	// to the org's API Services app; NextPublicJWK that of a key being
	// rotated in. Absent for a user connection.
	PublicJWK     json.RawMessage `json:"publicJwk,omitempty"`
	NextPublicJWK json.RawMessage `json:"nextPublicJwk,omitempty"`
	// PollError says why the connection's System Log polls fail; absent
	// while they work (EventSource says since when, and the fix).
	PollError string    `json:"pollError,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// AuthorizedBy is who the connection acts as: a person (Type "user") or,
// for a service connection, the API Services app (Type "service" and its
// ClientID).
type AuthorizedBy struct {
	Type     string `json:"type"`
	UserID   string `json:"userId,omitempty"`
	Login    string `json:"login,omitempty"`
	Name     string `json:"name,omitempty"`
	ClientID string `json:"clientId,omitempty"`
}

// ConnectionDetail is GET /api/v1/connections/{id}: the connection and how
// it receives Okta events (null when it has no event source).
type ConnectionDetail struct {
	Connection
	EventSource *EventSource `json:"eventSource"`
}

// EventSource is how a connection receives Okta events: its event hook's
// state (with the reason and remedy when Okta deactivated it or it failed
// verification) and its last System Log poll.
type EventSource struct {
	// HookStatus is "active", "pending", "error" or "deactivated"; ""
	// when the connection has no event hook (poll delivery, or no flow
	// needs its events).
	HookStatus string `json:"hookStatus"`
	Reason     string `json:"reason,omitempty"`
	Remedy     string `json:"remedy,omitempty"`
	// HookRetryAt, while the hook keeps failing ("error"), is when cardflow
	// tries it again (the remedy says so in words); absent otherwise. A
	// flow using the hook, or the connection, changed tries at once.
	HookRetryAt *time.Time `json:"hookRetryAt,omitempty"`
	// EventTypes is never null.
	EventTypes []string   `json:"eventTypes"`
	PolledAt   *time.Time `json:"polledAt"`
	UpdatedAt  time.Time  `json:"updatedAt"`
	// PollError and PollRemedy say why the last System Log poll failed,
	// and PollFailingSince since when the polls fail; all three are absent
	// while the polls work.
	PollError        string     `json:"pollError,omitempty"`
	PollRemedy       string     `json:"pollRemedy,omitempty"`
	PollFailingSince *time.Time `json:"pollFailingSince,omitempty"`
}

// ConnectionList is GET /api/v1/connections, by nickname ignoring case;
// Connections is never null.
type ConnectionList struct {
	Connections []Connection `json:"connections"`
	// Next, when more connections follow, is the address of the next
	// page: after (the last connection's nickname) and afterId (its id).
	Next string `json:"next,omitempty"`
}

// CreateConnectionRequest is the body of POST /api/v1/connections.
type CreateConnectionRequest struct {
	Connector    string `json:"connector"`
	Nickname     string `json:"nickname"`
	Domain       string `json:"domain"`
	ClientID     string `json:"clientId"`
	ClientSecret Secret `json:"clientSecret,omitempty"`
	// Scopes absent or null means the connector's default scopes.
	Scopes *[]string `json:"scopes"`
	// Auth "service" creates a service connection (an API Services app
	// with private_key_jwt); "" or "user" a user connection.
	Auth string `json:"auth,omitempty"`
	// PrivateKey (PEM or JWK) of a service connection; absent means the
	// server generates one (KeyAlgorithm ES256 or RS256).
	PrivateKey   Secret `json:"privateKey,omitempty"`
	KeyAlgorithm string `json:"keyAlgorithm,omitempty"`
	// KeyID is the kid the app knows PrivateKey's public key by, for a
	// PEM key (named by its thumbprint otherwise) or a JWK without a kid.
	KeyID string `json:"keyId,omitempty"`
	DPoP  bool   `json:"dpop,omitempty"`
}

// ConnectionCreated answers POST /api/v1/connections for a user
// connection: the connection (pending) and the address where a person
// signs in to authorize it.
type ConnectionCreated struct {
	AuthorizeURL string     `json:"authorizeUrl"`
	Connection   Connection `json:"connection"`
}

// ConnectionKey answers POST /api/v1/connections for a service connection
// and POST .../rotate-key: the connection and the public JWK of its new
// key, to add to the org's API Services app.
type ConnectionKey struct {
	Connection Connection      `json:"connection"`
	PublicJWK  json.RawMessage `json:"publicJwk"`
}

// ReauthorizeRequest is the body of POST .../reauthorize: {"scopes": [...]}
// chooses custom scopes, {"scopeMode": "default"} the default scopes, and
// an empty object (or no body) keeps the previous selection.
type ReauthorizeRequest struct {
	Scopes    *[]string `json:"scopes,omitempty"`
	ScopeMode string    `json:"scopeMode,omitempty"`
}

// Reauthorization answers POST .../reauthorize: where a person signs in.
type Reauthorization struct {
	AuthorizeURL string `json:"authorizeUrl"`
}

// ConnectionTest answers POST .../test: the health check's outcome.
type ConnectionTest struct {
	OK           bool   `json:"ok"`
	Remedy       string `json:"remedy"`
	Status       string `json:"status"`
	StatusReason string `json:"statusReason"`
	// StatusReasonCode is the connection's, as in Connection, when the
	// check leaves it in another status than active.
	StatusReasonCode string `json:"statusReasonCode"`
	// MissingScopes are the scopes requested and not granted after a
	// passed check (the org may have stopped granting one since the last
	// sign-in), as in Connection; never null. MissingScopeCards names the
	// cards each one breaks.
	MissingScopes     []string            `json:"missingScopes"`
	MissingScopeCards map[string][]string `json:"missingScopeCards"`
	// Auth is "user" or "service", as in Connection: a user connection
	// gains a scope granted again by a reauthorization, a service
	// connection by its next token.
	Auth string `json:"auth"`
	// KeyRotation, after a passed check of a service connection whose key
	// was being rotated, says whether the org accepted the new key (remove
	// the old one from the app) or not yet (add the new one, keep the old).
	KeyRotation string `json:"keyRotation,omitempty"`
}

// ConnectionDeleted answers DELETE /api/v1/connections/{id}. Revoked is
// true when the org confirmed the refresh token's revocation; Warning
// explains a revocation that failed (the deletion went on).
type ConnectionDeleted struct {
	Deleted  bool   `json:"deleted"`
	ID       string `json:"id"`
	Nickname string `json:"nickname"`
	Revoked  bool   `json:"revoked"`
	Warning  string `json:"warning,omitempty"`
}

// UpdateConnectionRequest is the body of PATCH /api/v1/connections/{id}:
// a user connection's new client secret (required) and, when not empty,
// its new client ID (another OAuth app of the same org).
type UpdateConnectionRequest struct {
	ClientID     string `json:"clientId,omitempty"`
	ClientSecret Secret `json:"clientSecret"`
}

// ConnectionUpdated answers PATCH /api/v1/connections/{id}: the
// connection, now needs_reauthorization (the tokens of the previous
// credentials were discarded).
type ConnectionUpdated struct {
	Connection Connection `json:"connection"`
}

// RotateKeyRequest is the body of POST .../rotate-key; KeyAlgorithm ""
// means ES256.
type RotateKeyRequest struct {
	KeyAlgorithm string `json:"keyAlgorithm"`
}
