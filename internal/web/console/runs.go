package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

func (c *Console) runRoutes(mux *web.Mux) {
	if c.Runs == nil {
		return
	}
	mux.Handle("GET /runs", c.auth(c.listRuns))
	mux.Handle("GET /runs/{id}", c.auth(c.showRun))
}

type runsData struct {
	Runs       []runRow
	Connection string // as asked for: an id or a nickname
	// ConnectionName is the nickname of that connection ("" when it has
	// been deleted since).
	ConnectionName string
	Card           string
	// CardRef is the card filtered by as connector/card (Card may be a
	// short name).
	CardRef string
	// Cards are the cards that run and Nicknames the connections'
	// nicknames: the filter form's choices.
	Cards, Nicknames []string
	Now              time.Time
	Pager            pager
	// FilterError says why a filter names nothing to list (an unknown or
	// misspelt card or connection); the page then lists no runs.
	FilterError *filterError
	// Plans is the plans filter as asked for: "" (include), "exclude"
	// or "only" (store.PlanFilter).
	Plans string
}

// Filtered reports whether any filter is set.
func (d runsData) Filtered() bool { return d.Connection != "" || d.Card != "" || d.Plans != "" }

// PlansText says what the plans filter keeps, for the sentence above the
// list: "" when it keeps everything.
func (d runsData) PlansText() string { return plansText(d.Plans, "flow plans' reads") }

// plansText says what a plans filter of value v keeps of what plans
// (named what) made.
func plansText(v, what string) string {
	switch store.PlanFilter(v) {
	case store.PlansExclude:
		return what + " left out"
	case store.PlansOnly:
		return what + " only"
	case store.PlansAll:
		return ""
	}
	return fmt.Sprintf("plans %q", v) // refused: the page says why
}

// plansFilter reads the plans filter of a list (web.PlanFilter), or the
// filter error of a value it does not take.
func plansFilter(v string) (store.PlanFilter, *filterError) {
	pf, err := web.PlanFilter(v)
	if err != nil {
		return "", &filterError{Message: fmt.Sprintf("unknown plans filter %q", v),
			Remedy: "Pick Include, Exclude or Only from the Flow plans list above."}
	}
	return pf, nil
}

// cleanFilterAddress is the address of a filtered list without the empty
// parameters a filter form submits for the fields left unset (and without
// plans=include, what an unset plans filter does), with values trimmed;
// ok is false when u is that address already. The lists redirect to it,
// so that what the address bar shows, keeps and shares names only the
// filters set, without a script in the page.
func cleanFilterAddress(u *url.URL) (clean string, ok bool) {
	q := u.Query()
	out := url.Values{}
	changed := false
	for k, vs := range q {
		for _, v := range vs {
			t := strings.TrimSpace(v)
			if t == "" || (k == "plans" && t == "include") {
				changed = true
				continue
			}
			changed = changed || t != v
			out.Add(k, t)
		}
	}
	if !changed {
		return "", false
	}
	if len(out) == 0 {
		return u.Path, true
	}
	return u.Path + "?" + out.Encode(), true
}

// filterError is a run list's filter that names no card or connection,
// with what to pick instead.
type filterError struct {
	Message, Remedy string
	// Suggestion is the address of the list filtered by the nearest name
	// (the "did you mean"), SuggestionText that name; "" when none is close.
	Suggestion, SuggestionText string
	// Cards are the cards that run, each with its list's address.
	Cards []filterChoice
	// Link, when set, is the address that fixes it (the list's first
	// page, its filters kept), LinkText the link's words.
	Link, LinkText string
}

type filterChoice struct{ Name, URL string }

func (c *Console) listRuns(w http.ResponseWriter, r *http.Request, s *reqState) {
	if clean, ok := cleanFilterAddress(r.URL); ok {
		http.Redirect(w, r, clean, http.StatusFound)
		return
	}
	q := r.URL.Query()
	d := runsData{Connection: strings.TrimSpace(q.Get("connection")), Card: strings.TrimSpace(q.Get("card")), Now: c.now(),
		Plans: strings.TrimSpace(q.Get("plans"))}
	f := store.RunFilter{ConnectionID: d.Connection, Card: d.Card, Limit: listPageSize + 1}
	f.Plans, d.FilterError = plansFilter(d.Plans)
	status := http.StatusBadRequest // of a filter error
	if c.Catalog != nil {
		d.Cards = web.RunCardRefs(c.Catalog.Connectors())
	}
	if c.Connections != nil {
		conns, err := c.Connections.List(r.Context())
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		d.Nicknames = sortedNicknames(conns)
	}
	if d.Connection != "" && c.Connections != nil && d.FilterError == nil {
		var (
			fe  *filterError
			err error
		)
		f.ConnectionID, d.ConnectionName, fe, err = c.connectionFilter(r, d.Connection, "runs")
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		if fe != nil {
			d.FilterError, status = fe, http.StatusNotFound
		}
	}
	if d.Card != "" && c.Catalog != nil && d.FilterError == nil {
		ref, err := web.CardFilter(c.Catalog.Connectors(), d.Card)
		if err != nil {
			d.FilterError = c.unknownCard(r, d.Card, err)
		}
		f.Card, d.CardRef = ref, ref
	}
	if v := q.Get("before"); v != "" && d.FilterError == nil {
		var ok bool
		if f.Before, f.BeforeID, ok = parseTimeCursor(v); !ok {
			d.FilterError = badCursor(r.URL.Path, setValues(q, "card", "connection", "plans"), "before", v,
				"the runs", timeCursorText("a run's"), "Show the newest runs")
		}
	}
	if d.FilterError != nil {
		c.render(w, r, s, status, "runs", "Error: Runs", d)
		return
	}
	runs, err := c.Runs.ListRuns(r.Context(), f)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	next := ""
	if len(runs) > listPageSize {
		runs = runs[:listPageSize]
		last := runs[len(runs)-1]
		next = timeCursor(last.StartedAt, last.ID)
	}
	if d.Runs, err = c.runRows(r.Context(), runs); err != nil {
		c.fail(w, r, s, err)
		return
	}
	// The pages keep the filters set, not the empty fields of the form.
	d.Pager = newPagerAt(r.URL.Path, setValues(q, "card", "connection", "plans", "before"), "Runs", "before", next, true)
	c.render(w, r, s, http.StatusOK, "runs", "Runs", d)
}

type runData struct {
	Run        *store.Run
	CardName   string
	Duration   time.Duration
	DeviceID   string // the input's deviceId
	DeviceName string // its display name, when known
	// ConnectionGone is set when the run's connection has been deleted
	// since: the page names it without a link that leads nowhere.
	ConnectionGone bool
	// Note is the output's "note": what a card that succeeded wants read
	// (a change Okta made though its answer was a 5xx or lost).
	Note string
	// Again is the card's form filled with this run's connection and
	// input, to change and run again; "" for a card that no longer runs.
	Again string
	// Start is who or what started the run, as the run lists say.
	Start runStart
}

// outputNote is a card output's "note"; "" when it has none.
func outputNote(output []byte) string {
	var out struct {
		Note string `json:"note"`
	}
	_ = json.Unmarshal(output, &out)
	return out.Note
}

// inputDeviceID is a card input's deviceId; "" when it has none.
func inputDeviceID(input []byte) string {
	var in struct {
		DeviceID string `json:"deviceId"`
	}
	_ = json.Unmarshal(input, &in)
	return in.DeviceID
}

func (c *Console) showRun(w http.ResponseWriter, r *http.Request, s *reqState) {
	run, err := c.Runs.GetRun(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	run.Remedy = inConsole(card.RunRemedy(run))
	d := runData{Run: run, CardName: run.Card, DeviceID: inputDeviceID(run.Input), DeviceName: run.DeviceName, Note: outputNote(run.Output)}
	if k, ok := c.connector(connectorOf(run.Card)); ok {
		if cd, ok := findCard(k, cardOf(run.Card)); ok {
			d.CardName = cd.Name
			if c.Cards != nil && cd.Kind != card.KindEvent {
				d.Again = againURL(run)
			}
		}
	}
	rows, err := c.runRows(r.Context(), []*store.Run{run})
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d.Start = rows[0].Start
	if run.ConnectionID != "" && c.Connections != nil {
		_, err := c.Connections.Get(r.Context(), run.ConnectionID)
		d.ConnectionGone = problem.CodeOf(err) == problem.NotFound
	}
	if !run.FinishedAt.IsZero() {
		d.Duration = run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond)
	}
	// The title tells runs of one card apart: name, status, start.
	title := d.CardName + " run · " + strings.ToLower(humanize(run.Status)) + " · " + when(run.StartedAt)
	c.render(w, r, s, http.StatusOK, "rundetail", title, d)
}

// unknownCard is the Runs page's answer to a card filter that names no
// card that runs (err, web.CardFilter's): the cards that do, as links, and
// the nearest one first.
func (c *Console) unknownCard(r *http.Request, v string, err error) *filterError {
	p := problem.Public(err)
	fe := &filterError{Message: p.Message, Remedy: "Pick one of the cards that run below."}
	conns := c.Catalog.Connectors()
	if near := web.NearestRunCard(conns, v); near != "" {
		fe.Suggestion, fe.SuggestionText = listURL(r, "card", near), near
	}
	for _, ref := range web.RunCardRefs(conns) {
		fe.Cards = append(fe.Cards, filterChoice{Name: ref, URL: listURL(r, "card", ref)})
	}
	return fe
}

// connectionFilter resolves a list's connection filter v, by id or
// nickname: the connection's id and nickname, or the filterError of an
// unknown one (list names the list, for its message). An id no connection
// has any more filters as it is (the records of a deleted connection are
// found by its id), with no nickname.
func (c *Console) connectionFilter(r *http.Request, v, list string) (id, nickname string, fe *filterError, err error) {
	conn, err := c.Connections.Get(r.Context(), v)
	switch {
	case err == nil:
		return conn.ID, conn.Nickname, nil, nil
	case problem.CodeOf(err) != problem.NotFound:
		return "", "", nil, err
	case strings.HasPrefix(strings.ToLower(v), "conn_"):
		return v, "", nil, nil
	}
	fe, err = c.unknownConnection(r, v, list)
	return v, "", fe, err
}

// unknownConnection is the answer of a list page (runs, events, audit) to
// a connection filter that names no connection (a nickname that no
// connection has; the records of a deleted connection are asked for by
// its id): the deleted connections of that nickname, linking to the list
// of the newest one's id, else the nearest nickname and the Connections
// page.
func (c *Console) unknownConnection(r *http.Request, v, list string) (*filterError, error) {
	vs, err := c.Connections.List(r.Context())
	if err != nil {
		return nil, err
	}
	fe := &filterError{Message: fmt.Sprintf("No connection has the id or nickname %q.", v),
		Remedy: "Check the nickname, or pick the connection on the Connections page: its page links to its " + list + "."}
	if c.Audit != nil {
		if gone := web.DeletedConnectionsNamed(r.Context(), c.Audit, v); len(gone) > 0 {
			// Its records are kept under its id.
			fe.Message = fmt.Sprintf("No connection has the nickname %q now: %s.", v, web.DeletedText(gone))
			fe.Remedy = "Filter by the deleted connection's id, which its records keep."
			fe.Suggestion, fe.SuggestionText = listURL(r, "connection", gone[0].ID), gone[0].ID
			return fe, nil
		}
	}
	lower := make([]string, len(vs))
	for i, cv := range vs {
		lower[i] = strings.ToLower(cv.Nickname)
	}
	if near := flow.Nearest(v, lower...); near != "" {
		nick := vs[slices.Index(lower, near)].Nickname
		fe.Suggestion, fe.SuggestionText = listURL(r, "connection", nick), nick
	}
	return fe, nil
}

// listURL is the address of the first page of the list r asked for with
// the query's key set to v (the other filters set kept).
func listURL(r *http.Request, key, v string) string {
	q := url.Values{}
	for k := range r.URL.Query() {
		if x := r.URL.Query().Get(k); x != "" && k != "before" {
			q.Set(k, x)
		}
	}
	q.Set(key, v)
	return r.URL.Path + "?" + q.Encode()
}

// connectorOf and cardOf split a card reference "connector/card".
func connectorOf(ref string) string { k, _, _ := strings.Cut(ref, "/"); return k }

func cardOf(ref string) string { _, cd, _ := strings.Cut(ref, "/"); return cd }

// sortedNicknames are the connections' nicknames, ignoring case, for a
// filter form to suggest.
func sortedNicknames(conns []*connection.View) []string {
	out := make([]string, 0, len(conns))
	for _, v := range conns {
		out = append(out, v.Nickname)
	}
	slices.SortFunc(out, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return out
}

// setValues are the parameters of q named in keys that are set (not
// empty), trimmed.
func setValues(q url.Values, keys ...string) url.Values {
	out := url.Values{}
	for _, k := range keys {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	return out
}
