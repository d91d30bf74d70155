package oktaemu

import (
	"encoding/json"
	"net/http"
	"slices"

	"github.com/go-jose/go-jose/v4"
)

// maxAppKeys is how many public keys Okta keeps for one app.
const maxAppKeys = 50

// appKeyJSON is an OAuth2ClientJsonSigningKeyResponse.
type appKeyJSON struct {
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	Created     string          `json:"created"`
	LastUpdated string          `json:"lastUpdated"`
	Key         json.RawMessage `json:"-"`
}

// MarshalJSON inlines the public JWK's members next to id and status.
func (k appKeyJSON) MarshalJSON() ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(k.Key, &m); err != nil {
		return nil, err
	}
	m["id"], m["status"], m["created"], m["lastUpdated"] = k.ID, k.Status, k.Created, k.LastUpdated
	return json.Marshal(m)
}

func (o *Org) appKeyViews(a *app) []appKeyJSON {
	out := []appKeyJSON{}
	for _, k := range a.jwks.Keys {
		out = appendKeyView(out, a, k, "ACTIVE")
	}
	for _, k := range a.inactiveKeys {
		out = appendKeyView(out, a, k, "INACTIVE")
	}
	return out
}

// metaOf is the metadata of a's key kid: a key of the fixture has none
// stored, and its id is derived from the app's and its kid, its creation
// is the app's. The caller holds s.mu.
func (a *app) metaOf(kid string) keyMeta {
	m := a.keyMeta[kid]
	if m.id == "" {
		m = keyMeta{id: stableID("pks", a.id+"/"+kid), created: a.created}
	}
	return m
}

func appendKeyView(out []appKeyJSON, a *app, k jose.JSONWebKey, status string) []appKeyJSON {
	b, err := k.Public().MarshalJSON()
	if err != nil {
		return out
	}
	meta := a.metaOf(k.KeyID)
	if meta.updated.IsZero() {
		meta.updated = meta.created
	}
	return append(out, appKeyJSON{ID: meta.id, Status: status, Created: formatTime(meta.created),
		LastUpdated: formatTime(meta.updated), Key: b})
}

// listAppKeys answers GET /api/v1/apps/{appId}/credentials/jwks: the
// public keys a service app's client assertions may be signed with.
func (o *Org) listAppKeys(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.apps.read", accessRead) == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	if a.jwks == nil {
		writeJSON(w, http.StatusOK, []appKeyJSON{})
		return
	}
	s.mu.RLock()
	out := o.appKeyViews(a)
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, out)
}

// addAppKey answers POST /api/v1/apps/{appId}/credentials/jwks: the
// Admin Console's "Add key" on a service app's Client Credentials. The key
// must be a public signing key (RSA or EC) with a unique kid.
func (o *Org) addAppKey(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.apps.manage", accessSuper) == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	invalid := func(cause string) {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: JsonWebKey", cause)
	}
	if a.jwks == nil {
		invalid("The app does not use public key client authentication.")
		return
	}
	var k jose.JSONWebKey
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&k); err != nil {
		writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return
	}
	switch {
	case !k.Valid() || !k.IsPublic():
		invalid("The key must be a public RSA or EC key.")
		return
	case len(k.KeyID) < 1 || len(k.KeyID) > 255:
		invalid("The 'kid' must be between 1 and 255 characters.")
		return
	case k.Use != "" && k.Use != "sig":
		invalid("The key's 'use' must be 'sig'.")
		return
	}
	now := o.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sameKid := func(x jose.JSONWebKey) bool { return x.KeyID == k.KeyID }
	if slices.ContainsFunc(a.jwks.Keys, sameKid) || slices.ContainsFunc(a.inactiveKeys, sameKid) {
		invalid("All keys in the 'jwks' must have a unique `kid`.")
		return
	}
	if len(a.jwks.Keys)+len(a.inactiveKeys) >= maxAppKeys {
		invalid("The 'jwks' may hold at most 50 keys.")
		return
	}
	// Copy on write: verifyAssertion reads the key list after unlocking.
	a.jwks = &jose.JSONWebKeySet{Keys: append(slices.Clone(a.jwks.Keys), k)}
	a.keyMeta[k.KeyID] = keyMeta{id: s.newID("pks"), created: now}
	views := o.appKeyViews(a)
	writeJSON(w, http.StatusCreated, views[len(views)-1])
}

// appKey runs fn on the key of the request's path (its "pks" id) under
// s.mu and answers it, or the error fn returns (E0000001 with the cause).
func (o *Org) appKey(w http.ResponseWriter, r *http.Request, need access, fn func(a *app, kid string, active bool) (int, string)) {
	if o.authorizeAPI(w, r, appsScope(need), need) == nil {
		return
	}
	s, a := o.app(w, r)
	if a == nil {
		return
	}
	id := r.PathValue("keyId")
	s.mu.Lock()
	defer s.mu.Unlock()
	if a.jwks == nil {
		writeNotFound(w, id, "JsonWebKey")
		return
	}
	var kid string
	active := false
	for _, v := range o.appKeyViews(a) {
		if v.ID == id {
			var k struct {
				Kid string `json:"kid"`
			}
			_ = json.Unmarshal(v.Key, &k)
			kid, active = k.Kid, v.Status == "ACTIVE"
		}
	}
	if kid == "" {
		writeNotFound(w, id, "JsonWebKey")
		return
	}
	status, cause := fn(a, kid, active)
	switch {
	case cause != "":
		writeError(w, status, "E0000001", "Api validation failed: JsonWebKey", cause)
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	default:
		for _, v := range o.appKeyViews(a) {
			if v.ID == id {
				writeJSON(w, status, v)
			}
		}
	}
}

// moveKey moves the key kid from one of a's key lists to the other
// (copy on write: verifyAssertion reads the active list after unlocking).
func (o *Org) moveKey(a *app, kid string, activate bool) {
	from, to := a.jwks.Keys, a.inactiveKeys
	if activate {
		from, to = a.inactiveKeys, a.jwks.Keys
	}
	i := slices.IndexFunc(from, func(k jose.JSONWebKey) bool { return k.KeyID == kid })
	if i < 0 {
		return
	}
	k := from[i]
	from = slices.Delete(slices.Clone(from), i, i+1)
	to = append(slices.Clone(to), k)
	if activate {
		a.inactiveKeys, a.jwks = from, &jose.JSONWebKeySet{Keys: to}
	} else {
		a.jwks, a.inactiveKeys = &jose.JSONWebKeySet{Keys: from}, to
	}
	m := a.metaOf(kid)
	m.updated = o.now()
	a.keyMeta[kid] = m
}

func (o *Org) getAppKey(w http.ResponseWriter, r *http.Request) {
	o.appKey(w, r, accessRead, func(*app, string, bool) (int, string) { return http.StatusOK, "" })
}

// appKeyLifecycle activates or deactivates a service app's public key; the
// only active key of an app that authenticates with private_key_jwt
// cannot be deactivated. A deactivated key signs no client assertion.
func (o *Org) appKeyLifecycle(activate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o.appKey(w, r, accessSuper, func(a *app, kid string, active bool) (int, string) {
			if !activate && active && len(a.jwks.Keys) == 1 {
				return http.StatusBadRequest, "Can't deactivate the only active JSON Web Key when the value for `token_endpoint_auth_method` is `private_key_jwt`."
			}
			if active != activate {
				o.moveKey(a, kid, activate)
			}
			return http.StatusOK, ""
		})
	}
}

// deleteAppKey deletes an inactive public key.
func (o *Org) deleteAppKey(w http.ResponseWriter, r *http.Request) {
	o.appKey(w, r, accessSuper, func(a *app, kid string, active bool) (int, string) {
		if active {
			return http.StatusBadRequest, "You can't delete an active JSON Web Key. Deactivate the key before deleting it."
		}
		a.inactiveKeys = slices.DeleteFunc(slices.Clone(a.inactiveKeys), func(k jose.JSONWebKey) bool { return k.KeyID == kid })
		delete(a.keyMeta, kid)
		return http.StatusNoContent, ""
	})
}
