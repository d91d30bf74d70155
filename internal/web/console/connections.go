package console

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

func (c *Console) connectionRoutes(mux *web.Mux) {
	if c.Connections == nil {
		return
	}
	mux.Handle("GET /connections", c.auth(c.listConnections))
	mux.Handle("GET /connections/new", c.auth(c.newConnection))
	mux.Handle("POST /connections", c.auth(c.createConnection))
	mux.Handle("GET /connections/new-service", c.auth(c.newServiceConnection))
	mux.Handle("POST /connections/service", c.auth(c.createServiceConnection))
	mux.Handle("GET /connections/{id}/key", c.auth(c.serviceKey))
	mux.Handle("GET /connections/{id}", c.auth(c.showConnection))
	mux.Handle("POST /connections/{id}/test", c.auth(c.testConnection))
	mux.Handle("POST /connections/{id}/rotate-key", c.auth(c.rotateKey))
	mux.Handle("GET /connections/{id}/reauthorize", c.auth(c.reauthorizePage))
	mux.Handle("POST /connections/{id}/reauthorize", c.auth(c.reauthorize))
	mux.Handle("GET /connections/{id}/edit", c.auth(c.editPage))
	mux.Handle("POST /connections/{id}/edit", c.auth(c.editConnection))
	mux.Handle("GET /connections/{id}/delete", c.auth(c.deletePage))
	mux.Handle("POST /connections/{id}/delete", c.auth(c.deleteConnection))
}

// connRow is one line of the connections list.
type connRow struct {
	V             *connection.View
	ConnectorName string
	LastUsed      time.Time
}

type connListData struct {
	Rows  []connRow
	Now   time.Time
	Pager pager
}

func (c *Console) listConnections(w http.ResponseWriter, r *http.Request, s *reqState) {
	// By nickname ignoring case, a page read at a time; the page bounds
	// the per-row reads (last used).
	vs, next, err := namePage(r.URL.Query().Get("after"), func(p store.NamePage) ([]*connection.View, error) {
		return c.Connections.ListPage(r.Context(), p)
	}, func(v *connection.View) (string, string) { return v.Nickname, v.ID })
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d := connListData{Now: c.now(), Pager: newPager(r, "Connections", "after", next, false)}
	for _, v := range vs {
		v.Remedy = consoleRemedy(v)
		d.Rows = append(d.Rows, connRow{V: v, ConnectorName: c.connectorName(v.Connector), LastUsed: c.lastUsed(r.Context(), v.ID)})
	}
	c.render(w, r, s, http.StatusOK, "connections", "Connections", d)
}

// lastUsed is when a card last ran through the connection.
func (c *Console) lastUsed(ctx context.Context, id string) time.Time {
	if c.Runs == nil {
		return time.Time{}
	}
	runs, err := c.Runs.ListRuns(ctx, store.RunFilter{ConnectionID: id, Limit: 1})
	if err != nil || len(runs) == 0 {
		return time.Time{}
	}
	return runs[0].StartedAt
}

// chooseConnector lists the connectors to create a connection for.
func (c *Console) chooseConnector(w http.ResponseWriter, r *http.Request, s *reqState) {
	var ks []card.Connector
	if c.Catalog != nil {
		ks = c.Catalog.Connectors()
	}
	c.render(w, r, s, http.StatusOK, "choose", "New Connection", ks)
}

// scopeChoice is one Okta API scope on a permissions form.
type scopeChoice struct {
	Name        string
	Description string
	Cards       []string // names of the cards that need it
	Default     bool     // part of the default scopes
	Checked     bool
}

// permissions is the scope part of the create and reauthorize forms.
type permissions struct {
	Mode     string // "default", "custom" or, when reauthorizing, "keep"
	Scopes   []scopeChoice
	Defaults []string
	Auto     []string
	// Keep offers "keep the current scopes" (reauthorization), described
	// by KeepText.
	Keep     bool
	KeepText string
	Error    *shownError
}

// connForm is the New Connection form, with the values entered so far.
type connForm struct {
	Connector card.Connector
	Nickname  string
	Domain    string
	ClientID  string
	HadSecret bool // a secret was entered but is never sent back
	Perm      permissions
	Tab       string // the tab to show first: "connection" or "permissions"
	Errors    map[string]shownError
	General   *shownError
}

// permissionsFor builds the scope choices of connector k, ticking checked
// (or the defaults when checked is nil).
func permissionsFor(k card.Connector, mode string, checked []string) permissions {
	p := permissions{Mode: mode, Defaults: k.DefaultScopes, Auto: connection.AutoGrantedScopes()}
	for _, sc := range k.Scopes {
		ch := scopeChoice{Name: sc.Name, Description: sc.Description, Default: slices.Contains(k.DefaultScopes, sc.Name)}
		for _, cd := range k.Cards {
			if cd.Scope == sc.Name {
				ch.Cards = append(ch.Cards, cd.Name)
			}
		}
		if checked == nil {
			ch.Checked = ch.Default
		} else {
			ch.Checked = slices.Contains(checked, sc.Name)
		}
		p.Scopes = append(p.Scopes, ch)
	}
	return p
}

// newConnection shows the New Connection form for ?connector=, or the
// choice of connector without one.
func (c *Console) newConnection(w http.ResponseWriter, r *http.Request, s *reqState) {
	id := r.URL.Query().Get("connector")
	if id == "" {
		c.chooseConnector(w, r, s)
		return
	}
	k, ok := c.connector(id)
	if !ok {
		c.notFoundAt(w, r, s, messageData{Message: "There is no connector named " + id + ".", Remedy: "Pick the connector again.",
			Link: "/connections/new", LinkText: "Choose a connector"})
		return
	}
	f := connForm{Connector: k, Perm: permissionsFor(k, connection.ScopeModeDefault, nil), Tab: "connection"}
	c.render(w, r, s, http.StatusOK, "new", "New "+k.Name+" connection", f)
}

// formFields maps a problem's field detail to the form field it is about.
var formFields = map[string]string{
	"nickname": "nickname", "domain": "domain", "clientId": "clientId", "clientSecret": "clientSecret", "scopes": "scopes",
}

func (c *Console) createConnection(w http.ResponseWriter, r *http.Request, s *reqState) {
	id := r.PostForm.Get("connector")
	k, ok := c.connector(id)
	if !ok {
		c.notFound(w, r, s, "There is no connector named "+id+".")
		return
	}
	pf := r.PostForm
	mode := pf.Get("scopeMode")
	ticked := pf["scope"]
	in := connection.CreateInput{
		Connector:    k.ID,
		Nickname:     pf.Get("nickname"),
		Domain:       pf.Get("domain"),
		ClientID:     pf.Get("clientId"),
		ClientSecret: keyring.Secret(pf.Get("clientSecret")),
	}
	if mode == connection.ScopeModeCustom {
		sc := slices.Clone(ticked)
		if sc == nil {
			sc = []string{}
		}
		in.Scopes = &sc
	} else {
		mode = connection.ScopeModeDefault
	}
	_, authURL, err := c.Connections.Create(r.Context(), in, s.actor())
	if err == nil {
		http.Redirect(w, r, authURL, http.StatusSeeOther)
		return
	}
	checked := ticked
	if checked == nil {
		checked = []string{}
	}
	f := connForm{
		Connector: k, Nickname: in.Nickname, Domain: in.Domain, ClientID: in.ClientID,
		HadSecret: in.ClientSecret.Reveal() != "",
		Perm:      permissionsFor(k, mode, checked), Tab: "connection",
	}
	status, e := c.publicError(r.Context(), err)
	if field, ok := formFields[e.Field]; ok {
		f.Errors = map[string]shownError{field: e}
		if field == "scopes" {
			f.Tab = "permissions"
			f.Perm.Error = &e
		}
		// The connection's checks stop at the first problem; every field
		// left empty is named, so that one send shows them all.
		for _, req := range requiredConnFields {
			if strings.TrimSpace(pf.Get(req.field)) == "" {
				f.Errors[req.field] = shownError{Code: "invalid_input", Message: req.message, Remedy: req.remedy, Field: req.field}
			}
		}
	} else {
		f.General = &e
	}
	c.render(w, r, s, status, "new", "New "+k.Name+" connection", f)
}

// requiredConnFields are the fields of the new connection form that may
// not be left empty, with what to say of each when it is.
var requiredConnFields = []struct{ field, message, remedy string }{
	{"nickname", "a nickname is required", `enter a short name for the connection, e.g. "Prod devices"`},
	{"domain", "the domain is required", "enter your Okta org's domain, e.g. example.okta.com"},
	{"clientId", "the client ID is required", "copy the client ID from the OAuth app's General tab in the Okta Admin Console"},
	{"clientSecret", "the client secret is required", "copy the client secret from the OAuth app's General tab in the Okta Admin Console"},
}

// consoleRemedy is v's remedy as the console offers it. That of a user
// connection waiting for its sign-in says to open "the authorize URL",
// which the CLI prints and the console never shows: here Reauthorize opens
// the org's sign-in page again.
func consoleRemedy(v *connection.View) string {
	if v.Status == store.StatusPending && v.Auth != "service" {
		return reauthorizeInConsole + " and sign in with an account assigned to the OAuth app (a super admin)"
	}
	return inConsole(v.Remedy)
}

// scopeRow is one Okta API scope on the connection page.
type scopeRow struct {
	Name        string
	Description string
	Requested   bool
	Granted     bool
	Cards       []string // cards that need it
}

// cardRow says whether a card works with the connection and why not.
type cardRow struct {
	Ref   string // "okta-devices/read-device"
	Name  string
	Scope string
	Mode  string
	Works bool
	// Waits, of a card that does not work yet, says that the connection
	// is pending (not authorized yet): the card runs once it is, nothing
	// is broken.
	Waits  bool
	Why    string
	Remedy string
	// HookScope and PollScope are an event card's scopes by delivery; an
	// event card starts flows and is never run by hand.
	HookScope, PollScope string
}

type connDetail struct {
	V             *connection.View
	ConnectorName string
	Now           time.Time
	APIScopes     []scopeRow
	AutoScopes    []scopeRow
	Cards         []cardRow
	Runs          []runRow
	HasRuns       bool
	CanRun        bool
	// Events is the connection's event hook and System Log intake; nil
	// when it has none. HasEvents shows the section at all.
	Events    *hookView
	HasEvents bool
}

func (c *Console) showConnection(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	v, err := c.Connections.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	v.Remedy = consoleRemedy(v)
	k, _ := c.connector(v.Connector)
	d := connDetail{V: v, ConnectorName: c.connectorName(v.Connector), Now: c.now(), HasRuns: c.Runs != nil,
		CanRun: c.Cards != nil && v.Status == store.StatusActive}
	d.APIScopes, d.AutoScopes = scopeRows(k, v)
	d.Cards = c.cardRows(ctx, k, v)
	if d.Events, err = c.eventSource(ctx, v.ID); err != nil {
		c.fail(w, r, s, err)
		return
	}
	d.HasEvents = c.Events != nil
	if c.Runs != nil {
		runs, err := c.Runs.ListRuns(ctx, store.RunFilter{ConnectionID: v.ID, Limit: 10})
		if err == nil {
			d.Runs, err = c.runRows(ctx, runs)
		}
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
	}
	c.render(w, r, s, http.StatusOK, "connection", v.Nickname, d)
}

// scopeRows lists the connection's Okta API scopes (the catalogue's, then
// any other requested or granted) and its auto-granted ones.
func scopeRows(k card.Connector, v *connection.View) (api, auto []scopeRow) {
	seen := map[string]bool{}
	add := func(name, desc string) {
		if seen[name] {
			return
		}
		seen[name] = true
		row := scopeRow{Name: name, Description: desc,
			Requested: slices.Contains(v.RequestedScopes, name), Granted: slices.Contains(v.GrantedScopes, name)}
		for _, cd := range k.Cards {
			if cd.Scope == name {
				row.Cards = append(row.Cards, cd.Name)
			}
		}
		for _, d := range []string{card.DeliveryHook, card.DeliveryPoll} {
			for _, cd := range k.Cards {
				if cd.DeliveryScopes[d] == name {
					row.Cards = append(row.Cards, "event cards with delivery: "+d)
					break
				}
			}
		}
		if slices.Contains(connection.AutoGrantedScopes(), name) {
			auto = append(auto, row)
			return
		}
		if row.Requested || row.Granted || desc != "" {
			api = append(api, row)
		}
	}
	for _, sc := range k.Scopes {
		add(sc.Name, sc.Description)
	}
	for _, sc := range v.RequestedScopes {
		add(sc, "")
	}
	for _, sc := range v.GrantedScopes {
		add(sc, "")
	}
	return api, auto
}

// cardRows says for each card of the connector whether it will work: the
// card executor's scope preflight when there is one, else the same rule
// (the scope, or for okta.*.read the matching okta.*.manage, is granted).
func (c *Console) cardRows(ctx context.Context, k card.Connector, v *connection.View) []cardRow {
	var rows []cardRow
	for _, cd := range k.Cards {
		row := cardRow{Ref: cardRef(k, cd), Name: cd.Name, Scope: cd.Scope, Mode: cd.Mode, Works: true}
		if cd.Kind == card.KindEvent {
			rows = append(rows, eventCardRow(row, cd, v))
			continue
		}
		switch {
		case v.Status != store.StatusActive:
			row.Works, row.Waits = false, v.Status == store.StatusPending
			row.Why = inactiveCard(v.Status)
		case c.Cards != nil:
			if err := c.Cards.Preflight(ctx, row.Ref, v.ID); err != nil {
				_, e := c.publicError(ctx, err)
				row.Works, row.Why, row.Remedy = false, e.Message, e.Remedy
				if e.Code == string(problem.InsufficientScope) {
					row.Why = "Insufficient Scope: " + e.Message
				}
			}
		case !card.ScopeGranted(cd.Scope, v.GrantedScopes):
			row.Works = false
			row.Why = "Insufficient Scope: the connection was not granted " + cd.Scope + "."
			switch {
			case v.Auth == "service" && slices.Contains(v.RequestedScopes, cd.Scope):
				row.Remedy = "Grant " + cd.Scope + " on the API Services app's Okta API Scopes tab, then test the connection."
			case v.Auth == "service":
				row.Remedy = "This service connection did not request " + cd.Scope + "; its scopes are fixed when it is created."
			case slices.Contains(v.RequestedScopes, cd.Scope):
				row.Remedy = "Grant " + cd.Scope + " on the OAuth app's Okta API Scopes tab, then reauthorize."
			default:
				row.Remedy = "Reauthorize with the default scopes, or tick " + cd.Scope + " under Customize scopes."
			}
		}
		if row.Works && cd.Scope == "" {
			row.Why = "Okta checks the scope of each call."
		}
		rows = append(rows, row)
	}
	return rows
}

// statusSentence says why no card works on a connection that is not
// active, as a sentence.
func statusSentence(status string) string {
	switch status {
	case store.StatusPending:
		return "The connection is not authorized yet."
	case store.StatusNeedsReauthorization:
		return "The connection needs reauthorization."
	case store.StatusError:
		return "The connection has an error."
	}
	return "The connection is " + strings.ToLower(humanize(status)) + "."
}

// inactiveCard says why a card fails on a connection that is not active.
// The fix is the connection's, said once in the banner at the top of the
// page (for a person who cannot apply it, with whom to ask), not on each
// of the cards.
func inactiveCard(status string) string {
	return statusSentence(status) + " The fix is at the top of this page."
}

// eventCardRow says whether an event card can start flows on the
// connection, and by which delivery.
func eventCardRow(row cardRow, cd card.Card, v *connection.View) cardRow {
	row.HookScope, row.PollScope = cd.DeliveryScopes[card.DeliveryHook], cd.DeliveryScopes[card.DeliveryPoll]
	hook, poll := card.ScopeGranted(row.HookScope, v.GrantedScopes), card.ScopeGranted(row.PollScope, v.GrantedScopes)
	switch {
	case v.Status != store.StatusActive:
		row.Works, row.Waits = false, v.Status == store.StatusPending
		row.Why = inactiveCard(v.Status)
	case hook && poll:
		row.Why = "Starts flows (on: event:) by hook, poll or both."
	case poll:
		row.Why = "Starts flows with delivery: poll only; hook delivery needs " + row.HookScope + "."
	case hook:
		row.Why = "Starts flows with delivery: hook only; poll delivery needs " + row.PollScope + "."
	default:
		row.Works = false
		row.Why = "Insufficient Scope: the connection was granted neither " + row.HookScope + " (hook delivery) nor " + row.PollScope + " (poll delivery)."
		// A service connection has no sign-in to repeat: the org grants
		// its app's scopes to the next token, which Test asks for.
		requested := slices.Contains(v.RequestedScopes, row.HookScope) || slices.Contains(v.RequestedScopes, row.PollScope)
		switch {
		case v.Auth == store.AuthService && requested:
			row.Remedy = "Grant them on the API Services app's Okta API Scopes tab, then test the connection."
		case v.Auth == store.AuthService:
			row.Remedy = "This service connection requested neither; its scopes are fixed when it is created."
		default:
			row.Remedy = "Grant them on the OAuth app's Okta API Scopes tab, then reauthorize with the default scopes."
		}
	}
	return row
}

func (c *Console) testConnection(w http.ResponseWriter, r *http.Request, s *reqState) {
	id := r.PathValue("id")
	res, err := c.Connections.Test(r.Context(), id, s.actor())
	switch {
	case err != nil:
		_, e := c.publicError(r.Context(), err)
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "Health check failed: " + e.Message, Remedy: e.Remedy})
	case res.OK:
		// A service connection has no refresh token: the org gives it a
		// new access token for a request signed with its key.
		how := "the connection refreshed its token"
		if res.Auth == store.AuthService {
			how = "the org gave the connection a token for its key"
		}
		f := flash{Kind: "ok", Message: "Health check passed: " + how + " and read devices."}
		if len(res.MissingScopes) > 0 {
			// The check passes on the devices read alone; a requested scope
			// the org stopped granting since the sign-in fails the cards
			// that need it, which a passed check in green hid.
			f = missingScopesFlash(how, res)
		}
		c.addFlash(r.Context(), s.session, f)
		if res.KeyRotation != "" {
			c.addFlash(r.Context(), s.session, flash{Kind: "warning", Message: "Key rotation: " + res.KeyRotation})
		}
	case res.Status == store.StatusPending && res.Auth != store.AuthService:
		// Nobody has signed in yet: there is nothing to check, and
		// nothing failed.
		c.addFlash(r.Context(), s.session, flash{Kind: "warning", Message: "Not checked yet: the connection waits for its sign-in at the org; how to finish it is said below."})
	case res.Status != store.StatusActive:
		// The connection's page shows the reason and the fix in its status
		// banner, which stays until the connection works again: the flash
		// answers the click and points there, not saying them twice.
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "Health check failed: why, and how to fix it, is said below."})
	default:
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "Health check failed: " + res.StatusReason, Remedy: res.Remedy})
	}
	http.Redirect(w, r, "/connections/"+url.PathEscape(id), http.StatusSeeOther)
}

// missingScopesFlash warns that a passed health check found requested
// scopes the org does not grant (it stopped, or never did for a service
// app), and names the cards that fail without them.
func missingScopesFlash(how string, res *connection.TestResult) flash {
	them := "them"
	if len(res.MissingScopes) == 1 {
		them = "it"
	}
	// An event card needing a scope for one delivery only still starts
	// flows by the other: it is not named among the cards that fail.
	var cards []string
	for _, sc := range res.MissingScopes {
		for _, ref := range res.MissingScopeCards[sc] {
			cd, ok := card.Lookup(ref)
			if !ok || cd.Scope != sc || slices.Contains(cards, cd.Name) {
				continue
			}
			cards = append(cards, cd.Name)
		}
	}
	msg := "Health check passed: " + how + " and read devices, but the org does not grant " + strings.Join(res.MissingScopes, ", ") + ", which the connection asked for"
	if len(cards) > 0 {
		msg += ": " + strings.Join(cards, ", ") + " will fail"
	}
	remedy := "grant " + them + " on the OAuth app's Okta API Scopes tab, then reauthorize"
	if res.Auth == store.AuthService {
		remedy = "grant " + them + " on the API Services app's Okta API Scopes tab, then test the connection again"
	}
	return flash{Kind: "warning", Message: msg + ".", Remedy: remedy}
}

// rotateKey makes a service connection's next key pair: the page shows its
// public JWK to add to the app; the connection keeps using its key until
// the org accepts a token request signed with the new one.
func (c *Console) rotateKey(w http.ResponseWriter, r *http.Request, s *reqState) {
	id := r.PathValue("id")
	if _, _, err := c.Connections.RotateKey(r.Context(), id, r.PostFormValue("keyAlgorithm"), s.actor()); err != nil {
		_, e := c.publicError(r.Context(), err)
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "No new key was made: " + e.Message, Remedy: e.Remedy})
	} else {
		c.addFlash(r.Context(), s.session, flash{Kind: "ok", Message: "A new key is made: add its public key (below) to the API Services app, then press Test. Until the org accepts it, the connection keeps using its current key."})
	}
	http.Redirect(w, r, "/connections/"+url.PathEscape(id)+"#public-key", http.StatusSeeOther)
}

// reauthForm is the Reauthorize form.
type reauthForm struct {
	V             *connection.View
	ConnectorName string
	Perm          permissions
	Current       []string // the Okta API scopes requested now
	Error         *shownError
}

func (c *Console) reauthorizePage(w http.ResponseWriter, r *http.Request, s *reqState) {
	v, err := c.Connections.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "reauthorize", "Reauthorize "+v.Nickname, c.reauthForm(v, "keep", nil))
}

func (c *Console) reauthForm(v *connection.View, mode string, checked []string) reauthForm {
	k, _ := c.connector(v.Connector)
	var current []string
	for _, sc := range v.RequestedScopes {
		if !slices.Contains(connection.AutoGrantedScopes(), sc) {
			current = append(current, sc)
		}
	}
	if checked == nil {
		checked = current
	}
	perm := permissionsFor(k, mode, checked)
	perm.Keep = true
	if v.ScopeMode == connection.ScopeModeCustom {
		perm.KeepText = "Custom scopes, as now: " + strings.Join(current, ", ") + "."
	} else {
		perm.KeepText = "Default scopes, as now: whatever the connector's cards need."
	}
	return reauthForm{V: v, ConnectorName: c.connectorName(v.Connector), Perm: perm, Current: current}
}

func (c *Console) reauthorize(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	v, err := c.Connections.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	var sel *connection.ScopeSelection
	mode := r.PostForm.Get("scopeMode")
	ticked := r.PostForm["scope"]
	switch mode {
	case connection.ScopeModeDefault:
		sel = connection.DefaultScopeSelection()
	case connection.ScopeModeCustom:
		sel = connection.CustomScopeSelection(ticked...)
	default:
		mode = "keep"
	}
	authURL, err := c.Connections.Reauthorize(ctx, v.ID, sel, s.actor())
	if err == nil {
		http.Redirect(w, r, authURL, http.StatusSeeOther)
		return
	}
	status, e := c.publicError(ctx, err)
	if ticked == nil {
		ticked = []string{}
	}
	f := c.reauthForm(v, mode, ticked)
	f.Error = &e
	c.render(w, r, s, status, "reauthorize", "Reauthorize "+v.Nickname, f)
}

type deleteData struct {
	V             *connection.View
	ConnectorName string
	// Uses are the enabled flows that use the connection; UsesUnread is
	// true when they could not be read.
	Uses       []FlowUse
	UsesUnread bool
	// Changed is true when the form came back because what the deletion
	// breaks changed since the page the person confirmed.
	Changed bool
}

// Breaks names each use of the connection the page lists, for the form to
// send back what the person confirmed: "FLOW_ID trigger" and "FLOW_ID step
// STEP_ID".
func (d deleteData) Breaks() []string { return useKeys(d.Uses) }

func useKeys(uses []FlowUse) []string {
	var keys []string
	for _, u := range uses {
		if u.Trigger {
			keys = append(keys, u.ID+" trigger")
		}
		for _, st := range u.Steps {
			keys = append(keys, u.ID+" step "+st)
		}
	}
	return keys
}

// confirmedAll reports whether the Delete form confirmed every use the
// deletion now breaks: a flow enabled, or changed to use the connection,
// after the confirmation was shown is one the person did not agree to
// break. Fewer uses than confirmed need no new consent. Uses that could
// not be read were confirmed only if the form said so too.
func confirmedAll(form url.Values, uses []FlowUse, read bool) bool {
	if !read {
		return form.Get("usesUnread") == "1"
	}
	confirmed := form["breaks"]
	for _, k := range useKeys(uses) {
		if !slices.Contains(confirmed, k) {
			return false
		}
	}
	return true
}

// What says what of the flow uses the connection: "the event trigger",
// "step s", "the event trigger and steps a and b".
func (u FlowUse) What() string {
	var parts []string
	if u.Trigger {
		parts = append(parts, "the event trigger")
	}
	switch len(u.Steps) {
	case 0:
	case 1:
		parts = append(parts, "step "+u.Steps[0])
	default:
		parts = append(parts, "steps "+andList(u.Steps))
	}
	return andList(parts)
}

// andList joins words as a list in prose: "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// connectionUses lists the enabled flows that use the connection; ok is
// false when they could not be read (the error is logged).
func (c *Console) connectionUses(ctx context.Context, id string) (uses []FlowUse, ok bool) {
	if c.ConnectionUsers == nil {
		return nil, true
	}
	uses, err := c.ConnectionUsers.EnabledFlowsUsing(ctx, id)
	if err != nil {
		c.log.ErrorContext(ctx, "console: reading the flows that use a connection", slog.String("connection", id), slog.Any("error", err))
		return nil, false
	}
	return uses, true
}

func (c *Console) deletePage(w http.ResponseWriter, r *http.Request, s *reqState) {
	v, err := c.Connections.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d := deleteData{V: v, ConnectorName: c.connectorName(v.Connector)}
	var ok bool
	d.Uses, ok = c.connectionUses(r.Context(), v.ID)
	d.UsesUnread = !ok
	c.render(w, r, s, http.StatusOK, "delete", "Delete "+v.Nickname, d)
}

func (c *Console) deleteConnection(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	v, err := c.Connections.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	// Read before the deletion: once the connection is gone no flow
	// resolves to it. The API's words for the same (res.InUse) name the
	// command line's commands, so the console says it in its own.
	uses, usesRead := c.connectionUses(ctx, v.ID)
	if !confirmedAll(r.PostForm, uses, usesRead) {
		c.render(w, r, s, http.StatusConflict, "delete", "Delete "+v.Nickname, deleteData{V: v, ConnectorName: c.connectorName(v.Connector),
			Uses: uses, UsesUnread: !usesRead, Changed: true})
		return
	}
	res, err := c.Connections.DeleteWithResult(ctx, v.ID, s.actor())
	if err != nil {
		_, e := c.publicError(ctx, err)
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "The connection was not deleted: " + e.Message, Remedy: e.Remedy})
		http.Redirect(w, r, "/connections/"+url.PathEscape(v.ID), http.StatusSeeOther)
		return
	}
	c.addFlash(r.Context(), s.session, flash{Kind: "ok", Message: "Deleted the connection " + v.Nickname + ". Its runs keep their history."})
	if res != nil && res.Warning != "" {
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: "Warning: " + res.Warning + "."})
	}
	switch {
	case !usesRead:
		c.addFlash(r.Context(), s.session, flash{Kind: "error",
			Message: "Warning: the enabled flows that used " + v.Nickname + " could not be read.",
			Remedy:  "open Flows and disable, or store again naming another connection, each enabled flow that named it"})
	case len(uses) > 0:
		what := "the enabled flow below used"
		if len(uses) > 1 {
			what = "the enabled flows below used"
		}
		c.addFlash(r.Context(), s.session, flash{Kind: "error",
			Message: "Warning: " + what + " " + v.Nickname + ": until disabled or stored again naming another connection, their scheduled runs fail and Okta events start no run of them.",
			Remedy:  "open each flow's page and press Disable, or store the flow again naming another connection",
			Flows:   uses})
	}
	http.Redirect(w, r, "/connections", http.StatusSeeOther)
}

// editForm is the form that changes a connection's client credentials.
type editForm struct {
	V         *connection.View
	ClientID  string
	HadSecret bool
	Errors    map[string]shownError
	General   *shownError
}

func (f editForm) errorSummary() []summaryItem {
	var out []summaryItem
	if f.General != nil {
		out = append(out, formError(f.General))
	}
	for _, name := range []string{"clientId", "clientSecret"} {
		if e, ok := f.Errors[name]; ok {
			out = append(out, summaryItem{Field: name, Message: e.Message, Remedy: e.Remedy})
		}
	}
	return out
}

func (c *Console) editPage(w http.ResponseWriter, r *http.Request, s *reqState) {
	v, err := c.Connections.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if v.Auth == store.AuthService {
		c.addFlash(r.Context(), s.session, flash{Kind: "error", Message: v.Nickname + " is a service connection: it authenticates with a private key, not a client secret.",
			Remedy: "to replace its key, press Make a new key on its page"})
		http.Redirect(w, r, "/connections/"+url.PathEscape(v.ID), http.StatusSeeOther)
		return
	}
	c.render(w, r, s, http.StatusOK, "edit", "Change the client secret of "+v.Nickname, editForm{V: v, ClientID: v.ClientID})
}

// editConnection stores the new credentials and goes on to the
// reauthorization they need: the org's sign-in page.
func (c *Console) editConnection(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	v, err := c.Connections.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	pf := r.PostForm
	in := connection.UpdateInput{ClientSecret: keyring.Secret(pf.Get("clientSecret"))}
	if id := strings.TrimSpace(pf.Get("clientId")); id != v.ClientID {
		in.ClientID = pf.Get("clientId")
	}
	// Empty fields are answered here, together: the manager takes an empty
	// client ID as "keep it" and answers one field at a time.
	empty := map[string]shownError{}
	if strings.TrimSpace(pf.Get("clientId")) == "" {
		empty["clientId"] = shownError{Code: string(problem.InvalidInput), Field: "clientId", Message: "the client ID is empty",
			Remedy: "enter the client ID from the OAuth app's General tab in the Okta Admin Console, or " + v.ClientID + " to keep the app"}
	}
	if strings.TrimSpace(in.ClientSecret.Reveal()) == "" {
		empty["clientSecret"] = shownError{Code: string(problem.InvalidInput), Field: "clientSecret", Message: "the new client secret is required",
			Remedy: "copy the client secret from the OAuth app's General tab in the Okta Admin Console"}
	}
	if len(empty) > 0 {
		c.render(w, r, s, http.StatusBadRequest, "edit", "Change the client secret of "+v.Nickname,
			editForm{V: v, ClientID: pf.Get("clientId"), Errors: empty})
		return
	}
	updated, err := c.Connections.Update(ctx, v.ID, in, s.actor())
	if err != nil {
		status, e := c.publicError(ctx, err)
		f := editForm{V: v, ClientID: pf.Get("clientId"), HadSecret: in.ClientSecret.Reveal() != ""}
		if e.Field == "clientId" || e.Field == "clientSecret" {
			f.Errors = map[string]shownError{e.Field: e}
		} else {
			f.General = &e
		}
		c.render(w, r, s, status, "edit", "Change the client secret of "+v.Nickname, f)
		return
	}
	authURL, err := c.Connections.Reauthorize(ctx, updated.ID, nil, s.actor())
	if err != nil {
		_, e := c.publicError(ctx, err)
		c.addFlash(ctx, s.session, flash{Kind: "error", Message: "The new client secret is stored, but the reauthorization could not start: " + e.Message, Remedy: e.Remedy})
		http.Redirect(w, r, "/connections/"+url.PathEscape(updated.ID), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, authURL, http.StatusSeeOther)
}
