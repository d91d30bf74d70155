package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
)

// History reads run history and the audit log; store.Store satisfies it.
type History interface {
	GetRun(ctx context.Context, id string) (*store.Run, error)
	ListRuns(ctx context.Context, f store.RunFilter) ([]*store.Run, error)
	ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEvent, error)
	AppendAudit(ctx context.Context, e *store.AuditEvent) error
}

// actorJSON converts a stored actor; nil for nobody.
func actorJSON(a store.Actor) *api.Actor {
	if a.Type == "" {
		return nil
	}
	return &api.Actor{Type: a.Type, Login: a.Login, TokenName: a.TokenName}
}

// planRefJSON converts a stored plan reference; nil for none.
func planRefJSON(p store.PlanRef) *api.PlanRef {
	if p.IsZero() {
		return nil
	}
	return &api.PlanRef{FlowID: p.FlowID, FlowName: p.FlowName}
}

// PlanFilter reads the plans filter of the run list and the audit log:
// "" or "include" (plan reads listed with the rest), "exclude" or "only".
// The API and the console share it.
func PlanFilter(v string) (store.PlanFilter, error) {
	switch v {
	case "", "include":
		return store.PlansAll, nil
	case string(store.PlansExclude), string(store.PlansOnly):
		return store.PlanFilter(v), nil
	}
	return "", problem.New(problem.InvalidInput, "plans must be include, exclude or only, not %q", v).
		WithRemedy("use plans=exclude to leave out what flow plans did (the card runs of their reads, and in the audit log their flow.plan events), plans=only to list only that").
		WithDetail("field", "plans")
}

// AuditPlansMismatch says why an audit filter of action and plans can
// match no event, or is nil when it can: flow plans make only card.run
// events (their reads) and flow.plan events, and every flow.plan event is
// a plan's. The API refuses such a filter; the console says why it lists
// nothing.
func AuditPlansMismatch(action string, plans store.PlanFilter) *problem.Error {
	switch {
	case plans == store.PlansExclude && action == store.ActionFlowPlan:
		return problem.New(problem.InvalidInput, "every %s event is a flow plan's: plans=exclude leaves them all out", action).
			WithRemedy("drop plans=exclude to list the %s events, or pick another action", action).WithDetail("field", "plans")
	case plans == store.PlansOnly && action != "" && action != store.ActionCardRun && action != store.ActionFlowPlan:
		return problem.New(problem.InvalidInput, "no %s event is a flow plan's: flow plans make only %s and %s events", action, store.ActionCardRun, store.ActionFlowPlan).
			WithRemedy("drop plans=only to list the %s events, or pick action %s or %s", action, store.ActionCardRun, store.ActionFlowPlan).WithDetail("field", "plans")
	}
	return nil
}

// runJSON converts a stored run to its public shape.
func runJSON(r *store.Run) api.Run {
	out := api.Run{
		ID:             r.ID,
		Card:           r.Card,
		Actor:          actorJSON(r.Actor),
		ActingAs:       r.ActingAs,
		Status:         r.Status,
		Input:          rawOrNil(r.Input),
		Output:         rawOrNil(r.Output),
		Outcome:        card.Outcome(r.Output),
		OktaRequestIDs: r.OktaRequestIDs,
		FlowRunID:      r.FlowRunID,
		StepID:         r.StepID,
		StartedAt:      r.StartedAt,
		FinishedAt:     timePtr(r.FinishedAt),
		DeviceName:     r.DeviceName,
		Plan:           planRefJSON(r.Plan),
	}
	if r.ConnectionID != "" {
		out.Connection = &api.ConnectionRef{ID: r.ConnectionID, Nickname: r.ConnectionNickname}
	}
	if r.FlowRunID != "" {
		i := r.ItemIndex
		out.ItemIndex = &i
	}
	if r.ErrorCode != "" || r.ErrorMessage != "" {
		out.Error = errorFromRun(r)
	}
	return out
}

// errorFromRun is a stored run's error in the public error shape: the
// message followed by the remedy, as for every other error.
func errorFromRun(r *store.Run) *api.Error {
	e := &api.Error{Code: r.ErrorCode, Message: r.ErrorMessage}
	if remedy := card.RunRemedy(r); remedy != "" {
		e.Message += "; " + remedy
		e.Details = map[string]any{"remedy": remedy}
	}
	return e
}

// rawOrNil is stored JSON for a response; nil when empty.
func rawOrNil(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return b
}

// connectionFilter turns a ?connection= value into a connection id: an id
// as it is (the connection may have been deleted; its history stays), a
// nickname resolved as everywhere else, or a problem when no connection
// has that nickname, rather than a filter that silently matches nothing.
func (s *Server) connectionFilter(r *http.Request, v string) (string, error) {
	if v == "" || s.Connections == nil {
		return v, nil
	}
	c, err := s.Connections.Get(r.Context(), v)
	if err == nil {
		return c.ID, nil
	}
	if problem.CodeOf(err) == problem.NotFound && strings.HasPrefix(strings.ToLower(v), "conn_") {
		return v, nil
	}
	if problem.CodeOf(err) == problem.NotFound {
		if gone := s.deletedNamed(r, v); gone != nil {
			return "", gone
		}
	}
	return "", err
}

// deletedNamed is the refusal of a connection filter naming the nickname
// v of no connection now, when the audit log's deletions name connections
// of that nickname (DeletedConnectionsNamed): their events and runs keep
// their id, which the refusal gives; nil when none is named.
func (s *Server) deletedNamed(r *http.Request, v string) error {
	if s.History == nil {
		return nil
	}
	gone := DeletedConnectionsNamed(r.Context(), s.History, v)
	if len(gone) == 0 {
		return nil
	}
	var ids []string
	for _, d := range gone {
		ids = append(ids, d.ID)
	}
	return problem.New(problem.NotFound, "no connection has the nickname %q now; %s", v, DeletedText(gone)).
		WithRemedy("filter by the deleted connection's id instead, which its card runs and audit events keep (--connection %s)", ids[0]).
		WithDetail("deletedConnections", ids).WithDetail("field", "connection")
}

// DeletedConnection is a deleted connection as the audit log's deletion
// names it: its id, when and by whom.
type DeletedConnection struct {
	ID string
	At time.Time
	By string
}

// DeletedConnectionsNamed returns the connections of the nickname v
// (ignoring case) that the audit log's connection.delete events deleted
// (store.AuditFilter.DeletedNickname, an indexed query), newest first;
// none when the audit log cannot be read.
func DeletedConnectionsNamed(ctx context.Context, audit interface {
	ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEvent, error)
}, v string) []DeletedConnection {
	const page = 100
	var out []DeletedConnection
	f := store.AuditFilter{Action: store.ActionConnectionDelete, DeletedNickname: v, Limit: page}
	for {
		evs, err := audit.ListAudit(ctx, f)
		if err != nil {
			return nil
		}
		for _, e := range evs {
			if e.Outcome != "success" || e.ConnectionID == "" ||
				slices.ContainsFunc(out, func(d DeletedConnection) bool { return d.ID == e.ConnectionID }) {
				continue
			}
			out = append(out, DeletedConnection{ID: e.ConnectionID, At: e.Time, By: e.Actor.String()})
		}
		if len(evs) < page {
			return out
		}
		f.BeforeID = evs[len(evs)-1].ID
	}
}

// DeletedText says which connections of a nickname were deleted: "a
// connection of that nickname was deleted: ID (deleted TIME by WHO)", or
// "N connections of that nickname were deleted: ...".
func DeletedText(gone []DeletedConnection) string {
	var each []string
	for _, d := range gone {
		each = append(each, fmt.Sprintf("%s (deleted %s by %s)", d.ID, timetext.Format(d.At), d.By))
	}
	if len(gone) == 1 {
		return "a connection of that nickname was deleted: " + each[0]
	}
	return fmt.Sprintf("%d connections of that nickname were deleted: %s", len(gone), strings.Join(each, ", "))
}

// cardFilter turns a ?card= value into a card reference (CardFilter).
func (s *Server) cardFilter(v string) (string, error) {
	if v == "" || s.Cards == nil {
		return v, nil
	}
	return CardFilter(s.Cards.Connectors(), v)
}

// CardFilter turns a card filter of the run lists into a card reference: a
// short name (suspend-device) is completed with its connector as `cardflow
// run` does; an unknown card, and an event card (it starts flows and is
// never run), are refused (invalid_input) with the cards that run, and a
// misspelt card with the nearest one (NearestRunCard) as well. The API and
// the console share it, so that both read a filter alike.
func CardFilter(conns []card.Connector, v string) (string, error) {
	if v == "" {
		return v, nil
	}
	var found []card.Card
	for _, cn := range conns {
		for _, cd := range cn.Cards {
			if cd.Ref == v || (!strings.Contains(v, "/") && strings.HasSuffix(cd.Ref, "/"+v)) {
				found = append(found, cd)
			}
		}
	}
	all := strings.Join(RunCardRefs(conns), ", ")
	switch {
	case len(found) == 1 && found[0].Kind == card.KindEvent:
		return "", problem.New(problem.InvalidInput, "card %s is an event card: it starts flows and is never run, so it has no runs", found[0].Ref).
			WithRemedy("use one of %s", all).WithDetail("field", "card")
	case len(found) == 1:
		return found[0].Ref, nil
	case len(found) == 0:
		p := problem.New(problem.InvalidInput, "unknown card %q", v).WithDetail("field", "card")
		if near := NearestRunCard(conns, v); near != "" {
			return "", p.WithRemedy("did you mean %s? The cards that run: %s", near, all).WithDetail("suggestion", near)
		}
		return "", p.WithRemedy("use one of %s", all)
	}
	return "", problem.New(problem.InvalidInput, "card %q is ambiguous", v).WithRemedy("write it as connector/card").WithDetail("field", "card")
}

// RunCardRefs returns the references of the cards that run (all but event
// cards), in the connectors' order.
func RunCardRefs(conns []card.Connector) []string {
	var refs []string
	for _, cn := range conns {
		for _, cd := range cn.Cards {
			if cd.Kind != card.KindEvent {
				refs = append(refs, cd.Ref)
			}
		}
	}
	return refs
}

// NearestRunCard returns the reference of the card that runs whose
// reference (or, for a short name, whose name) is closest to v, when it is
// close enough to be a misspelling of it; "" otherwise.
func NearestRunCard(conns []card.Connector, v string) string {
	refs := RunCardRefs(conns)
	if strings.Contains(v, "/") {
		return flow.Nearest(v, refs...)
	}
	names := make([]string, len(refs))
	for i, ref := range refs {
		_, names[i], _ = strings.Cut(ref, "/")
	}
	if near := flow.Nearest(v, names...); near != "" {
		return refs[slices.Index(names, near)]
	}
	return ""
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.RunFilter{FlowRunID: q.Get("flowRun")}
	var err error
	if f.ConnectionID, err = s.connectionFilter(r, q.Get("connection")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Card, err = s.cardFilter(q.Get("card")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Plans, err = PlanFilter(q.Get("plans")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Before, f.BeforeID, err = pageCursor(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	runs, err := s.History.ListRuns(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.RunList{Runs: make([]api.Run, 0, len(runs))}
	for _, run := range runs {
		out.Runs = append(out.Runs, runJSON(run))
	}
	if last := len(runs) - 1; last >= 0 && len(runs) == pageLimit(f.Limit) {
		out.Next = nextPage(r, q, runs[last].StartedAt, runs[last].ID, "card", "connection", "flowRun", "plans", "limit")
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	run, err := s.History.GetRun(r.Context(), id)
	if err != nil {
		s.writeError(w, r, notFound(err, "list the card runs with GET /api/v1/runs (cardflow runs list)", "no run with id %q", id))
		return
	}
	writeJSON(w, http.StatusOK, runJSON(run))
}

// BootstrapActor is the audit's actor filter that keeps the events of the
// bootstrap admin (the server's API token, CARDFLOW_API_TOKEN or the one
// printed at first start) and of its tokens, which have no login.
const BootstrapActor = "bootstrap"

// ServerActor is the audit's actor filter that keeps the events of what
// cardflow did on its own (store.ActorServer), as the audit's lists name
// their actor.
const ServerActor = "cardflow"

// FilterActor sets f to keep the events of actor: a login, BootstrapActor
// or ServerActor; "" keeps everyone's.
func FilterActor(f *store.AuditFilter, actor string) {
	f.ActorLogin, f.Bootstrap, f.Server = actor, false, false
	switch {
	case strings.EqualFold(actor, BootstrapActor):
		f.ActorLogin, f.Bootstrap = "", true
	case strings.EqualFold(actor, ServerActor):
		f.ActorLogin, f.Server = "", true
	}
}

// actorsRead is how many of the newest audit events ActorSuggestion reads
// for the logins of their actors.
const actorsRead = 1000

// ActorSuggestion is the login nearest to login (a misspelling, or its
// start) among the actors of the newest audit events, for an actor filter
// that matched no event; "" when none is near, or when login is one of
// them (then the other filters matched nothing). BootstrapActor is among
// them when the bootstrap admin (or a token of theirs) is one of those
// actors, and is the answer to "bootstrap admin", as lists name it.
func ActorSuggestion(ctx context.Context, audit interface {
	ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEvent, error)
}, login string) (string, error) {
	if login == "" || strings.EqualFold(login, BootstrapActor) || strings.EqualFold(login, ServerActor) {
		return "", nil
	}
	if strings.EqualFold(strings.Join(strings.Fields(login), " "), store.Actor{Type: store.ActorBootstrap}.String()) {
		return BootstrapActor, nil
	}
	events, err := audit.ListAudit(ctx, store.AuditFilter{Limit: actorsRead})
	if err != nil {
		return "", err
	}
	var logins []string
	seen := map[string]bool{}
	for _, e := range events {
		l := e.Actor.Login
		switch {
		case l == "" && (e.Actor.Type == store.ActorBootstrap || e.Actor.Type == store.ActorToken):
			// No login: the bootstrap admin, or a token of theirs.
			l = BootstrapActor
		case l == "" && e.Actor.Type == store.ActorServer:
			l = ServerActor
		}
		if l == "" || seen[store.FoldCase(l)] {
			continue
		}
		if store.FoldCase(l) == store.FoldCase(login) {
			return "", nil
		}
		seen[store.FoldCase(l)] = true
		logins = append(logins, l)
	}
	return flow.Nearest(login, logins...), nil
}

func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AuditFilter{Action: q.Get("action")}
	FilterActor(&f, q.Get("actor"))
	if f.Action != "" && !slices.Contains(store.AuditActions, f.Action) {
		p := problem.New(problem.InvalidInput, "there is no audit action %q", f.Action).WithDetail("field", "action")
		if near := flow.Nearest(f.Action, store.AuditActions...); near != "" {
			p.WithRemedy("did you mean %s? The actions: %s", near, strings.Join(store.AuditActions, ", ")).WithDetail("suggestion", near)
		} else {
			p.WithRemedy("use one of %s", strings.Join(store.AuditActions, ", "))
		}
		s.writeError(w, r, p)
		return
	}
	var err error
	if f.ConnectionID, err = s.connectionFilter(r, q.Get("connection")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Plans, err = PlanFilter(q.Get("plans")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if p := AuditPlansMismatch(f.Action, f.Plans); p != nil {
		s.writeError(w, r, p)
		return
	}
	if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if v := q.Get("before"); v != "" {
		if f.BeforeID, err = strconv.ParseInt(v, 10, 64); err != nil {
			s.writeError(w, r, problem.New(problem.InvalidInput, "before must be an audit event id, not %q", v).
				WithRemedy("follow the next address of the previous page").WithDetail("field", "before"))
			return
		}
	}
	events, err := s.History.ListAudit(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	conns, err := s.Connections.List(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nicknames := connection.Nicknames(conns)
	out := api.AuditList{Events: make([]api.AuditEvent, 0, len(events))}
	if len(events) == 0 && f.BeforeID == 0 {
		if out.ActorSuggestion, err = ActorSuggestion(r.Context(), s.History, f.ActorLogin); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	for _, e := range events {
		out.Events = append(out.Events, api.AuditEvent{
			ID: e.ID, Time: e.Time, Actor: actorJSON(e.Actor), Action: e.Action, ConnectionID: e.ConnectionID,
			ConnectionNickname: nicknames[e.ConnectionID],
			ActingAs:           e.ActingAs, Card: e.Card, InputSummary: e.InputSummary, Outcome: e.Outcome,
			Error: e.Error, OktaRequestID: e.OktaRequestID, Plan: planRefJSON(e.Plan),
		})
	}
	if last := len(events) - 1; last >= 0 && len(events) == pageLimit(f.Limit) {
		// Audit event ids only grow, so the last id alone is the cursor.
		out.Next = nextAddress(r, q, url.Values{"before": {strconv.FormatInt(events[last].ID, 10)}}, "action", "connection", "actor", "plans", "limit")
	}
	writeJSON(w, http.StatusOK, out)
}

// pageCursor parses the cursor of a list's next page: before (an RFC 3339
// time) and beforeId (the id of the previous page's last record).
func pageCursor(q url.Values) (time.Time, string, error) {
	var before time.Time
	if v := q.Get("before"); v != "" {
		var err error
		if before, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return before, "", problem.New(problem.InvalidInput, "before must be an RFC 3339 time, not %q", v).
				WithRemedy("follow the next address of the previous page").WithDetail("field", "before")
		}
	}
	id := q.Get("beforeId")
	if id != "" && before.IsZero() {
		return before, "", problem.New(problem.InvalidInput, "beforeId needs before").
			WithRemedy("give both, as the next address of the previous page does").WithDetail("field", "beforeId")
	}
	return before, id, nil
}

// timePage is the ?limit= and the cursor (before, beforeId) of a list
// ordered newest first by (time, id).
type timePage struct {
	limit    int
	before   time.Time
	beforeID string
}

// readTimePage parses a timePage.
func readTimePage(q url.Values) (timePage, error) {
	limit, err := queryLimit(q.Get("limit"))
	if err != nil {
		return timePage{}, err
	}
	before, beforeID, err := pageCursor(q)
	return timePage{limit: limit, before: before, beforeID: beforeID}, err
}

// cut is the page of items (all of a short list, newest first by the
// (time, id) key gives) after the cursor, and the address of the next
// page when more follow; it keeps the parameters of q named in keep.
func cut[T any](p timePage, r *http.Request, q url.Values, items []T, key func(T) (time.Time, string), keep ...string) ([]T, string) {
	if !p.before.IsZero() {
		items = slices.DeleteFunc(items, func(it T) bool {
			at, id := key(it)
			c := at.Compare(p.before)
			return c > 0 || c == 0 && (p.beforeID == "" || id >= p.beforeID)
		})
	}
	n := pageLimit(p.limit)
	if len(items) <= n {
		return items, ""
	}
	at, id := key(items[n-1])
	return items[:n], nextPage(r, q, at, id, keep...)
}

// byName answers one page of a list by name: list reads up to p.Limit
// records (one more than the page, to tell whether another follows) and
// name gives a record's name and id for the cursor.
func byName[T any](r *http.Request, q url.Values, p store.NamePage, list func(store.NamePage) ([]T, error), name func(T) (string, string)) ([]T, string, error) {
	p.Limit = pageLimit(p.Limit)
	vs, more, err := store.ReadNamePage(p, list)
	if !more {
		return vs, "", err
	}
	last, id := name(vs[len(vs)-1])
	return vs, nextAfter(r, q, last, id), nil
}

// namePage parses the ?limit= and the cursor of a list by name: after
// (the name of the previous page's last record) and afterId (its id),
// given together.
func namePage(q url.Values) (store.NamePage, error) {
	limit, err := queryLimit(q.Get("limit"))
	if err != nil {
		return store.NamePage{}, err
	}
	p := store.NamePage{After: q.Get("after"), AfterID: q.Get("afterId"), Limit: limit}
	if (p.After == "") != (p.AfterID == "") {
		field := "afterId"
		if p.After == "" {
			field = "after"
		}
		return store.NamePage{}, problem.New(problem.InvalidInput, "after and afterId go together; %s is missing", field).
			WithRemedy("give both, as the next address of the previous page does").WithDetail("field", field)
	}
	return p, nil
}

// nextAfter is the address of the page of a list by name after one whose
// last record is named name with id id; it keeps ?limit=.
func nextAfter(r *http.Request, q url.Values, name, id string) string {
	return nextAddress(r, q, url.Values{"after": {name}, "afterId": {id}}, "limit")
}

// pageLimit is the page size a list answers for a parsed ?limit= value.
func pageLimit(limit int) int {
	if limit == 0 {
		return 100
	}
	return limit
}

// nextPage is the address of the page after one whose last record is
// (at, id): the request's path with its keep parameters and the cursor.
func nextPage(r *http.Request, q url.Values, at time.Time, id string, keep ...string) string {
	return nextAddress(r, q, url.Values{"before": {at.UTC().Format(time.RFC3339Nano)}, "beforeId": {id}}, keep...)
}

// nextAddress is the address of a list's next page: the request's path
// with cursor and the parameters of q named in keep.
func nextAddress(r *http.Request, q url.Values, cursor url.Values, keep ...string) string {
	for _, k := range keep {
		if v := q.Get(k); v != "" {
			cursor.Set(k, v)
		}
	}
	return r.URL.Path + "?" + cursor.Encode()
}

// queryBool parses the value v of a ?key= that is true or false (false
// when empty); remedy says how to use it.
func queryBool(v, key, remedy string) (bool, error) {
	switch v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, problem.New(problem.InvalidInput, "%s must be true or false, not %q", key, v).WithRemedy("%s", remedy).WithDetail("field", key)
}

// queryLimit parses a ?limit= value (1..1000; empty means the default).
func queryLimit(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, problem.New(problem.InvalidInput, "limit must be a number from 1 to 1000, not %q", v).
			WithRemedy("give a limit from 1 to 1000, or leave it out for the default").WithDetail("field", "limit")
	}
	return n, nil
}

// notFound turns a store.ErrNotFound into a not_found Problem with a
// specific message and remedy, leaving other errors as they are.
func notFound(err error, remedy string, format string, args ...any) error {
	if _, ok := problem.As(err); ok {
		return err
	}
	if errors.Is(err, store.ErrNotFound) {
		return problem.New(problem.NotFound, format, args...).WithRemedy("%s", remedy)
	}
	return err
}
