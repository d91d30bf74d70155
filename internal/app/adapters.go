package app

import (
	"context"
	"fmt"
	"github.com/cardflow/cardflow/internal/okta"
	"maps"
	"net/http"
	"net/url"
	"strings"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
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

func (catalog) Name(connector string) string {
	for _, k := range card.Connectors() {
		if k.ID == connector && k.Name != "" {
			return k.Name
		}
	}
	return connector
}

func (catalog) CardsNeeding(connector, scope string) []string {
	return card.CardsNeeding(connector, scope)
}

// cardConnections is the connection manager as card.Connections.
type cardConnections struct{ m *connection.Manager }

// Resolve reads the connection once: its client's first call uses the
// access token of that read.
func (c cardConnections) Resolve(ctx context.Context, connector, idOrNickname string) (card.ConnectionInfo, error) {
	v, hc, err := c.m.ResolveClient(ctx, connector, idOrNickname)
	if err != nil {
		return card.ConnectionInfo{}, err
	}
	info := card.ConnectionInfo{
		ID: v.ID, Nickname: v.Nickname, Domain: v.Domain, Status: v.Status, StatusReason: v.StatusReason,
		Remedy: v.Remedy, StatusReasonCode: v.StatusReasonCode, ScopeMode: v.ScopeMode, RequestedScopes: v.RequestedScopes, GrantedScopes: v.GrantedScopes,
		HTTP: hc,
	}
	if v.AuthorizedBy != nil {
		info.ActingAs = v.AuthorizedBy.Login
	}
	if v.Auth == "service" {
		info.ServiceClientID = v.ClientID
	}
	info.NeverAuthorized = v.Auth != "service" && v.AuthorizedAt == nil
	return info, nil
}

func (c cardConnections) HTTPClient(id string) *http.Client { return c.m.HTTPClient(id) }

// CardForbidden checks a connection whose card call Okta refused with
// E0000006 (card.ForbiddenChecker): connection.Manager.CardForbidden.
func (c cardConnections) CardForbidden(ctx context.Context, id string) (card.ConnectionInfo, bool) {
	v, stopped := c.m.CardForbidden(ctx, id)
	if !stopped {
		return card.ConnectionInfo{}, false
	}
	return card.ConnectionInfo{ID: v.ID, Nickname: v.Nickname, Domain: v.Domain, Status: v.Status, StatusReason: v.StatusReason,
		Remedy: v.Remedy, StatusReasonCode: v.StatusReasonCode}, true
}

// flowEnv is the card registry and the connection manager as
// flow.ValidateEnv. defaultDelivery is the delivery of event triggers that
// name none: hook+poll when the public URL is https, else poll.
type flowEnv struct {
	m               *connection.Manager
	defaultDelivery string
}

// defaultDeliveryFor is the default event delivery for a public URL: Okta
// delivers event hooks only to https URLs.
func defaultDeliveryFor(publicURL string) string {
	if strings.HasPrefix(publicURL, "https://") {
		return card.DeliveryHookPoll
	}
	return card.DeliveryPoll
}

func (e flowEnv) Card(ref string) (flow.CardInfo, bool) {
	c, ok := card.Lookup(ref)
	if !ok {
		return flow.CardInfo{}, false
	}
	info := flow.CardInfo{Ref: c.Ref, Mode: c.Mode, Scope: c.Scope, Output: flowShape(c.Output)}
	if c.Kind == card.KindEvent {
		info.DeliveryScopes = maps.Clone(c.DeliveryScopes)
		info.DefaultDelivery = e.defaultDelivery
		info.EventType, info.NoEventUser = c.EventType, !c.EventUser
		connector, _, _ := strings.Cut(c.Ref, "/")
		for _, ec := range card.EventCards(connector) {
			if ec.EventUser {
				info.UserEventCards = append(info.UserEventCards, ec.Ref+" ("+ec.EventType+")")
			}
		}
	}
	for _, in := range c.Inputs {
		info.Inputs = append(info.Inputs, flow.InputInfo{Name: in.Name, Type: in.Type, Required: in.Required, Enum: in.Enum, Filter: in.Filter})
	}
	return info, true
}

// flowShape is a card's output shape as flow validation takes it.
func flowShape(s *card.Shape) *flow.Shape {
	names, item := s.Names(), s.Item()
	if names == nil && item == nil && s.Kind() == "" {
		return nil
	}
	out := &flow.Shape{Keys: names, Item: flowShape(item), Kind: s.Kind(), Enum: s.Enum()}
	for _, n := range names {
		if v, _ := s.Field(n); v != nil {
			if out.Values == nil {
				out.Values = map[string]*flow.Shape{}
			}
			out.Values[n] = flowShape(v)
		}
	}
	return out
}

// CardRefs lists every card's reference, for flow.CardLister.
func (e flowEnv) CardRefs() []string {
	var refs []string
	for _, c := range card.Connectors() {
		for _, cd := range c.Cards {
			refs = append(refs, cd.Ref)
		}
	}
	return refs
}

func (e flowEnv) Connection(ctx context.Context, connector, nameOrID string) (flow.ConnInfo, error) {
	v, err := e.m.ResolveFresh(ctx, connector, nameOrID)
	if err != nil {
		return flow.ConnInfo{}, err
	}
	defaults, _ := card.DefaultScopes(connector)
	info := flow.ConnInfo{ID: v.ID, Nickname: v.Nickname, Status: v.Status, StatusReason: v.StatusReason, ScopeMode: v.ScopeMode,
		RequestedScopes: v.RequestedScopes, GrantedScopes: v.GrantedScopes, DefaultScopes: defaults}
	if v.Auth == "service" {
		info.ServiceClientID = v.ClientID
	}
	info.NeverAuthorized = v.Auth != "service" && v.AuthorizedAt == nil
	return info, nil
}

// cardService is the card registry and executor as web.Cards (and the
// registry as console.Catalog).
type cardService struct{ e *card.Executor }

func (c cardService) Connectors() []card.Connector { return card.Connectors() }

func (c cardService) Run(ctx context.Context, req card.Request) (*card.Result, error) {
	return c.e.Run(ctx, req)
}

// eventOrgs gives the event intake a connection's Okta client: its org,
// its access token (through the connection manager's transport) and the
// template client's retries, waits and rate budget.
type eventOrgs struct {
	m        *connection.Manager
	template okta.Client
}

func (o eventOrgs) Client(ctx context.Context, connectionID string) (*okta.Client, error) {
	v, err := o.m.Get(ctx, connectionID)
	if err != nil {
		return nil, err
	}
	domain := v.Domain
	if !strings.Contains(domain, "://") {
		domain = "https://" + domain
	}
	u, err := url.Parse(domain)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("connection %q has an unusable domain %q", v.Nickname, v.Domain)
	}
	cl := o.template
	cl.BaseURL = &url.URL{Scheme: u.Scheme, Host: u.Host}
	cl.HTTP = o.m.HTTPClient(v.ID)
	return &cl, nil
}
