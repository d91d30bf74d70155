package console

import (
	"log/slog"
	"net/http"
	"strings"
)

// signinData is the sign-in page.
type signinData struct {
	Next      string
	Token     string // the sign-in form's anti-forgery value
	Error     string
	SignedOut bool
}

// signinPage shows the sign-in form, or sends a signed-in browser on.
func (c *Console) signinPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if _, ss := c.currentSession(r); ss != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	c.showSignin(w, r, http.StatusOK, signinData{Next: next, SignedOut: r.URL.Query().Get("signedout") == "1"})
}

func (c *Console) showSignin(w http.ResponseWriter, r *http.Request, status int, d signinData) {
	d.Token = randomString(24)
	c.setCookie(w, r, signinCookie, d.Token, 3600)
	c.render(w, r, nil, status, "signin", "Sign in", d)
}

// signin checks the API token and starts a session.
func (c *Console) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		c.forbidden(w, r, "The sign-in form could not be read.")
		return
	}
	ck, err := r.Cookie(signinCookie)
	if !c.sameOrigin(r) || err != nil || !equalSecret(r.PostForm.Get(csrfField), ck.Value) {
		c.log.WarnContext(r.Context(), "console: sign-in post refused", slog.Bool("same_origin", c.sameOrigin(r)), slog.Bool("form_cookie", err == nil))
		c.forbidden(w, r, "The sign-in form is out of date or was sent from another site.")
		return
	}
	next := localPath(r.PostForm.Get("next"))
	now := c.now()
	addr := clientAddr(r)
	if !c.limiter.allow(addr, now) {
		c.log.WarnContext(r.Context(), "console: too many failed sign-ins from this address; refusing them for a while", slog.String("client", addr))
		c.showSignin(w, r, http.StatusTooManyRequests, signinData{Next: next, Error: "Too many failed sign-ins. Wait a minute, then try again."})
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	if c.CheckToken == nil || !c.CheckToken(token) {
		c.limiter.fail(addr, now)
		c.log.InfoContext(r.Context(), "console: sign-in with a wrong API token", slog.String("client", addr))
		c.showSignin(w, r, http.StatusUnauthorized, signinData{Next: next,
			Error: "That is not this server's API token. It was printed when the server first started and is in the data directory's api-token file."})
		return
	}
	if old, err := r.Cookie(sessionCookie); err == nil {
		c.sessions.delete(old.Value)
	}
	id, _ := c.sessions.create(now, c.sessionTTL())
	c.setCookie(w, r, sessionCookie, id, int(c.sessionTTL().Seconds()))
	c.setCookie(w, r, signinCookie, "", -1)
	c.log.InfoContext(r.Context(), "console: signed in", slog.String("caller", c.caller()))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signout ends the session.
func (c *Console) signout(w http.ResponseWriter, r *http.Request, s *reqState) {
	c.sessions.delete(s.id)
	c.setCookie(w, r, sessionCookie, "", -1)
	c.log.InfoContext(r.Context(), "console: signed out")
	http.Redirect(w, r, "/signin?signedout=1", http.StatusSeeOther)
}
