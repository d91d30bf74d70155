package app

import (
	"context"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/web/console"
)

// flowsUsingConnection is the connection manager's FlowsUsing: the
// enabled flows that use the connection, by name, which the API and the
// command line name when it is deleted (or refuse its deletion for); the
// console says it in its own terms (console.ConnectionUsers).
func (a *App) flowsUsingConnection(ctx context.Context, id string) ([]connection.UsingFlow, error) {
	uses, err := a.enabledFlowsUsing(ctx, id)
	if err != nil {
		return nil, err
	}
	out := make([]connection.UsingFlow, len(uses))
	for i, u := range uses {
		out[i] = connection.UsingFlow{ID: u.ID, Name: u.Name}
	}
	return out, nil
}

// connectionUsers is the app as console.ConnectionUsers.
type connectionUsers struct{ a *App }

func (u connectionUsers) EnabledFlowsUsing(ctx context.Context, connectionID string) ([]console.FlowUse, error) {
	return u.a.enabledFlowsUsing(ctx, connectionID)
}

// enabledFlowsUsing lists, by name, the enabled flows whose trigger or
// steps name the connection id (by id or nickname), and what of each does.
func (a *App) enabledFlowsUsing(ctx context.Context, id string) ([]console.FlowUse, error) {
	fls, err := a.Store.ListFlows(ctx)
	if err != nil {
		return nil, err
	}
	type ref struct{ connector, connection string }
	// Flows name a few connections many times: each name is resolved once.
	resolved := map[ref]bool{}
	names := func(connector, connection string) bool {
		r := ref{connector, connection}
		u, ok := resolved[r]
		if !ok {
			v, err := a.Connections.Resolve(ctx, connector, connection)
			u = err == nil && v.ID == id
			resolved[r] = u
		}
		return u
	}
	var uses []console.FlowUse
	for _, fl := range fls {
		if !fl.Enabled {
			continue
		}
		doc, err := flow.Parser{Now: a.cfg.Now}.Parse(fl.Source)
		if err != nil {
			continue
		}
		u := console.FlowUse{ID: fl.ID, Name: fl.Name}
		if tr := doc.Trigger; tr != nil && tr.Event != nil {
			u.Trigger = names(tr.Event.Connector(), tr.Event.Connection)
		}
		for _, s := range doc.Steps {
			if names(s.Connector(), s.Connection) {
				u.Steps = append(u.Steps, s.ID)
			}
		}
		if u.Trigger || len(u.Steps) > 0 {
			uses = append(uses, u)
		}
	}
	slices.SortFunc(uses, func(x, y console.FlowUse) int { return strings.Compare(x.Name, y.Name) })
	return uses, nil
}
