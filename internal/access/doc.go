// Package access owns who may do what in cardflow: the roles
// viewer, operator and admin, the Principal a request acts as, the mapping
// of identity-provider groups to roles, personal API tokens (created,
// listed, revoked and checked here, kept in the store as hashes), People
// (who holds console sessions and tokens, and ending one person's at
// once), and the Limiter that slows down guessing by the failures of each client address.
package access
