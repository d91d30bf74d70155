package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/counttext"
)

// cardIndex is the server's cards by ref (GET /api/v1/connectors); nil
// when they could not be read.
type cardIndex map[string]api.Card

// fetchCards reads the server's cards; nil when it cannot, which only
// makes missingScopes less precise.
func fetchCards(ctx context.Context, c *client) cardIndex {
	cs, err := fetchConnectors(ctx, c)
	if err != nil {
		return nil
	}
	out := cardIndex{}
	for _, cn := range cs {
		for _, cd := range cn.Cards {
			out[cd.Ref] = cd
		}
	}
	return out
}

// missingScopes describes the missing scopes: "scope (cards that will
// fail: ...; flows cannot start from these event cards with poll
// delivery: ...)". An event card that needs the scope only for one
// delivery (its deliveryScopes in cards) does not fail: the other
// delivery may still bring its events.
func missingScopes(c *api.Connection, cards cardIndex) []string {
	var out []string
	for _, sc := range c.MissingScopes {
		var fail, events []string
		delivery := ""
		for _, ref := range c.MissingScopeCards[sc] {
			d := ""
			if cd, ok := cards[ref]; ok && cd.Scope != sc {
				for dd, ds := range cd.DeliveryScopes {
					if ds == sc {
						d = dd
					}
				}
			}
			if d == "" {
				fail = append(fail, ref)
				continue
			}
			events, delivery = append(events, ref), d
		}
		var parts []string
		if len(fail) > 0 {
			parts = append(parts, "cards that will fail: "+strings.Join(fail, ", "))
		}
		if len(events) > 0 {
			parts = append(parts, "flows cannot start from these event cards with "+delivery+" delivery: "+strings.Join(events, ", "))
		}
		if len(parts) > 0 {
			out = append(out, sc+" ("+strings.Join(parts, "; ")+")")
		} else {
			out = append(out, sc)
		}
	}
	return out
}

// authorizedAt is the time of the last authorization; zero when none.
func authorizedAt(c *api.Connection) time.Time {
	if c.AuthorizedAt == nil {
		return time.Time{}
	}
	return *c.AuthorizedAt
}

func authorizedLogin(c *api.Connection) string {
	if c.AuthorizedBy == nil {
		return ""
	}
	if c.AuthorizedBy.Type == "service" {
		return "service app " + c.AuthorizedBy.ClientID
	}
	return c.AuthorizedBy.Login
}

func printConnection(w io.Writer, c *api.ConnectionDetail, cards cardIndex) {
	fmt.Fprintf(w, "ID:               %s\n", c.ID)
	fmt.Fprintf(w, "Nickname:         %s\n", c.Nickname)
	fmt.Fprintf(w, "Connector:        %s\n", c.Connector)
	fmt.Fprintf(w, "Domain:           %s\n", c.Domain)
	fmt.Fprintf(w, "Status:           %s\n", c.Status)
	if c.StatusReason != "" {
		fmt.Fprintf(w, "Reason:           %s\n", c.StatusReason)
	}
	if c.StatusReasonCode != "" {
		fmt.Fprintf(w, "Reason code:      %s\n", c.StatusReasonCode)
	}
	if c.Remedy != "" {
		fmt.Fprintf(w, "Remedy:           %s\n", c.Remedy)
	}
	fmt.Fprintf(w, "Scopes:           %s\n", orDash(c.ScopeMode))
	fmt.Fprintf(w, "Requested scopes: %s\n", orDash(strings.Join(c.RequestedScopes, " ")))
	fmt.Fprintf(w, "Granted scopes:   %s\n", orDash(strings.Join(c.GrantedScopes, " ")))
	if m := missingScopes(&c.Connection, cards); len(m) > 0 {
		fmt.Fprintf(w, "Missing scopes:   %s\n", strings.Join(m, "; "))
	}
	fmt.Fprintf(w, "Auth:             %s\n", orDash(c.Auth))
	if c.DPoP {
		fmt.Fprintf(w, "DPoP:             yes\n")
	}
	switch {
	case c.RefreshTokenExpiresAt != nil && c.RefreshTokenExpired:
		fmt.Fprintf(w, "Refresh expired:  %s (EXPIRED: reauthorize; a new sign-in starts a new 90 days)\n", when(*c.RefreshTokenExpiresAt))
	case c.RefreshTokenExpiresAt != nil:
		soon := ""
		if c.ExpiresSoon {
			soon = " (EXPIRES SOON: reauthorize before then)"
		}
		fmt.Fprintf(w, "Refresh expires:  %s%s\n", when(*c.RefreshTokenExpiresAt), soon)
	case c.Auth != "service" && c.AuthorizedAt != nil:
		fmt.Fprintf(w, "Refresh expires:  not known yet: the org did not say when asked; cardflow asks again (Okta ends it 90 days after the sign-in)\n")
	}
	if c.Auth == "service" {
		fmt.Fprintf(w, "Client ID:        %s\n", c.ClientID)
		if len(c.PublicJWK) > 0 {
			fmt.Fprintf(w, "Public key:       %s\n", compactJSON(c.PublicJWK))
		}
		if len(c.NextPublicJWK) > 0 {
			fmt.Fprintf(w, "New public key:   %s (used once the org accepts it)\n", compactJSON(c.NextPublicJWK))
		}
	}
	if c.AuthorizedBy != nil && c.AuthorizedBy.Type == "service" {
		fmt.Fprintf(w, "Authorized by:    service app %s\n", c.AuthorizedBy.ClientID)
	}
	if c.AuthorizedBy != nil && c.AuthorizedBy.Type != "service" && c.AuthorizedBy.Login != "" {
		name := c.AuthorizedBy.Login
		if c.AuthorizedBy.Name != "" {
			name = c.AuthorizedBy.Name + " <" + c.AuthorizedBy.Login + ">"
		}
		fmt.Fprintf(w, "Authorized by:    %s at %s\n", name, when(authorizedAt(&c.Connection)))
	}
	if es := c.EventSource; es != nil {
		if es.HookStatus != "" {
			fmt.Fprintf(w, "Event hook:       %s (%s)\n", es.HookStatus, orDash(strings.Join(es.EventTypes, " ")))
			if es.Reason != "" {
				fmt.Fprintf(w, "Hook reason:      %s\n", es.Reason)
			}
			if es.Remedy != "" {
				fmt.Fprintf(w, "Hook remedy:      %s\n", es.Remedy)
			}
		}
		if es.PolledAt != nil {
			fmt.Fprintf(w, "System Log:       last new events %s\n", when(*es.PolledAt))
		}
		if es.PollFailingSince != nil {
			fmt.Fprintf(w, "System Log poll:  failing since %s: %s\n", when(*es.PollFailingSince), es.PollError)
			if es.PollRemedy != "" {
				fmt.Fprintf(w, "Poll remedy:      %s\n", es.PollRemedy)
			}
		}
	}
	fmt.Fprintf(w, "Created:          %s\n", when(c.CreatedAt))
}

func cmdConnectionsList(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "connections list", "connections list [--json]")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	// Every page. The first asks for the server's default page size: a
	// server from before the list was paged refuses ?limit= and answers
	// every connection at once, without next.
	all := api.ConnectionList{Connections: []api.Connection{}}
	for next := "/api/v1/connections"; next != ""; {
		var page api.ConnectionList
		if err := c.do(ctx, "GET", next, nil, &page); err != nil {
			return err
		}
		all.Connections = append(all.Connections, page.Connections...)
		next = page.Next
	}
	if o.json {
		return printJSON(e.stdout, all)
	}
	if len(all.Connections) == 0 {
		printNone(e.stdout, "connections", "")
		return nil
	}
	t := newTable(e.stdout, "NICKNAME", "STATUS", "DOMAIN", "CONNECTOR", "AUTHORIZED BY", "ID")
	for i := range all.Connections {
		v := &all.Connections[i]
		t.row(v.Nickname, statusText(v), v.Domain, v.Connector, orDash(authorizedLogin(v)), v.ID)
	}
	t.flush()
	return nil
}

// statusText is the status with a mark people can scan: the reason code
// of a connection that is not active, what an active one lacks.
func statusText(v *api.Connection) string {
	var marks []string
	if v.Status != "active" && v.StatusReasonCode != "" {
		marks = append(marks, v.StatusReasonCode)
	}
	if v.Status == "active" {
		if len(v.MissingScopes) > 0 {
			marks = append(marks, "missing scopes")
		}
		switch {
		case v.RefreshTokenExpired && v.RefreshTokenExpiresAt != nil:
			// No card has found it yet: the next one will.
			marks = append(marks, "expired "+v.RefreshTokenExpiresAt.UTC().Format("2006-01-02")+": reauthorize")
		case v.ExpiresSoon && v.RefreshTokenExpiresAt != nil:
			marks = append(marks, "expires "+v.RefreshTokenExpiresAt.UTC().Format("2006-01-02"))
		}
	}
	if v.PollError != "" {
		marks = append(marks, "System Log polls failing")
	}
	if len(marks) > 0 {
		return v.Status + " (" + strings.Join(marks, ", ") + ")"
	}
	return v.Status
}

func cmdConnectionsShow(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "connections show", "connections show ID|NICKNAME [--json]")
	id, c, err := o.parseOneArg(args, "connection id or nickname")
	if err != nil {
		return err
	}
	return fetch(ctx, c, o, e.stdout, "/api/v1/connections/"+pathEscape(id), func(w io.Writer, v *api.ConnectionDetail) {
		printConnection(w, v, fetchCards(ctx, c))
	})
}

// scopeSelection returns the scopes of repeated --scope flags (commas and
// spaces also separate them); nil when none was given, which means the
// default scopes (create) or the previous selection (reauthorize).
func scopeSelection(flags []string) *[]string {
	if len(flags) == 0 {
		return nil
	}
	var out []string
	for _, v := range flags {
		out = append(out, strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	return &out
}

func cmdConnectionsCreate(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "connections create",
		"connections create --nickname N --domain example.okta.com --client-id ID [--client-secret-stdin | --client-secret-file FILE] [--scope S ...] [--timeout 5m] [--no-wait] [--json]\n"+
			"       cardflow connections create --auth service --nickname N --domain example.okta.com --client-id ID [--private-key-file FILE|- [--key-id KID]] [--key-algorithm ES256|RS256] [--dpop] [--scope S ...] [--json]\n\n"+
			"A user connection (the default) signs in as a person: the client secret comes from\n"+
			"stdin (--client-secret-stdin), a file (--client-secret-file), or the environment\n"+
			"variable CARDFLOW_CLIENT_SECRET; never from the command line, where other users of\n"+
			"this machine and the shell history would see it. A service connection (--auth\n"+
			"service) acts as an Okta API Services app with private_key_jwt: give its private\n"+
			"key (PEM or JWK) with --private-key-file, or let cardflow generate one; it prints\n"+
			"the public JWK to add to the app.")
	var in api.CreateConnectionRequest
	var scopes stringList
	var timeout time.Duration
	var noWait bool
	fs.StringVar(&in.Connector, "connector", "okta-devices", "connector id")
	fs.StringVar(&in.Nickname, "nickname", "", "the connection's name (unique per connector)")
	fs.StringVar(&in.Domain, "domain", "", "the org's domain, e.g. example.okta.com")
	fs.StringVar(&in.ClientID, "client-id", "", "client ID of the org's OAuth app")
	secretIn := addSecretFlags(fs, "the client secret")
	fs.Var(&scopes, "scope", "custom scope to request (repeatable; comma-separated allowed); default: the connector's default scopes")
	fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the authorization to finish")
	fs.BoolVar(&noWait, "no-wait", false, "print the authorize URL and return without waiting")
	var auth, keyFile, keyAlg, keyID string
	var dpop bool
	fs.StringVar(&auth, "auth", "user", "user (a person signs in) or service (an API Services app with a private key)")
	fs.StringVar(&keyFile, "private-key-file", "", "service: the app's private key, PEM or JWK (\"-\" for stdin); default: generate one")
	fs.StringVar(&keyAlg, "key-algorithm", "", "service: the algorithm of a generated key, ES256 (default) or RS256")
	fs.StringVar(&keyID, "key-id", "", "service: the KID the app's Public keys list shows for the key of --private-key-file, when it is PEM (default: the key's thumbprint) or a JWK without a kid")
	fs.BoolVar(&dpop, "dpop", false, "service: send DPoP proofs (also switched on when the org asks for them)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if err := checkWaitTimeout(timeout, noWait); err != nil {
		return err
	}
	// Say every missing flag at once, before asking for a secret or the
	// server, which would name them one at a time.
	var missing []string
	for _, f := range []struct{ name, value string }{{"--nickname", in.Nickname}, {"--domain", in.Domain}, {"--client-id", in.ClientID}} {
		if strings.TrimSpace(f.value) == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return usagef("missing %s: e.g. cardflow connections create --nickname Prod --domain example.okta.com --client-id 0oa... (the client ID of the org's OAuth app)", strings.Join(missing, ", "))
	}
	switch auth {
	case "service":
		if secretIn.given() {
			return usagef("--auth service authenticates with a private key, not a client secret: drop the client secret option; give --private-key-file or let cardflow generate a key")
		}
		if keyID != "" && keyFile == "" {
			return usagef("--key-id names the key of --private-key-file: give that too, or leave --key-id out to let cardflow generate a key pair")
		}
		return createServiceConnection(ctx, e, o, in.Connector, in.Nickname, in.Domain, in.ClientID, scopeSelection(scopes), keyFile, keyAlg, keyID, dpop)
	case "user":
		if keyFile != "" || keyAlg != "" || keyID != "" || dpop {
			return usagef("--private-key-file, --key-algorithm, --key-id and --dpop are for --auth service")
		}
	default:
		return usagef("--auth %q: want user or service", auth)
	}
	secret, err := secretIn.read(e)
	if err != nil {
		return err
	}
	in.ClientSecret = api.Secret(secret)
	in.Scopes = scopeSelection(scopes)
	c, err := o.client()
	if err != nil {
		return err
	}
	var out api.ConnectionCreated
	if err := c.do(ctx, "POST", "/api/v1/connections", in, &out); err != nil {
		return inputRefused(err, anyRefusal)
	}
	return awaitAuthorization(ctx, e, o, c, out.Connection.ID, out.AuthorizeURL, time.Time{}, -1, timeout, noWait, nil)
}

// lastAuthorizeEvent returns the newest connection.authorize audit event of
// connection id, or one with ID 0 when there is none.
func lastAuthorizeEvent(ctx context.Context, c *client, id string) (api.AuditEvent, error) {
	var out api.AuditList
	if err := c.do(ctx, "GET", listPath("/api/v1/audit", 1, "action", "connection.authorize", "connection", id), nil, &out); err != nil {
		return api.AuditEvent{}, err
	}
	if len(out.Events) == 0 {
		return api.AuditEvent{}, nil
	}
	return out.Events[0], nil
}

// checkWaitTimeout refuses a --timeout that would end the wait for a
// sign-in before it began (zero or negative), before anything is started
// at the server; with --no-wait there is no wait to bound.
func checkWaitTimeout(timeout time.Duration, noWait bool) error {
	if timeout <= 0 && !noWait {
		return usagef("--timeout %s: want how long to wait for the sign-in, such as 5m (or --no-wait not to wait)", timeout)
	}
	return nil
}

// awaitAuthorization prints the authorize URL and, unless noWait, polls the
// connection until the authorization has finished (an authorizedAt other
// than since, or a status other than pending), then prints it. It fails
// when the connection ends in a status other than active. A
// reauthorization of an active connection that fails leaves it active, so
// with afterEvent >= 0 (the newest connection.authorize audit event before
// it started) a newer failed one ends the wait at once with its reason.
// prev is the account the connection acted as before (nil: none): signed
// in with another one, the reauthorization succeeds with a warning.
func awaitAuthorization(ctx context.Context, e *env, o *clientOpts, c *client, id, authorizeURL string, since time.Time, afterEvent int64, timeout time.Duration, noWait bool, prev *api.AuthorizedBy) error {
	if o.json && noWait {
		return printJSON(e.stdout, map[string]string{"id": id, "authorizeUrl": authorizeURL})
	}
	msgOut := e.stdout
	if o.json {
		msgOut = e.stderr
	}
	fmt.Fprintf(msgOut, "Open this URL in a browser and sign in as an administrator of the org:\n\n  %s\n\n", authorizeURL)
	if noWait {
		fmt.Fprintf(msgOut, "Then check the connection with: cardflow connections show %s\n", shellArg(id))
		return nil
	}
	fmt.Fprintf(msgOut, "Waiting up to %s for the authorization to finish...\n", timeout)
	interrupted := ctx
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// stopped says why the wait ended early and how to go on: the
	// authorization can still be finished in the browser.
	stopped := func() error {
		if interrupted.Err() != nil {
			return fmt.Errorf("stopped waiting; the authorization can still be finished: open the URL above, then run: cardflow connections show %s", shellArg(id))
		}
		return fmt.Errorf("the authorization did not finish within %s; open the URL above, then run: cardflow connections show %s", timeout, shellArg(id))
	}
	// lost is a failed poll (the server went away, say): the sign-in can
	// still be finished, and the id is what the user needs to go on.
	lost := func(err error) error {
		return fmt.Errorf("%w\nThe authorization can still be finished: open the URL above, then run: cardflow connections show %s", err, shellArg(id))
	}
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		var raw json.RawMessage
		err := c.do(ctx, "GET", "/api/v1/connections/"+pathEscape(id), nil, &raw)
		if err != nil && ctx.Err() != nil {
			return stopped()
		}
		if err != nil {
			return lost(err)
		}
		var v api.ConnectionDetail
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		// A reauthorization ends with another sign-in, or a newer failed
		// connection.authorize event (a connection that was not active
		// before stays in a status other than active meanwhile). The
		// sign-in's time is the org's, so it is compared for a change, not
		// for being later than a time another clock set.
		reauth := afterEvent >= 0
		signedIn := authorizedAt(&v.Connection)
		if v.Status != "pending" && (since.IsZero() || !signedIn.IsZero() && !signedIn.Equal(since) || (!reauth && v.Status != "active")) {
			if o.json {
				if err := printJSON(e.stdout, raw); err != nil {
					return err
				}
			} else {
				printConnection(e.stdout, &v, fetchCards(ctx, c))
			}
			if v.Status != "active" {
				return reported(codeFailed, fmt.Sprintf("connection %s did not become active (status %s): %s", v.Nickname, v.Status, v.StatusReason), v.Remedy)
			}
			if now := v.AuthorizedBy; prev != nil && prev.Type == "user" && prev.UserID != "" && now != nil && now.UserID != prev.UserID {
				fmt.Fprintf(e.stderr, "Warning: %s acted as %s before this sign-in: its cards and flows now act as %s, with that account's admin role, and Okta's System Log names that account for what they do; if that is not meant, reauthorize it and sign in as %s\n",
					v.Nickname, prev.Login, now.Login, prev.Login)
			}
			return nil
		}
		if reauth {
			ev, err := lastAuthorizeEvent(ctx, c, id)
			if err != nil && ctx.Err() == nil {
				return lost(err)
			}
			if err == nil && ev.ID > afterEvent && ev.Outcome == "failure" {
				if v.Status == "active" {
					return fmt.Errorf("the reauthorization failed: %s (the connection keeps working with its previous authorization)", ev.Error)
				}
				status := "is " + v.Status
				switch v.Status {
				case "needs_reauthorization":
					status = "needs reauthorization"
				case "error":
					status = "is in error"
				}
				return fmt.Errorf("the reauthorization failed: %s (the connection %s; fix the cause, then run: cardflow connections reauthorize %s)", ev.Error, status, shellArg(id))
			}
		}
		select {
		case <-ctx.Done():
			return stopped()
		case <-tick.C:
		}
	}
}

func cmdConnectionsReauthorize(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "connections reauthorize", "connections reauthorize ID|NICKNAME [--default-scopes | --scope S ...] [--timeout 5m] [--no-wait] [--json]\n\n"+
		"Without --default-scopes or --scope the previous scope selection is kept;\n"+
		"--default-scopes switches to the connector's default scopes; --scope switches to\n"+
		"exactly those custom scopes.")
	var scopeFlags stringList
	var defaultScopes bool
	var timeout time.Duration
	var noWait bool
	fs.Var(&scopeFlags, "scope", "custom scope to request (repeatable; comma-separated allowed); default: keep the previous selection")
	fs.BoolVar(&defaultScopes, "default-scopes", false, "request the connector's default scopes (also for a connection with custom scopes)")
	fs.DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the authorization to finish")
	fs.BoolVar(&noWait, "no-wait", false, "print the authorize URL and return without waiting")
	id, err := oneArg(fs, args, "connection id or nickname")
	if err != nil {
		return err
	}
	scopes := scopeSelection(scopeFlags)
	if defaultScopes && scopes != nil {
		return usagef("--default-scopes and --scope contradict each other: use one or the other")
	}
	if err := checkWaitTimeout(timeout, noWait); err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	t, err := fetchReauthTarget(ctx, c, id)
	if err != nil {
		return err
	}
	var body api.ReauthorizeRequest
	switch {
	case defaultScopes:
		body.ScopeMode = "default"
	case scopes != nil:
		body.Scopes = scopes
	}
	return t.reauthorize(ctx, e, o, c, body, timeout, noWait, "")
}

// reauthTarget is a connection about to be reauthorized: as it was, and
// its newest connection.authorize audit event, so that the wait knows the
// new sign-in's outcome from an earlier one.
type reauthTarget struct {
	api.ConnectionDetail
	prev api.AuditEvent
}

func fetchReauthTarget(ctx context.Context, c *client, id string) (*reauthTarget, error) {
	var t reauthTarget
	if err := c.do(ctx, "GET", "/api/v1/connections/"+pathEscape(id), nil, &t.ConnectionDetail); err != nil {
		return nil, err
	}
	var err error
	t.prev, err = lastAuthorizeEvent(ctx, c, t.ID)
	return &t, err
}

// reauthorize starts the reauthorization and waits for its outcome (see
// awaitAuthorization); failedStart, when set, prefixes an error that
// stopped it from starting.
func (t *reauthTarget) reauthorize(ctx context.Context, e *env, o *clientOpts, c *client, body api.ReauthorizeRequest, timeout time.Duration, noWait bool, failedStart string) error {
	var out api.Reauthorization
	if err := c.do(ctx, "POST", "/api/v1/connections/"+pathEscape(t.ID)+"/reauthorize", body, &out); err != nil {
		if failedStart != "" {
			err = fmt.Errorf("%s: %w", failedStart, err)
		}
		return inputRefused(err, anyRefusal)
	}
	since := authorizedAt(&t.Connection)
	if since.IsZero() {
		since = time.Unix(0, 1)
	}
	return awaitAuthorization(ctx, e, o, c, t.ID, out.AuthorizeURL, since, t.prev.ID, timeout, noWait, t.AuthorizedBy)
}

func cmdConnectionsTest(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "connections test", "connections test ID|NICKNAME [--json]")
	id, c, err := o.parseOneArg(args, "connection id or nickname")
	if err != nil {
		return err
	}
	var out api.ConnectionTest
	if err := c.do(ctx, "POST", "/api/v1/connections/"+pathEscape(id)+"/test", nil, &out); err != nil {
		return err
	}
	if o.json {
		if err := printJSON(e.stdout, out); err != nil {
			return err
		}
	} else if out.OK {
		fmt.Fprintf(e.stdout, "OK: the connection works (status %s)\n", out.Status)
		// A passed check may find that the org stopped granting a scope
		// since the last sign-in: the cards needing it fail.
		if m := missingScopes(&api.Connection{MissingScopes: out.MissingScopes, MissingScopeCards: out.MissingScopeCards}, fetchCards(ctx, c)); len(m) > 0 {
			next := "reauthorize the connection: cardflow connections reauthorize " + shellArg(id)
			if out.Auth == "service" {
				next = "test the connection again"
			}
			fmt.Fprintf(e.stdout, "Warning: the org does not grant these requested scopes: %s; grant them on the app's Okta API Scopes tab, then %s\n",
				strings.Join(m, "; "), next)
		}
		if out.KeyRotation != "" {
			fmt.Fprintf(e.stdout, "Key rotation: %s\n", out.KeyRotation)
		}
	} else {
		verdict := "FAILED"
		if notSignedIn(out) {
			verdict = "NOT CHECKED YET"
		}
		fmt.Fprintf(e.stdout, "%s: status %s: %s\n", verdict, out.Status, out.StatusReason)
		if out.StatusReasonCode != "" {
			fmt.Fprintf(e.stdout, "Reason code: %s\n", out.StatusReasonCode)
		}
		if out.Remedy != "" {
			fmt.Fprintf(e.stdout, "Remedy: %s\n", out.Remedy)
		}
	}
	switch {
	case notSignedIn(out):
		// Nothing failed: nobody has signed in, so there is nothing to
		// check yet. The connection cannot run cards either, hence exit 1.
		return reported(codeFailed, fmt.Sprintf("connection %s is not checked yet: it waits for its sign-in at the org", id), out.Remedy)
	case !out.OK:
		return reported(codeFailed, fmt.Sprintf("connection %s failed its check: status %s: %s", id, out.Status, out.StatusReason), out.Remedy)
	}
	return nil
}

// notSignedIn tells a user connection nobody has signed in to yet, which
// a check cannot test, from one that failed it.
func notSignedIn(t api.ConnectionTest) bool {
	return !t.OK && t.Status == "pending" && t.Auth != "service"
}

func cmdConnectionsDelete(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "connections delete", "connections delete ID|NICKNAME [--force] [--yes] [--json]\n\n"+
		"Revokes the connection's tokens at its org and deletes it and its secrets; this cannot\n"+
		"be undone (its card runs stay readable). It asks first on a terminal (--yes: without asking).")
	var force, yes bool
	fs.BoolVar(&force, "force", false, "delete the connection even if enabled flows use it, whose scheduled runs then fail and whose Okta events start no run; without --force such a connection is not deleted (exit 1) and the flows are named")
	fs.BoolVar(&yes, "yes", false, yesFlag)
	id, c, err := o.parseOneArg(args, "connection id or nickname")
	if err != nil {
		return err
	}
	again := e.self + " connections delete " + shellArg(id)
	if force {
		again += " --force"
	}
	if err := needsAnswer(e, yes, "connections delete", fmt.Sprintf("delete connection %q", id), again+" --yes"); err != nil {
		return err
	}
	path := "/api/v1/connections/" + pathEscape(id)
	if !yes {
		var v api.ConnectionDetail
		if err := c.do(ctx, "GET", path, nil, &v); err != nil {
			return err
		}
		lines := []string{fmt.Sprintf("It revokes the connection's tokens at %s and deletes the connection and its secrets; this cannot be undone. Its card runs stay readable.", v.Domain)}
		if force {
			lines = append(lines, "With --force it is deleted even if enabled flows use it: their scheduled runs then fail, and Okta events start no run of them.")
		} else {
			lines = append(lines, "If an enabled flow uses it, nothing is deleted, and the flows are named (--force deletes it anyway).")
		}
		if err := confirm(e, fmt.Sprintf("Delete connection %s (%s, %s)?", v.Nickname, v.ID, v.Connector), lines, "delete it",
			fmt.Sprintf("connection %q was not deleted", v.Nickname)); err != nil {
			return err
		}
		path = "/api/v1/connections/" + pathEscape(v.ID) // the one confirmed
	}
	if !force {
		path += "?ifUnused=true"
	}
	err = exchange(ctx, c, o, e.stdout, "DELETE", path, nil, func(w io.Writer, out *api.ConnectionDeleted) {
		// The card runs stay, found by the connection's id only once its
		// nickname is gone (a runs filter by it then answers not found).
		fmt.Fprintf(w, "Deleted connection %s (%s); its card runs stay readable: cardflow runs list --connection %s\n", out.Nickname, out.ID, out.ID)
		if out.Warning != "" {
			fmt.Fprintf(w, "Warning: %s\n", out.Warning)
		}
	})
	if o.json {
		return err // the server's refusal as it is
	}
	return connectionInUse(err, id, yes)
}

// inUseError is the server's refusal to delete a connection that enabled
// flows use, said for the command line: the flows one per line and
// --force, where the server's remedy names ifUnused too.
type inUseError struct {
	text string
	err  *apiError
}

func (e *inUseError) Error() string { return e.text }
func (e *inUseError) Unwrap() error { return e.err }

// connectionInUse is err as an inUseError when it is the server's
// refusal (409, details.reasonCode connection_in_use) to delete the
// connection arg names, or a server's that is older than ifUnused; any
// other error as it is. yes keeps --yes in the command it gives, for a
// script that gave it.
func connectionInUse(err error, arg string, yes bool) error {
	force := "--force"
	if yes {
		force += " --yes"
	}
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.Body.Details["field"] == "ifUnused" && strings.HasPrefix(ae.Body.Message, "unknown query parameter") {
		// A server older than this command, which deletes without asking
		// first.
		return &inUseError{err: ae, text: fmt.Sprintf("connection %q was not deleted: this server cannot check first that no enabled flow uses it (it is older than this cardflow)\n"+
			"Remedy: check cardflow flows list for enabled flows that name it, then delete it with cardflow connections delete %s %s", arg, shellArg(arg), force)}
	}
	if ae == nil || ae.Status != http.StatusConflict || ae.Body.Details["reasonCode"] != "connection_in_use" {
		return err
	}
	flows, _ := ae.Body.Details["flows"].([]any)
	var lines []string
	for _, f := range flows {
		m, _ := f.(map[string]any)
		id, _ := m["id"].(string)
		name, _ := m["name"].(string)
		lines = append(lines, "  "+name+" ("+id+")")
	}
	if len(lines) == 0 {
		return err
	}
	use := "use"
	if len(lines) == 1 {
		use = "uses"
	}
	text := fmt.Sprintf("connection %q was not deleted: %s %s it (once it is gone, a flow's scheduled runs fail and its Okta events start no run):\n%s\n"+
		"Remedy: disable each (cardflow flows disable NAME) or store it again naming another connection, then delete the connection again; or delete it anyway: cardflow connections delete %s %s",
		arg, counttext.Format(len(lines), "enabled flow"), use, strings.Join(lines, "\n"), shellArg(arg), force)
	return &inUseError{text: text, err: ae}
}

// createServiceConnection creates a service connection and prints the
// public JWK to add to the org's API Services app.
func createServiceConnection(ctx context.Context, e *env, o *clientOpts, connector, nickname, domain, clientID string, scopes *[]string, keyFile, keyAlg, keyID string, dpop bool) error {
	in := api.CreateConnectionRequest{Auth: "service", Connector: connector, Nickname: nickname, Domain: domain,
		ClientID: clientID, Scopes: scopes, KeyAlgorithm: keyAlg, KeyID: keyID, DPoP: dpop}
	if keyFile != "" {
		key, err := readKeyFile(e, keyFile)
		if err != nil {
			return err
		}
		in.PrivateKey = api.Secret(key)
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	var out api.ConnectionKey
	if err := c.do(ctx, "POST", "/api/v1/connections", in, &out); err != nil {
		return inputRefused(err, anyRefusal)
	}
	if o.json {
		return printJSON(e.stdout, out)
	}
	printServiceKey(e.stdout, &out.Connection, out.PublicJWK)
	return nil
}

func readKeyFile(e *env, file string) (string, error) {
	var b []byte
	var err error
	if file == "-" {
		b, err = io.ReadAll(io.LimitReader(e.stdin, 64<<10))
	} else {
		b, err = os.ReadFile(file)
	}
	if err != nil {
		if file == "-" {
			return "", fmt.Errorf("read the private key from standard input: %w", err)
		}
		return "", argFileError("--private-key-file", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// compactJSON is raw on one line (a JWK to paste), or raw as it is when
// it is not JSON.
func compactJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// printServiceKey prints a service connection, its public JWK and what to
// do with it.
func printServiceKey(w io.Writer, v *api.Connection, jwk json.RawMessage) {
	printConnection(w, &api.ConnectionDetail{Connection: *v}, nil) // a new key: no scope granted yet
	fmt.Fprintf(w, "\nPublic key (JWK) of the connection, to add to the app:\n\n%s\n\n", compactJSON(jwk))
	if v.Status != "active" {
		fmt.Fprintf(w, "In the Okta Admin Console, open the API Services app %s: on the General tab set\n"+
			"Client authentication to \"Public key / Private key\" and add the key above; grant the\n"+
			"connection's scopes on Okta API Scopes; assign an admin role that may manage devices on\n"+
			"Admin Roles. Then run: cardflow connections test %s\n", v.ClientID, shellArg(v.Nickname))
	}
}

func cmdConnectionsRotateKey(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "connections rotate-key", "connections rotate-key ID|NICKNAME [--key-algorithm ES256|RS256] [--json]\n\n"+
		"Creates a new key pair for a service connection and prints its public JWK. cardflow keeps\n"+
		"using the current key until a token request with the new one succeeds (once you have\n"+
		"added it to the app), then drops the old key; remove the old key from the app after that.")
	var alg string
	fs.StringVar(&alg, "key-algorithm", "", "ES256 (default) or RS256")
	id, c, err := o.parseOneArg(args, "connection id or nickname")
	if err != nil {
		return err
	}
	var out api.ConnectionKey
	if err := c.do(ctx, "POST", "/api/v1/connections/"+pathEscape(id)+"/rotate-key", api.RotateKeyRequest{KeyAlgorithm: alg}, &out); err != nil {
		return inputRefused(err, anyRefusal)
	}
	if o.json {
		return printJSON(e.stdout, out)
	}
	fmt.Fprintf(e.stdout, "New public key (JWK) of %s:\n\n%s\n\n", out.Connection.Nickname, compactJSON(out.PublicJWK))
	fmt.Fprintf(e.stdout, "Add it to the API Services app %s (General tab › Client Credentials › Add key). cardflow\n"+
		"switches to it with its next token request that the org accepts (run: cardflow connections test %s);\n"+
		"then remove the old key from the app.\n", out.Connection.ClientID, shellArg(out.Connection.Nickname))
	return nil
}
