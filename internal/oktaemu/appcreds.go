package oktaemu

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// clientSecret is one of a web app's client secrets (Okta keeps up to two,
// so that a secret can be rotated without downtime).
type clientSecret struct {
	id, value        string
	inactive         bool
	created, updated time.Time
}

// maxClientSecrets is how many secrets an app may have.
const maxClientSecrets = 2

// secretMatches reports whether secret is one of a's active secrets. The
// caller holds s.mu.
func (a *app) secretMatches(secret string) bool {
	for _, cs := range a.secrets {
		if !cs.inactive && subtle.ConstantTimeCompare([]byte(secret), []byte(cs.value)) == 1 {
			return true
		}
	}
	return false
}

type clientSecretJSON struct {
	ID          string          `json:"id"`
	Status      string          `json:"status"`
	Secret      string          `json:"client_secret"`
	SecretHash  string          `json:"secret_hash"`
	Created     string          `json:"created"`
	LastUpdated string          `json:"lastUpdated"`
	Links       map[string]link `json:"_links"`
}

func secretView(org string, a *app, cs *clientSecret) clientSecretJSON {
	sum := sha256.Sum256([]byte(cs.value))
	status, action := "ACTIVE", "deactivate"
	if cs.inactive {
		status, action = "INACTIVE", "activate"
	}
	// Okta shows the secret in full when it is created and in the
	// listings of an admin; the emulator does the same.
	return clientSecretJSON{ID: cs.id, Status: status, Secret: cs.value, SecretHash: base64.RawURLEncoding.EncodeToString(sum[:16]),
		Created: formatTime(cs.created), LastUpdated: formatTime(cs.updated),
		Links: map[string]link{action: {Href: org + "/api/v1/apps/" + a.id + "/credentials/secrets/" + cs.id + "/lifecycle/" + action,
			Hints: &hints{Allow: []string{"POST"}}}}}
}

// webApp is the app of the request's path when it is a web app (which has
// client secrets); it writes the error otherwise.
func (o *Org) webApp(w http.ResponseWriter, r *http.Request) (*state, *app) {
	s, a := o.app(w, r)
	if a != nil && a.kind != "web" {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: OAuth2ClientSecretMediated",
			"Client secrets are only for apps whose token_endpoint_auth_method is client_secret_basic, client_secret_post or client_secret_jwt.")
		return s, nil
	}
	return s, a
}

func (o *Org) listClientSecrets(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.apps.read", accessRead) == nil {
		return
	}
	s, a := o.webApp(w, r)
	if a == nil {
		return
	}
	s.mu.RLock()
	out := make([]clientSecretJSON, 0, len(a.secrets))
	for _, cs := range a.secrets {
		out = append(out, secretView(origin(r), a, cs))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, out)
}

func (o *Org) createClientSecret(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.apps.manage", accessManage) == nil {
		return
	}
	s, a := o.webApp(w, r)
	if a == nil {
		return
	}
	var body struct {
		Secret string `json:"client_secret"`
		Status string `json:"status"`
	}
	if r.ContentLength != 0 {
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
			return
		}
	}
	if body.Secret == "" {
		body.Secret = randomToken(40)
	}
	if len(body.Secret) < 14 || len(body.Secret) > 100 {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: OAuth2ClientSecretMediated",
			"client_secret: The client secret must be between 14 and 100 characters long.")
		return
	}
	now := o.now()
	s.mu.Lock()
	if len(a.secrets) >= maxClientSecrets {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: OAuth2ClientSecretMediated",
			"You've reached the maximum number of client secrets per client.")
		return
	}
	cs := &clientSecret{id: s.newID("ocs"), value: body.Secret, inactive: body.Status == "INACTIVE", created: now, updated: now}
	a.secrets = append(a.secrets, cs)
	v := secretView(origin(r), a, cs)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, v)
}

// appsScope is the scope an app's credentials API call needs for need:
// okta.apps.read to read, okta.apps.manage to change.
func appsScope(need access) string {
	if need == accessRead {
		return "okta.apps.read"
	}
	return "okta.apps.manage"
}

// withClientSecret runs fn on the secret of the request's path under s.mu and
// answers it, or the error fn returns.
func (o *Org) withClientSecret(w http.ResponseWriter, r *http.Request, need access, fn func(s *state, a *app, cs *clientSecret) (int, []string)) {
	if o.authorizeAPI(w, r, appsScope(need), need) == nil {
		return
	}
	s, a := o.webApp(w, r)
	if a == nil {
		return
	}
	id := r.PathValue("secretId")
	s.mu.Lock()
	i := slices.IndexFunc(a.secrets, func(cs *clientSecret) bool { return cs.id == id })
	if i < 0 {
		s.mu.Unlock()
		writeNotFound(w, id, "OAuth2ClientSecret")
		return
	}
	cs := a.secrets[i]
	status, causes := fn(s, a, cs)
	v := secretView(origin(r), a, cs)
	s.mu.Unlock()
	switch {
	case len(causes) > 0:
		writeError(w, status, "E0000001", "Api validation failed: OAuth2ClientSecretMediated", causes...)
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, v)
	}
}

func (o *Org) getClientSecret(w http.ResponseWriter, r *http.Request) {
	o.withClientSecret(w, r, accessRead, func(*state, *app, *clientSecret) (int, []string) { return http.StatusOK, nil })
}

func (o *Org) clientSecretLifecycle(activate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		o.withClientSecret(w, r, accessManage, func(_ *state, a *app, cs *clientSecret) (int, []string) {
			if !activate && !cs.inactive && slices.IndexFunc(a.secrets, func(x *clientSecret) bool { return x != cs && !x.inactive }) < 0 {
				return http.StatusBadRequest, []string{"You can't deactivate the only active client secret."}
			}
			if cs.inactive == activate {
				cs.inactive, cs.updated = !activate, o.now()
			}
			return http.StatusOK, nil
		})
	}
}

func (o *Org) deleteClientSecret(w http.ResponseWriter, r *http.Request) {
	o.withClientSecret(w, r, accessManage, func(_ *state, a *app, cs *clientSecret) (int, []string) {
		if !cs.inactive {
			return http.StatusBadRequest, []string{"You can't delete an active client secret. Deactivate the secret before deleting it."}
		}
		a.secrets = slices.DeleteFunc(a.secrets, func(x *clientSecret) bool { return x == cs })
		return http.StatusNoContent, nil
	})
}

// appLifecycle activates or deactivates an app. Deactivating it revokes
// every token issued to it (Okta: refresh tokens are revoked when "the
// client app is deactivated or deleted", and the access tokens with them);
// an inactive app authenticates no client and starts no sign-in.
func (o *Org) appLifecycle(activate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if o.authorizeAPI(w, r, "okta.apps.manage", accessManage) == nil {
			return
		}
		s, a := o.app(w, r)
		if a == nil {
			return
		}
		s.mu.Lock()
		a.inactive = !activate
		if !activate {
			for _, t := range s.tokens {
				if t.clientID == a.clientID {
					t.revoked = true
				}
			}
		}
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]any{})
	}
}
