package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// Flows is what the API needs of flows; the app implements it over the
// flow package and the store.
type Flows interface {
	Validate(ctx context.Context, src []byte) (*flow.Document, error)
	Put(ctx context.Context, src []byte, actor store.Actor) (*flowrun.PutResult, error)
	// Versions returns the flow (its latest version) and all its
	// versions, newest first; Version returns one version with its source.
	Versions(ctx context.Context, idOrName string) (*store.Flow, []*store.FlowVersion, error)
	Version(ctx context.Context, idOrName string, n int) (*store.Flow, *store.FlowVersion, error)
	Enable(ctx context.Context, idOrName string, actor store.Actor) (*store.Flow, *flow.Document, error)
	Disable(ctx context.Context, idOrName string, actor store.Actor) (*store.Flow, *flow.Document, error)
	Delete(ctx context.Context, idOrName string, actor store.Actor) (*store.Flow, error)
	Get(ctx context.Context, idOrName string) (*store.Flow, *flow.Document, error)
	List(ctx context.Context) ([]*store.Flow, error)
	Plan(ctx context.Context, idOrName string, inputs map[string]any) (*flow.PlanResult, error)
	Start(ctx context.Context, idOrName string, inputs map[string]any, actor store.Actor) (*store.FlowRun, error)
	Wait(ctx context.Context, runID string) (*store.FlowRun, error)
	Cancel(ctx context.Context, runID string, actor store.Actor) (*store.FlowRun, error)
	Rerun(ctx context.Context, runID string, failedOnly bool, actor store.Actor) (*store.FlowRun, error)
	GetRun(ctx context.Context, runID string) (*store.FlowRun, error)
	ListRuns(ctx context.Context, flowID string, limit int) ([]*store.FlowRun, error)
	Steps(ctx context.Context, runID string) ([]*store.FlowStep, error)
	Items(ctx context.Context, runID, stepID string) ([]*store.FlowItem, error)
	// ItemsPage returns at most limit of the step's items after index
	// after, by index; ItemCounts counts the step's items by status.
	ItemsPage(ctx context.Context, runID, stepID string, after, limit int) ([]*store.FlowItem, error)
	ItemCounts(ctx context.Context, runID, stepID string) (map[string]int, error)
	// Progress is the live progress of a run executing in this process.
	Progress(runID string) map[string]flow.Progress
}

// FlowJSON is the public shape of a stored flow.
type FlowJSON struct {
	ID          string                   `json:"id"`
	Name        string                   `json:"name"`
	Description string                   `json:"description,omitempty"`
	Inputs      map[string]FlowInputJSON `json:"inputs"`
	Steps       []FlowStepJSON           `json:"steps"`
	Source      string                   `json:"source,omitempty"`
	// Version is the latest version's number, which is also how many
	// versions the flow has; StoredBy is who stored it.
	Version  int        `json:"version"`
	StoredBy *api.Actor `json:"storedBy,omitempty"`
	// Enabled says whether the trigger starts runs; always false without
	// a trigger.
	Enabled bool `json:"enabled"`
	// EnabledBy is who last enabled or disabled the trigger; triggered
	// runs are attributed to who enabled it.
	EnabledBy *api.Actor `json:"enabledBy,omitempty"`
	// Trigger is null or {kind: "schedule", cron|every, timezone,
	// nextRunAt} or {kind: "event", card, connection, delivery, if}.
	Trigger   map[string]any `json:"trigger"`
	CreatedAt time.Time      `json:"createdAt"`
	UpdatedAt time.Time      `json:"updatedAt"`
}

// FlowInputJSON is one declared input of a flow.
type FlowInputJSON struct {
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Description string `json:"description,omitempty"`
	Default     any    `json:"default,omitempty"`
}

// FlowStepJSON is one step of a flow document.
type FlowStepJSON struct {
	ID         string `json:"id"`
	Card       string `json:"card"`
	Connection string `json:"connection"`
	ForEach    bool   `json:"forEach,omitempty"`
}

func flowJSON(f *store.Flow, doc *flow.Document, withSource bool) FlowJSON {
	out := FlowJSON{ID: f.ID, Name: f.Name, Inputs: map[string]FlowInputJSON{}, Steps: []FlowStepJSON{},
		Version: f.Version, StoredBy: actorJSON(f.StoredBy), Enabled: f.Enabled, EnabledBy: actorJSON(f.EnabledBy), CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
	if len(f.Trigger) > 0 && json.Unmarshal(f.Trigger, &out.Trigger) == nil && out.Trigger["kind"] == flow.KindSchedule {
		out.Trigger["nextRunAt"] = timePtr(f.NextRunAt)
	}
	if withSource {
		out.Source = string(f.Source)
	}
	if doc == nil {
		return out
	}
	out.Description = doc.Description
	for _, in := range doc.Inputs {
		out.Inputs[in.Name] = FlowInputJSON{Type: in.Type, Required: in.Required, Description: in.Description, Default: in.Default}
	}
	for _, st := range doc.Steps {
		out.Steps = append(out.Steps, FlowStepJSON{ID: st.ID, Card: st.Card, Connection: st.Connection, ForEach: st.ForEach()})
	}
	return out
}

// readDocument reads a flow document: the raw YAML body, or JSON
// {"source": "..."}.
func (s *Server) readDocument(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt == "application/json" {
		var body struct {
			Source string `json:"source"`
		}
		if err := s.decodeJSON(w, r, &body, false); err != nil {
			return nil, err
		}
		return []byte(body.Source), nil
	}
	switch mt {
	case "", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain":
	default:
		return nil, problem.New(problem.InvalidInput, "send the flow document as YAML (Content-Type: application/yaml) or as JSON {\"source\": ...}, not %q", ct)
	}
	src, err := io.ReadAll(http.MaxBytesReader(w, r.Body, flow.MaxDocumentSize))
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return nil, problem.New(problem.InvalidInput, "the flow document is larger than %d bytes", flow.MaxDocumentSize).Wrap(big)
	}
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(src))) == 0 {
		return nil, problem.New(problem.InvalidInput, "the request has no flow document; send the YAML as the body")
	}
	return src, nil
}

func (s *Server) putFlow(w http.ResponseWriter, r *http.Request) {
	src, err := s.readDocument(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res, err := s.Flows.Put(r.Context(), src, actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// unchanged: the document is byte for byte the latest version's, so
	// no version was added.
	out := map[string]any{"flow": flowJSON(res.Flow, res.Doc, false), "unchanged": res.Unchanged}
	if res.Enablement != flowrun.EnablementNone {
		// What storing did to the enabled state: new (stored disabled),
		// kept (same trigger), disabled (trigger changed or removed), or
		// trigger-removed.
		out["enablement"] = map[string]any{"outcome": res.Enablement, "message": res.Message}
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) enableFlow(w http.ResponseWriter, r *http.Request) {
	f, doc, err := s.Flows.Enable(r.Context(), r.PathValue("id"), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, flowJSON(f, doc, false))
}

func (s *Server) disableFlow(w http.ResponseWriter, r *http.Request) {
	f, doc, err := s.Flows.Disable(r.Context(), r.PathValue("id"), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, flowJSON(f, doc, false))
}

// deleteFlow removes a stored flow; its runs stay readable.
func (s *Server) deleteFlow(w http.ResponseWriter, r *http.Request) {
	fl, err := s.Flows.Delete(r.Context(), r.PathValue("id"), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": fl.ID, "name": fl.Name, "deleted": true})
}

func (s *Server) validateFlow(w http.ResponseWriter, r *http.Request) {
	src, err := s.readDocument(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	doc, err := s.Flows.Validate(r.Context(), src)
	out := map[string]any{"valid": err == nil, "issues": []any{}}
	if doc != nil {
		out["flow"] = doc.Name
	}
	if err != nil {
		p, ok := problem.As(err)
		if !ok || (p.Code != problem.InvalidInput && p.Code != problem.InsufficientScope) {
			s.writeError(w, r, err)
			return
		}
		out["code"] = p.Code
		out["message"] = p.Error()
		if p.Remedy != "" {
			out["remedy"] = p.Remedy
		}
		if list, ok := p.Details["errors"]; ok {
			out["issues"] = list
		} else {
			out["issues"] = []map[string]any{{"message": p.Error()}}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listFlows(w http.ResponseWriter, r *http.Request) {
	fs, err := s.Flows.List(r.Context())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]FlowJSON, 0, len(fs))
	for _, f := range fs {
		doc, _ := flow.Parse(f.Source)
		out = append(out, flowJSON(f, doc, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"flows": out})
}

func (s *Server) getFlow(w http.ResponseWriter, r *http.Request) {
	f, doc, err := s.Flows.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, flowJSON(f, doc, true))
}

// FlowVersionJSON is one stored version of a flow.
type FlowVersionJSON struct {
	FlowID   string     `json:"flowId"`
	Flow     string     `json:"flow"`
	Version  int        `json:"version"`
	Latest   bool       `json:"latest"`
	StoredAt time.Time  `json:"storedAt"`
	StoredBy *api.Actor `json:"storedBy,omitempty"`
	SHA256   string     `json:"sha256"`
	Size     int        `json:"size"`
	Source   string     `json:"source,omitempty"`
}

func flowVersionJSON(f *store.Flow, v *store.FlowVersion) FlowVersionJSON {
	return FlowVersionJSON{FlowID: f.ID, Flow: f.Name, Version: v.Version, Latest: v.Version == f.Version,
		StoredAt: v.StoredAt, StoredBy: actorJSON(v.StoredBy), SHA256: v.SHA256, Size: v.Size, Source: string(v.Source)}
}

// listFlowVersions serves a flow's versions, newest first, without their
// sources.
func (s *Server) listFlowVersions(w http.ResponseWriter, r *http.Request) {
	f, vs, err := s.Flows.Versions(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]FlowVersionJSON, 0, len(vs))
	for _, v := range vs {
		out = append(out, flowVersionJSON(f, v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"flowId": f.ID, "flow": f.Name, "latest": f.Version, "versions": out})
}

// getFlowVersion serves one version of a flow with its source.
func (s *Server) getFlowVersion(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("n")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 {
		s.writeError(w, r, problem.New(problem.InvalidInput, "a flow version is a whole number from 1, not %q", raw).
			WithRemedy("list the versions with GET /api/v1/flows/%s/versions", r.PathValue("id")))
		return
	}
	f, v, err := s.Flows.Version(r.Context(), r.PathValue("id"), n)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, flowVersionJSON(f, v))
}

// inputsRequest is the body of plan and run requests.
type inputsRequest struct {
	Inputs map[string]any `json:"inputs"`
}

func (s *Server) planFlow(w http.ResponseWriter, r *http.Request) {
	var req inputsRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	plan, err := s.Flows.Plan(r.Context(), r.PathValue("id"), req.Inputs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, plan)
}

func (s *Server) startFlowRun(w http.ResponseWriter, r *http.Request) {
	var req inputsRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	wait := false
	if v := r.URL.Query().Get("wait"); v != "" {
		if v != "true" && v != "false" {
			s.writeError(w, r, problem.New(problem.InvalidInput, "wait must be true or false, not %q", v).WithDetail("field", "wait"))
			return
		}
		wait = v == "true"
	}
	run, err := s.Flows.Start(r.Context(), r.PathValue("id"), req.Inputs, actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/flow-runs/"+run.ID)
	if !wait {
		out, err := s.flowRunJSON(r.Context(), run, 0)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusAccepted, out)
		return
	}
	if run, err = s.Flows.Wait(r.Context(), run.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.flowRunJSON(r.Context(), run, defaultItemPage)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listFlowRuns(w http.ResponseWriter, r *http.Request) {
	limit, err := queryLimit(r.URL.Query().Get("limit"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	flowID := r.URL.Query().Get("flow")
	if id := r.PathValue("id"); id != "" {
		f, _, err := s.Flows.Get(r.Context(), id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		flowID = f.ID
	}
	runs, err := s.Flows.ListRuns(r.Context(), flowID, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]FlowRunJSON, 0, len(runs))
	for _, run := range runs {
		out = append(out, flowRunHeader(run))
	}
	writeJSON(w, http.StatusOK, map[string]any{"runs": out})
}

// cancelFlowRun asks a flow run to stop: 200 with the run when it ended
// canceled at once (it was queued, or was canceled before), 202 when the
// server executing it stops it (items in flight finish first).
func (s *Server) cancelFlowRun(w http.ResponseWriter, r *http.Request) {
	run, err := s.Flows.Cancel(r.Context(), r.PathValue("id"), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.flowRunJSON(r.Context(), run, 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	code := http.StatusOK
	if run.Status != flow.StatusCanceled {
		code = http.StatusAccepted
	}
	writeJSON(w, code, out)
}

// rerunFlowRun queues a finished run again: {failedOnly} → 202 the new
// run.
func (s *Server) rerunFlowRun(w http.ResponseWriter, r *http.Request) {
	var req struct {
		FailedOnly bool `json:"failedOnly"`
	}
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.Flows.Rerun(r.Context(), r.PathValue("id"), req.FailedOnly, actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.flowRunJSON(r.Context(), run, 0)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/flow-runs/"+run.ID)
	writeJSON(w, http.StatusAccepted, out)
}

func (s *Server) getFlowRun(w http.ResponseWriter, r *http.Request) {
	limit, err := itemsQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.Flows.GetRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.flowRunJSON(r.Context(), run, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// itemsQuery reads the items= and limit= parameters of a flow run: how
// many items of each step to include (0: none).
func itemsQuery(r *http.Request) (int, error) {
	q := r.URL.Query()
	if v := q.Get("items"); v != "" && v != "true" && v != "false" {
		return 0, problem.New(problem.InvalidInput, "items must be true or false, not %q", v).WithDetail("field", "items")
	}
	limit, err := queryLimit(q.Get("limit"))
	if err != nil {
		return 0, err
	}
	if q.Get("items") == "false" {
		return 0, nil
	}
	if limit == 0 {
		limit = defaultItemPage
	}
	return limit, nil
}

// listFlowRunItems serves one page of a step's items:
// ?step=ID&after=INDEX&limit=N → {items, next}.
func (s *Server) listFlowRunItems(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryLimit(q.Get("limit"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if limit == 0 {
		limit = defaultItemPage
	}
	step := q.Get("step")
	if step == "" {
		s.writeError(w, r, problem.New(problem.InvalidInput, "step is required: the id of the step whose items to list").WithDetail("field", "step"))
		return
	}
	after := -1
	if v := q.Get("after"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < -1 {
			s.writeError(w, r, problem.New(problem.InvalidInput, "after must be an item index (a whole number), not %q", v).
				WithRemedy("pass the nextItems address of the previous page as it is").WithDetail("field", "after"))
			return
		}
		after = n
	}
	run, err := s.Flows.GetRun(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	items, next, err := s.itemPage(r.Context(), run.ID, step, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		Items []FlowRunItemJSON `json:"items"`
		Next  string            `json:"next,omitempty"`
	}{items, next}
	writeJSON(w, http.StatusOK, out)
}
