package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/oauth2"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/counttext"
)

// ownerLogin is the login of a token's owner; "" for the bootstrap
// admin's tokens.
func ownerLogin(t *api.Token) string {
	if t.Owner == nil {
		return ""
	}
	return t.Owner.Login
}

func cmdTokensCreate(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "tokens create", "tokens create --name NAME [--role viewer|operator|admin] [--expires-in 720h] [--json]")
	var name, role, expiresIn string
	fs.StringVar(&name, "name", "", "what the token is for (required)")
	fs.StringVar(&role, "role", "", "the token's role, at most your own; default your role")
	fs.StringVar(&expiresIn, "expires-in", "", "how long the token lasts (a Go duration, at most 8784h); default 720h, and never beyond the end of the token in use")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	if name == "" {
		return usagef("--name is required (say what the token is for)")
	}
	body := api.TokenRequest{Name: name, Role: role, ExpiresIn: expiresIn}
	var raw json.RawMessage
	if err := c.do(ctx, "POST", "/api/v1/tokens", body, &raw); err != nil {
		return inputRefused(err, anyRefusal)
	}
	var t api.Token
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("the server's answer to POST /api/v1/tokens is not the expected JSON: %w", err)
	}
	if o.json {
		err = printJSON(e.stdout, raw)
	} else {
		fmt.Fprintf(e.stdout, "Created the token %s (%s, id %s), valid until %s.\nCopy it now; it is not shown again:\n\n  %s\n\n",
			t.Name, t.Role, t.ID, when(t.ExpiresAt), t.Token)
	}
	if err == nil {
		err = outputError(e.stdout)
	}
	if err != nil {
		// The token is shown once: one that was not printed is of no use.
		return fmt.Errorf("created the token %s (id %s), but could not print it (%w); it is not shown again: revoke it (cardflow tokens revoke %s) and create another", t.Name, t.ID, err, t.ID)
	}
	return nil
}

func cmdTokensList(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "tokens list", "tokens list [--all] [--json]")
	var all bool
	fs.BoolVar(&all, "all", false, "everyone's tokens (admins only)")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	path := "/api/v1/tokens"
	if all {
		path += "?all=true"
	}
	return fetch(ctx, c, o, e.stdout, path, func(w io.Writer, out *api.TokenList) {
		if len(out.Tokens) == 0 {
			fmt.Fprintln(w, "No tokens.")
			return
		}
		t := newTable(w, "ID", "NAME", "ROLE", "OWNER", "CREATED", "EXPIRES", "LAST USED")
		for _, tok := range out.Tokens {
			owner := ownerLogin(&tok)
			if owner == "" {
				owner = "bootstrap admin"
			}
			last := "never"
			if tok.LastUsedAt != nil {
				last = when(*tok.LastUsedAt)
			}
			t.row(tok.ID, tok.Name, tok.Role, owner, when(tok.CreatedAt), when(tok.ExpiresAt), last)
		}
		t.flush()
	})
}

func cmdTokensRevoke(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "tokens revoke", "tokens revoke TOKEN_ID|TOKEN [--yes] [--json]\n\n"+
		"Revokes a personal API token, named by its id or given itself (cfp_...); this cannot be\n"+
		"undone. It asks first on a terminal (--yes: without asking).")
	var yes bool
	fs.BoolVar(&yes, "yes", false, yesFlag)
	id, c, err := o.parseOneArg(args, "token id")
	if err != nil {
		return err
	}
	secret := strings.HasPrefix(id, api.PersonalTokenPrefix)
	named, again := fmt.Sprintf("the token %s", id), e.self+" tokens revoke "+shellArg(id)+" --yes"
	if secret {
		// Never repeated: a leaked token is not printed again.
		named, again = "the token given", e.self+" tokens revoke "+api.PersonalTokenPrefix+"… --yes"
	}
	if err := needsAnswer(e, yes, "tokens revoke", "revoke "+named, again); err != nil {
		return err
	}
	if secret {
		// A token itself (found in a log, a chat): its id is asked with
		// it, so that it is never sent in an address, which servers and
		// proxies log.
		return revokeTokenItself(ctx, e, c, id, yes)
	}
	if !yes {
		tok, err := findToken(ctx, c, id)
		if err != nil {
			return err
		}
		if err := confirmRevoke(e, c, id, fmt.Sprintf("the token %s (%s, %s, expires %s)", tok.ID, tokenActorText(tok), tok.Role, when(tok.ExpiresAt))); err != nil {
			return err
		}
	}
	if err := c.do(ctx, "DELETE", "/api/v1/tokens/"+pathEscape(id), nil, nil); err != nil {
		return err
	}
	return sayRevoked(e, c, id, "the token "+id)
}

// findToken is the token with id among those c may revoke (everyone's for
// an admin, else c's own), so that the question is asked only about a
// token that exists; one that is not there is refused as the server
// refuses it, naming the token id is the name of, if any.
func findToken(ctx context.Context, c *client, id string) (*api.Token, error) {
	var toks []api.Token
	for next := "/api/v1/tokens?all=true"; next != ""; {
		var page api.TokenList
		err := c.do(ctx, "GET", next, nil, &page)
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusForbidden && next == "/api/v1/tokens?all=true" {
			next = "/api/v1/tokens" // not an admin: one's own
			continue
		}
		if err != nil {
			return nil, err
		}
		toks = append(toks, page.Tokens...)
		next = page.Next
	}
	var named []api.Token
	for i, t := range toks {
		if t.ID == id {
			return &toks[i], nil
		}
		if t.Name == id {
			named = append(named, t)
		}
	}
	remedy := "list your tokens with cardflow tokens list (everyone's: --all)"
	switch len(named) {
	case 0:
	case 1:
		remedy = fmt.Sprintf("%q is the name of the token %s (%s, %s, expires %s): revoke it by its id, cardflow tokens revoke %s",
			id, named[0].ID, tokenActorText(&named[0]), named[0].Role, when(named[0].ExpiresAt), named[0].ID)
	default:
		var ids []string
		for _, t := range named {
			ids = append(ids, t.ID)
		}
		remedy = fmt.Sprintf("%q is the name of %d tokens, %s: revoke each by its id (cardflow tokens revoke ID; cardflow tokens list tells them apart)", id, len(named), strings.Join(ids, ", "))
	}
	return nil, fmt.Errorf("no token you may revoke has the id %q: nothing was revoked\nRemedy: %s", id, remedy)
}

// tokenActorText names tok as the audit names a token: "token ci of
// riley@example.com", "token ci of the bootstrap admin".
func tokenActorText(tok *api.Token) string {
	return actorText(&api.Actor{Type: "token", Login: ownerLogin(tok), TokenName: tok.Name})
}

// confirmRevoke asks before the token tokenID (what names it) is revoked.
func confirmRevoke(e *env, c *client, tokenID, what string) error {
	lines := []string{"Whatever signs in with it (a script, a CI job) is refused from then on; this cannot be undone: cardflow tokens create makes a new one."}
	if c.kept != nil && c.kept.TokenID == tokenID {
		lines = append(lines, fmt.Sprintf("It is the sign-in of cardflow login this command line uses for %s: you are signed out there.", c.base))
	}
	return confirm(e, "Revoke "+what+"?", lines, "revoke it", what+" was not revoked")
}

// sayRevoked says that the token tokenID (what names it) was revoked. When
// it is the token this command line signs in with, it is forgotten as
// logout forgets it: kept, it would make every next command fail as a
// token that is no longer accepted.
func sayRevoked(e *env, c *client, tokenID, what string) error {
	if c.kept == nil || c.kept.TokenID != tokenID {
		fmt.Fprintf(e.stdout, "Revoked %s.\n", what)
		return nil
	}
	creds, path, err := loadCredentials(e)
	if err != nil {
		return err
	}
	delete(creds.Servers, c.base)
	if err := creds.save(path); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Revoked %s, the sign-in of cardflow login this command line used for %s, and removed it from %s: you are signed out there; sign in again with cardflow login.\n", what, c.base, path)
	return nil
}

// revokeTokenItself revokes the personal API token secret: it asks the
// server whose token it is (whoami, with the token), then revokes it by
// its id as c, or, when it is not c's to revoke, with the token itself,
// which may always revoke itself.
func revokeTokenItself(ctx context.Context, e *env, c *client, secret string, yes bool) error {
	holder := *c
	holder.token, holder.kept = secret, nil
	var who api.Whoami
	if err := holder.do(ctx, "GET", "/api/v1/whoami", nil, &who); err != nil {
		var ae *apiError
		if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
			return fmt.Errorf("the token given (%s…) is not accepted by %s, so there is nothing to revoke: %s", api.PersonalTokenPrefix, c.base, ae.Body.Message)
		}
		return fmt.Errorf("find the token given at %s: %w", c.base, err)
	}
	if who.TokenID == "" {
		return fmt.Errorf("the token given (%s…) is not a personal API token of %s: nothing to revoke there", api.PersonalTokenPrefix, c.base)
	}
	what := fmt.Sprintf("the token %s (%s)", who.TokenID, actorText(who.Actor))
	if !yes {
		if err := confirmRevoke(e, c, who.TokenID, what); err != nil {
			return err
		}
	}
	err := c.do(ctx, "DELETE", "/api/v1/tokens/"+pathEscape(who.TokenID), nil, nil)
	var ae *apiError
	if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusForbidden) {
		// Not yours to revoke: the token revokes itself.
		if err := holder.do(ctx, "DELETE", "/api/v1/tokens/"+pathEscape(who.TokenID), nil, nil); err != nil {
			return fmt.Errorf("revoke %s with itself: %w", what, err)
		}
		fmt.Fprintf(e.stdout, "Revoked %s with the token itself, since it is not yours to revoke: the audit log names it as who revoked it.\n", what)
		return nil
	}
	if err != nil {
		return err
	}
	return sayRevoked(e, c, who.TokenID, what)
}

func cmdWhoami(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "whoami", "whoami [--json]")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	return fetch(ctx, c, o, e.stdout, "/api/v1/whoami", func(w io.Writer, out *api.Whoami) {
		if out.TokenID != "" && out.TokenExpiresAt != nil {
			// Which token, and how long it has: tokens list names it by id.
			fmt.Fprintf(w, "%s (%s) at %s; token %s, expires %s\n", actorText(out.Actor), out.Role, c.base, out.TokenID, when(*out.TokenExpiresAt))
			return
		}
		fmt.Fprintf(w, "%s (%s) at %s\n", actorText(out.Actor), out.Role, c.base)
	})
}

// credentials are the tokens of cardflow login, by server URL, kept in
// the user's config directory readable by the user only.
type credentials struct {
	Servers map[string]credential `json:"servers"`
}

type credential struct {
	Token     string    `json:"token"`
	TokenID   string    `json:"tokenId"`
	Login     string    `json:"login"`
	Role      string    `json:"role"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// credentialsPath is where cardflow login keeps its tokens:
// $XDG_CONFIG_HOME/cardflow/credentials.json, else the system's user config
// directory.
func credentialsPath(e *env) (string, error) {
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		d, err := os.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("no config directory to keep the sign-in in: %w", err)
		}
		dir = d
	}
	return filepath.Join(dir, "cardflow", "credentials.json"), nil
}

func loadCredentials(e *env) (*credentials, string, error) {
	path, err := credentialsPath(e)
	if err != nil {
		return nil, "", err
	}
	creds := &credentials{Servers: map[string]credential{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return creds, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(b, creds); err != nil {
		return nil, path, fmt.Errorf("%s is not valid (delete it and run cardflow login again): %w", path, err)
	}
	if creds.Servers == nil {
		creds.Servers = map[string]credential{}
	}
	return creds, path, nil
}

// save writes the credentials 0600 in a 0700 directory, replacing the file
// in one step.
func (c *credentials) save(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".credentials-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// keptLogin returns the sign-in cardflow login keeps for server.
func keptLogin(e *env, server string) (credential, bool) {
	creds, _, err := loadCredentials(e)
	if err != nil {
		return credential{}, false
	}
	cred, ok := creds.Servers[server]
	return cred, ok && cred.Token != ""
}

// refused is the server's refusal of the kept sign-in's token (it expired
// or was revoked), with the remedy that fits: signing in again.
func (c *credential) refused(server string, e api.Error) api.Error {
	return replaceRemedy(e, fmt.Sprintf("run `cardflow login` again: the sign-in of %s kept for %s (valid until %s) is no longer accepted",
		orDash(c.Login), strings.TrimSuffix(server, "/"), when(c.ExpiresAt)))
}

// beyondRole is the server's refusal e of a request beyond the role of the
// kept sign-in's token, with the remedy that fits a person: that token has
// the role their groups gave them at sign-in, so another role comes from
// another group and a new sign-in (the server's remedy for a token, one
// of the role "created by someone who has it", would be someone else's).
// Refusals of another kind (a token's role above one's own, everyone's
// tokens) are e as it is.
func (c *credential) beyondRole(e api.Error) api.Error {
	need, _ := e.Details["requiredRole"].(string)
	if need == "" || !strings.HasPrefix(e.Message, "this needs the ") {
		return e
	}
	return replaceRemedy(e, fmt.Sprintf("ask a cardflow admin to do it; to have the %s role yourself, ask your identity provider's administrator to put you in a group that gives it, "+
		"then run `cardflow login` again: the role of %s's sign-in comes from those groups", need, orDash(c.Login)))
}

// envTokenRefused is the server's refusal e of the token of
// CARDFLOW_API_TOKEN, with a remedy that names the variable the token
// came from: the server's own speaks of the request's header.
func envTokenRefused(server string, e api.Error) api.Error {
	return replaceRemedy(e, fmt.Sprintf("check CARDFLOW_API_TOKEN, the token sent to %s: set it to a personal API token (cardflow tokens create) "+
		"or the server's API token (printed on its first start, and in its data directory's api-token file), or unset it to use the sign-in of cardflow login",
		strings.TrimSuffix(server, "/")))
}

// replaceRemedy is e with remedy for its own, which its message ends with.
// A refusal that used up the address's limit on wrong tokens says first
// how long the server refuses every token from it.
func replaceRemedy(e api.Error, remedy string) api.Error {
	if s, _ := e.Details["refusedUntil"].(string); s != "" {
		if until, err := time.Parse(time.RFC3339, s); err == nil {
			remedy = fmt.Sprintf("wait until %s: every request from this address is refused until then, even with the right token; then %s", when(until), remedy)
		}
	}
	old, _ := e.Details["remedy"].(string)
	if old != "" {
		e.Message = strings.TrimSuffix(e.Message, "; "+old)
	}
	details := map[string]any{}
	for k, v := range e.Details {
		details[k] = v
	}
	details["remedy"] = remedy
	e.Details = details
	return e
}

func cmdLogin(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "login", "login [--server URL] [--listen 127.0.0.1:0] [--no-browser]\n\n"+
		"Signs in with the server's single sign-on in the browser (authorization code with PKCE on a\n"+
		"loopback redirect) and keeps a personal API token in the user's config directory; client\n"+
		"commands use it when CARDFLOW_API_TOKEN is unset.")
	var noBrowser bool
	var listen string
	fs.BoolVar(&noBrowser, "no-browser", false, "print the sign-in URL instead of opening a browser")
	fs.StringVar(&listen, "listen", "127.0.0.1:0", "loopback address for the browser's redirect (the app's redirect URI is http://ADDR/callback; port 0 picks one)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c, err := o.anonymousClient()
	if err != nil {
		return err
	}
	var cfg api.AuthConfig
	if err := c.do(ctx, "GET", "/api/v1/auth/config", nil, &cfg); err != nil {
		var ae *apiError
		// The route, which needs no token, exists only with single
		// sign-on; without it the server refuses the request as it
		// refuses any unknown one without a token: 401.
		if errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusUnauthorized) {
			return fmt.Errorf("%s has no single sign-on: start it with -oidc-issuer, -oidc-client-id and -oidc-role, or use an API token (CARDFLOW_API_TOKEN)", c.base)
		}
		return err
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil || (host != "127.0.0.1" && host != "localhost" && host != "::1") {
		return usagef("--listen %q must be a loopback address such as 127.0.0.1:8400", listen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usagef("--listen %q: the port must be a number from 0 to 65535 (0 picks a free one)", listen)
	}
	ln, err := net.Listen("tcp", listen)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("--listen %s: another program listens on port %s already; stop it, or give another port that the sign-in app allows as a redirect URI (http://%s/callback), or 0 when the app allows any loopback port",
			listen, port, net.JoinHostPort(host, "PORT"))
	}
	if err != nil {
		return fmt.Errorf("listen for the browser's redirect: %w", err)
	}
	defer ln.Close()
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	redirect := "http://" + net.JoinHostPort(host, port) + "/callback"
	verifier, state, nonce := oauth2.GenerateVerifier(), randomText(), randomText()
	oc := &oauth2.Config{ClientID: cfg.ClientID, Endpoint: oauth2.Endpoint{AuthURL: cfg.AuthorizationEndpoint}, RedirectURL: redirect, Scopes: cfg.Scopes}
	authURL := oc.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("nonce", nonce))

	// result is the browser's answer at the callback. A code is answered
	// in the browser only once the server has taken it (answer): the tab
	// must not say "signed in" to a sign-in the server then refuses.
	type result struct {
		code   string
		err    error
		answer chan string
	}
	done := make(chan result, 1)
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if q.Get("state") != state {
			// Not this login's answer (another program on this machine, or
			// an old tab): refused, and the login goes on waiting for its own.
			w.WriteHeader(http.StatusBadRequest)
			_ = loginPage.Execute(w, "This is not the sign-in cardflow login is waiting for: it carries a state that login did not send. Use the URL the terminal shows.")
			return
		}
		res := result{answer: make(chan string, 1)}
		switch {
		case q.Get("error") == "access_denied":
			// Okta's answer to a person not assigned to the sign-in app.
			res.err = fmt.Errorf("the identity provider refused the sign-in: %s (access_denied)\nRemedy: ask the identity provider's administrator to assign you (or a group of yours) to cardflow's sign-in app, client ID %s, then run cardflow login again",
				orDash(q.Get("error_description")), cfg.ClientID)
		case q.Get("error") != "":
			res.err = fmt.Errorf("the identity provider refused the sign-in: %s\nRemedy: run cardflow login again; if the provider refuses again, ask its administrator to check cardflow's sign-in app, client ID %s",
				orDash(q.Get("error_description")+" ("+q.Get("error")+")"), cfg.ClientID)
		case q.Get("code") == "":
			res.err = errors.New("the browser came back without a code; run cardflow login again")
		default:
			res.code = q.Get("code")
		}
		select {
		case done <- res:
		default:
			_ = loginPage.Execute(w, "cardflow login is already finishing another sign-in: go back to the terminal.")
			return
		}
		if res.err != nil {
			_ = loginPage.Execute(w, "cardflow login failed: "+res.err.Error())
			return
		}
		select {
		case msg := <-res.answer:
			_ = loginPage.Execute(w, msg)
		case <-r.Context().Done():
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		// Let the tab's answer be written before the listener goes.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()

	fmt.Fprintf(e.stderr, "Sign in to cardflow at %s in your browser:\n\n  %s\n\n", c.base, authURL)
	if !noBrowser && e.openURL != nil {
		if err := e.openURL(authURL); err != nil {
			fmt.Fprintf(e.stderr, "(could not open a browser: %v; open the URL above yourself)\n", err)
		}
	}
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		return errors.New("stopped waiting for the sign-in; nothing was kept: run cardflow login again")
	case <-time.After(10 * time.Minute):
		return errors.New("no sign-in within 10 minutes; run cardflow login again")
	}
	if res.err != nil {
		return res.err
	}
	tok, path, err := keepLogin(ctx, e, c, api.CLITokenRequest{Code: res.code, CodeVerifier: verifier, RedirectURI: redirect, Nonce: nonce})
	if err != nil {
		res.answer <- "cardflow login failed: " + err.Error()
		return err
	}
	res.answer <- fmt.Sprintf("You are signed in to cardflow as %s (%s). You can close this tab and go back to the terminal.", ownerLogin(tok), tok.Role)
	fmt.Fprintf(e.stdout, "Signed in to %s as %s (%s) until %s. The token is kept in %s.\n",
		c.base, ownerLogin(tok), tok.Role, when(tok.ExpiresAt), path)
	if l := tok.Lowered; l != nil {
		fmt.Fprintln(e.stdout, loweredText(l))
	}
	return nil
}

// loweredText tells a person that their sign-in lowered their other
// sessions and tokens to its role.
func loweredText(l *api.RoleLowered) string {
	var held []string
	if l.Sessions > 0 {
		held = append(held, counttext.Format(l.Sessions, "console session"))
	}
	if len(l.Tokens) > 0 {
		held = append(held, counttext.Format(len(l.Tokens), "token")+" ("+strings.Join(l.Tokens, ", ")+")")
	}
	return fmt.Sprintf("Your groups give you the %s role now: your other sign-ins and tokens were lowered to it (%s).", l.Role, strings.Join(held, ", "))
}

// keepLogin exchanges the sign-in's code for a personal token at the
// server, keeps it in the credentials file and revokes the one it
// replaces; it returns the token and the file's path.
func keepLogin(ctx context.Context, e *env, c *client, req api.CLITokenRequest) (*api.Token, string, error) {
	machine, _ := os.Hostname()
	req.Name = "cardflow login on " + orDash(machine)
	var tok api.Token
	if err := c.do(ctx, "POST", "/api/v1/auth/cli-token", req, &tok); err != nil {
		return nil, "", err
	}
	creds, path, err := loadCredentials(e)
	if err != nil {
		return nil, "", err
	}
	prev, hadPrev := creds.Servers[c.base]
	creds.Servers[c.base] = credential{Token: tok.Token, TokenID: tok.ID, Login: ownerLogin(&tok), Role: tok.Role, ExpiresAt: tok.ExpiresAt}
	if err := creds.save(path); err != nil {
		return nil, "", fmt.Errorf("keep the sign-in in %s: %w", path, err)
	}
	if hadPrev && prev.TokenID != "" && prev.TokenID != tok.ID {
		// The replaced token is kept nowhere now: revoke it, with itself
		// (it may be another person's). One already expired or revoked
		// needs nothing.
		old := &client{base: c.base, token: prev.Token, http: c.http, timeout: c.timeout}
		if err := old.do(ctx, "DELETE", "/api/v1/tokens/"+pathEscape(prev.TokenID), nil, nil); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || (ae.Status != http.StatusUnauthorized && ae.Status != http.StatusNotFound) {
				fmt.Fprintf(e.stderr, "(could not revoke the previous sign-in's token %s: %v; revoke it with cardflow tokens revoke %s)\n", prev.TokenID, err, prev.TokenID)
			}
		}
	}
	return &tok, path, nil
}

func cmdLogout(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "logout", "logout [--server URL]")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	c, err := o.anonymousClient()
	if err != nil {
		return err
	}
	creds, path, err := loadCredentials(e)
	if err != nil {
		return err
	}
	cred, ok := creds.Servers[c.base]
	if !ok {
		fmt.Fprintf(e.stdout, "Not signed in to %s.\n", c.base)
		return nil
	}
	c.token = cred.Token
	if err := c.do(ctx, "DELETE", "/api/v1/tokens/"+pathEscape(cred.TokenID), nil, nil); err != nil {
		var ae *apiError
		if !errors.As(err, &ae) || (ae.Status != http.StatusUnauthorized && ae.Status != http.StatusNotFound) {
			return fmt.Errorf("revoke the token at %s (the sign-in is kept; try again): %w", c.base, err)
		}
	}
	delete(creds.Servers, c.base)
	if err := creds.save(path); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Signed out of %s: the token was revoked and removed from %s.\n", c.base, path)
	return nil
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cardflow login</title></head>
<body style="font-family:sans-serif;max-width:32rem;margin:4rem auto"><h1>cardflow</h1><p>{{.}}</p></body></html>
`))

func randomText() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// openBrowser opens u in the user's browser.
func openBrowser(u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	go func() { _ = cmd.Wait() }()
	return nil
}

// loginHint is how to get a token when there is none.
func loginHint(server string) string {
	return "no API token: run `cardflow login` (single sign-on), or export CARDFLOW_API_TOKEN (a personal token from `cardflow tokens create`, or the server's API token, printed on its first start and in the data directory's api-token file); server " + strings.TrimSuffix(server, "/")
}
