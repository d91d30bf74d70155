package flow

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/spelling"
)

// Pos is a 1-based line and column in a flow document.
type Pos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// String formats p as "line L, column C".
func (p Pos) String() string {
	return fmt.Sprintf("line %d, column %d", p.Line, p.Column)
}

// Issue is one problem found in a flow document. Message says what is wrong
// and how to fix it; Step is the id of the step it belongs to, if any.
type Issue struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Step    string `json:"step"`
	Message string `json:"message"`

	scope    *scopeIssue    // set for a scope preflight failure
	inactive *inactiveIssue // set for a connection that is not active
	path     string         // of scope and inactive: the connection's ("steps[0].connection")
}

// inactiveIssue is the connection part of an issue of a connection that is
// not active: what it says of the connection ("connection "Prod" needs
// reauthorization: REASON") and its fix, alike for every step that uses it.
type inactiveIssue struct {
	Connection string
	Message    string
	Remedy     string // the same whether the flow is stored, run, planned or enabled
	// code is what a card run on the connection answers:
	// connection_pending or needs_reauthorization (problem.NotActiveCode).
	code problem.Code
}

// String formats the issue with its position, as shown to a person.
func (i Issue) String() string {
	var b strings.Builder
	if i.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", i.Line, i.Column)
	}
	if i.Step != "" {
		fmt.Fprintf(&b, "step %q: ", i.Step)
	}
	b.WriteString(i.Message)
	return b.String()
}

// ConnectionWarnings reports whether err, Check's refusal of a document,
// holds only problems of the state of its connections (one not active, a
// scope not granted), which the document cannot fix, and returns them as
// warnings: the document is stored with them, as Okta Workflows saves a
// flow whose connection needs reauthorization, while running, planning
// and enabling it are refused with them. false for any other problem.
func ConnectionWarnings(err error) ([]Warning, bool) {
	p, ok := problem.As(err)
	if !ok {
		return nil, false
	}
	list, ok := p.Details["errors"].([]Issue)
	if !ok || len(list) == 0 {
		return nil, false
	}
	ws := make([]Warning, 0, len(list))
	for _, i := range list {
		w := Warning{Line: i.Line, Column: i.Column, Path: i.path}
		switch {
		case i.inactive != nil:
			w.Message = i.inactive.Message + "; the flow is not run, planned or enabled until it is active"
			w.Remedy = i.inactive.Remedy
		case i.scope != nil:
			w.Message = strings.TrimPrefix(i.Message, "on.event: ") + "; the flow is not run, planned or enabled until it is"
			w.Remedy = i.scope.Remedy
		default:
			return nil, false
		}
		ws = append(ws, w)
	}
	return inOrder(ws), true
}

// AddWarnings adds ws to the document's warnings, in document order.
func (d *Document) AddWarnings(ws []Warning) {
	d.warnings = inOrder(append(slices.Clone(d.warnings), ws...))
}

// scopeIssue is the structured part of an insufficient_scope issue.
type scopeIssue struct {
	Step          string   `json:"step"`
	Card          string   `json:"card"`
	Connection    string   `json:"connection"`
	RequiredScope string   `json:"requiredScope"`
	GrantedScopes []string `json:"grantedScopes"`
	Remedy        string   `json:"remedy"`
}

// issues collects the problems of one document, and its warnings.
type issues struct {
	list     []Issue
	warnings []Warning
}

func (is *issues) add(pos Pos, step, format string, args ...any) {
	is.list = append(is.list, Issue{Line: pos.Line, Column: pos.Column, Step: step, Message: fmt.Sprintf(format, args...)})
}

func (is *issues) empty() bool { return len(is.list) == 0 }

// err turns the collected issues into one *problem.Error: insufficient_scope
// when every issue is a missing scope, connection_pending or
// needs_reauthorization when every issue is a connection that is not
// active (inactiveProblem: the codes a card run answers for the same
// causes), invalid_input otherwise. It returns nil when there is
// no issue.
func (is *issues) err() error {
	if len(is.list) == 0 {
		return nil
	}
	return withWarnings(is.problem(), is.warnings)
}

// problem is err of a non-empty list, without the warnings.
func (is *issues) problem() *problem.Error {
	list := slices.Clone(is.list)
	slices.SortStableFunc(list, func(a, b Issue) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	onlyScopes, onlyReauth := true, true
	var scopes []scopeIssue
	for _, i := range list {
		if i.scope == nil {
			onlyScopes = false
		} else {
			scopes = append(scopes, *i.scope)
		}
		onlyReauth = onlyReauth && i.inactive != nil
	}
	if onlyScopes {
		return scopeProblem(list, scopes)
	}
	if onlyReauth {
		return inactiveProblem(list)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the flow document has %s:", counttext.Format(len(list), "problem"))
	for _, i := range list {
		b.WriteString("\n  ")
		b.WriteString(i.String())
	}
	p := problem.New(problem.InvalidInput, "%s", b.String()).WithDetail("errors", list)
	if len(scopes) > 0 {
		p.WithDetail("scopes", scopes).WithRemedy("%s", scopeRemedies(scopes))
	}
	return p
}

// inactiveProblem is the error of a document whose only problems are
// connections that are not active: connection_pending when none of them
// was ever authorized, as a card run on each answers, and
// needs_reauthorization otherwise (a card run on one of them answers it).
// Each connection is said once, as a card run on it says it, with the
// steps (or the event trigger) that use it, and its fix is the remedy. The document itself has nothing to fix, so the problems are not
// called the document's; details.errors lists them step by step (the steps
// a failed run's notification compares).
func inactiveProblem(list []Issue) *problem.Error {
	type conn struct {
		issue *inactiveIssue
		steps []string
		on    bool // the event trigger uses it
	}
	var conns []*conn
	byName := map[string]*conn{}
	for _, i := range list {
		c := byName[i.inactive.Connection]
		if c == nil {
			c = &conn{issue: i.inactive}
			byName[i.inactive.Connection] = c
			conns = append(conns, c)
		}
		if i.Step == "" {
			c.on = true
		} else if !slices.Contains(c.steps, i.Step) {
			c.steps = append(c.steps, i.Step)
		}
	}
	var msg strings.Builder
	var remedies []string
	for n, c := range conns {
		if n > 0 {
			msg.WriteString("\n")
		}
		var users []string
		if c.on {
			users = append(users, "on.event")
		}
		switch len(c.steps) {
		case 0:
		case 1:
			users = append(users, "step "+c.steps[0])
		default:
			users = append(users, "steps "+strings.Join(c.steps, ", "))
		}
		fmt.Fprintf(&msg, "%s (used by %s)", c.issue.Message, strings.Join(users, " and "))
		// The fix of each of several connections names it: the console
		// leaves the command, which names it, out.
		if len(conns) > 1 {
			remedies = append(remedies, fmt.Sprintf("for %q, %s", c.issue.Connection, c.issue.Remedy))
		} else {
			remedies = append(remedies, c.issue.Remedy)
		}
	}
	code := problem.ConnectionPending
	for _, c := range conns {
		if c.issue.code != problem.ConnectionPending {
			code = problem.NeedsReauthorization
		}
	}
	return problem.New(code, "%s", msg.String()).
		WithRemedy("%s", strings.Join(remedies, "; ")).
		WithDetail("errors", list)
}

// scopeProblem is the scope preflight's insufficient_scope error for a whole document.
func scopeProblem(list []Issue, scopes []scopeIssue) *problem.Error {
	first := scopes[0]
	var msg strings.Builder
	for n, i := range list {
		if n > 0 {
			msg.WriteString("\n")
		}
		msg.WriteString(i.String())
	}
	p := problem.New(problem.InsufficientScope, "%s", msg.String()).
		WithRemedy("%s", scopeRemedies(scopes)).
		WithDetail("errors", list).
		WithDetail("scopes", scopes).
		WithDetail("step", first.Step).
		WithDetail("card", first.Card).
		WithDetail("connection", first.Connection).
		WithDetail("requiredScope", first.RequiredScope).
		WithDetail("grantedScopes", first.GrantedScopes)
	return p
}

// scopeRemedies joins the distinct fixes of the missing scopes.
func scopeRemedies(scopes []scopeIssue) string {
	var fixes []string
	for _, s := range scopes {
		if !slices.Contains(fixes, s.Remedy) {
			fixes = append(fixes, s.Remedy)
		}
	}
	return strings.Join(fixes, "; ")
}

// suggest returns ` (did you mean "x"?)` when key is close to one of the
// known keys.
func suggest(key string, known ...string) string {
	best := Nearest(key, known...)
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// Nearest returns the known name closest to key, the first of those
// spelling.Closest finds (the rule of every "did you mean" of cardflow):
// the "did you mean" of a misspelt name. "" when none is that close.
func Nearest(key string, known ...string) string {
	if near := spelling.Closest(key, known); len(near) > 0 {
		return near[0]
	}
	return ""
}
