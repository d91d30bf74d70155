package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

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
	Runs       []*store.Run
	Connection string // as asked for: an id or a nickname
	// ConnectionName is the nickname of that connection ("" when it has
	// been deleted since).
	ConnectionName string
	Card           string
	Now            time.Time
	Pager          pager
}

func (c *Console) listRuns(w http.ResponseWriter, r *http.Request, s *reqState) {
	q := r.URL.Query()
	d := runsData{Connection: q.Get("connection"), Card: q.Get("card"), Now: c.now()}
	f := store.RunFilter{ConnectionID: d.Connection, Card: d.Card, Limit: listPageSize + 1}
	if d.Connection != "" && c.Connections != nil {
		// By id or nickname; the runs of a deleted connection are found by
		// its id.
		if v, err := c.Connections.Get(r.Context(), d.Connection); err == nil {
			f.ConnectionID, d.ConnectionName = v.ID, v.Nickname
		}
	}
	f.Before, f.BeforeID, _ = parseTimeCursor(q.Get("before"))
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
	d.Runs, d.Pager = runs, newPager(r, "Runs", "before", next, true)
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
	d := runData{Run: run, CardName: run.Card, DeviceID: inputDeviceID(run.Input), DeviceName: run.DeviceName, Note: outputNote(run.Output)}
	if k, ok := c.connector(connectorOf(run.Card)); ok {
		if cd, ok := findCard(k, cardOf(run.Card)); ok {
			d.CardName = cd.Name
		}
	}
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

// connectorOf and cardOf split a card reference "connector/card".
func connectorOf(ref string) string { k, _, _ := strings.Cut(ref, "/"); return k }

func cardOf(ref string) string { _, cd, _ := strings.Cut(ref, "/"); return cd }
