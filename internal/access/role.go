package access

import (
	"fmt"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// Role is what a principal may do. Each role may do everything the roles
// below it may.
type Role string

// The roles, from least to most.
const (
	// Anyone marks what needs no sign-in (sign-in pages, OAuth callbacks).
	// No principal has it.
	Anyone   Role = "anyone"
	Viewer   Role = "viewer"
	Operator Role = "operator"
	Admin    Role = "admin"
)

// Roles are the roles a principal can have, from least to most.
var Roles = []Role{Viewer, Operator, Admin}

func (r Role) rank() int {
	switch r {
	case Anyone:
		return 0
	case Viewer:
		return 1
	case Operator:
		return 2
	case Admin:
		return 3
	}
	return -1
}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a principal with role r may do what needs role
// need. An unknown role allows nothing.
func (r Role) Allows(need Role) bool {
	return r.Valid() && need.rank() >= 0 && r.rank() >= need.rank()
}

// ParseRole parses a role name (viewer, operator, admin; any case).
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", fmt.Errorf("unknown role %q: use viewer, operator or admin", s)
	}
	return r, nil
}

// Principal is who a request acts as: its actor (for the audit) and role.
type Principal struct {
	Actor store.Actor
	Role  Role
	// Name is a person's display name; may be empty.
	Name string
	// TokenID is the personal API token's id when Actor.Type is
	// store.ActorToken.
	TokenID string
	// ExpiresAt is when the personal API token the principal presented
	// expires; zero for a person signed in and for the bootstrap admin.
	// Tokens it creates end by then.
	ExpiresAt time.Time
	// SessionID is the console session of a person signed in, and SignIn
	// the sign-in in flight (Tokens.StartSignIn) of one signing in; empty
	// otherwise. A token they create is refused once either has ended
	// (a revoke), as one created with TokenID is once that token has.
	SessionID, SignIn string
	// Subject is the identity provider's subject (the ID token's sub) of
	// one signing in (with SignIn): what the sign-in creates binds their
	// login to it, and is refused when the login is bound to another
	// (store.ErrSubjectTaken, SubjectTaken).
	Subject string
	// Issuer is the identity provider (the ID token's iss) of Subject,
	// bound with it: a login bound at another issuer is refused
	// (store.IssuerChangedError, SubjectTaken).
	Issuer string
}

// Bootstrap is the principal of the server's API token.
var Bootstrap = Principal{Actor: store.Actor{Type: store.ActorBootstrap}, Role: Admin}

// Owner returns the owner type and login that tokens created by p belong
// to: a token's tokens belong to the token's owner.
func (p Principal) Owner() (ownerType, login string) {
	switch p.Actor.Type {
	case store.ActorBootstrap:
		return store.ActorBootstrap, ""
	case store.ActorToken:
		if p.Actor.Login == "" {
			return store.ActorBootstrap, ""
		}
		return store.ActorUser, p.Actor.Login
	}
	return store.ActorUser, p.Actor.Login
}

// GroupRoles maps identity-provider groups to roles (-oidc-role
// ROLE=GROUP). A person gets the highest role of any of their groups.
type GroupRoles map[Role][]string

// RoleFor returns the highest role groups give, and false when none of the
// groups has a role. Group names compare exactly, as identity providers
// send them.
func (g GroupRoles) RoleFor(groups []string) (Role, bool) {
	best := Role("")
	for role, names := range g {
		for _, n := range names {
			for _, have := range groups {
				if have == n && role.rank() > best.rank() {
					best = role
				}
			}
		}
	}
	return best, best.Valid()
}

// Describe lists the mapping for people: "admin: cardflow-admins; viewer:
// cardflow-viewers".
func (g GroupRoles) Describe() string {
	var parts []string
	for i := len(Roles) - 1; i >= 0; i-- {
		if names := g[Roles[i]]; len(names) > 0 {
			parts = append(parts, string(Roles[i])+": "+strings.Join(names, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// ParseGroupRole parses one -oidc-role value, ROLE=GROUP.
func ParseGroupRole(s string) (Role, string, error) {
	r, group, ok := strings.Cut(s, "=")
	if !ok || strings.TrimSpace(group) == "" {
		return "", "", fmt.Errorf("-oidc-role %q: use ROLE=GROUP, e.g. admin=cardflow-admins", s)
	}
	role, err := ParseRole(r)
	if err != nil {
		return "", "", fmt.Errorf("-oidc-role %q: %w", s, err)
	}
	return role, strings.TrimSpace(group), nil
}
