package oktaemu

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"time"
)

func (o *Org) getUser(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("userId")
	var p *principal
	if id == "me" {
		if p = o.authenticate(w, r); p == nil {
			return
		}
		if !p.hasScope("okta.users.read.self") && !p.hasScope("okta.users.read") {
			o.insufficientScope(w, r, "okta.users.read.self")
			return
		}
		if p.user == nil {
			writeNotFound(w, id, "User")
			return
		}
		writeJSON(w, http.StatusOK, p.user.full(origin(r)))
		return
	}
	if o.authorizeAPI(w, r, "okta.users.read", accessRead) == nil {
		return
	}
	u := o.st().findUser(id)
	if u == nil {
		writeNotFound(w, id, "User")
		return
	}
	writeJSON(w, http.StatusOK, u.full(origin(r)))
}

// app returns the app named by the request path, or answers 404.
func (o *Org) app(w http.ResponseWriter, r *http.Request) (*state, *app) {
	id := r.PathValue("appId")
	s := o.st()
	a := s.apps[id]
	if a == nil {
		writeNotFound(w, id, "AppInstance")
	}
	return s, a
}

func (o *Org) getApp(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.apps.read", accessRead) == nil {
		return
	}
	_, a := o.app(w, r)
	if a == nil {
		return
	}
	org := origin(r)
	c := formatTime(a.created)
	grantTypes, appType, method := []string{"authorization_code", "refresh_token"}, "web", "client_secret_basic"
	if a.kind == "service" {
		grantTypes, appType, method = []string{"client_credentials"}, "service", "private_key_jwt"
	}
	redirects := a.redirectURIs
	if redirects == nil {
		redirects = []string{}
	}
	self := org + "/api/v1/apps/" + a.id
	status := "ACTIVE"
	s := o.st()
	s.mu.RLock()
	if a.inactive {
		status = "INACTIVE"
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"id": a.id, "name": "oidc_client", "label": a.label, "status": status, "created": c, "lastUpdated": c,
		"signOnMode": "OPENID_CONNECT", "features": []string{},
		"accessibility": map[string]any{"selfService": false, "errorRedirectUrl": nil, "loginRedirectUrl": nil},
		"visibility":    map[string]any{"autoSubmitToolbar": false, "hide": map[string]bool{"iOS": true, "web": true}, "appLinks": map[string]bool{"oidc_client_link": true}},
		"credentials": map[string]any{
			"userNameTemplate": map[string]string{"template": "${source.login}", "type": "BUILT_IN"},
			"signing":          map[string]any{},
			"oauthClient":      map[string]any{"autoKeyRotation": true, "client_id": a.clientID, "token_endpoint_auth_method": method},
		},
		"settings": map[string]any{
			"app": map[string]any{},
			"oauthClient": map[string]any{"redirect_uris": redirects, "response_types": []string{"code"}, "grant_types": grantTypes,
				"application_type": appType, "consent_method": "TRUSTED", "issuer_mode": "ORG_URL"},
		},
		"_links": map[string]any{
			"self":  link{Href: self},
			"users": link{Href: self + "/users"},
		},
	})
}

type appUserJSON struct {
	ID            string         `json:"id"`
	Scope         string         `json:"scope"`
	Status        string         `json:"status"`
	Created       string         `json:"created"`
	LastUpdated   string         `json:"lastUpdated"`
	StatusChanged string         `json:"statusChanged"`
	SyncState     string         `json:"syncState"`
	Credentials   map[string]any `json:"credentials"`
	Profile       map[string]any `json:"profile"`
	Links         map[string]any `json:"_links"`
}

func appUser(org string, a *app, u *user, created time.Time) appUserJSON {
	c := formatTime(created)
	return appUserJSON{ID: u.id, Scope: "USER", Status: "ACTIVE", Created: c, LastUpdated: c, StatusChanged: c,
		SyncState: "DISABLED", Credentials: map[string]any{"userName": u.login}, Profile: map[string]any{},
		Links: map[string]any{"app": link{Href: org + "/api/v1/apps/" + a.id}, "user": link{Href: org + "/api/v1/users/" + u.id}}}
}

func (o *Org) listAppUsers(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.apps.read", accessRead) == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	type assignedUser struct {
		u       *user
		created time.Time
	}
	s.mu.RLock()
	as := make([]assignedUser, 0, len(a.assigned))
	for _, x := range a.assigned {
		as = append(as, assignedUser{s.users[x.userID], x.created})
	}
	s.mu.RUnlock()
	out := make([]appUserJSON, 0, len(as))
	for _, x := range as {
		out = append(out, appUser(origin(r), a, x.u, x.created))
	}
	writeJSON(w, http.StatusOK, out)
}

func (o *Org) assignAppUser(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.apps.manage", accessManage) == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	var body struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ID == "" {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: id", "id: The user id is required.")
		return
	}
	u := s.findUser(body.ID)
	if u == nil {
		writeNotFound(w, body.ID, "User")
		return
	}
	now := o.now()
	s.mu.Lock()
	created := now
	if i := slices.IndexFunc(a.assigned, func(x assignment) bool { return x.userID == u.id }); i >= 0 {
		created = a.assigned[i].created
	} else {
		a.assigned = append(a.assigned, assignment{userID: u.id, created: now})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, appUser(origin(r), a, u, created))
}

type grantJSON struct {
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Created     string            `json:"created"`
	CreatedBy   map[string]string `json:"createdBy"`
	LastUpdated string            `json:"lastUpdated"`
	Issuer      string            `json:"issuer"`
	ClientID    string            `json:"clientId"`
	ScopeID     string            `json:"scopeId"`
	Source      string            `json:"source"`
	Embedded    map[string]any    `json:"_embedded"`
	Links       map[string]any    `json:"_links"`
}

func grantView(org string, a *app, g *grant) grantJSON {
	c := formatTime(g.created)
	appHref := org + "/api/v1/apps/" + a.id
	return grantJSON{ID: g.id, Status: "ACTIVE", Created: c, LastUpdated: c,
		CreatedBy: map[string]string{"id": g.createdBy, "type": "User"},
		Issuer:    org, ClientID: a.clientID, ScopeID: g.scopeID, Source: "ADMIN",
		Embedded: map[string]any{"scope": map[string]string{"id": g.scopeID}},
		Links: map[string]any{
			"app":    map[string]string{"href": appHref, "title": a.label},
			"self":   link{Href: appHref + "/grants/" + g.id, Hints: &hints{Allow: []string{"GET", "DELETE"}}},
			"client": map[string]string{"href": org + "/oauth2/v1/clients/" + a.clientID, "title": a.label},
		}}
}

func (o *Org) listGrants(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.appGrants.read", accessRead) == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	s.mu.RLock()
	gs := slices.Clone(a.grants)
	s.mu.RUnlock()
	out := make([]grantJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, grantView(origin(r), a, g))
	}
	writeJSON(w, http.StatusOK, out)
}

func (o *Org) createGrant(w http.ResponseWriter, r *http.Request) {
	p := o.authorizeAPI(w, r, "okta.appGrants.manage", accessSuper)
	if p == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	var body struct {
		Issuer  string `json:"issuer"`
		ScopeID string `json:"scopeId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return
	}
	if u, err := url.Parse(body.Issuer); err != nil || u.Host != r.Host {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: issuer", "issuer: The issuer must be the org's URL, "+origin(r)+".")
		return
	}
	if !knownScope(body.ScopeID) {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: scopeId", "scopeId: The scope "+body.ScopeID+" does not exist.")
		return
	}
	by := ""
	if p.user != nil {
		by = p.user.id
	}
	s.mu.Lock()
	g := a.grantFor(body.ScopeID)
	exists := g != nil
	if !exists {
		g = &grant{id: s.newID("oag"), scopeID: body.ScopeID, createdBy: by, created: o.now()}
		a.grants = append(a.grants, g)
	}
	s.mu.Unlock()
	if exists {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: scopeId", "scopeId: The scope "+body.ScopeID+" is already granted to the app.")
		return
	}
	writeJSON(w, http.StatusCreated, grantView(origin(r), a, g))
}

func (o *Org) findGrant(w http.ResponseWriter, r *http.Request, s *state, a *app) *grant {
	id := r.PathValue("grantId")
	s.mu.RLock()
	i := slices.IndexFunc(a.grants, func(g *grant) bool { return g.id == id })
	var g *grant
	if i >= 0 {
		g = a.grants[i]
	}
	s.mu.RUnlock()
	if g == nil {
		writeNotFound(w, id, "OAuth2ScopeConsentGrant")
	}
	return g
}

func (o *Org) getGrant(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.appGrants.read", accessRead) == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	if g := o.findGrant(w, r, s, a); g != nil {
		writeJSON(w, http.StatusOK, grantView(origin(r), a, g))
	}
}

func (o *Org) deleteGrant(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.appGrants.manage", accessSuper) == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	id := r.PathValue("grantId")
	s.mu.Lock()
	n := len(a.grants)
	a.grants = slices.DeleteFunc(a.grants, func(g *grant) bool { return g.id == id })
	removed := len(a.grants) < n
	s.mu.Unlock()
	if !removed {
		writeNotFound(w, id, "OAuth2ScopeConsentGrant")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
