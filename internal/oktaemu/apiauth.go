package oktaemu

import (
	"net/http"
	"slices"
	"strings"
)

type errorCause struct {
	ErrorSummary string `json:"errorSummary"`
}

type oktaError struct {
	ErrorCode    string       `json:"errorCode"`
	ErrorSummary string       `json:"errorSummary"`
	ErrorLink    string       `json:"errorLink"`
	ErrorID      string       `json:"errorId"`
	ErrorCauses  []errorCause `json:"errorCauses"`
}

// writeError writes an Okta error body (OKTA.md §2).
func writeError(w http.ResponseWriter, status int, code, summary string, causes ...string) {
	e := oktaError{ErrorCode: code, ErrorSummary: summary, ErrorLink: code, ErrorID: "oae" + newRequestID()[:22], ErrorCauses: []errorCause{}}
	for _, c := range causes {
		e.ErrorCauses = append(e.ErrorCauses, errorCause{ErrorSummary: c})
	}
	writeJSON(w, status, e)
}

func writeNotFound(w http.ResponseWriter, id, kind string) {
	writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+id+" ("+kind+")")
}

func writeForbidden(w http.ResponseWriter) {
	writeError(w, http.StatusForbidden, "E0000006", "You do not have permission to perform the requested action")
}

// principal is who an API call acts as: a user (SSWS token or a user's
// access token) or a service app (client credentials).
type principal struct {
	user     *user
	app      *app     // the service app, for client credentials tokens
	clientID string   // the OAuth client of a Bearer token; "" for SSWS
	scopes   []string // nil means every scope (SSWS)
	// roles are the admin roles of the user or the service app as the
	// call was authenticated: Okta checks roles at call time, so a role
	// taken away binds tokens issued before.
	roles []string
}

// hasScope reports whether the token carries scope; okta.X.manage also
// satisfies okta.X.read.
func (p *principal) hasScope(scope string) bool {
	if p.scopes == nil {
		return true
	}
	if slices.Contains(p.scopes, scope) {
		return true
	}
	if base, ok := strings.CutSuffix(scope, ".read"); ok {
		return slices.Contains(p.scopes, base+".manage")
	}
	return false
}

// access is what an admin role permits.
type access int

const (
	accessRead   access = iota // GETs
	accessManage               // changes
	accessSuper                // changes only a super admin may make (grants)
)

func (p *principal) may(a access) bool {
	for _, r := range p.roles {
		switch r {
		case "SUPER_ADMIN":
			return true
		case "ORG_ADMIN", "MOBILE_ADMIN":
			if a != accessSuper {
				return true
			}
		}
	}
	if a == accessRead {
		return len(p.roles) > 0
	}
	return false
}

// authorizeAPI authenticates the request and checks the scope and the admin
// role an operation needs. It writes the error response and returns nil
// when the call may not proceed.
func (o *Org) authorizeAPI(w http.ResponseWriter, r *http.Request, scope string, need access) *principal {
	p := o.authenticate(w, r)
	if p == nil {
		return nil
	}
	if !p.hasScope(scope) {
		o.insufficientScope(w, r, scope)
		return nil
	}
	if !p.may(need) {
		writeForbidden(w)
		return nil
	}
	return p
}

// authenticate resolves the SSWS or Bearer credentials of r.
func (o *Org) authenticate(w http.ResponseWriter, r *http.Request) *principal {
	authz := r.Header.Get("Authorization")
	if authz == "" {
		writeError(w, http.StatusForbidden, "E0000005", "Invalid session")
		return nil
	}
	s := o.st()
	scheme, cred, _ := strings.Cut(authz, " ")
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "ssws":
		s.mu.RLock()
		var p *principal
		if uid, ok := s.apiTokens[cred]; ok {
			p = &principal{user: s.users[uid], roles: roleTypes(s.userRoles[uid])}
		}
		s.mu.RUnlock()
		if p != nil {
			return p
		}
	case "bearer", "dpop":
		now := o.now()
		s.mu.RLock()
		t := s.tokens[cred]
		var p *principal
		var needNonce bool
		if t != nil && t.kind == kindAccess && t.live(now) {
			p = &principal{scopes: t.scopes, user: s.users[t.userID], clientID: t.clientID}
			if a := s.byClient[t.clientID]; a != nil {
				needNonce = a.dpopResourceNonce
				if p.user == nil {
					p.app = a
					p.roles = roleTypes(a.roles)
				}
			}
			if p.user != nil {
				p.roles = roleTypes(s.userRoles[p.user.id])
			}
		}
		s.mu.RUnlock()
		if p != nil && (p.user != nil || p.app != nil) {
			if e := o.resourceDPoP(r, strings.ToLower(scheme), cred, t, needNonce); e != nil {
				o.writeDPoPResourceError(w, e)
				return nil
			}
			return p
		}
		// An OAuth access token Okta does not take: E0000011, and the
		// reason in a challenge of the token's scheme.
		desc := "The access token is invalid."
		if t != nil && t.kind == kindAccess && !t.revoked {
			desc = "The token has expired."
		}
		challenge := "Bearer"
		if strings.EqualFold(scheme, "dpop") {
			challenge = `DPoP algs="` + dpopAlgs + `",`
		}
		org := origin(r)
		w.Header().Set("WWW-Authenticate", challenge+` authorization_uri="`+org+`/oauth2/v1/authorize", realm="`+org+
			`", error="invalid_token", error_description="`+desc+`", resource="`+r.URL.Path+`"`)
	}
	writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided")
	return nil
}

// insufficientScope answers a token that lacks scope the way Okta does: an
// empty 403 and a WWW-Authenticate header naming the scope.
func (o *Org) insufficientScope(w http.ResponseWriter, r *http.Request, scope string) {
	org := origin(r)
	w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="`+org+`/oauth2/v1/authorize", realm="`+org+
		`", scope="`+scope+`", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="`+r.URL.Path+`"`)
	w.WriteHeader(http.StatusForbidden)
}
