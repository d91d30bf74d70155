package flow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/spelling"
)

// ValidateEnv is what validation needs to know about the world: the cards
// of the connector registry and the connections in the store. The app
// implements it over internal/card and internal/connection.
type ValidateEnv interface {
	// Card describes the card with reference ref ("okta-devices/x").
	Card(ref string) (CardInfo, bool)
	// Connection resolves a connection of connector by nickname or id. An
	// error with code not_found or invalid_input is reported as a problem
	// of the document; any other error aborts validation.
	Connection(ctx context.Context, connector, nameOrID string) (ConnInfo, error)
}

// CardInfo describes a card for validation and plans.
type CardInfo struct {
	Ref    string // "okta-devices/suspend-device"
	Mode   string // ModeRead or ModeManage; ModeEvent for an event card
	Scope  string // the Okta scope the card needs; empty when unknown in advance
	Inputs []InputInfo
	// Output is, for an action card, the shape of its output (the keys
	// steps.X.output.KEY and item.KEY are checked against); nil when
	// unknown.
	Output *Shape
	// DeliveryScopes are, for an event card, the scopes each delivery
	// needs (DeliveryHook and DeliveryPoll; hook+poll needs both).
	DeliveryScopes map[string]string
	// DefaultDelivery is, for an event card, the delivery of a trigger that
	// names none (it depends on the server's public URL).
	DefaultDelivery string
	// EventType is, for an event card, the Okta event type it starts flows
	// on; NoEventUser says that those events name no user, so that
	// trigger.event.user is empty in every run, and UserEventCards lists
	// the connector's event cards whose events do, as "ref (event type)".
	EventType      string
	NoEventUser    bool
	UserEventCards []string
}

// InputInfo describes one input of a card. Type is the card's own type
// name ("string", "bool", "number", "list", "object"); literal values of a
// step are checked against the types flow knows and others are left to the
// card.
type InputInfo struct {
	Name     string
	Type     string
	Required bool
	// Enum, when set, lists the values a string input takes (compared
	// ignoring case, as the card does): a literal outside it is refused
	// when the flow is validated, not when a run gets to it.
	Enum []string
	// Filter marks an Okta filter expression: a ${{ }} between its double
	// quotes has its result escaped as strings.quote escapes it
	// (template.quoteInFilter).
	Filter bool
}

// ConnInfo describes a connection for validation. ScopeMode ("default" or
// "custom", empty when unknown), RequestedScopes and the connector's
// DefaultScopes make the fix for a missing scope precise: tick it, or grant
// it to the OAuth app.
type ConnInfo struct {
	ID              string
	Nickname        string
	Status          string // "active", "pending", "needs_reauthorization", "error"
	StatusReason    string // why it is not active, as the connection says it
	ScopeMode       string
	RequestedScopes []string
	GrantedScopes   []string
	DefaultScopes   []string
	// ServiceClientID is set for a service connection: the client ID of
	// the API Services app it acts as. Such a connection is never
	// reauthorized: it is tested, and asks for its scopes with every token.
	ServiceClientID string
	// NeverAuthorized is set for a person's connection that no sign-in
	// has authorized yet (pending, or in error after its first sign-in
	// failed): a flow on it is refused as a card run on it is,
	// connection_pending.
	NeverAuthorized bool
}

// Validate checks the document against env: every card exists, the step's
// literal inputs are known to the card and complete, every connection
// exists for the card's connector and is active, and (the scope
// preflight) every card's scope is granted to its connection. It returns nil,
// an insufficient_scope *problem.Error when scopes are the only problems,
// or an invalid_input *problem.Error listing every problem with its line.
// On success it records each step's mode and connection id on d.
func (d *Document) Validate(ctx context.Context, env ValidateEnv) error {
	var iss issues
	modes, connIDs, err := d.check(ctx, env, &iss)
	if err != nil {
		return err
	}
	if err := iss.err(); err != nil {
		return err
	}
	for i, st := range d.Steps {
		st.mode, st.connectionID = modes[i], connIDs[i]
		card, _ := env.Card(st.Card)
		st.takesStatus = card.Mode == ModeManage && slices.ContainsFunc(card.Inputs, func(in InputInfo) bool { return in.Name == "status" })
	}
	if d.Trigger != nil && d.Trigger.Event != nil {
		d.Trigger.Event.connectionID = connIDs[len(d.Steps)]
	}
	d.validated = true
	return nil
}

// Check is Parser.Check with the zero Parser (the time from time.Now).
func Check(ctx context.Context, src []byte, env ValidateEnv) (*Document, error) {
	return Parser{}.Check(ctx, src, env)
}

// Check parses src and validates it against env in one pass: when the
// document's structure is sound but some expressions do not compile (or
// refer to unknown inputs or steps), its cards, inputs, connections and
// scopes are still checked, and every problem is reported together. It
// returns the validated document, or an error as Parse and Validate do.
func (ps Parser) Check(ctx context.Context, src []byte, env ValidateEnv) (*Document, error) {
	doc, iss, err := parse(src, ps.now())
	if err != nil {
		return nil, err
	}
	if doc != nil {
		checkEveryZone(doc.Trigger, iss)
	}
	switch {
	case doc == nil:
		return nil, iss.err()
	case iss.empty():
		return doc, withWarnings(doc.Validate(ctx, env), doc.warnings)
	}
	if _, _, err := doc.check(ctx, env, iss); err != nil {
		return nil, err
	}
	return nil, iss.err()
}

// check adds the problems of the document against env to iss and returns
// each step's mode and connection id. Its error is env's, aborting.
func (d *Document) check(ctx context.Context, env ValidateEnv, iss *issues) ([]string, []string, error) {
	type connKey struct{ connector, name string }
	conns := map[connKey]*ConnInfo{}
	// near holds, for a name no connection has, " (did you mean "X"?)"
	// when env's answer names the nearest nicknames, as it does to
	// --connection.
	near := map[connKey]string{}
	resolve := func(connector, name string) (*ConnInfo, error) {
		key := connKey{connector, strings.ToLower(name)}
		conn, seen := conns[key]
		if !seen {
			c, err := env.Connection(ctx, connector, name)
			if err != nil {
				switch problem.CodeOf(err) {
				case problem.NotFound, problem.InvalidInput:
					if p, ok := problem.As(err); ok && strings.HasPrefix(p.Remedy, "did you mean ") {
						near[key] = " (" + p.Remedy + ")"
					}
				default:
					return nil, err
				}
			} else {
				conn = &c
			}
			conns[key] = conn
		}
		return conn, nil
	}
	modes := make([]string, len(d.Steps))
	connIDs := make([]string, len(d.Steps)+1) // the last: the event trigger's
	if d.Trigger != nil && d.Trigger.Event != nil {
		id, err := checkEventTrigger(iss, d.Trigger.Event, env, resolve, func(connector, name string) string { return near[connKey{connector, strings.ToLower(name)}] })
		if err != nil {
			return nil, nil, err
		}
		connIDs[len(d.Steps)] = id
		d.checkEventUser(iss, env)
	}
	for i, st := range d.Steps {
		if st.Card == "" {
			continue // parsing reported it
		}
		card, ok := env.Card(st.Card)
		if !ok {
			iss.add(st.cardPos, st.ID, "unknown card %q%s; list the cards with cardflow connectors (or the console's Cards page, or GET /api/v1/connectors)", st.Card, suggestCard(env, st.Card))
			continue
		}
		if card.Mode == ModeEvent {
			iss.add(st.cardPos, st.ID, "card %s is an event card: it starts flows and cannot run as a step; use it under on.event.card", st.Card)
			continue
		}
		modes[i] = card.Mode
		checkCardInputs(iss, st, card)
		checkFilterInputs(iss, st, card, d.Inputs)
		if st.Connection == "" {
			continue // parsing reported it
		}

		conn, err := resolve(st.Connector(), st.Connection)
		if err != nil {
			return nil, nil, err
		}
		if conn == nil {
			iss.add(st.connPos, st.ID, "there is no %s connection %q%s; create it (cardflow connections create) or use the nickname or id of an existing one", st.Connector(), st.Connection, near[connKey{st.Connector(), strings.ToLower(st.Connection)}])
			continue
		}
		connIDs[i] = conn.ID
		if conn.Status != "" && conn.Status != "active" {
			iss.add(st.connPos, st.ID, "connection %q %s, not active; %s before running this flow", st.Connection, statusText(conn.Status), inactiveRemedy(conn))
			// The code a card run on it answers (problem.NotActiveCode).
			iss.list[len(iss.list)-1].inactive = &inactiveIssue{Connection: conn.Nickname, Message: inactiveMessage(conn),
				Remedy: inactiveRemedy(conn), code: problem.NotActiveCode(conn.Status, conn.NeverAuthorized)}
			iss.list[len(iss.list)-1].path = fmt.Sprintf("steps[%d].connection", i)
			continue
		}
		if card.Scope != "" && !scopeGranted(card.Scope, conn.GrantedScopes) {
			granted := slices.Clone(conn.GrantedScopes)
			iss.list = append(iss.list, Issue{
				Line: st.Pos.Line, Column: st.Pos.Column, Step: st.ID,
				Message: fmt.Sprintf("card %s needs scope %s, which connection %q was not granted (granted: %s)",
					card.Ref, card.Scope, conn.Nickname, grantedList(granted)),
				scope: &scopeIssue{Step: st.ID, Card: card.Ref, Connection: conn.Nickname, RequiredScope: card.Scope, GrantedScopes: granted,
					Remedy: scopeRemedy(conn, card.Scope)},
				path: fmt.Sprintf("steps[%d].connection", i),
			})
		}
	}
	d.checkShapes(iss, env)
	return modes, connIDs, nil
}

// scopeGranted reports whether scope is among granted; okta.X.manage also
// grants okta.X.read, as Okta does.
func scopeGranted(scope string, granted []string) bool {
	if slices.Contains(granted, scope) {
		return true
	}
	if base, ok := strings.CutSuffix(scope, ".read"); ok {
		return slices.Contains(granted, base+".manage")
	}
	return false
}

// scopeRemedy is the fix for conn lacking scope: a connection with custom
// scopes that did not ask for it is reauthorized with it ticked (or with the
// default scopes when those include it); one that asked for it but was not
// granted it needs the OAuth app to grant it. Without the connection's scope
// mode both fixes are given.
func scopeRemedy(conn *ConnInfo, scope string) string {
	switch {
	case conn.ServiceClientID != "" && scopeGranted(scope, conn.RequestedScopes):
		return fmt.Sprintf("grant %s to the API Services app %s in Okta (Okta API Scopes tab), then test connection %q so that its next token has it",
			scope, conn.ServiceClientID, conn.Nickname)
	case conn.ServiceClientID != "":
		return fmt.Sprintf("service connection %q did not request %s, and its scopes are fixed when it is created: create a service connection that requests it (for example with the default scopes)", conn.Nickname, scope)
	case conn.ScopeMode == "":
		return fmt.Sprintf("grant %s to the connection's OAuth app in Okta (its Okta API Scopes tab), then reauthorize the connection; with custom scopes also tick %s when reauthorizing", scope, scope)
	case scopeGranted(scope, conn.RequestedScopes):
		return fmt.Sprintf("grant %s to the OAuth app in Okta (Okta API Scopes tab), then reauthorize connection %q (cardflow connections reauthorize %q)", scope, conn.Nickname, conn.Nickname)
	case scopeGranted(scope, conn.DefaultScopes):
		return fmt.Sprintf("reauthorize connection %q with %s ticked (Customize scopes), or with the default scopes, and make sure the OAuth app grants it (%s, or --default-scopes)", conn.Nickname, scope, problem.ReauthorizeAdding(conn.Nickname, conn.RequestedScopes, scope))
	}
	return fmt.Sprintf("reauthorize connection %q with %s ticked (Customize scopes), and make sure the OAuth app grants it (%s)", conn.Nickname, scope, problem.ReauthorizeAdding(conn.Nickname, conn.RequestedScopes, scope))
}

// statusText says a connection's status in words: "needs
// reauthorization", "is not authorized yet (pending)", "is in error".
func statusText(status string) string {
	switch status {
	case "needs_reauthorization":
		return "needs reauthorization"
	case "pending":
		return "is not authorized yet (pending)"
	case "error":
		return "is in error"
	}
	return "is " + status
}

// inactiveMessage says what is wrong with conn as a card run on it says
// it: "connection "Prod" needs reauthorization: REASON", "connection
// "New" is not authorized yet (pending): REASON", "connection "New" is
// not authorized yet (its sign-in failed): REASON", or "connection
// "Robot" is in error: REASON".
func inactiveMessage(conn *ConnInfo) string {
	switch {
	case conn.Status == "needs_reauthorization" && conn.StatusReason != "":
		return problem.NeedsReauthorizationMessage(conn.Nickname, conn.StatusReason)
	case conn.Status == "pending" && conn.StatusReason != "":
		return problem.PendingMessage(conn.Nickname, conn.StatusReason)
	case conn.Status == "error" && conn.NeverAuthorized && conn.StatusReason != "":
		return problem.SignInFailedMessage(conn.Nickname, conn.StatusReason)
	case conn.Status == "error":
		return problem.InErrorMessage(conn.Nickname, conn.StatusReason)
	}
	msg := fmt.Sprintf("connection %q %s", conn.Nickname, statusText(conn.Status))
	if conn.StatusReason != "" {
		msg += ": " + conn.StatusReason
	}
	return msg
}

// inactiveRemedy is what makes conn active again: a person's connection is
// reauthorized, a service connection tested once its app is fixed.
func inactiveRemedy(conn *ConnInfo) string {
	if conn.ServiceClientID != "" {
		return fmt.Sprintf("fix what cardflow connections show %q reports and test the connection", conn.Nickname)
	}
	return problem.Reauthorize(conn.Nickname)
}

func grantedList(granted []string) string {
	if len(granted) == 0 {
		return "none"
	}
	return strings.Join(granted, " ")
}

// checkCardInputs compares a step's literal input names and values with
// the card's declared inputs.
func checkCardInputs(iss *issues, st *Step, card CardInfo) {
	if st.input != nil && st.input.kind != valMap {
		return // one expression gives the whole input: checked when it runs
	}
	known := map[string]InputInfo{}
	var names []string
	for _, in := range card.Inputs {
		known[in.Name] = in
		names = append(names, in.Name)
	}
	if st.input != nil {
		for _, k := range st.input.keys {
			v := st.input.fields[k]
			info, ok := known[k]
			if !ok {
				iss.add(v.pos, st.ID, "card %s has no input %q; its inputs are %s%s", card.Ref, k, orNone(names), suggest(k, names...))
				continue
			}
			if msg := literalTypeProblem(info, v); msg != "" {
				iss.add(v.pos, st.ID, "input %q of card %s %s", k, card.Ref, msg)
			}
			if info.Filter && v.kind == valTemplate && !v.tmpl.whole {
				v.tmpl.quoteInFilter()
			}
		}
	}
	for _, in := range card.Inputs {
		if !in.Required {
			continue
		}
		if st.input != nil {
			if _, ok := st.input.fields[in.Name]; ok {
				continue
			}
		}
		iss.add(st.Pos, st.ID, "card %s needs input %q: add it under input:", card.Ref, in.Name)
	}
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// literalTypeProblem checks a literal value against the card input's type.
func literalTypeProblem(info InputInfo, v *value) string {
	lit, ok := v.literal()
	if !ok {
		return ""
	}
	n, err := normalize(lit)
	if err != nil {
		return err.Error()
	}
	if n == nil {
		if info.Required {
			return "is empty: give it a value"
		}
		return ""
	}
	var good bool
	switch strings.ToLower(info.Type) {
	case "string":
		_, good = n.(string)
	case "bool", "boolean":
		_, good = n.(bool)
	case "number", "integer", "int":
		_, good = n.(float64)
	case "list", "array":
		_, good = n.([]any)
	case "object", "map":
		_, good = n.(map[string]any)
	default:
		return ""
	}
	if !good {
		return fmt.Sprintf("is %s; it must be a %s", kindOf(n), info.Type)
	}
	if s, ok := n.(string); ok && len(info.Enum) > 0 && !slices.ContainsFunc(info.Enum, func(e string) bool { return strings.EqualFold(e, strings.TrimSpace(s)) }) {
		return fmt.Sprintf("must be one of %s, not %q%s", strings.Join(info.Enum, ", "), s, suggest(strings.TrimSpace(s), info.Enum...))
	}
	return ""
}

// CardLister is a ValidateEnv that can list its cards' references
// ("okta-devices/x"), so that a misspelt card gets the nearest one as a
// suggestion.
type CardLister interface {
	CardRefs() []string
}

// suggestCard proposes a known card close to ref.
func suggestCard(env ValidateEnv, ref string) string {
	conn, name, ok := strings.Cut(ref, "/")
	if !ok {
		return ""
	}
	for _, guess := range []string{name + "s", strings.TrimSuffix(name, "s"), strings.ReplaceAll(name, "_", "-")} {
		if guess == name {
			continue
		}
		if _, ok := env.Card(conn + "/" + guess); ok {
			return fmt.Sprintf(" (did you mean %q?)", conn+"/"+guess)
		}
	}
	l, ok := env.(CardLister)
	if !ok {
		return ""
	}
	best, bestDist := "", 3
	for _, r := range l.CardRefs() {
		c, n, _ := strings.Cut(r, "/")
		if d := spelling.Distance(strings.ToLower(name), n); c == conn && d < bestDist {
			best, bestDist = r, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// suggestEventCard proposes the event card ref likely means: the event
// card nearest in spelling, or the only one whose name starts with ref's
// (device-removed for device-removed-from-user); else what suggestCard
// proposes. (An Okta event type, device.user.remove, is no card reference:
// parsing refuses it, saying so.)
func suggestEventCard(env ValidateEnv, ref string) string {
	l, ok := env.(CardLister)
	if !ok {
		return suggestCard(env, ref)
	}
	_, name, hasConn := strings.Cut(strings.TrimSpace(ref), "/")
	if !hasConn {
		name = strings.TrimSpace(ref)
	}
	name = strings.ToLower(name)
	best, bestDist := "", 3
	var starting []string
	for _, r := range l.CardRefs() {
		c, ok := env.Card(r)
		if !ok || c.Mode != ModeEvent {
			continue
		}
		_, n, _ := strings.Cut(r, "/")
		if d := spelling.Distance(name, n); d < bestDist {
			best, bestDist = r, d
		}
		if strings.HasPrefix(n, name) {
			starting = append(starting, r)
		}
	}
	if best == "" && len(starting) == 1 {
		best = starting[0]
	}
	if best == "" {
		return suggestCard(env, ref)
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// checkEventTrigger checks on.event against env: the card is an event
// card, the connection exists and is active, and (scope preflight) it was
// granted the scopes of the trigger's delivery. It returns the
// connection's id; near is the nearest nicknames of a connection that does
// not exist, as resolve found them.
func checkEventTrigger(iss *issues, ev *EventTrigger, env ValidateEnv, resolve func(connector, name string) (*ConnInfo, error), near func(connector, name string) string) (string, error) {
	const where = "on.event"
	if ev.Card == "" {
		return "", nil // parsing reported it
	}
	card, ok := env.Card(ev.Card)
	switch {
	case !ok:
		iss.add(ev.cardPos, "", "unknown event card %q%s; cardflow connectors lists the event cards (mode event; \"kind\": \"event\" in GET /api/v1/connectors)", ev.Card, suggestEventCard(env, ev.Card))
		return "", nil
	case card.Mode != ModeEvent:
		iss.add(ev.cardPos, "", "card %s is not an event card: on.event.card takes one of the connector's event cards (\"kind\": \"event\" in GET /api/v1/connectors)", ev.Card)
		return "", nil
	}
	if ev.Connection == "" {
		return "", nil // parsing reported it
	}
	conn, err := resolve(ev.Connector(), ev.Connection)
	if err != nil {
		return "", err
	}
	if conn == nil {
		iss.add(ev.pos, "", "%s: there is no %s connection %q%s; create it (cardflow connections create) or use the nickname or id of an existing one", where, ev.Connector(), ev.Connection, near(ev.Connector(), ev.Connection))
		return "", nil
	}
	if conn.Status != "" && conn.Status != "active" {
		iss.add(ev.pos, "", "%s: connection %q %s, not active; %s before enabling this flow", where, ev.Connection, statusText(conn.Status), inactiveRemedy(conn))
		iss.list[len(iss.list)-1].inactive = &inactiveIssue{Connection: conn.Nickname, Message: inactiveMessage(conn),
			Remedy: inactiveRemedy(conn), code: problem.NotActiveCode(conn.Status, conn.NeverAuthorized)}
		iss.list[len(iss.list)-1].path = where + ".connection"
		return conn.ID, nil
	}
	if ev.badDelivery {
		return conn.ID, nil // parsing reported it; its scopes are unknown
	}
	delivery := ev.Delivery
	if delivery == "" {
		delivery = card.DefaultDelivery
	}
	var scopes []string
	switch delivery {
	case DeliveryHook, DeliveryPoll:
		scopes = []string{card.DeliveryScopes[delivery]}
	case DeliveryHookPoll:
		scopes = []string{card.DeliveryScopes[DeliveryHook], card.DeliveryScopes[DeliveryPoll]}
	}
	for _, scope := range scopes {
		if scope == "" || scopeGranted(scope, conn.GrantedScopes) {
			continue
		}
		granted := slices.Clone(conn.GrantedScopes)
		iss.list = append(iss.list, Issue{
			Line: ev.pos.Line, Column: ev.pos.Column,
			Message: fmt.Sprintf("%s: event card %s with %s delivery needs scope %s, which connection %q was not granted (granted: %s)",
				where, card.Ref, delivery, scope, conn.Nickname, grantedList(granted)),
			scope: &scopeIssue{Card: card.Ref, Connection: conn.Nickname, RequiredScope: scope, GrantedScopes: granted,
				Remedy: scopeRemedy(conn, scope)},
			path: where + ".connection",
		})
	}
	return conn.ID, nil
}
