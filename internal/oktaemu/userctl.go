package oktaemu

import (
	"encoding/json"
	"net/http"
	"strings"
)

// ctlUserClaims sets what a user's ID tokens and userinfo claim as
// preferred_username and email from then on, as at an identity provider
// where people (or lesser admins) change those claims themselves; the
// user still signs in with their login and keeps their id (sub). A field
// left out keeps its claim; an empty one goes back to the user's own.
func (o *Org) ctlUserClaims(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PreferredUsername *string `json:"preferred_username"`
		Email             *string `json:"email"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.PreferredUsername == nil && req.Email == nil {
		ctlError(w, `body must be {"preferred_username": CLAIM, "email": CLAIM} (either or both)`)
		return
	}
	s := o.st()
	login := r.PathValue("user")
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupUser(login)
	if u == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no user " + login})
		return
	}
	c := *u // users are immutable values: store a changed copy
	if req.PreferredUsername != nil {
		c.claimLogin = *req.PreferredUsername
	}
	if req.Email != nil {
		c.claimEmail = *req.Email
	}
	s.users[c.id] = &c
	s.byLogin[strings.ToLower(c.login)] = &c
	w.WriteHeader(http.StatusNoContent)
}
