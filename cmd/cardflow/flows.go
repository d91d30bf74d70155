package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/counttext"
)

// triggerText is a flow's trigger for people: "cron 0 2 * * * Europe/Berlin",
// "every 15m UTC", "cron 0 2 * * * UTC, starting deadline 2h", "event
// okta-devices/x (Prod)" or "-".
func triggerText(f *api.Flow) string {
	t := f.Trigger
	switch t["kind"] {
	case "schedule":
		text := fmt.Sprintf("every %v %v", t["every"], t["timezone"])
		if c, ok := t["cron"].(string); ok {
			text = fmt.Sprintf("cron %s %v", c, t["timezone"])
		}
		if d, ok := t["startingDeadline"].(string); ok {
			text += ", starting deadline " + d
		}
		return text
	case "event":
		return fmt.Sprintf("event %v (%v)", t["card"], t["connection"])
	}
	return "-"
}

// flowState is "enabled", "disabled" or "-" (no trigger).
func flowState(f *api.Flow) string {
	switch {
	case f.Trigger == nil:
		return "-"
	case f.Enabled:
		return "enabled"
	}
	return "disabled"
}

// flowListState is flowState with, for an enabled flow, what stops it:
// "enabled — connection Prod needs reauthorization", or what makes it
// work less well, marked as a warning.
func flowListState(f *api.Flow) string {
	st := flowState(f)
	if !f.Enabled || len(f.Problems) == 0 {
		return st
	}
	var ps []string
	for _, p := range f.Problems {
		c := "connection " + p.Connection
		switch p.Problem {
		case "needs reauthorization":
			ps = append(ps, c+" needs reauthorization")
		case "no such connection":
			ps = append(ps, c+" does not exist")
		case "pending":
			ps = append(ps, c+" is pending (not authorized yet)")
		case "error":
			ps = append(ps, c+" is in error")
		default:
			ps = append(ps, c+": "+p.Problem)
		}
		if p.Severity == "warning" {
			// The flow still runs: one way of its events works.
			ps[len(ps)-1] = "warning: " + ps[len(ps)-1]
		}
	}
	return st + " — " + strings.Join(ps, "; ")
}

// nextRunText is ", next run: TIME" for a scheduled flow, and nothing for
// one that events start (it has no next run to speak of).
func nextRunText(f *api.Flow) string {
	if f.Trigger["kind"] != "schedule" {
		return ""
	}
	text := ", next run: " + nextRun(f)
	if at := zoneTime(f); at != "" {
		text += " = " + at
	}
	return text
}

// zoneTime is an enabled cron flow's next run on the clocks of its
// timezone ("2027-03-28 03:00 Europe/Berlin"), for a zone other than
// UTC: the time the cron fields speak of, which daylight saving moves
// away from the written one at times; "" otherwise.
func zoneTime(f *api.Flow) string {
	zone, _ := f.Trigger["timezone"].(string)
	s, _ := f.Trigger["nextRunAt"].(string)
	if zone == "" || zone == "UTC" || s == "" || !f.Enabled {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return ""
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04") + " " + zone
}

// lastRun is the status of the flow's most recent run and when it ended
// (or was queued, while it has not ended), or "-".
func lastRun(f *api.Flow) string {
	r := f.LastRun
	if r == nil {
		return "-"
	}
	at := r.CreatedAt
	if r.FinishedAt != nil {
		at = *r.FinishedAt
	}
	return r.Status + " " + when(at)
}

// nextRun is the next schedule tick, or "-".
func nextRun(f *api.Flow) string {
	if s, ok := f.Trigger["nextRunAt"].(string); ok && f.Enabled {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return when(t)
		}
	}
	return "-"
}

func cmdFlowsEnable(ctx context.Context, e *env, args []string) error {
	return setFlowEnabled(ctx, e, args, "enable")
}

func cmdFlowsDisable(ctx context.Context, e *env, args []string) error {
	return setFlowEnabled(ctx, e, args, "disable")
}

// cmdFlowsStore stores a flow document on the server under its name without
// running it, and with --enable turns its trigger on: the way to put a
// scheduled or event-triggered flow in place.
func cmdFlowsStore(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows store", "flows store FILE [--enable] [--json]")
	var enable bool
	fs.BoolVar(&enable, "enable", false, "turn the flow's trigger (on:) on once it is stored")
	file, c, err := o.parseOneArg(args, "flow document (FILE)")
	if err != nil {
		return err
	}
	src, err := readFlowFile(file)
	if err != nil {
		return flowFileError(file, err)
	}
	var raw json.RawMessage
	if err := c.do(ctx, "POST", "/api/v1/flows", src, &raw); err != nil {
		printRefusedWarnings(e.stderr, file, err)
		return err
	}
	var stored api.FlowStored
	if err := json.Unmarshal(raw, &stored); err != nil {
		return fmt.Errorf("the server's answer to POST /api/v1/flows is not the expected JSON: %w", err)
	}
	// Said whatever else happens: the flow is stored with them.
	defer printWarnings(e.stderr, file, stored.Warnings)
	f := &stored.Flow
	if enable {
		if f.Trigger == nil {
			return usagef("flow %s is stored, but it has no trigger (on:) to enable; run it with: %s", f.Name, runCommand(f))
		}
		var enabled json.RawMessage
		if err := c.do(ctx, "POST", "/api/v1/flows/"+pathEscape(f.ID)+"/enable", nil, &enabled); err != nil {
			return fmt.Errorf("flow %s is stored but not enabled: %w", f.Name, err)
		}
		if err := json.Unmarshal(enabled, f); err != nil {
			return fmt.Errorf("the server's answer to enabling flow %s is not the expected JSON: %w", f.Name, err)
		}
		raw, stored.Enablement = enabled, nil
	}
	if o.json {
		return printJSON(e.stdout, raw)
	}
	if stored.Unchanged {
		fmt.Fprintf(e.stdout, "Flow %s (id %s) is unchanged: the document is the same as its version %d, so no version was added.\n", f.Name, f.ID, f.Version)
	} else {
		fmt.Fprintf(e.stdout, "Stored flow %s (id %s) as version %d.\n", f.Name, f.ID, f.Version)
	}
	if f.Trigger == nil {
		fmt.Fprintf(e.stdout, "It has no trigger; run it with: %s\n", runCommand(f))
	} else {
		fmt.Fprintf(e.stdout, "Trigger: %s, %s%s\n", triggerText(f), flowState(f), nextRunText(f))
	}
	if stored.Enablement != nil {
		fmt.Fprintln(e.stdout, enablementText(stored.Enablement, f))
	}
	fmt.Fprint(e.stdout, droppedRerunsText(f))
	return nil
}

// enablementText is what storing flow f did to its enabled state, as the
// server words it, with the command line's way to enable it where the
// server names the API's first (a flow stored disabled, or disabled by a
// changed trigger).
func enablementText(en *api.Enablement, f *api.Flow) string {
	enable := "cardflow flows enable " + shellArg(f.Name)
	switch en.Outcome {
	case "new":
		return "Stored disabled, as every flow with a trigger is; enable it with: " + enable
	case "disabled":
		if f.Trigger != nil {
			return "Disabled: the trigger changed; check it and enable it again with: " + enable
		}
	}
	return en.Message
}

// setFlowEnabled runs flows enable or flows disable.
func setFlowEnabled(ctx context.Context, e *env, args []string, verb string) error {
	_, o := newClientFlagSet(e, "flows "+verb, "flows "+verb+" NAME [--json]")
	name, c, err := o.parseOneArg(args, "flow name or id")
	if err != nil {
		return err
	}
	var answer api.Flow
	err = exchangeInto(ctx, c, o, e.stdout, &answer, "POST", "/api/v1/flows/"+pathEscape(name)+"/"+verb, nil, func(w io.Writer, f *api.Flow) {
		if f.Trigger == nil {
			fmt.Fprintf(w, "flow %s has no trigger (on:), so nothing starts it but a run: cardflow flows run %s\n", f.Name, shellArg(f.Name))
			return
		}
		fmt.Fprintf(w, "flow %s: %s (trigger: %s%s)\n", f.Name, flowState(f), triggerText(f), nextRunText(f))
		fmt.Fprint(w, droppedRerunsText(f))
	})
	if err == nil && verb == "enable" {
		// Enabling is when the schedule starts to matter.
		printStoredWarnings(e.stderr, answer.Name, answer.Version, answer.Warnings)
	}
	// Enabling a flow without a trigger is a command that does not apply
	// to it, as flows store --enable of it is; the problems of its
	// document (details.errors) are the flow's.
	return inputRefused(err, func(b *api.Error) bool {
		_, problems := b.Details["errors"]
		return !problems
	})
}

// droppedRerunsText says which failed event runs, waiting for their
// connection to run again by themselves, disabling flow f dropped, and how
// to run them anyway; "" when it dropped none.
func droppedRerunsText(f *api.Flow) string {
	n := len(f.DroppedReruns)
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("Dropped %s that waited for their connection to run again by themselves (%s): enabling the flow again does not bring them back. To run the failed items of one anyway: cardflow flows rerun %s --failed-only\n",
		counttext.Format(n, "failed event run"), strings.Join(f.DroppedReruns, ", "), f.DroppedReruns[0])
}

// runCommand is the command that runs stored flow f, with an --input for
// each input it must be given (required, without a default).
func runCommand(f *api.Flow) string {
	cmd := "cardflow flows run " + shellArg(f.Name)
	for _, name := range slices.Sorted(maps.Keys(f.Inputs)) {
		if in := f.Inputs[name]; in.Required && in.Default == nil {
			cmd += " --input " + shellArg(name+"=VALUE")
		}
	}
	return cmd
}

// issueInFile formats an issue as found in file, "FILE:LINE:COLUMN: step
// s: message", the form editors and terminals jump to.
func issueInFile(i api.FlowIssue, file string) string {
	var b strings.Builder
	b.WriteString(file + ":")
	if i.Line > 0 {
		fmt.Fprintf(&b, "%d", i.Line)
		if i.Column > 0 {
			fmt.Fprintf(&b, ":%d", i.Column)
		}
		b.WriteString(":")
	}
	b.WriteString(" ")
	if i.Step != "" {
		fmt.Fprintf(&b, "step %s: ", i.Step)
	}
	b.WriteString(i.Message)
	return b.String()
}

// printWarnings writes a flow document's warnings on w, one a line, as
// "warning: FILE:LINE:COLUMN: message; remedy": they change neither what
// the command did nor its exit status.
func printWarnings(w io.Writer, file string, ws []api.FlowWarning) {
	for _, wa := range ws {
		fmt.Fprintln(w, "warning: "+issueInFile(api.FlowIssue{Line: wa.Line, Column: wa.Column, Message: warningText(wa)}, file))
	}
}

// printStoredWarnings writes the warnings of stored flow name's document
// (its version) on w, one a line, as "warning: flow NAME, version N, line
// L, column C: message; remedy": a stored flow has no file to name.
func printStoredWarnings(w io.Writer, name string, version int, ws []api.FlowWarning) {
	for _, wa := range ws {
		fmt.Fprintf(w, "warning: flow %s, version %d, line %d, column %d: %s\n", name, version, wa.Line, wa.Column, warningText(wa))
	}
}

// warningText is a warning's message and its remedy, "message; remedy".
func warningText(wa api.FlowWarning) string {
	if wa.Remedy == "" {
		return wa.Message
	}
	return wa.Message + "; " + wa.Remedy
}

// warningCount is " (N warnings)" for a flow whose document has warnings,
// and nothing for one without.
func warningCount(f *api.Flow) string {
	if len(f.Warnings) == 0 {
		return ""
	}
	return " (" + counttext.Format(len(f.Warnings), "warning") + ")"
}

// printRefusedWarnings prints the warnings of a flow document that err,
// the server's answer to storing it, refused, as printWarnings does, and
// then its problems as flows validate does, one a line as
// "FILE:LINE:COLUMN: message", which editors jump to; the error then
// leaves them out, so that they are said once.
func printRefusedWarnings(w io.Writer, file string, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		return
	}
	if ws := refusedWarnings(ae.Body.Details); len(ws) > 0 {
		printWarnings(w, file, ws)
		ae.warningsSaid = true
	}
	if is := refusedIssues(ae.Body); len(is) > 0 {
		for _, i := range is {
			fmt.Fprintln(w, issueInFile(i, file))
		}
		ae.issuesSaid = fmt.Sprintf("%s is not a valid flow document (%s)", file, counttext.Format(len(is), "problem"))
	}
}

// refusedIssues are the problems of a flow document that the server
// refused as invalid (details.errors), or none when the error is another
// or its details do not list them with their messages.
func refusedIssues(body api.Error) []api.FlowIssue {
	if body.Code != "invalid_input" {
		return nil
	}
	var is []api.FlowIssue
	if b, err := json.Marshal(body.Details["errors"]); err != nil || json.Unmarshal(b, &is) != nil {
		return nil // not a list of issues (a flow's inputs are listed as sentences)
	}
	for _, i := range is {
		if i.Message == "" {
			return nil
		}
	}
	return is
}

// refusedWarnings are the warnings of a refused flow document, from its
// error's details.
func refusedWarnings(details map[string]any) []api.FlowWarning {
	var ws []api.FlowWarning
	if b, err := json.Marshal(details["warnings"]); err == nil {
		_ = json.Unmarshal(b, &ws) // none when it is not a list of warnings
	}
	return ws
}

// runFinished reports whether a flow run has ended.
func runFinished(r *api.FlowRun) bool {
	return r.Status == "succeeded" || r.Status == "failed" || r.Status == "canceled"
}

// runSummary is the run as `flows run --json` prints it.
func runSummary(r *api.FlowRun) any {
	type step struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		Items     int    `json:"items"`
		Succeeded int    `json:"succeeded"`
		Failed    int    `json:"failed"`
		Skipped   int    `json:"skipped"`
		NotRun    int    `json:"notRun"`
	}
	out := struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Error  string `json:"error,omitempty"`
		Steps  []step `json:"steps"`
	}{ID: r.ID, Status: r.Status, Error: r.Error, Steps: []step{}}
	for _, s := range r.Steps {
		out.Steps = append(out.Steps, step{s.ID, s.Status, s.Items, s.Succeeded, s.Failed, s.Skipped, s.NotRun})
	}
	return out
}

// loadFlow stores the flow document FILE on the server and returns it,
// its warnings written on stderr; an argument that is not a file names a
// stored flow (id or name).
func loadFlow(ctx context.Context, c *client, arg string, stderr io.Writer) (*api.Flow, error) {
	var out api.FlowStored
	src, err := readFlowFile(arg)
	switch {
	case err == nil:
		if err := c.do(ctx, "POST", "/api/v1/flows", src, &out); err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusForbidden {
				return storedAsIs(ctx, c, arg, src, err)
			}
			printRefusedWarnings(stderr, arg, err)
			return nil, err
		}
		// A connection's state (a warning of a connection's path) is
		// said by the run's refusal that follows, once for all its steps.
		printWarnings(stderr, arg, slices.DeleteFunc(out.Warnings, func(w api.FlowWarning) bool {
			return strings.HasSuffix(w.Path, ".connection")
		}))
		return &out.Flow, nil
	case errors.Is(err, fs.ErrNotExist) && !strings.ContainsAny(arg, `/\`) && !strings.HasSuffix(arg, ".yaml") && !strings.HasSuffix(arg, ".yml"):
		var f api.Flow
		if err := c.do(ctx, "GET", "/api/v1/flows/"+pathEscape(arg), nil, &f); err != nil {
			return nil, err
		}
		return &f, nil
	case errors.Is(err, fs.ErrNotExist) && !filepath.IsAbs(arg):
		msg := notThereText(err)
		// offboard.yml for the stored flow offboard: name it alone.
		if name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(arg), ".yaml"), ".yml"); name != filepath.Base(arg) && name != "" {
			var f api.Flow
			if c.do(ctx, "GET", "/api/v1/flows/"+pathEscape(name), nil, &f) == nil {
				msg += fmt.Sprintf("; a stored flow is named %s: give its name alone to use it", shellArg(f.Name))
			}
		}
		return nil, &usageError{msg: msg, err: err}
	default:
		return nil, argFileError("read the flow document", err)
	}
}

// storedAsIs is the stored flow whose latest version is the document src
// of file, for a caller that may run flows but not store them (an
// operator): storing the same bytes would add nothing. Otherwise it
// returns refused (the server's answer to storing) with what to do.
func storedAsIs(ctx context.Context, c *client, file string, src []byte, refused error) (*api.Flow, error) {
	var who api.Whoami
	if err := c.do(ctx, "GET", "/api/v1/whoami", nil, &who); err == nil && who.Role == "viewer" {
		// Storing the document first or not, a viewer may not run it.
		return nil, fmt.Errorf("%w\nRunning a flow needs the operator role (and running a document, which stores it first, the admin role); your role is viewer", refused)
	}
	var v api.FlowValidation
	if err := c.do(ctx, "POST", "/api/v1/flows/validate", src, &v); err != nil || v.Flow == "" {
		return nil, refused
	}
	var versions api.FlowVersionList
	err := c.do(ctx, "GET", "/api/v1/flows/"+pathEscape(v.Flow)+"/versions?limit=1", nil, &versions)
	var ae *apiError
	if err != nil && (!errors.As(err, &ae) || ae.Status != http.StatusNotFound) {
		return nil, err
	}
	sum := sha256.Sum256(src)
	if err == nil && len(versions.Versions) > 0 && versions.Versions[0].SHA256 == hex.EncodeToString(sum[:]) {
		var f api.Flow
		if err := c.do(ctx, "GET", "/api/v1/flows/"+pathEscape(versions.FlowID), nil, &f); err != nil {
			return nil, err
		}
		return &f, nil
	}
	what := "is not the latest stored version of flow " + v.Flow
	if err != nil {
		what = "is flow " + v.Flow + ", which is not stored"
	}
	return nil, fmt.Errorf("%w\nThe document %s %s, and running a document stores it first, which your role may not do: "+
		"ask an admin to store it (cardflow flows store %s), then run it by name (cardflow flows run %s)", refused, file, what, shellArg(file), shellArg(v.Flow))
}

// flowInputs converts --input k=v by the flow's declared input types.
// flowWithInputs parses the flags and the one argument of flows plan and
// flows run, stores or finds the flow it names, and converts the --input
// values (inputs, filled by the parse) to the flow's declared inputs.
func (o *clientOpts) flowWithInputs(ctx context.Context, args []string, inputs *stringList) (*api.Flow, *client, map[string]any, error) {
	arg, c, err := o.parseOneArg(args, "flow document (FILE) or stored flow name")
	if err != nil {
		return nil, nil, nil, err
	}
	f, err := loadFlow(ctx, c, arg, o.e.stderr)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := flowInputs(f, *inputs)
	if err != nil {
		return nil, nil, nil, err
	}
	return f, c, in, nil
}

func flowInputs(f *api.Flow, kvs []string) (map[string]any, error) {
	names := make([]string, 0, len(f.Inputs))
	for n := range f.Inputs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 && len(kvs) > 0 {
		return nil, usagef("flow %s takes no inputs", f.Name)
	}
	return parseTypedInputs("flow "+f.Name, names, kvs)
}

// requiredInputs refuses a run that lacks a required input of f with the
// --input flags that give them; the server's refusal names the API's
// "inputs" too. (The plan of a flow with a trigger is left to the server:
// its remedy also names the triggered runs whose on.inputs give them.)
func requiredInputs(f *api.Flow, in map[string]any) error {
	var missing, flags []string
	for name, def := range f.Inputs {
		if _, ok := in[name]; def.Required && !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Strings(missing)
	for _, name := range missing {
		flags = append(flags, "--input "+name+"=VALUE")
	}
	if len(missing) == 1 {
		return usagef("missing required input %s of flow %s: give it with %s", missing[0], f.Name, flags[0])
	}
	return usagef("missing required inputs %s of flow %s: give them with %s", strings.Join(missing, ", "), f.Name, strings.Join(flags, " "))
}

func cmdFlowsValidate(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows validate", "flows validate FILE [--json]")
	file, err := oneArg(fs, args, "flow document (FILE)")
	if err != nil {
		return err
	}
	src, err := readFlowFile(file)
	if err != nil {
		return flowFileError(file, err)
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	var out api.FlowValidation
	if err := c.do(ctx, "POST", "/api/v1/flows/validate", src, &out); err != nil {
		return err
	}
	defer printWarnings(e.stderr, file, out.Warnings)
	if o.json {
		if err := printJSON(e.stdout, out); err != nil {
			return err
		}
	} else if out.Valid {
		fmt.Fprintf(e.stdout, "%s: flow %s is valid (cards, references, connections and scopes checked)\n", file, out.Flow)
	} else {
		for _, i := range out.Issues {
			fmt.Fprintln(e.stdout, issueInFile(i, file))
		}
		if out.Remedy != "" {
			fmt.Fprintf(e.stdout, "Remedy: %s\n", out.Remedy)
		}
	}
	if !out.Valid {
		msg := out.Message
		if msg == "" {
			msg = fmt.Sprintf("%s is not a valid flow document (%s)", file, counttext.Format(len(out.Issues), "problem"))
		}
		return reported(out.Code, msg, out.Remedy)
	}
	return nil
}

func cmdFlowsPlan(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows plan", "flows plan FILE|NAME [--input name=value ...] [--as-scheduled | --event UUID | --event-file FILE] [--json]")
	var inputs stringList
	var scheduled bool
	var event, eventFile string
	fs.Var(&inputs, "input", "flow input name=value or name:=JSON (repeatable)")
	fs.BoolVar(&scheduled, "as-scheduled", false, "plan the run of the flow's next scheduled tick, with the inputs its on.inputs computes")
	fs.StringVar(&event, "event", "", "plan the run the stored event with this uuid would start (cardflow events list), with the inputs its on.inputs computes")
	fs.StringVar(&eventFile, "event-file", "", "plan the run the Okta event in this file would start (LogEvent JSON, as the System Log API answers it or the Admin Console's System Log shows it; - reads standard input), with the inputs its on.inputs computes")
	arg, c, err := o.parseOneArg(args, "flow document (FILE) or stored flow name")
	if err != nil {
		return err
	}
	var trigger *api.PlanTrigger
	switch triggers := btoi(scheduled) + btoi(event != "") + btoi(eventFile != ""); {
	case triggers > 1:
		return usagef("--as-scheduled, --event and --event-file plan different runs: give one of them")
	case triggers > 0 && len(inputs) > 0:
		return usagef("a triggered run's inputs come from on.inputs: leave out --input, or leave out --as-scheduled, --event and --event-file")
	case scheduled:
		trigger = &api.PlanTrigger{Kind: "schedule"}
	case event != "":
		trigger = &api.PlanTrigger{Kind: "event", EventUUID: event}
	case eventFile != "":
		raw, err := readEventFile(e, eventFile)
		if err != nil {
			return err
		}
		trigger = &api.PlanTrigger{Kind: "event", Event: raw}
	}
	var raw json.RawMessage
	// The plan's warnings are printed on stderr after it, whatever else
	// happens.
	var plan api.Plan
	src, err := readFlowFile(arg)
	switch {
	case err == nil:
		// A document is planned as it is and not stored: planning an
		// edited copy of a stored flow must not make it the version
		// that runs. The server reads the inputs by their declared types.
		in, err := parseTypedInputs("flow document "+arg, nil, inputs)
		if err != nil {
			return err
		}
		if err := c.do(ctx, "POST", "/api/v1/flows/plan", api.FlowPlanRequest{Source: string(src), Inputs: in, Trigger: trigger}, &raw); err != nil {
			printRefusedWarnings(e.stderr, arg, err)
			return planRefused(err, trigger)
		}
		defer func() { printWarnings(e.stderr, arg, plan.Warnings) }()
	default:
		f, err := loadFlow(ctx, c, arg, e.stderr)
		if err != nil {
			return err
		}
		in, err := flowInputs(f, inputs)
		if err != nil {
			return err
		}
		if trigger == nil && f.Trigger == nil {
			if err := requiredInputs(f, in); err != nil {
				return err
			}
		}
		if err := c.do(ctx, "POST", "/api/v1/flows/"+pathEscape(f.ID)+"/plan", api.FlowPlanStoredRequest{Inputs: in, Trigger: trigger}, &raw); err != nil {
			return planRefused(err, trigger)
		}
		defer func() { printStoredWarnings(e.stderr, f.Name, f.Version, plan.Warnings) }()
	}
	if err := json.Unmarshal(raw, &plan); err != nil {
		return fmt.Errorf("the server's plan is not the expected JSON: %w", err)
	}
	if o.json {
		if err := printJSON(e.stdout, raw); err != nil {
			return err
		}
	} else {
		printPlan(e.stdout, &plan)
	}
	if n := planErrors(&plan); n > 0 {
		return fmt.Errorf("the plan is incomplete: %s could not be planned (see above); a run would fail there or act on what the plan could not see", counttext.Format(n, "item"))
	}
	return nil
}

// planRefused is the error of a plan's request: a refusal of the inputs
// given with --input is a wrong command line; a triggered run's inputs
// are the flow's on.inputs, not the command line's.
func planRefused(err error, trigger *api.PlanTrigger) error {
	if trigger != nil {
		return err
	}
	return inputRefused(err, flowInputsRefusal)
}

// readEventFile reads the Okta event of --event-file: a file, or standard
// input for "-".
func readEventFile(e *env, name string) (json.RawMessage, error) {
	var b []byte
	var err error
	if name == "-" {
		if e.stdinTTY {
			// Read to its end, a terminal waits for Ctrl-D: say so.
			fmt.Fprintln(e.stderr, "Paste the Okta event (its LogEvent JSON), then press Ctrl-D on a line of its own:")
		}
		b, err = io.ReadAll(e.stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		if name == "-" {
			return nil, fmt.Errorf("read the event from standard input: %w", err)
		}
		return nil, argFileError("--event-file", err)
	}
	if !json.Valid(b) {
		return nil, usagef("--event-file %s is not JSON: give an Okta LogEvent as JSON (the System Log API's answer, or the Admin Console's System Log: expand the event, then JSON)", name)
	}
	return b, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// planErrors counts the items (or steps) that could not be planned.
func planErrors(p *api.Plan) int {
	n := 0
	for _, s := range p.Steps {
		n += len(s.Errors)
	}
	return n
}

func printPlan(w io.Writer, plan *api.Plan) {
	fmt.Fprintf(w, "Plan of flow %s (nothing was changed):\n", plan.Flow)
	if t := plan.Trigger; t != nil {
		if t.Kind == "event" {
			fmt.Fprintf(w, "  as the run of event %s (published %s), against the org as it is now\n", t.EventUUID, when(t.Time))
		} else {
			fmt.Fprintf(w, "  as the run of its schedule's next tick, %s, against the org as it is now\n", when(t.Time))
		}
		names := slices.Sorted(maps.Keys(plan.Inputs))
		for _, n := range names {
			v, _ := json.Marshal(plan.Inputs[n])
			fmt.Fprintf(w, "  input %s = %s (on.inputs)\n", n, v)
		}
	}
	for _, s := range plan.Steps {
		fmt.Fprintf(w, "\n  step %s: %s (%s), %s\n", s.ID, s.Card, s.Mode, counttext.Format(s.Items, "item"))
		for _, e := range s.Errors {
			if e.Index >= 0 && e.DeviceID != "" {
				fmt.Fprintf(w, "    error, item %d, %s: %s\n", e.Index, deviceLabel(e.DeviceName, e.DeviceID), e.Message)
			} else if e.Index >= 0 {
				fmt.Fprintf(w, "    error, item %d: %s\n", e.Index, e.Message)
			} else {
				fmt.Fprintf(w, "    error: %s\n", e.Message)
			}
		}
		for _, u := range s.Unsimulated {
			fmt.Fprintf(w, "    item %d: %s: effects unknown, not simulated\n", u.Index, u.Call)
		}
		if s.Mode != "manage" {
			continue
		}
		if len(s.Changes) == 0 && len(s.Errors) == 0 && len(s.Unsimulated) == 0 {
			fmt.Fprintln(w, "    no changes")
		}
		for _, ch := range s.Changes {
			fmt.Fprintf(w, "    %s: %s → %s\n", deviceLabel(ch.DeviceName, ch.DeviceID), ch.From, ch.To)
		}
	}
}

func cmdFlowsRun(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows run", "flows run FILE|NAME [--input name=value ...] [--no-wait] [--json]")
	var inputs stringList
	var noWait bool
	fs.Var(&inputs, "input", "flow input name=value or name:=JSON (repeatable)")
	fs.BoolVar(&noWait, "no-wait", false, "start the run and print its id without waiting")
	f, c, in, err := o.flowWithInputs(ctx, args, &inputs)
	if err != nil {
		return err
	}
	if err := requiredInputs(f, in); err != nil {
		return err
	}
	var started api.FlowRun
	if err := c.do(ctx, "POST", "/api/v1/flows/"+pathEscape(f.ID)+"/runs", api.FlowInputsRequest{Inputs: in}, &started); err != nil {
		err = inputRefused(err, flowInputsRefusal)
		var ua *unansweredError
		if errors.As(err, &ua) && ua.maybeDone {
			return fmt.Errorf("%w\nWhether the run started shows in: cardflow flows runs %s", err, f.ID)
		}
		return err
	}
	return finishRun(ctx, e, c, o, &started, noWait)
}

// finishRun prints a started run's id (noWait), or follows it to its end
// and prints it; a run that did not succeed is a failure.
func finishRun(ctx context.Context, e *env, c *client, o *clientOpts, started *api.FlowRun, noWait bool) error {
	if noWait {
		if o.json {
			return printJSON(e.stdout, runSummary(started))
		}
		fmt.Fprintf(e.stdout, "Started flow run %s; follow it with: cardflow flows show-run %s\n", started.ID, started.ID)
		return nil
	}
	run, err := followFlowRun(ctx, e, c, started.ID)
	if err != nil {
		return err
	}
	if o.json {
		if err := printJSON(e.stdout, runSummary(run)); err != nil {
			return err
		}
	} else {
		printFlowRun(e.stdout, run)
	}
	if run.Status != "succeeded" {
		msg := fmt.Sprintf("flow run %s ended %s", run.ID, run.Status)
		if run.Error != "" {
			msg += ": " + run.Error
		}
		return reported("", msg, "")
	}
	return nil
}

// followFlowRun polls a flow run until it finishes, drawing a progress line
// on stderr when stderr is a terminal.
func followFlowRun(ctx context.Context, e *env, c *client, id string) (*api.FlowRun, error) {
	p := newProgress(e.stderr, e.stderrTTY)
	defer p.done()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	// Interrupted (Ctrl-C), the command stops following; the run is the
	// server's and goes on unless canceled.
	stopped := fmt.Errorf("stopped waiting; the run %s goes on in the server: follow it with cardflow flows show-run %s, or stop it with cardflow flows cancel %s", id, id, id)
	for {
		var run api.FlowRun
		if err := c.do(ctx, "GET", "/api/v1/flow-runs/"+pathEscape(id)+"?"+url.Values{"items": {"false"}}.Encode(), nil, &run); err != nil {
			if ctx.Err() != nil {
				return nil, stopped
			}
			// A sign-in no longer accepted may be a revoked person's, and
			// revoking a person cancels the runs they started: the run
			// may have ended with it.
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				return nil, fmt.Errorf("%w\nThe run %s was canceled if your access was revoked (a revoke cancels the flow runs you started), else it goes on in the server: see which with cardflow flows show-run %s, signed in again", err, id, id)
			}
			// The run is the server's: a server that went away resumes it
			// once it is back, so the id is what the user needs to go on.
			return nil, fmt.Errorf("%w\nThe run %s goes on in the server (a restarted server resumes it): follow it with cardflow flows show-run %s", err, id, id)
		}
		// The line's last state is the run's end, not the count of the
		// poll before it (running, 71/87 items done, above succeeded).
		p.update(&run)
		if runFinished(&run) {
			return &run, nil
		}
		select {
		case <-ctx.Done():
			return nil, stopped
		case <-tick.C:
		}
	}
}

// versionText is "version N", or "version unknown" for a run stored
// before versions were kept.
func versionText(n int) string {
	if n == 0 {
		return "version unknown"
	}
	return fmt.Sprintf("version %d", n)
}

// cancelCause says who asked run r to stop, and why when they did not
// decide it on their own: "asked by admin@example.com", "its starter
// ada@example.com's access was revoked by admin@example.com"; for a
// request a server of an earlier version stored, which kept only its time,
// that who asked is not recorded; empty when nobody asked.
func cancelCause(r *api.FlowRun) string {
	if r.CancelRequestedAt == nil {
		return ""
	}
	if r.CancelRequestedBy == nil {
		return "asked (by whom is not recorded: a cardflow of an earlier version took the request)"
	}
	return cmp.Or(r.CancelReason, "asked") + " by " + actorText(r.CancelRequestedBy)
}

func printFlowRun(w io.Writer, r *api.FlowRun) {
	fmt.Fprintf(w, "Flow run %s (%s, %s): %s\n", r.ID, r.Flow, versionText(r.FlowVersion), r.Status)
	trigger := "manual"
	if r.Trigger != nil && r.Trigger.Kind != "" {
		trigger = r.Trigger.Kind
	}
	if trigger != "manual" && !r.Trigger.Time.IsZero() {
		trigger += " at " + when(r.Trigger.Time)
	}
	fmt.Fprintf(w, "Trigger: %s; actor: %s\n", trigger, actorText(r.Actor))
	if t := r.Trigger; t != nil && t.EventUUID != "" {
		fmt.Fprintf(w, "Event:   %s\n", runEventText(t))
	}
	if r.RerunOf != "" {
		fmt.Fprintf(w, "Rerun of: %s (same version, inputs and trigger)\n", r.RerunOf)
	}
	if cause := cancelCause(r); cause != "" {
		switch r.Status {
		case "canceled":
			fmt.Fprintf(w, "Canceled: %s at %s\n", cause, when(*r.CancelRequestedAt))
		case "queued", "running":
			fmt.Fprintf(w, "Cancel requested: %s at %s; the items in flight finish, then the run ends canceled\n", cause, when(*r.CancelRequestedAt))
		default:
			// Asked while the last of its items were in flight: they
			// decided how it ended.
			fmt.Fprintf(w, "Cancel requested: %s at %s, while its last items were in flight; it ended %s\n", cause, when(*r.CancelRequestedAt), r.Status)
		}
	}
	if r.Error != "" {
		fmt.Fprintf(w, "Error: %s\n", r.Error)
	}
	if text := r.RerunWhenActive.Text(r.ID); text != "" {
		fmt.Fprintf(w, "Rerun:   %s\n", text)
	}
	t := newTable(w, "STEP", "STATUS", "ITEMS", "SUCCEEDED", "CHANGED", "FAILED", "SKIPPED", "NOT RUN", "ERROR")
	for _, s := range r.Steps {
		changed := "-" // the step's cards do not say (a read), or it runs
		if s.Changed != nil {
			changed = fmt.Sprint(*s.Changed)
		}
		t.row(s.ID, s.Status, fmt.Sprint(s.Items), fmt.Sprint(s.Succeeded), changed, fmt.Sprint(s.Failed), fmt.Sprint(s.Skipped), fmt.Sprint(s.NotRun), orDash(s.Error))
	}
	t.flush()
}

func cmdFlowsShowRun(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows show-run", "flows show-run ID [--items] [--json]")
	var withItems bool
	fs.BoolVar(&withItems, "items", false, "also list every item of every step (read page by page)")
	id, c, err := o.parseOneArg(args, "flow run id")
	if err != nil {
		return err
	}
	// Ask for what is printed: the run and its steps, and the items page
	// by page only when they are wanted.
	path := "/api/v1/flow-runs/" + pathEscape(id) + "?items=false"
	if !withItems {
		return fetch(ctx, c, o, e.stdout, path, printFlowRun)
	}
	var run map[string]any
	if err := c.do(ctx, "GET", path, nil, &run); err != nil {
		return err
	}
	var view api.FlowRun
	if !o.json {
		b, _ := json.Marshal(run) // decoded from JSON, so it encodes
		if err := json.Unmarshal(b, &view); err != nil {
			return fmt.Errorf("the server's answer to GET %s is not the expected JSON: %w", path, err)
		}
		printFlowRun(e.stdout, &view)
	}
	steps, _ := run["steps"].([]any)
	for _, st := range steps {
		step, _ := st.(map[string]any)
		stepID, _ := step["id"].(string)
		if status, _ := step["status"].(string); status == "pending" || stepID == "" {
			continue
		}
		var t *table
		if !o.json {
			fmt.Fprintf(e.stdout, "\nStep %s:\n", stepID)
			t = newTable(e.stdout, "ITEM", "STATUS", "DEVICE", "OUTCOME", "INPUT", "ERROR", "CARD RUN")
		}
		all := []any{}
		next := "/api/v1/flow-runs/" + pathEscape(id) + "/items?" + url.Values{"step": {stepID}, "limit": {"1000"}}.Encode()
		for next != "" {
			var page api.FlowRunItemPage
			if err := c.do(ctx, "GET", next, nil, &page); err != nil {
				return err
			}
			for _, it := range page.Items {
				if o.json {
					all = append(all, it)
					continue
				}
				errText := "-"
				if it.Error != nil {
					errText = it.Error.Code + ": " + it.Error.Message
				}
				var in bytes.Buffer
				_ = json.Compact(&in, it.Input) // valid JSON: it was decoded
				t.row(fmt.Sprint(it.Index), it.Status, orDash(itemDevice(it)), orDash(it.Outcome), orDash(in.String()), errText, orDash(it.RunID))
			}
			if t != nil {
				t.flush()
			}
			next = page.Next
		}
		step["itemResults"] = all
	}
	if o.json {
		return printJSON(e.stdout, run)
	}
	return nil
}

func cmdFlowsRuns(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows runs", "flows runs [NAME|ID] [--status queued|running|succeeded|failed|canceled] [--limit N] [--json]\n\n"+
		"Without NAME: the runs of every flow.")
	var limit int
	var status string
	fs.IntVar(&limit, "limit", 20, "how many runs, newest first (1-1000)")
	fs.StringVar(&status, "status", "", "only the runs of this status: queued, running, succeeded, failed or canceled")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return extraArg(pos, "stored flow name or id")
	}
	if err := checkLimit(limit); err != nil {
		return err
	}
	if err := checkFlowRunStatus(status); err != nil {
		return err
	}
	c, err := o.client()
	if err != nil {
		return err
	}
	flowArg := ""
	if len(pos) == 1 {
		if flowArg = pos[0]; strings.TrimSpace(flowArg) == "" {
			return usagef("missing stored flow name or id: the argument is empty")
		}
	}
	// flow-runs?flow= takes a stored flow's name or id, and also the id of
	// a deleted flow, whose runs stay readable.
	return fetch(ctx, c, o, e.stdout, listPath("/api/v1/flow-runs", limit, "flow", flowArg, "status", status), func(w io.Writer, out *api.FlowRunList) {
		if len(out.Runs) == 0 {
			what := "flow runs"
			if flowArg != "" {
				what = "runs of flow " + shellArg(flowArg)
			}
			printNone(w, what, flagsText("status", status))
			return
		}
		cols := []string{"RUN", "VERSION", "STATUS", "TRIGGER", "RERUN OF", "QUEUED", "FINISHED", "ERROR"}
		if flowArg == "" {
			cols = append([]string{"FLOW"}, cols...)
		}
		t := newTable(w, cols...)
		for _, r := range out.Runs {
			finished := "-"
			if r.FinishedAt != nil {
				finished = when(*r.FinishedAt)
			}
			version := "-"
			if r.FlowVersion > 0 {
				version = fmt.Sprint(r.FlowVersion)
			}
			trigger := ""
			if r.Trigger != nil {
				trigger = r.Trigger.Kind
			}
			// A run whose steps failed has no error of its own: its
			// failure names the steps. A canceled one says who asked.
			why := cmp.Or(r.Error, r.Failure)
			if cause := cancelCause(&r); why == "" && cause != "" {
				why = "cancel requested: " + cause
				if r.Status == "canceled" {
					why = "canceled: " + cause
				}
			}
			if text := r.RerunWhenActive.Text(r.ID); text != "" {
				why += " (" + text + ")"
			}
			row := []string{r.ID, version, r.Status, orDash(trigger), orDash(r.RerunOf), when(r.CreatedAt), finished, orDash(why)}
			if flowArg == "" {
				row = append([]string{r.Flow}, row...)
			}
			t.row(row...)
		}
		t.flush()
	})
}

// checkFlowRunStatus checks a --status of flows runs ("" for any); the
// server checks it too.
func checkFlowRunStatus(v string) error {
	if v == "" || slices.Contains(api.FlowRunStatuses, v) {
		return nil
	}
	last := len(api.FlowRunStatuses) - 1
	return usagef("--status %q: want %s or %s", v, strings.Join(api.FlowRunStatuses[:last], ", "), api.FlowRunStatuses[last])
}

func cmdFlowsRerun(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows rerun", "flows rerun RUN_ID [--failed-only] [--no-wait] [--json]")
	var failedOnly, noWait bool
	fs.BoolVar(&failedOnly, "failed-only", false, "run only the items that failed (and those never reached); keep the others' results")
	fs.BoolVar(&noWait, "no-wait", false, "start the run and print its id without waiting")
	id, c, err := o.parseOneArg(args, "flow run id")
	if err != nil {
		return err
	}
	var started api.FlowRun
	if err := c.do(ctx, "POST", "/api/v1/flow-runs/"+pathEscape(id)+"/rerun", api.RerunRequest{FailedOnly: failedOnly}, &started); err != nil {
		return err
	}
	return finishRun(ctx, e, c, o, &started, noWait)
}

// cmdFlowsShow prints the source of a stored flow's latest version, or of
// --version N, after a YAML comment naming the version: the output is a
// flow document again.
func cmdFlowsShow(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows show", "flows show NAME|ID [--version N] [--json]")
	var version int
	fs.IntVar(&version, "version", 0, "the version to print (default: the latest); list them with cardflow flows versions NAME")
	arg, c, err := o.parseOneArg(args, "stored flow name or id")
	if err != nil {
		return err
	}
	passed := false
	fs.Visit(func(f *flag.Flag) { passed = passed || f.Name == "version" })
	if version < 0 || (version == 0 && passed) {
		return usagef("--version is a version number from 1, not %d", version)
	}
	var f api.Flow
	if err := c.do(ctx, "GET", "/api/v1/flows/"+pathEscape(arg), nil, &f); err != nil {
		return err
	}
	n := version
	if n == 0 {
		n = f.Version
	}
	var shown api.FlowVersion
	err = inputRefused(exchangeInto(ctx, c, o, e.stdout, &shown, "GET", fmt.Sprintf("/api/v1/flows/%s/versions/%d", pathEscape(f.ID), n), nil, func(w io.Writer, v *api.FlowVersion) {
		latest := "the latest"
		if !v.Latest {
			latest = fmt.Sprintf("the latest is %d", f.Version)
		}
		by := ""
		if v.StoredBy != nil {
			by = " by " + actorText(v.StoredBy)
		}
		fmt.Fprintf(w, "# flow %s, version %d of %d (%s), stored %s%s, sha256 %s\n", v.Flow, v.Version, f.Version, latest, when(v.StoredAt), by, v.SHA256)
		io.WriteString(w, v.Source)
		if !strings.HasSuffix(v.Source, "\n") {
			io.WriteString(w, "\n")
		}
	}), anyRefusal)
	if err == nil {
		// The version's warnings; stdout stays a flow document.
		printStoredWarnings(e.stderr, shown.Flow, shown.Version, shown.Warnings)
	}
	return err
}

// cmdFlowsVersions lists a stored flow's versions, newest first.
func cmdFlowsVersions(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "flows versions", "flows versions NAME|ID [--json]")
	arg, c, err := o.parseOneArg(args, "stored flow name or id")
	if err != nil {
		return err
	}
	return fetch(ctx, c, o, e.stdout, "/api/v1/flows/"+pathEscape(arg)+"/versions", func(w io.Writer, out *api.FlowVersionList) {
		fmt.Fprintf(w, "Flow %s has %s; runs start the latest.\n", out.Flow, counttext.Format(len(out.Versions), "version"))
		t := newTable(w, "VERSION", "STORED", "STORED BY", "SIZE", "SHA256")
		for _, v := range out.Versions {
			version := fmt.Sprint(v.Version)
			if v.Latest {
				version += " (latest)"
			}
			t.row(version, when(v.StoredAt), actorText(v.StoredBy), fmt.Sprintf("%d B", v.Size), v.SHA256[:min(12, len(v.SHA256))])
		}
		t.flush()
	})
}

func cmdFlowsDelete(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "flows delete", "flows delete NAME|ID [--yes] [--json]\n\n"+
		"Deletes a stored flow and its versions; this cannot be undone (its runs stay readable).\n"+
		"It asks first on a terminal (--yes: without asking).")
	var yes bool
	fs.BoolVar(&yes, "yes", false, yesFlag)
	arg, c, err := o.parseOneArg(args, "stored flow name or id")
	if err != nil {
		return err
	}
	if err := needsAnswer(e, yes, "flows delete", fmt.Sprintf("delete flow %q", arg), e.self+" flows delete "+shellArg(arg)+" --yes"); err != nil {
		return err
	}
	path := "/api/v1/flows/" + pathEscape(arg)
	if !yes {
		var f api.Flow
		if err := c.do(ctx, "GET", path, nil, &f); err != nil {
			return err
		}
		lines := []string{fmt.Sprintf("It deletes the flow and its %s; this cannot be undone. Its runs stay readable (cardflow flows runs %s).", counttext.Format(f.Version, "version"), f.ID)}
		if f.Enabled {
			lines = append(lines, fmt.Sprintf("It is enabled: its trigger (%s) starts no run once it is deleted.", triggerText(&f)))
		}
		if err := confirm(e, fmt.Sprintf("Delete flow %s (%s)?", f.Name, f.ID), lines, "delete it", fmt.Sprintf("flow %q was not deleted", f.Name)); err != nil {
			return err
		}
		path = "/api/v1/flows/" + pathEscape(f.ID) // the one confirmed
	}
	return exchange(ctx, c, o, e.stdout, "DELETE", path, nil, func(w io.Writer, r *api.FlowDeleted) {
		fmt.Fprintf(w, "Deleted flow %s (%s); its runs stay readable: list them with cardflow flows runs %s, show one with cardflow flows show-run RUN_ID.\n", r.Name, r.ID, r.ID)
	})
}

func cmdFlowsCancel(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "flows cancel", "flows cancel RUN_ID [--json]")
	id, c, err := o.parseOneArg(args, "flow run id")
	if err != nil {
		return err
	}
	return exchange(ctx, c, o, e.stdout, "POST", "/api/v1/flow-runs/"+pathEscape(id)+"/cancel", nil, func(w io.Writer, r *api.FlowRun) {
		if r.Status == "canceled" {
			fmt.Fprintf(w, "Flow run %s (%s) is canceled.\n", r.ID, r.Flow)
			return
		}
		fmt.Fprintf(w, "Flow run %s (%s) is stopping: the items in flight finish, no new ones start, and it ends canceled.\n"+
			"Follow it with: cardflow flows show-run %s\n", r.ID, r.Flow, r.ID)
	})
}

func cmdFlowsList(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "flows list", "flows list [--json]")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	// Every page, from the server's default page size (as connections
	// list does, for a server from before the list was paged).
	all := api.FlowList{Flows: []api.Flow{}}
	for next := "/api/v1/flows"; next != ""; {
		var page api.FlowList
		if err := c.do(ctx, "GET", next, nil, &page); err != nil {
			return err
		}
		all.Flows = append(all.Flows, page.Flows...)
		next = page.Next
	}
	if o.json {
		return printJSON(e.stdout, all)
	}
	if len(all.Flows) == 0 {
		printNone(e.stdout, "stored flows", "")
		return nil
	}
	t := newTable(e.stdout, "NAME", "TRIGGER", "STATE", "NEXT RUN", "LAST RUN", "UPDATED", "ID")
	for _, f := range all.Flows {
		t.row(f.Name, triggerText(&f)+warningCount(&f), flowListState(&f), nextRun(&f), lastRun(&f), when(f.UpdatedAt), f.ID)
	}
	t.flush()
	return nil
}

// progress draws one self-overwriting status line on a terminal, and
// nothing elsewhere.
type progress struct {
	w       io.Writer
	tty     bool
	start   time.Time
	drawn   bool
	lastLen int
}

// newProgress draws on w when tty is set (w is a terminal).
func newProgress(w io.Writer, tty bool) *progress {
	w = rawWriter(w) // the line is the CLI's own, redrawn with \r
	return &progress{w: w, start: time.Now(), tty: tty}
}

func (p *progress) update(r *api.FlowRun) {
	if !p.tty {
		return
	}
	var done, total int
	current := ""
	for _, s := range r.Steps {
		stepDone := s.Succeeded + s.Failed + s.Skipped
		done += stepDone
		total += s.Items
		if s.Status == "running" {
			current = fmt.Sprintf("step %s %d/%d", s.ID, stepDone, s.Items)
			if s.RateLimitWait != "" {
				current += ", waiting " + s.RateLimitWait + " for the rate limit"
			}
		}
	}
	elapsed := time.Since(p.start)
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done) / elapsed.Seconds()
	}
	line := fmt.Sprintf("%s: %s, %d/%d items done, %.1f items/s, %s", r.ID, r.Status, done, total, rate, elapsed.Round(time.Second))
	if current != "" {
		line += " (" + current + ")"
	}
	pad := ""
	if n := p.lastLen - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
	p.lastLen = len(line)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

// runEventText names the event that started a run: its uuid, type, and
// the device and user it is about.
func runEventText(t *api.FlowRunTrigger) string {
	text := t.EventUUID
	if t.EventType != "" {
		text += " " + t.EventType
	}
	if d := t.Device; d != nil {
		text += ", device " + deviceLabel(d.DisplayName, d.ID)
	}
	if u := t.User; u != nil && u.Login != "" {
		text += ", user " + u.Login
	}
	return text
}

// deviceLabel names a device: "Name (id)" when the name is known, else
// the id alone.
func deviceLabel(name, id string) string {
	if name == "" {
		return id
	}
	return name + " (" + id + ")"
}

// itemDevice names the device a flow item acted on when the flow knew its
// name; "" otherwise (the input shows the id).
func itemDevice(it api.FlowRunItem) string {
	if it.DeviceName == "" {
		return ""
	}
	var in struct {
		DeviceID string `json:"deviceId"`
	}
	_ = json.Unmarshal(it.Input, &in)
	return deviceLabel(it.DeviceName, in.DeviceID)
}
