package oktaemu

import (
	"crypto/rand"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Lifetimes on the emulator clock.
const (
	txnLifetime     = 10 * time.Minute
	codeLifetime    = 300 * time.Second
	accessLifetime  = time.Hour
	refreshLifetime = 90 * 24 * time.Hour
	refreshLeeway   = 30 * time.Second
)

// authTxn is an authorization request waiting for the user to sign in.
type authTxn struct {
	app                                         *app
	redirectURI, state, nonce, challenge, login string
	scopes                                      []string
	expires                                     time.Time
}

// authCode is an issued authorization code.
type authCode struct {
	clientID, redirectURI, nonce, challenge, userID string
	scopes                                          []string
	expires, authTime                               time.Time
	used                                            bool
}

// randomToken returns a URL-safe random string of n characters.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = base62[int(b[i])%62]
	}
	return string(b)
}

func (o *Org) discovery(w http.ResponseWriter, r *http.Request) {
	iss := origin(r)
	ep := iss + "/oauth2/v1/"
	authMethods := []string{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                        iss,
		"authorization_endpoint":                        ep + "authorize",
		"token_endpoint":                                ep + "token",
		"userinfo_endpoint":                             ep + "userinfo",
		"jwks_uri":                                      ep + "keys",
		"introspection_endpoint":                        ep + "introspect",
		"revocation_endpoint":                           ep + "revoke",
		"response_types_supported":                      []string{"code"},
		"response_modes_supported":                      []string{"query"},
		"grant_types_supported":                         []string{"authorization_code", "refresh_token", "client_credentials"},
		"subject_types_supported":                       []string{"public"},
		"id_token_signing_alg_values_supported":         []string{"RS256"},
		"scopes_supported":                              autoGrantedScopes,
		"token_endpoint_auth_methods_supported":         authMethods,
		"introspection_endpoint_auth_methods_supported": authMethods,
		"revocation_endpoint_auth_methods_supported":    authMethods,
		"claims_supported": []string{"iss", "ver", "sub", "aud", "iat", "exp", "jti", "auth_time", "amr", "idp", "nonce",
			"name", "given_name", "family_name", "preferred_username", "email", "email_verified", "updated_at", "groups"},
		"code_challenge_methods_supported": []string{"S256"},
		"request_parameter_supported":      false,
	})
}

// redirectAllowed reports whether uri is registered for a. A registered
// loopback URI without a port matches that URI on any port (RFC 8252 §7.3);
// a registered loopback origin followed by "/*" matches any path on it.
func redirectAllowed(a *app, uri string) bool {
	if slices.Contains(a.redirectURIs, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "http" || u.Port() == "" || u.User != nil || u.Fragment != "" {
		return false
	}
	h := u.Hostname()
	if h != "127.0.0.1" && h != "localhost" && h != "::1" {
		return false
	}
	host := h
	if strings.Contains(h, ":") {
		host = "[" + h + "]"
	}
	bare := u.Scheme + "://" + host + u.EscapedPath()
	if u.RawQuery != "" {
		bare += "?" + u.RawQuery
	}
	return slices.Contains(a.redirectURIs, bare) || slices.Contains(a.redirectURIs, u.Scheme+"://"+host+"/*")
}

// redirectWith sends the browser to uri with params added to its query.
func redirectWith(w http.ResponseWriter, r *http.Request, uri string, params url.Values) {
	u, err := url.Parse(uri)
	if err != nil {
		errorPage(w, "invalid_request", "The redirect URI is invalid.")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

func redirectError(w http.ResponseWriter, r *http.Request, uri, state, code, desc string) {
	p := url.Values{"error": {code}, "error_description": {desc}}
	if state != "" {
		p.Set("state", state)
	}
	redirectWith(w, r, uri, p)
}

func (o *Org) authorize(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.Form
	s := o.st()
	s.mu.RLock()
	a := s.byClient[f.Get("client_id")]
	inactive := a != nil && a.inactive
	s.mu.RUnlock()
	if a == nil || a.kind != "web" || inactive {
		errorPage(w, "invalid_client", "Invalid value for 'client_id' parameter.")
		return
	}
	uri, state := f.Get("redirect_uri"), f.Get("state")
	if !redirectAllowed(a, uri) {
		errorPage(w, "invalid_request", "The 'redirect_uri' parameter must be a Login redirect URI in the client app settings.")
		return
	}
	fail := func(code, desc string) { redirectError(w, r, uri, state, code, desc) }
	scopes := strings.Fields(f.Get("scope"))
	switch {
	case f.Get("response_type") != "code":
		fail("unsupported_response_type", "The response type is not supported by the authorization server. Configured response types: [code].")
	case state == "":
		fail("invalid_request", "The authorization request is missing the required parameter 'state'.")
	case len(scopes) == 0:
		fail("invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
	case slices.ContainsFunc(scopes, func(sc string) bool { return !knownScope(sc) }):
		fail("invalid_scope", "One or more scopes are not configured for the authorization server resource.")
	case f.Get("code_challenge") != "" && f.Get("code_challenge_method") != "S256":
		fail("invalid_request", "PKCE code challenge method must be S256.")
	case f.Get("response_mode") != "" && f.Get("response_mode") != "query":
		fail("invalid_request", "The response mode is not supported by the authorization server. Configured response modes: [query].")
	case f.Get("prompt") == "none":
		fail("login_required", "The client specified not to prompt, but the user is not logged in.")
	default:
		t := &authTxn{app: a, redirectURI: uri, state: state, nonce: f.Get("nonce"), challenge: f.Get("code_challenge"),
			login: f.Get("login_hint"), scopes: scopes, expires: o.now().Add(txnLifetime)}
		id := randomToken(32)
		s.mu.Lock()
		s.txns[id] = t
		s.mu.Unlock()
		signInPage(w, id, a.label, t.login, "")
	}
}

func (o *Org) signIn(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	id, login, password := r.PostForm.Get("txn"), r.PostForm.Get("username"), r.PostForm.Get("password")
	s := o.st()
	now := o.now()
	s.mu.Lock()
	t := s.txns[id]
	if t != nil && !now.Before(t.expires) {
		delete(s.txns, id)
		t = nil
	}
	var u *user
	if t != nil {
		u = s.lookupUser(login)
		if u != nil && u.password == password && strings.EqualFold(u.login, login) {
			delete(s.txns, id)
		} else {
			u = nil
		}
	}
	s.mu.Unlock()
	switch {
	case t == nil:
		errorPage(w, "invalid_request", "The sign-in request has expired. Start again from the application.")
		return
	case u == nil:
		signInPage(w, id, t.app.label, login, "Unable to sign in: the username or password is incorrect.")
		return
	}
	fail := func(code, desc string) { redirectError(w, r, t.redirectURI, t.state, code, desc) }
	s.mu.Lock()
	assigned := t.app.isAssigned(u.id)
	var missingOIDC, okta, granted []string
	for _, sc := range t.scopes {
		g := t.app.grantFor(sc) != nil
		if strings.HasPrefix(sc, "okta.") {
			okta = append(okta, sc)
			if !g {
				continue
			}
		} else if !g {
			missingOIDC = append(missingOIDC, sc)
		}
		if !slices.Contains(granted, sc) {
			granted = append(granted, sc)
		}
	}
	hasOkta := slices.ContainsFunc(granted, func(sc string) bool { return strings.HasPrefix(sc, "okta.") })
	ok := assigned && len(missingOIDC) == 0 && (len(okta) == 0 || hasOkta)
	code := ""
	if ok {
		code = randomToken(43)
		s.codes[code] = &authCode{clientID: t.app.clientID, redirectURI: t.redirectURI, nonce: t.nonce, challenge: t.challenge,
			userID: u.id, scopes: granted, expires: now.Add(codeLifetime), authTime: now}
	}
	s.mu.Unlock()
	switch {
	case !assigned:
		fail("access_denied", "User is not assigned to the client application.")
	case len(missingOIDC) > 0:
		fail("invalid_scope", "The following scopes are not granted to the client application: "+strings.Join(missingOIDC, ", ")+".")
	case !ok:
		fail("consent_required", "You are not allowed any of the requested scopes.")
	default:
		redirectWith(w, r, t.redirectURI, url.Values{"code": {code}, "state": {t.state}})
	}
}

var signInTmpl = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign In</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}label,input,button{display:block;width:100%;margin:.4rem 0}.error{color:#b00}</style>
</head>
<body>
<main>
<h1>Sign In</h1>
<p>to {{.App}}</p>
{{if .Error}}<p class="error" role="alert">{{.Error}}</p>
{{end}}<form method="post" action="/login/signin">
<input type="hidden" name="txn" value="{{.Txn}}">
<label for="username">Username</label>
<input id="username" name="username" type="text" value="{{.Login}}" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" value="" autocomplete="current-password" required>
<button type="submit">Sign In</button>
</form>
</main>
</body>
</html>
`))

var errorTmpl = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Error</title></head>
<body>
<main>
<h1>400 Bad Request</h1>
<p>Identity Provider: Unknown</p>
<p>Error Code: <code id="error-code">{{.Code}}</code></p>
<p>Description: <span id="error-description">{{.Desc}}</span></p>
</main>
</body>
</html>
`))

func signInPage(w http.ResponseWriter, txn, appLabel, login, errMsg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_ = signInTmpl.Execute(w, map[string]string{"Txn": txn, "App": appLabel, "Login": login, "Error": errMsg})
}

// errorPage shows an authorization error that must not be redirected (the
// redirect URI cannot be trusted).
func errorPage(w http.ResponseWriter, code, desc string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	_ = errorTmpl.Execute(w, map[string]string{"Code": code, "Desc": desc})
}
