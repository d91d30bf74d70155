package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/web/console"
)

// connectionInUse is the connection manager's InUse: it warns of the
// enabled flows that use the connection being deleted, which run on their
// own and would otherwise fail (a schedule's runs) or start nothing (an
// event trigger's) unnoticed. It speaks in the API's and the command
// line's terms; the console says it in its own (console.ConnectionUsers).
func (a *App) connectionInUse(ctx context.Context, id string) string {
	uses, err := a.enabledFlowsUsing(ctx, id)
	if err != nil {
		a.log.ErrorContext(ctx, "reading the flows that use a connection being deleted", slog.String("connection", id), slog.Any("error", err))
		return "the enabled flows that use it could not be read: check cardflow flows list"
	}
	if len(uses) == 0 {
		return ""
	}
	what := "the enabled flow " + uses[0].Name + " uses it"
	if len(uses) > 1 {
		names := make([]string, len(uses))
		for i, u := range uses {
			names[i] = u.Name
		}
		what = fmt.Sprintf("the enabled flows %s and %s use it", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
	}
	return what + ": until each such flow names another connection (store it again) or is disabled (cardflow flows disable NAME), its scheduled runs fail and Okta events start no run of it"
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
