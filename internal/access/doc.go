// Package access owns who may do what in cardflow: the roles
// viewer, operator and admin, the Principal a request acts as, the mapping
// of identity-provider groups to roles, and personal API tokens (created,
// listed, revoked and checked here, kept in the store as hashes).
package access
