package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/api"
)

func fetchConnectors(ctx context.Context, c *client) ([]api.Connector, error) {
	var out api.ConnectorList
	err := c.do(ctx, "GET", "/api/v1/connectors", nil, &out)
	return out.Connectors, err
}

func cmdConnectors(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "connectors", "connectors [CARD] [--json]\n\n"+
		"Without CARD: each connector and its cards. With CARD (okta-devices/suspend-device, or\n"+
		"suspend-device): that card in full, each input with its type and meaning, and how to run it.")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("unexpected argument %q (only one card)", pos[1])
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	if len(pos) == 0 {
		return fetch(ctx, c, o, e.stdout, "/api/v1/connectors", printConnectors)
	}
	conns, err := fetchConnectors(ctx, c)
	if err != nil {
		return err
	}
	cd, err := findCard(conns, pos[0])
	if err != nil {
		return err
	}
	if o.json {
		return printJSON(e.stdout, cd)
	}
	printCard(e.stdout, cd)
	return nil
}

// printCard describes one card for people: what it does, the scope it
// needs, its inputs (type, required, accepted values, default, meaning),
// its outputs and a command line that runs it (or, for an event card,
// the trigger that uses it).
func printCard(w io.Writer, cd *api.Card) {
	fmt.Fprintf(w, "%s (%s): %s card", cd.Name, cd.Ref, cd.Mode)
	if cd.Scope != "" {
		fmt.Fprintf(w, ", needs scope %s", cd.Scope)
	}
	fmt.Fprintf(w, "\n%s\n", cd.Description)
	if cd.EventType != "" {
		fmt.Fprintf(w, "\nOkta event type: %s\n", cd.EventType)
	}
	if len(cd.DeliveryScopes) > 0 {
		fmt.Fprintln(w, "\nScope needed by delivery:")
		t := newTable(w, "  DELIVERY", "SCOPE")
		for _, d := range slices.Sorted(maps.Keys(cd.DeliveryScopes)) {
			t.row("  "+d, cd.DeliveryScopes[d])
		}
		t.flush()
	}
	if len(cd.Inputs) > 0 {
		fmt.Fprintln(w, "\nInputs:")
		t := newTable(w, "  NAME", "TYPE", "MEANING")
		for _, in := range cd.Inputs {
			typ := in.Type
			if in.Required {
				typ += ", required"
			}
			meaning := in.Description
			if len(in.Enum) > 0 {
				meaning += " One of: " + strings.Join(in.Enum, ", ") + "."
			}
			if in.Default != nil {
				meaning += fmt.Sprintf(" Default: %v.", in.Default)
			}
			t.row("  "+in.Name, typ, meaning)
		}
		t.flush()
	}
	if cd.Kind == "event" {
		fmt.Fprintf(w, "\nOutputs: trigger.event, in a flow it starts (on: {event: {card: %s, connection: NICKNAME}})\n", cd.Ref)
		return
	}
	fmt.Fprintf(w, "\nOutputs (steps.ID.output in a flow): %s\n", cd.Outputs)
	line := []string{"cardflow", "run", cd.Ref, "--connection", "NICKNAME"}
	for _, in := range cd.Inputs {
		if in.Required {
			line = append(line, "--input", in.Name+"=...")
		}
	}
	fmt.Fprintf(w, "\nRun it: %s\n", strings.Join(line, " "))
}

func printConnectors(w io.Writer, out *api.ConnectorList) {
	for _, cn := range out.Connectors {
		fmt.Fprintf(w, "%s (%s), default scopes: %s\n\n", cn.Name, cn.ID, strings.Join(cn.DefaultScopes, " "))
		t := newTable(w, "CARD", "MODE", "SCOPE", "OUTPUTS", "INPUTS")
		for _, cd := range cn.Cards {
			var in []string
			for _, i := range cd.Inputs {
				s := i.Name + ":" + i.Type
				if i.Required {
					s += "!"
				}
				in = append(in, s)
			}
			outputs := strings.ReplaceAll(cd.Outputs, ", ", " ")
			if cd.Kind == "event" {
				outputs = "trigger.event" // its fields are in the card's description (--json)
			}
			t.row(cd.Ref, cd.Mode, orDash(cd.Scope), outputs, strings.Join(in, " "))
		}
		t.flush()
		fmt.Fprintln(w, "\n(name:type! marks a required input; OUTPUTS are the keys of steps.ID.output in a flow; cardflow connectors CARD describes one card)")
	}
}

// findCard resolves a card reference; "suspend-device" is accepted for
// "okta-devices/suspend-device" when only one connector has it. An unknown
// one is refused with the cards that run; an event card is found, for the
// server to say why it does not run.
func findCard(conns []api.Connector, ref string) (*api.Card, error) {
	var found []*api.Card
	var all, names []string
	for i := range conns {
		for j := range conns[i].Cards {
			cd := &conns[i].Cards[j]
			if cd.Kind != "event" { // event cards start flows; they are not run
				all = append(all, cd.Ref)
				names = append(names, cd.Ref[strings.Index(cd.Ref, "/")+1:])
			}
			if cd.Ref == ref || (!strings.Contains(ref, "/") && strings.HasSuffix(cd.Ref, "/"+ref)) {
				found = append(found, cd)
			}
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		// A misspelt card is suggested as it was written: connector/card
		// for connector/card, the card alone for the card alone.
		hint := didYouMean(ref, all, "")
		if !strings.Contains(ref, "/") {
			hint = didYouMean(ref, names, "")
		}
		if hint != "" {
			return nil, usagef("unknown card %q%s", ref, hint)
		}
		sort.Strings(all)
		return nil, usagef("unknown card %q; cards: %s", ref, strings.Join(all, ", "))
	default:
		return nil, usagef("card %q is ambiguous; write it as connector/card", ref)
	}
}

// parseInputs turns --input k=v (and k:=JSON) into a card input, typed by
// the card's declared inputs.
func parseInputs(cd *api.Card, kvs []string) (map[string]any, error) {
	names := make([]string, 0, len(cd.Inputs))
	for _, in := range cd.Inputs {
		names = append(names, in.Name)
	}
	return parseTypedInputs("card "+cd.Ref, names, kvs)
}

// parseTypedInputs turns --input k=v (and k:=JSON) into the input of owner
// (a card or a flow, named in errors), refusing names it does not declare
// (names).
// A k=v value is sent as text: the server reads it by the input's declared
// type with the one rule card and flow inputs share (numbers, true/false or
// yes/no, lists as JSON or a,b,c, objects as JSON).
func parseTypedInputs(owner string, names []string, kvs []string) (map[string]any, error) {
	declared := map[string]bool{}
	for _, n := range names {
		declared[n] = true
	}
	out := map[string]any{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usagef("--input %q: want name=value (or name:=JSON)", kv)
		}
		name, isJSON := strings.CutSuffix(k, ":")
		if _, twice := out[name]; twice {
			// The later value would silently replace the earlier one.
			return nil, usagef("--input %s is given twice: give each input once (a list as name=a,b,c or name:='[\"a\",\"b\"]')", name)
		}
		if !declared[name] && len(declared) > 0 {
			if hint := didYouMean(name, names, ""); hint != "" {
				return nil, usagef("%s has no input %q%s", owner, name, hint)
			}
			return nil, usagef("%s has no input %q; its inputs: %s", owner, name, strings.Join(names, ", "))
		}
		if !isJSON {
			out[name] = v
			continue
		}
		var val any
		if err := json.Unmarshal([]byte(v), &val); err != nil {
			return nil, usagef("--input %s: the value is not valid JSON: %v", name, err)
		}
		out[name] = val
	}
	return out, nil
}

// runConnection names the connection of a run, or "-".
func runConnection(r *api.Run) string {
	if r.Connection == nil {
		return "-"
	}
	if r.Connection.Nickname != "" {
		return r.Connection.Nickname
	}
	return r.Connection.ID
}

// runDuration is how long a run took, or "-" while it runs.
func runDuration(r *api.Run) string {
	if r.FinishedAt == nil {
		return "-"
	}
	return r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
}

func cmdRun(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "run", "run CARD --connection ID|NICKNAME [--input name=value ...] [--json]\n\n"+
		"Values are converted to the card input's type (true/false, numbers, lists as a,b,c);\n"+
		"name:=JSON passes any JSON value.")
	var connection string
	var inputs stringList
	fs.StringVar(&connection, "connection", "", "connection id or nickname")
	fs.Var(&inputs, "input", "card input name=value or name:=JSON (repeatable)")
	ref, err := oneArg(fs, args, "card (e.g. okta-devices/read-device)")
	if err != nil {
		return err
	}
	if ext := strings.ToLower(filepath.Ext(ref)); ext == ".yaml" || ext == ".yml" {
		// run takes a card; a flow document is run by flows run.
		line := []string{"cardflow", "flows", "run"}
		for _, a := range args {
			line = append(line, shellArg(a))
		}
		return usagef("%s is a flow document, not a card: run a flow with %s (cardflow run runs one card, e.g. okta-devices/read-device)", ref, strings.Join(line, " "))
	}
	if connection == "" {
		return usagef("missing --connection")
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	conns, err := fetchConnectors(ctx, c)
	if err != nil {
		return err
	}
	cd, err := findCard(conns, ref)
	if err != nil {
		return err
	}
	input, err := parseInputs(cd, inputs)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	body := api.RunRequest{Card: cd.Ref, Connection: connection, Input: input}
	if err := c.do(ctx, "POST", "/api/v1/runs", body, &raw); err != nil {
		err = inputRefused(err, anyRefusal)
		var ua *unansweredError
		if errors.As(err, &ua) && ua.maybeDone {
			// The card run is recorded before the card calls Okta: its
			// history says whether it ran and how it ended.
			return fmt.Errorf("%w\nWhether the card ran shows in: cardflow runs list --card %s --connection %q (a run its server could not finish ends interrupted and says what to check)", err, cd.Ref, connection)
		}
		return err
	}
	var r api.Run
	if err := json.Unmarshal(raw, &r); err != nil {
		return err
	}
	if o.json {
		if err := printJSON(e.stdout, raw); err != nil {
			return err
		}
	} else {
		printRunResult(e.stdout, &r)
	}
	if r.Status != "succeeded" {
		if r.Error != nil {
			return &reportedError{body: *r.Error}
		}
		return reported("", fmt.Sprintf("card run %s ended %s", r.ID, r.Status), "")
	}
	return nil
}

func printRunResult(w io.Writer, r *api.Run) {
	printRunHeadline(w, r)
	printRunOutcome(w, r)
}

// printRunHeadline is a card run's first line: id, status, card,
// connection and duration.
func printRunHeadline(w io.Writer, r *api.Run) {
	fmt.Fprintf(w, "Run %s %s (%s on %s, %s)\n", r.ID, r.Status, r.Card, runConnection(r), runDuration(r))
}

// printRunOutcome prints a card run's error and output.
func printRunOutcome(w io.Writer, r *api.Run) {
	if r.Error != nil {
		fmt.Fprintf(w, "Error: %s\n", (&apiError{Body: *r.Error}).Error())
	}
	if r.Outcome != "" {
		fmt.Fprintf(w, "Outcome: %s\n", r.Outcome)
	}
	if len(r.Output) > 0 && string(r.Output) != "null" {
		fmt.Fprintln(w, "Output:")
		_ = printJSON(w, r.Output)
	}
}

// plansUsage is the help of the --plans flag of runs list and audit.
const plansUsage = "the card runs of flow plans (their read steps): include (listed with the rest), exclude or only"

// checkPlans checks a --plans value; the server reads it (plans=).
func checkPlans(v string) error {
	switch v {
	case "", "include", "exclude", "only":
		return nil
	}
	return usagef("--plans %q: want include, exclude or only", v)
}

// planCard is the card of a run or audit event as the lists show it: of a
// flow plan's read, followed by "(plan of NAME)".
func planCard(card string, p *api.PlanRef) string {
	if p == nil || card == "" {
		// An event of no card (flow.plan) names its flow in its summary.
		return card
	}
	return card + " (plan of " + p.FlowName + ")"
}

// planText says which flow plan a run was made for: "plan of flow NAME",
// and "(not stored)" for a document planned without being stored.
func planText(p *api.PlanRef) string {
	if p.FlowID == "" {
		return "plan of flow " + p.FlowName + " (not stored)"
	}
	return "plan of flow " + p.FlowName
}

func cmdRunsList(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "runs list", "runs list [--connection ID|NICKNAME] [--card REF] [--plans include|exclude|only] [--limit N] [--json]")
	var connection, card, plans string
	var limit int
	fs.StringVar(&connection, "connection", "", "only runs of this connection (id or nickname)")
	fs.StringVar(&card, "card", "", "only runs of this card (connector/card or the card alone, e.g. suspend-device)")
	fs.StringVar(&plans, "plans", "", plansUsage)
	fs.IntVar(&limit, "limit", 20, "how many runs (1-1000)")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	if err := checkLimit(limit); err != nil {
		return err
	}
	if err := checkPlans(plans); err != nil {
		return err
	}
	filters := flagsText("connection", connection, "card", card, "plans", plans)
	return fetch(ctx, c, o, e.stdout, listPath("/api/v1/runs", limit, "connection", connection, "card", card, "plans", plans), func(w io.Writer, out *api.RunList) {
		if len(out.Runs) == 0 {
			printNone(w, "card runs", filters)
			return
		}
		t := newTable(w, "ID", "CARD", "CONNECTION", "STATUS", "STARTED", "DURATION", "OUTCOME")
		for i := range out.Runs {
			r := &out.Runs[i]
			outcome := orDash(r.Outcome) // what it did, or why it failed
			if r.Error != nil {
				outcome = r.Error.Code
			}
			t.row(r.ID, planCard(r.Card, r.Plan), runConnection(r), r.Status, when(r.StartedAt), runDuration(r), outcome)
		}
		t.flush()
	})
}

func cmdRunsShow(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "runs show", "runs show ID [--json]")
	id, c, err := o.parseOneArg(args, "run id")
	if err != nil {
		return err
	}
	return fetch(ctx, c, o, e.stdout, "/api/v1/runs/"+pathEscape(id), printRun)
}

// printRun shows a stored card run with its input: the headline first,
// as after cardflow run, then who ran it and with what, then its outcome.
func printRun(w io.Writer, r *api.Run) {
	printRunHeadline(w, r)
	// The values start in one column, after the longest label (not with
	// a tabwriter: a tab in org data, a device's name, would move it).
	fields := [][2]string{{"Started:", when(r.StartedAt)}, {"By:", actorText(r.Actor)}}
	if r.Plan != nil {
		fields = append(fields, [2]string{"For:", planText(r.Plan)})
	}
	fields = append(fields, [2]string{"Acting as:", orDash(r.ActingAs)})
	if len(r.OktaRequestIDs) > 0 {
		fields = append(fields, [2]string{"Okta request IDs:", strings.Join(r.OktaRequestIDs, " ")})
	}
	if r.DeviceName != "" {
		var in struct {
			DeviceID string `json:"deviceId"`
		}
		_ = json.Unmarshal(r.Input, &in)
		fields = append(fields, [2]string{"Device:", deviceLabel(r.DeviceName, in.DeviceID)})
	}
	width := 0
	for _, f := range fields {
		width = max(width, len(f[0]))
	}
	for _, f := range fields {
		fmt.Fprintf(w, "%-*s %s\n", width, f[0], f[1])
	}
	if len(r.Input) > 0 {
		fmt.Fprintln(w, "Input:")
		_ = printJSON(w, r.Input)
	}
	printRunOutcome(w, r)
}

func cmdAudit(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "audit", "audit [--connection ID|NICKNAME] [--action ACTION] [--actor LOGIN|bootstrap|cardflow] [--plans include|exclude|only] [--limit N] [--before EVENT_ID] [--json]")
	var connection, action, actor, plans string
	var limit int
	var before int64
	fs.StringVar(&connection, "connection", "", "only events of this connection (id or nickname)")
	fs.StringVar(&action, "action", "", "only this action (e.g. card.run, connection.create)")
	fs.StringVar(&actor, "actor", "", "only events of this person (login), their tokens included; bootstrap for the server's API token (the bootstrap admin) and its tokens; cardflow for what cardflow did on its own")
	fs.StringVar(&plans, "plans", "", plansUsage)
	fs.IntVar(&limit, "limit", 50, "how many events (1-1000)")
	fs.Int64Var(&before, "before", 0, "only events older than the event of this id (the last line of a page names the command of the next)")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	if err := checkLimit(limit); err != nil {
		return err
	}
	if err := checkPlans(plans); err != nil {
		return err
	}
	if before < 0 {
		return usagef("--before %d: want the id of an audit event (a positive number)", before)
	}
	filters := flagsText("connection", connection, "action", action, "actor", actor, "plans", plans)
	beforeText := ""
	if before > 0 {
		beforeText = strconv.FormatInt(before, 10)
	}
	return fetch(ctx, c, o, e.stdout, listPath("/api/v1/audit", limit, "connection", connection, "action", action, "actor", actor, "plans", plans, "before", beforeText),
		func(w io.Writer, out *api.AuditList) {
			if len(out.Events) == 0 && before > 0 {
				printNone(w, "older audit events", strings.TrimSpace(filters+" --before "+beforeText))
				return
			}
			if len(out.Events) == 0 {
				if near := out.ActorSuggestion; near != "" {
					fmt.Fprintf(w, "No audit events match %s; did you mean --actor %s?\n", filters, shellArg(near))
					return
				}
				printNone(w, "audit events", filters)
				return
			}
			printAudit(w, out)
			if out.Next != "" {
				// A full page: older events may follow. The command of
				// the next page, as the API's next address is.
				last := out.Events[len(out.Events)-1].ID
				next := strings.TrimSpace("cardflow audit " + filters)
				if limit != 50 {
					next += " --limit " + strconv.Itoa(limit)
				}
				fmt.Fprintf(w, "Next page (older events): %s --before %d\n", next, last)
			}
		})
}

// printNone says that a list came empty: "No WHAT." or, with filters
// given (flagsText), "No WHAT match FILTERS.". A table's header alone reads
// as a list that failed to come.
func printNone(w io.Writer, what, filters string) {
	if filters == "" {
		fmt.Fprintf(w, "No %s.\n", what)
		return
	}
	fmt.Fprintf(w, "No %s match %s.\n", what, filters)
}

// flagsText writes the flags given of name, value pairs as they are typed
// ("--action card.run --actor ada@example.com"), leaving out the empty ones.
func flagsText(pairs ...string) string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			out = append(out, "--"+pairs[i]+" "+shellArg(pairs[i+1]))
		}
	}
	return strings.Join(out, " ")
}

// actorText names an actor: a login, "token NAME of LOGIN", "bootstrap
// admin", "cardflow" (the server on its own), or "-".
func actorText(a *api.Actor) string {
	if a == nil {
		return "-"
	}
	switch a.Type {
	case "user":
		return a.Login
	case "token":
		owner := a.Login
		if owner == "" {
			owner = "the bootstrap admin"
		}
		return "token " + a.TokenName + " of " + owner
	case "bootstrap":
		return "bootstrap admin"
	case "server":
		return "cardflow"
	}
	return orDash(a.Login)
}

func printAudit(w io.Writer, out *api.AuditList) {
	t := newTable(w, "TIME", "ACTION", "OUTCOME", "ACTOR", "CONNECTION", "ACTING AS", "CARD", "INPUT", "OKTA REQUEST", "ERROR")
	for _, ev := range out.Events {
		conn := ev.ConnectionNickname
		if conn == "" {
			conn = orDash(ev.ConnectionID)
		}
		t.row(when(ev.Time), ev.Action, ev.Outcome, actorText(ev.Actor), conn, orDash(ev.ActingAs),
			orDash(planCard(ev.Card, ev.Plan)), orDash(ev.InputSummary), orDash(ev.OktaRequestID), orDash(ev.Error))
	}
	t.flush()
}
