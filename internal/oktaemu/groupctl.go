package oktaemu

import (
	"encoding/json"
	"net/http"
	"slices"
)

// groupAndUser finds the group named by the path and the user login, or
// answers 404.
func (o *Org) groupAndUser(w http.ResponseWriter, r *http.Request, login string) (*state, *group, *user) {
	s := o.st()
	name := r.PathValue("group")
	s.mu.RLock()
	i := slices.IndexFunc(s.groups, func(g *group) bool { return g.name == name || g.id == name })
	var g *group
	if i >= 0 {
		g = s.groups[i]
	}
	u := s.lookupUser(login)
	s.mu.RUnlock()
	switch {
	case g == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no group " + name})
		return nil, nil, nil
	case u == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no user " + login})
		return nil, nil, nil
	}
	return s, g, u
}

// ctlAddGroupMember puts a user in a group: the ID tokens of their next
// sign-in name it.
func (o *Org) ctlAddGroupMember(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User string `json:"user"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.User == "" {
		ctlError(w, `body must be {"user": LOGIN}`)
		return
	}
	s, g, u := o.groupAndUser(w, r, req.User)
	if g == nil {
		return
	}
	s.mu.Lock()
	member := slices.Contains(g.members, u.id)
	if !member {
		g.members = append(slices.Clone(g.members), u.id)
	}
	s.mu.Unlock()
	if member {
		ctlError(w, u.login+" is in the group "+g.name+" already")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ctlRemoveGroupMember takes a user out of a group: the ID tokens of their
// next sign-in no longer name it.
func (o *Org) ctlRemoveGroupMember(w http.ResponseWriter, r *http.Request) {
	s, g, u := o.groupAndUser(w, r, r.PathValue("user"))
	if g == nil {
		return
	}
	s.mu.Lock()
	member := slices.Contains(g.members, u.id)
	if member {
		g.members = slices.DeleteFunc(slices.Clone(g.members), func(id string) bool { return id == u.id })
	}
	s.mu.Unlock()
	if !member {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": u.login + " is not in the group " + g.name})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
