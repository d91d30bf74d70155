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
		b, err := k.Public().MarshalJSON()
		if err != nil {
			continue
		}
		meta := a.keyMeta[k.KeyID]
		if meta.id == "" {
			meta = keyMeta{id: stableID("pks", a.id+"/"+k.KeyID), created: a.created}
		}
		out = append(out, appKeyJSON{ID: meta.id, Status: "ACTIVE", Created: formatTime(meta.created),
			LastUpdated: formatTime(meta.created), Key: b})
	}
	return out
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
	if slices.ContainsFunc(a.jwks.Keys, func(x jose.JSONWebKey) bool { return x.KeyID == k.KeyID }) {
		invalid("All keys in the 'jwks' must have a unique `kid`.")
		return
	}
	if len(a.jwks.Keys) >= maxAppKeys {
		invalid("The 'jwks' may hold at most 50 keys.")
		return
	}
	// Copy on write: verifyAssertion reads the key list after unlocking.
	a.jwks = &jose.JSONWebKeySet{Keys: append(slices.Clone(a.jwks.Keys), k)}
	a.keyMeta[k.KeyID] = keyMeta{id: s.newID("pks"), created: now}
	views := o.appKeyViews(a)
	writeJSON(w, http.StatusCreated, views[len(views)-1])
}
