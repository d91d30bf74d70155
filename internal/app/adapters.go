package app

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// catalog is the card registry as connection.Catalog.
type catalog struct{}

func (catalog) DefaultScopes(connector string) ([]string, bool) { return card.DefaultScopes(connector) }

func (catalog) Scopes(connector string) []connection.ScopeInfo {
	var out []connection.ScopeInfo
	for _, s := range card.Scopes(connector) {
		out = append(out, connection.ScopeInfo{Name: s.Name, Description: s.Description})
	}
	return out
}

func (catalog) CardsNeeding(connector, scope string) []string {
	return card.CardsNeeding(connector, scope)
}

// cardConnections is the connection manager as card.Connections.
type cardConnections struct{ m *connection.Manager }

func (c cardConnections) Resolve(ctx context.Context, connector, idOrNickname string) (card.ConnectionInfo, error) {
	v, err := c.m.Resolve(ctx, connector, idOrNickname)
	if err != nil {
		return card.ConnectionInfo{}, err
	}
	info := card.ConnectionInfo{
		ID: v.ID, Nickname: v.Nickname, Domain: v.Domain, Status: v.Status, StatusReason: v.StatusReason,
		Remedy: v.Remedy, ScopeMode: v.ScopeMode, RequestedScopes: v.RequestedScopes, GrantedScopes: v.GrantedScopes,
	}
	if v.AuthorizedBy != nil {
		info.ActingAs = v.AuthorizedBy.Login
	}
	return info, nil
}

func (c cardConnections) HTTPClient(id string) *http.Client { return c.m.HTTPClient(id) }

// flowEnv is the card registry and the connection manager as
// flow.ValidateEnv.
type flowEnv struct{ m *connection.Manager }

func (e flowEnv) Card(ref string) (flow.CardInfo, bool) {
	c, ok := card.Lookup(ref)
	if !ok {
		return flow.CardInfo{}, false
	}
	info := flow.CardInfo{Ref: c.Ref, Mode: c.Mode, Scope: c.Scope}
	for _, in := range c.Inputs {
		info.Inputs = append(info.Inputs, flow.InputInfo{Name: in.Name, Type: in.Type, Required: in.Required})
	}
	return info, true
}

func (e flowEnv) Connection(ctx context.Context, connector, nameOrID string) (flow.ConnInfo, error) {
	v, err := e.m.Resolve(ctx, connector, nameOrID)
	if err != nil {
		return flow.ConnInfo{}, err
	}
	defaults, _ := card.DefaultScopes(connector)
	return flow.ConnInfo{ID: v.ID, Nickname: v.Nickname, Status: v.Status, ScopeMode: v.ScopeMode,
		RequestedScopes: v.RequestedScopes, GrantedScopes: v.GrantedScopes, DefaultScopes: defaults}, nil
}

// flowCards is the card executor as flow.CardRunner. The caller of a flow
// run reaches it through the context (callerKey).
type flowCards struct{ e *card.Executor }

func (f flowCards) request(ctx context.Context, c flow.Call) card.Request {
	caller, _ := ctx.Value(callerKey{}).(string)
	return card.Request{Card: c.Card, Connection: c.Connection, Input: c.Input, Caller: caller,
		FlowRunID: c.FlowRunID, StepID: c.StepID, ItemIndex: c.Index}
}

func (f flowCards) RunCard(ctx context.Context, c flow.Call) (map[string]any, error) {
	res, err := f.e.Run(ctx, f.request(ctx, c))
	if err != nil {
		return nil, err
	}
	if res.Error != nil && res.Error.Code == problem.NotFound && c.Retry && c.Card == deleteDeviceCard {
		out, prev, err := f.alreadyDeleted(ctx, c, res.RunID)
		if err != nil {
			flow.ReportRunRef(ctx, res.RunID)
			return nil, err
		}
		if out != nil {
			flow.ReportRunRef(ctx, prev)
			return out, nil
		}
	}
	flow.ReportRunRef(ctx, res.RunID)
	if res.Error != nil {
		return nil, res.Error
	}
	return res.Output, nil
}

const deleteDeviceCard = card.ConnectorID + "/delete-device"

// alreadyDeleted handles a retried delete-device that found no device: if
// an interrupted attempt at the same item (same flow run, step and index,
// same device) is recorded as running or succeeded, that attempt deleted
// the device, and the item succeeds with the output it returns, naming the
// attempt's card run. Otherwise it returns a nil output and the not_found
// stands. current is the id of the retry's own card run.
func (f flowCards) alreadyDeleted(ctx context.Context, c flow.Call, current string) (map[string]any, string, error) {
	rec, ok := f.e.Recorder.(card.StoreRecorder) // where the executor records card runs
	if !ok || rec.Store == nil {
		return nil, "", nil
	}
	deviceID, _ := c.Input["deviceId"].(string)
	filter := store.RunFilter{FlowRunID: c.FlowRunID, Card: c.Card, Limit: 200}
	for {
		runs, err := rec.Store.ListRuns(ctx, filter)
		if err != nil {
			return nil, "", problem.New(problem.Internal, "device %s was not found, and the earlier attempts at this item could not be read", deviceID).Wrap(err)
		}
		for _, r := range runs {
			if r.ID == current || r.StepID != c.StepID || r.ItemIndex != c.Index ||
				(r.Status != card.StatusRunning && r.Status != card.StatusSucceeded) {
				continue
			}
			var in struct {
				DeviceID string `json:"deviceId"`
			}
			if json.Unmarshal(r.Input, &in) != nil || in.DeviceID != deviceID {
				continue
			}
			return map[string]any{"deviceId": deviceID, "deleted": true, "changed": false,
				"note": "already deleted by the interrupted attempt"}, r.ID, nil
		}
		if len(runs) < filter.Limit {
			return nil, "", nil
		}
		filter.Before = runs[len(runs)-1].StartedAt
	}
}

func (f flowCards) PlanCard(ctx context.Context, c flow.Call) (map[string]any, *flow.Change, error) {
	res, err := f.e.Plan(ctx, f.request(ctx, c))
	if err != nil {
		return nil, nil, err
	}
	if res.Error != nil {
		return nil, nil, res.Error
	}
	var ch *flow.Change
	if res.Change != nil {
		ch = &flow.Change{DeviceID: res.Change.DeviceID, From: res.Change.From, To: res.Change.To}
	}
	return res.Output, ch, nil
}

// sleepReportingWait waits d (honouring ctx) for the Okta client and tells
// a flow run, if the call belongs to one, that it is waiting for the rate
// limit.
func sleepReportingWait(ctx context.Context, d time.Duration) error {
	flow.ReportWait(ctx, d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cardService is the card registry and executor as web.Cards (and the
// registry as console.Catalog).
type cardService struct{ e *card.Executor }

func (c cardService) Connectors() []card.Connector { return card.Connectors() }

func (c cardService) Run(ctx context.Context, req card.Request) (*card.Result, error) {
	return c.e.Run(ctx, req)
}
