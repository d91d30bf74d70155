// Package connection owns cardflow's connections to Okta orgs: the domain
// policy, the OAuth 2.0 authorization code flow with PKCE, state
// and nonce, scope selection and the checks made after a sign-in,
// reauthorization with an atomic token swap, the token source
// that refreshes at most once per connection across goroutines and server
// processes and commits rotated refresh tokens before using them,
// status and health checks, deletion with token revocation and
// the audit events of those actions.
//
// A card run reads its connection once, and the connection's stored access
// token serves the run's first call. A new token is obtained by one process
// at a time, under the connection's lease in the store: a user connection
// refreshes (one past its refresh token's 90-day end, by its org's clock,
// stops there and needs reauthorizing), a service connection makes a
// client_credentials request with private_key_jwt and, when the org wants
// it, DPoP. Rotated tokens the
// store refuses to commit (a full disk) are kept in memory and committed on
// the connection's next use, since the refresh token they replace stops
// working when its grace window ends. A connection that
// becomes needs_reauthorization commits its notification with the status,
// in one transaction (store.UpdateConnectionNotify).
//
// It also provides the guarded outbound HTTP client every call to an org
// goes through: redirects are never followed, time and response size are
// bounded, and loopback, private and link-local addresses are refused
// unless the operator trusts that origin.
//
// Secrets (client secrets, tokens, PKCE verifiers) live in the store only as
// keyring ciphertexts bound to their connection and field, and in memory
// only as keyring.Secret values or short-lived locals; they never reach a
// log line, an error message or a View.
package connection
