package app

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/flow"
)

// beforeDelete is the connection manager's BeforeDelete: it deletes the
// connection's Okta event hook and warns of the enabled flows that use the
// connection, which run on their own and would otherwise fail (a
// schedule's runs) or start nothing (an event trigger's) unnoticed.
func (a *App) beforeDelete(ctx context.Context, id string) string {
	warn := a.events.forget(ctx, id)
	names, err := a.enabledFlowsUsing(ctx, id)
	if err != nil {
		a.log.ErrorContext(ctx, "reading the flows that use a connection being deleted", slog.String("connection", id), slog.Any("error", err))
		names, warn = nil, strings.TrimPrefix(warn+"; the enabled flows that use it could not be read: check cardflow flows list", "; ")
	}
	if len(names) > 0 {
		what := "the enabled flow " + names[0] + " uses it"
		if len(names) > 1 {
			what = fmt.Sprintf("the enabled flows %s and %s use it", strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
		}
		warn = strings.TrimPrefix(warn+"; "+what+": until each such flow names another connection (store it again) or is disabled (cardflow flows disable NAME), its scheduled runs fail and Okta events start no run of it", "; ")
	}
	return warn
}

// enabledFlowsUsing names, sorted, the enabled flows whose trigger or
// steps name the connection id (by id or nickname).
func (a *App) enabledFlowsUsing(ctx context.Context, id string) ([]string, error) {
	fls, err := a.Store.ListFlows(ctx)
	if err != nil {
		return nil, err
	}
	type ref struct{ connector, connection string }
	// Flows name a few connections many times: each name is resolved once.
	uses := map[ref]bool{}
	usesIt := func(r ref) bool {
		u, ok := uses[r]
		if !ok {
			v, err := a.Connections.Resolve(ctx, r.connector, r.connection)
			u = err == nil && v.ID == id
			uses[r] = u
		}
		return u
	}
	var names []string
	for _, fl := range fls {
		if !fl.Enabled {
			continue
		}
		doc, err := flow.Parse(fl.Source)
		if err != nil {
			continue
		}
		var refs []ref
		if tr := doc.Trigger; tr != nil && tr.Event != nil {
			refs = append(refs, ref{tr.Event.Connector(), tr.Event.Connection})
		}
		for _, s := range doc.Steps {
			refs = append(refs, ref{s.Connector(), s.Connection})
		}
		if slices.ContainsFunc(refs, usesIt) {
			names = append(names, fl.Name)
		}
	}
	slices.Sort(names)
	return names, nil
}
