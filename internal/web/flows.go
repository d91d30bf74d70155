package web

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

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
	// DisableFlow turns a flow's trigger off, dropping its runs waiting
	// to run again by themselves.
	DisableFlow(ctx context.Context, idOrName string, actor store.Actor) (*flowrun.Disabled, error)
	Delete(ctx context.Context, idOrName string, actor store.Actor) (*store.Flow, error)
	Get(ctx context.Context, idOrName string) (*store.Flow, *flow.Document, error)
	// ListPage returns one page of the flows by name ignoring case, then
	// id.
	ListPage(ctx context.Context, p store.NamePage) ([]*store.Flow, error)
	Plan(ctx context.Context, idOrName string, inputs map[string]any, actor store.Actor) (*flow.PlanResult, error)
	PlanTriggered(ctx context.Context, idOrName string, t flowrun.PlanTrigger, actor store.Actor) (*flow.PlanResult, error)
	PlanDocumentTriggered(ctx context.Context, src []byte, t flowrun.PlanTrigger, actor store.Actor) (*flow.PlanResult, error)
	// PlanDocument plans a flow document without storing it.
	PlanDocument(ctx context.Context, src []byte, inputs map[string]any, actor store.Actor) (*flow.PlanResult, error)
	Start(ctx context.Context, idOrName string, inputs map[string]any, by flowrun.Starter) (*store.FlowRun, error)
	Wait(ctx context.Context, runID string) (*store.FlowRun, error)
	Cancel(ctx context.Context, runID string, actor store.Actor) (*store.FlowRun, error)
	Rerun(ctx context.Context, runID string, failedOnly bool, by flowrun.Starter) (*store.FlowRun, error)
	GetRun(ctx context.Context, runID string) (*store.FlowRun, error)
	ListRuns(ctx context.Context, f store.FlowRunFilter) ([]*store.FlowRun, error)
	Steps(ctx context.Context, runID string) ([]*store.FlowStep, error)
	Items(ctx context.Context, runID, stepID string) ([]*store.FlowItem, error)
	// ItemsPage returns at most limit of the step's items after index
	// after, by index; ItemCounts counts the step's items by status.
	ItemsPage(ctx context.Context, runID, stepID string, after, limit int) ([]*store.FlowItem, error)
	ItemCounts(ctx context.Context, runID, stepID string) (map[string]int, error)
	// Progress is the live progress of a run executing in this process.
	Progress(runID string) map[string]flow.Progress
}

// flowJSON converts a stored flow (and its parsed document, when it
// parses) to its public shape.
func flowJSON(f *store.Flow, doc *flow.Document, withSource bool) api.Flow {
	out := api.Flow{ID: f.ID, Name: f.Name, Inputs: map[string]api.FlowInput{}, Steps: []api.FlowStep{},
		Version: f.Version, StoredBy: actorJSON(f.StoredBy), Enabled: f.Enabled, EnabledBy: actorJSON(f.EnabledBy), CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt}
	if len(f.Trigger) > 0 && json.Unmarshal(f.Trigger, &out.Trigger) == nil && out.Trigger["kind"] == flow.KindSchedule {
		out.Trigger["nextRunAt"] = timePtr(f.NextRunAt)
		for _, k := range []string{"every", "startingDeadline"} {
			if d, ok := out.Trigger[k].(string); ok {
				out.Trigger[k] = flow.IntervalText(d)
			}
		}
	}
	if withSource {
		out.Source = string(f.Source)
	}
	if ws := FlowWarnings(f, doc); len(ws) > 0 {
		out.Warnings = warningsJSON(ws)
	}
	if doc == nil {
		return out
	}
	out.Description = doc.Description
	for _, in := range doc.Inputs {
		out.Inputs[in.Name] = api.FlowInput{Type: in.Type, Required: in.Required, Description: in.Description, Default: in.Default}
	}
	for _, st := range doc.Steps {
		out.Steps = append(out.Steps, api.FlowStep{ID: st.ID, Card: st.Card, Connection: st.Connection, ForEach: st.ForEach()})
	}
	return out
}

// readDocument reads a flow document: the raw YAML body, or JSON
// {"source": "..."}.
func (s *Server) readDocument(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	ct := r.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if mt == "application/json" {
		var body api.FlowDocument
		if err := s.decodeJSON(w, r, &body, false); err != nil {
			return nil, err
		}
		return []byte(body.Source), nil
	}
	switch mt {
	case "", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain":
	default:
		return nil, problem.New(problem.InvalidInput, "a flow document cannot come as %q", ct).
			WithRemedy("send it as YAML (Content-Type: application/yaml) or as JSON {\"source\": ...} (Content-Type: application/json)")
	}
	src, err := io.ReadAll(http.MaxBytesReader(w, r.Body, flow.MaxDocumentSize))
	var big *http.MaxBytesError
	if errors.As(err, &big) {
		return nil, problem.New(problem.InvalidInput, "the flow document is larger than %d bytes", flow.MaxDocumentSize).
			WithRemedy("split the flow into smaller flows").Wrap(big)
	}
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(string(src))) == 0 {
		return nil, problem.New(problem.InvalidInput, "the request has no flow document").WithRemedy("send the YAML as the body")
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
	// Unchanged: the document is byte for byte the latest version's, so
	// no version was added.
	out := api.FlowStored{Flow: flowJSON(res.Flow, res.Doc, false), Unchanged: res.Unchanged, Warnings: warningsJSON(res.Doc.Warnings())}
	for _, run := range res.DroppedReruns {
		out.Flow.DroppedReruns = append(out.Flow.DroppedReruns, run.ID)
	}
	if res.Enablement != flowrun.EnablementNone {
		// What storing did to the enabled state: new (stored disabled),
		// kept (same trigger), disabled (trigger changed or removed), or
		// trigger-removed.
		out.Enablement = &api.Enablement{Outcome: res.Enablement, Message: res.Message}
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
	d, err := s.Flows.DisableFlow(r.Context(), r.PathValue("id"), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := flowJSON(d.Flow, d.Doc, false)
	for _, run := range d.DroppedReruns {
		out.DroppedReruns = append(out.DroppedReruns, run.ID)
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteFlow removes a stored flow; its runs stay readable.
func (s *Server) deleteFlow(w http.ResponseWriter, r *http.Request) {
	fl, err := s.Flows.Delete(r.Context(), r.PathValue("id"), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.FlowDeleted{ID: fl.ID, Name: fl.Name, Deleted: true})
}

func (s *Server) validateFlow(w http.ResponseWriter, r *http.Request) {
	src, err := s.readDocument(w, r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	doc, err := s.Flows.Validate(r.Context(), src)
	out := api.FlowValidation{Valid: err == nil, Issues: []api.FlowIssue{}, Warnings: warningsJSON(doc.Warnings())}
	if doc != nil {
		out.Flow = doc.Name
	}
	if err != nil {
		p, ok := problem.As(err)
		if !ok || (p.Code != problem.InvalidInput && p.Code != problem.InsufficientScope && p.Code != problem.NeedsReauthorization && p.Code != problem.ConnectionPending) {
			s.writeError(w, r, err)
			return
		}
		out.Code, out.Message, out.Remedy = string(p.Code), p.Error(), p.Remedy
		if ws, ok := p.Details["warnings"].([]flow.Warning); ok && doc == nil {
			out.Warnings = warningsJSON(ws)
		}
		switch list := p.Details["errors"].(type) {
		case []flow.Issue:
			for _, i := range list {
				out.Issues = append(out.Issues, api.FlowIssue{Line: i.Line, Column: i.Column, Step: i.Step, Message: i.Message})
			}
		case []string:
			for _, m := range list {
				out.Issues = append(out.Issues, api.FlowIssue{Message: m})
			}
		default:
			out.Issues = append(out.Issues, api.FlowIssue{Message: p.Error()})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// FlowWarnings are the warnings of stored flow f's document: those of doc,
// its parse, or, when there is none (a caller without the flow service's
// parse, or a document this version refuses), those of its source parsed
// again; none when it does not parse. The API's flows and the console's
// flow page say them.
func FlowWarnings(f *store.Flow, doc *flow.Document) []flow.Warning {
	if doc == nil {
		doc, _ = flow.Parse(f.Source)
	}
	return doc.Warnings()
}

// warningsJSON is a document's warnings in the API's shape (never nil).
func warningsJSON(ws []flow.Warning) []api.FlowWarning {
	out := make([]api.FlowWarning, 0, len(ws))
	for _, w := range ws {
		out = append(out, api.FlowWarning{Line: w.Line, Column: w.Column, Path: w.Path, Message: w.Message, Remedy: w.Remedy})
	}
	return out
}

func (s *Server) listFlows(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := namePage(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var out api.FlowList
	fs, next, err := byName(r, q, p, func(p store.NamePage) ([]*store.Flow, error) { return s.Flows.ListPage(r.Context(), p) },
		func(f *store.Flow) (string, string) { return f.Name, f.ID })
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out.Flows, out.Next = make([]api.Flow, 0, len(fs)), next
	// One lookup for the page: each connection is read once.
	fp := &FlowProblems{Connections: s.Connections, Events: s.Events, DefaultDelivery: s.DefaultDelivery}
	for _, f := range fs {
		doc, _ := flow.Parse(f.Source)
		js := flowJSON(f, doc, false)
		if f.Enabled && doc != nil && doc.Trigger != nil {
			if js.Problems, err = apiFlowProblems(r.Context(), fp, doc); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		// One read each for the last run, through the index of a flow's
		// runs: a page bounds them.
		if js.LastRun, err = s.lastFlowRun(r.Context(), f.ID); err != nil {
			s.writeError(w, r, err)
			return
		}
		out.Flows = append(out.Flows, js)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiFlowProblems is what FlowProblems finds of an enabled flow, in the
// API's words.
func apiFlowProblems(ctx context.Context, fp *FlowProblems, doc *flow.Document) ([]api.FlowProblem, error) {
	ps, err := fp.Find(ctx, doc, true)
	if err != nil {
		return nil, err
	}
	var out []api.FlowProblem
	for _, p := range ps {
		sev := "error"
		if !p.Stops {
			sev = "warning"
		}
		out = append(out, api.FlowProblem{Connection: p.Connection, Problem: p.Problem, Severity: sev, Reason: p.Reason, Remedy: p.Remedy})
	}
	return out, nil
}

func (s *Server) getFlow(w http.ResponseWriter, r *http.Request) {
	f, doc, err := s.Flows.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	js := flowJSON(f, doc, true)
	if js.LastRun, err = s.lastFlowRun(r.Context(), f.ID); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, js)
}

// lastFlowRun is the header of the flow's most recent run; nil when it has
// none.
func (s *Server) lastFlowRun(ctx context.Context, flowID string) (*api.FlowRun, error) {
	runs, err := s.Flows.ListRuns(ctx, store.FlowRunFilter{FlowID: flowID, Limit: 1})
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	h := flowRunHeader(runs[0])
	return &h, nil
}

func flowVersionJSON(f *store.Flow, v *store.FlowVersion) api.FlowVersion {
	return api.FlowVersion{FlowID: f.ID, Flow: f.Name, Version: v.Version, Latest: v.Version == f.Version,
		StoredAt: v.StoredAt, StoredBy: actorJSON(v.StoredBy), SHA256: v.SHA256, Size: v.Size, Source: string(v.Source)}
}

// listFlowVersions serves a flow's versions, newest first, without their
// sources.
func (s *Server) listFlowVersions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := queryLimit(q.Get("limit"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	before := 0
	if v := q.Get("before"); v != "" {
		if before, err = strconv.Atoi(v); err != nil || before < 1 {
			s.writeError(w, r, problem.New(problem.InvalidInput, "before must be a flow version number, not %q", v).
				WithRemedy("follow the next address of the previous page").WithDetail("field", "before"))
			return
		}
	}
	f, vs, err := s.Flows.Versions(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	// Newest first; a flow's versions are few, so the page is cut here.
	if before > 0 {
		vs = slices.DeleteFunc(vs, func(v *store.FlowVersion) bool { return v.Version >= before })
	}
	n := min(len(vs), pageLimit(limit))
	out := api.FlowVersionList{FlowID: f.ID, Flow: f.Name, Latest: f.Version, Versions: make([]api.FlowVersion, 0, n)}
	for _, v := range vs[:n] {
		out.Versions = append(out.Versions, flowVersionJSON(f, v))
	}
	if len(vs) > n {
		out.Next = nextAddress(r, q, url.Values{"before": {strconv.Itoa(vs[n-1].Version)}}, "limit")
	}
	writeJSON(w, http.StatusOK, out)
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
	out := flowVersionJSON(f, v)
	if doc, err := flow.Parse(v.Source); err == nil {
		if ws := doc.Warnings(); len(ws) > 0 {
			out.Warnings = warningsJSON(ws)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) planFlow(w http.ResponseWriter, r *http.Request) {
	var req api.FlowPlanStoredRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	s.answerPlan(w, r, req.Trigger, req.Inputs,
		func(t flowrun.PlanTrigger) (*flow.PlanResult, error) {
			return s.Flows.PlanTriggered(r.Context(), id, t, actor(r.Context()))
		},
		func() (*flow.PlanResult, error) { return s.Flows.Plan(r.Context(), id, req.Inputs, actor(r.Context())) })
}

// answerPlan answers a plan request: the plan of the run trigger t would
// start when it is set (triggered), else the plan of a run with inputs
// (manual).
func (s *Server) answerPlan(w http.ResponseWriter, r *http.Request, t *api.PlanTrigger, inputs map[string]any,
	triggered func(flowrun.PlanTrigger) (*flow.PlanResult, error), manual func() (*flow.PlanResult, error)) {
	if err := checkPlanTrigger(t, inputs); err != nil {
		s.writeError(w, r, err)
		return
	}
	var plan *flow.PlanResult
	var err error
	if t != nil {
		plan, err = triggered(flowrun.PlanTrigger{Kind: t.Kind, EventUUID: t.EventUUID, Event: t.Event})
	} else {
		plan, err = manual()
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, planJSON(plan))
}

// planDocument plans a flow document that is not stored, and stores
// nothing: planning an edited document of a stored flow must not make the
// edit the version that runs.
func (s *Server) planDocument(w http.ResponseWriter, r *http.Request) {
	var req api.FlowPlanRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case strings.TrimSpace(req.Source) == "":
		s.writeError(w, r, problem.New(problem.InvalidInput, "the request has no flow document").WithRemedy("send it as \"source\"").WithDetail("field", "source"))
		return
	case len(req.Source) > flow.MaxDocumentSize:
		s.writeError(w, r, problem.New(problem.InvalidInput, "the flow document is larger than %d bytes", flow.MaxDocumentSize).
			WithRemedy("split the flow into smaller flows").WithDetail("field", "source"))
		return
	}
	src := []byte(req.Source)
	s.answerPlan(w, r, req.Trigger, req.Inputs,
		func(t flowrun.PlanTrigger) (*flow.PlanResult, error) {
			return s.Flows.PlanDocumentTriggered(r.Context(), src, t, actor(r.Context()))
		},
		func() (*flow.PlanResult, error) {
			return s.Flows.PlanDocument(r.Context(), src, req.Inputs, actor(r.Context()))
		})
}

func (s *Server) startFlowRun(w http.ResponseWriter, r *http.Request) {
	var req api.FlowInputsRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	wait, err := queryBool(r.URL.Query().Get("wait"), "wait", "use wait=true to get the finished run, or leave it out")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.Flows.Start(r.Context(), r.PathValue("id"), req.Inputs, starter(r.Context()))
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
	q := r.URL.Query()
	var f store.FlowRunFilter
	var err error
	if f.Limit, err = queryLimit(q.Get("limit")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Before, f.BeforeID, err = pageCursor(q); err != nil {
		s.writeError(w, r, err)
		return
	}
	if f.Status, err = flowRunStatus(q.Get("status")); err != nil {
		s.writeError(w, r, err)
		return
	}
	if id := r.PathValue("id"); id != "" {
		fl, _, err := s.Flows.Get(r.Context(), id)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		f.FlowID = fl.ID
	} else if f.FlowID, err = s.flowFilter(r, q.Get("flow")); err != nil {
		s.writeError(w, r, err)
		return
	}
	runs, err := s.Flows.ListRuns(r.Context(), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.FlowRunList{Runs: make([]api.FlowRun, 0, len(runs))}
	for _, run := range runs {
		out.Runs = append(out.Runs, flowRunHeader(run))
	}
	if last := len(runs) - 1; last >= 0 && len(runs) == pageLimit(f.Limit) {
		out.Next = nextPage(r, q, runs[last].CreatedAt, runs[last].ID, "flow", "status", "limit")
	}
	writeJSON(w, http.StatusOK, out)
}

// flowRunStatus checks a ?status= value of the flow run lists ("" for
// any status).
func flowRunStatus(v string) (string, error) {
	if v == "" || slices.Contains(api.FlowRunStatuses, v) {
		return v, nil
	}
	return "", problem.New(problem.InvalidInput, "status %q is not a flow run's status", v).
		WithRemedy("give one of %s", strings.Join(api.FlowRunStatuses, ", ")).WithDetail("field", "status")
}

// flowFilter turns a ?flow= value into a flow id, as connectionFilter does
// for connections: a stored flow's name or id resolves to its id; an id of
// a deleted flow whose runs remain stays as it is (its runs stay
// readable); anything else is not_found rather than a filter that silently
// matches nothing.
func (s *Server) flowFilter(r *http.Request, v string) (string, error) {
	if v == "" {
		return "", nil
	}
	fl, _, err := s.Flows.Get(r.Context(), v)
	if err == nil {
		return fl.ID, nil
	}
	if problem.CodeOf(err) == problem.NotFound && flowIDShape.MatchString(v) {
		// A deleted flow's id, when runs of it remain; else not a
		// flow's id at all (a flow run's, say: its not_found says so).
		id := strings.ToLower(v)
		runs, lerr := s.Flows.ListRuns(r.Context(), store.FlowRunFilter{FlowID: id, Limit: 1})
		if lerr != nil {
			return "", lerr
		}
		if len(runs) > 0 {
			return id, nil
		}
	}
	return "", err
}

// flowIDShape is the form of a stored flow's id (flow names may not have
// it).
var flowIDShape = regexp.MustCompile(`^[0-9A-Fa-f]{32}$`)

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
	var req api.RerunRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	run, err := s.Flows.Rerun(r.Context(), r.PathValue("id"), req.FailedOnly, starter(r.Context()))
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
	if _, err := queryBool(q.Get("items"), "items", "use items=false for the steps only, or leave it out"); err != nil {
		return 0, err
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
		s.writeError(w, r, problem.New(problem.InvalidInput, "step is required: the id of the step whose items to list").
			WithRemedy("add ?step=ID; the run (GET /api/v1/flow-runs/{id}) lists its steps").WithDetail("field", "step"))
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
	// A step the run does not have is not an empty page of items, as one
	// not run yet is.
	if doc, err := flow.Parse(run.Source); err == nil {
		var ids []string
		for _, st := range doc.Steps {
			ids = append(ids, st.ID)
		}
		if !slices.Contains(ids, step) {
			s.writeError(w, r, problem.New(problem.NotFound, "flow run %s has no step %q; its steps are %s", run.ID, step, strings.Join(ids, ", ")).
				WithRemedy("give one of them as ?step=ID").WithDetail("field", "step"))
			return
		}
	}
	items, next, err := s.itemPage(r.Context(), run.ID, step, after, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.FlowRunItemPage{Items: items, Next: next}
	writeJSON(w, http.StatusOK, out)
}

// planJSON converts a dry run to its public shape; lists stay null where
// the plan has none, as they were always served.
// checkPlanTrigger refuses a plan request's trigger that is neither a
// schedule's nor a stored event's, and inputs given with one (on.inputs
// computes them).
func checkPlanTrigger(t *api.PlanTrigger, inputs map[string]any) error {
	switch {
	case t == nil:
		return nil
	case t.Kind != flow.KindSchedule && t.Kind != flow.KindEvent:
		return problem.New(problem.InvalidInput, "a plan's trigger kind must be schedule or event, not %q", t.Kind).
			WithRemedy(`give {"kind": "schedule"} for the run of the next tick, {"kind": "event", "eventUuid": UUID} for a stored event's run, {"kind": "event", "event": LogEvent} for the run of an Okta event you give, or leave trigger out to plan a run with inputs`).WithDetail("field", "trigger")
	case t.Kind == flow.KindEvent && (t.EventUUID == "") == (len(t.Event) == 0):
		return problem.New(problem.InvalidInput, "a plan of an event's run needs either a stored event's eventUuid or an event, not both").
			WithRemedy(`give {"kind": "event", "eventUuid": UUID} for a stored event (GET /api/v1/events, cardflow events list), or {"kind": "event", "event": LogEvent} with an Okta event as the System Log API answers it`).WithDetail("field", "trigger")
	case t.Kind == flow.KindSchedule && (t.EventUUID != "" || len(t.Event) > 0):
		return problem.New(problem.InvalidInput, "a plan of a scheduled run takes no event").
			WithRemedy(`give {"kind": "event", "eventUuid": UUID} or {"kind": "event", "event": LogEvent} to plan an event's run`).WithDetail("field", "trigger")
	case len(inputs) > 0:
		return problem.New(problem.InvalidInput, "a triggered run's inputs come from on.inputs, so a plan of one takes none").
			WithRemedy("leave inputs out, or leave trigger out to plan a run with these inputs").WithDetail("field", "inputs")
	}
	return nil
}

func planJSON(p *flow.PlanResult) api.Plan {
	out := api.Plan{Flow: p.Flow, Warnings: warningsJSON(p.Warnings)}
	if p.Trigger != nil {
		out.Trigger = triggerJSON(*p.Trigger)
		out.Inputs = p.Inputs
	}
	if p.Steps != nil {
		out.Steps = make([]api.PlanStep, 0, len(p.Steps))
	}
	for _, st := range p.Steps {
		js := api.PlanStep{ID: st.ID, Card: st.Card, Mode: st.Mode, Items: st.Items}
		if st.Changes != nil {
			js.Changes = make([]api.PlanChange, 0, len(st.Changes))
		}
		for _, c := range st.Changes {
			js.Changes = append(js.Changes, api.PlanChange{DeviceID: c.DeviceID, DeviceName: c.DeviceName, From: c.From, To: c.To, Call: c.Call})
		}
		for _, e := range st.Errors {
			js.Errors = append(js.Errors, api.PlanError{Index: e.Index, Message: e.Message, DeviceID: e.DeviceID, DeviceName: e.DeviceName})
		}
		for _, u := range st.Unsimulated {
			js.Unsimulated = append(js.Unsimulated, api.Unsimulated{Index: u.Index, Call: u.Call})
		}
		out.Steps = append(out.Steps, js)
	}
	return out
}
