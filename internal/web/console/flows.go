package console

import (
	"context"
	"net/http"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// Flows reads flows and their runs; store.Store satisfies it.
type Flows interface {
	ListFlows(ctx context.Context) ([]*store.Flow, error)
	GetFlow(ctx context.Context, idOrName string) (*store.Flow, error)
	ListFlowRuns(ctx context.Context, flowID string, limit int) ([]*store.FlowRun, error)
	GetFlowRun(ctx context.Context, id string) (*store.FlowRun, error)
	ListFlowSteps(ctx context.Context, runID string) ([]*store.FlowStep, error)
	ListFlowItems(ctx context.Context, runID, stepID string) ([]*store.FlowItem, error)
}

func (c *Console) flowRoutes(mux *http.ServeMux) {
	if c.Flows == nil {
		return
	}
	mux.Handle("GET /flows", c.auth(c.listFlows))
	mux.Handle("GET /flows/{id}", c.auth(c.showFlow))
	mux.Handle("GET /flow-runs/{id}", c.auth(c.showFlowRun))
}

type flowsData struct {
	Flows []*store.Flow
	Runs  []*store.FlowRun
	Now   time.Time
}

func (c *Console) listFlows(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	fs, err := c.Flows.ListFlows(ctx)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	runs, err := c.Flows.ListFlowRuns(ctx, "", 50)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "flows", "Flows", flowsData{Flows: fs, Runs: runs, Now: c.now()})
}

type flowData struct {
	Flow *store.Flow
	Runs []*store.FlowRun
	Now  time.Time
}

func (c *Console) showFlow(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	f, err := c.Flows.GetFlow(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	runs, err := c.Flows.ListFlowRuns(ctx, f.ID, 50)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	c.render(w, r, s, http.StatusOK, "flow", f.Name, flowData{Flow: f, Runs: runs, Now: c.now()})
}

// flowStepView is one step of a flow run with its items.
type flowStepView struct {
	*store.FlowStep
	ItemList []*store.FlowItem
}

type flowRunData struct {
	Run   *store.FlowRun
	Steps []flowStepView
	Now   time.Time
}

func (c *Console) showFlowRun(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	run, err := c.Flows.GetFlowRun(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	steps, err := c.Flows.ListFlowSteps(ctx, run.ID)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	d := flowRunData{Run: run, Now: c.now()}
	for _, st := range steps {
		items, err := c.Flows.ListFlowItems(ctx, run.ID, st.StepID)
		if err != nil {
			c.fail(w, r, s, err)
			return
		}
		d.Steps = append(d.Steps, flowStepView{FlowStep: st, ItemList: items})
	}
	c.render(w, r, s, http.StatusOK, "flowrun", "Flow run "+run.ID, d)
}
