package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// Connections is what the API needs of connections; *connection.Manager
// satisfies it.
type Connections interface {
	Create(ctx context.Context, in connection.CreateInput, actor store.Actor) (*connection.View, string, error)
	Reauthorize(ctx context.Context, idOrNickname string, sel *connection.ScopeSelection, actor store.Actor) (string, error)
	Callback(ctx context.Context, q url.Values) (*connection.CallbackResult, error)
	Get(ctx context.Context, idOrNickname string) (*connection.View, error)
	List(ctx context.Context) ([]*connection.View, error)
	// ListPage returns one page of the connections by nickname ignoring
	// case, then id.
	ListPage(ctx context.Context, p store.NamePage) ([]*connection.View, error)
	Test(ctx context.Context, idOrNickname string, actor store.Actor) (*connection.TestResult, error)
	DeleteWithResult(ctx context.Context, idOrNickname string, actor store.Actor) (*connection.DeleteResult, error)
	// DeleteIfUnused is DeleteWithResult, refusing (409, nothing done) to
	// delete a connection that enabled flows use.
	DeleteIfUnused(ctx context.Context, idOrNickname string, actor store.Actor) (*connection.DeleteResult, error)
	CreateService(ctx context.Context, in connection.ServiceInput, actor store.Actor) (*connection.View, json.RawMessage, error)
	RotateKey(ctx context.Context, idOrNickname, alg string, actor store.Actor) (*connection.View, json.RawMessage, error)
	Update(ctx context.Context, idOrNickname string, in connection.UpdateInput, actor store.Actor) (*connection.View, error)
}

// connectionJSON converts a connection to its public shape.
func connectionJSON(v *connection.View) api.Connection {
	out := api.Connection{
		ID: v.ID, Connector: v.Connector, Nickname: v.Nickname, Domain: v.Domain, ClientID: v.ClientID,
		Status: v.Status, StatusReason: v.StatusReason, Remedy: v.Remedy, StatusReasonCode: v.StatusReasonCode, ScopeMode: v.ScopeMode,
		RequestedScopes: v.RequestedScopes, GrantedScopes: v.GrantedScopes, MissingScopes: v.MissingScopes,
		MissingScopeCards: v.MissingScopeCards, AuthorizedAt: v.AuthorizedAt, Auth: v.Auth,
		RefreshTokenExpiresAt: v.RefreshTokenExpiresAt, ExpiresSoon: v.ExpiresSoon, RefreshTokenExpired: v.RefreshTokenExpired, DPoP: v.DPoP,
		PublicJWK: v.PublicJWK, NextPublicJWK: v.NextPublicJWK, CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt,
	}
	if a := v.AuthorizedBy; a != nil {
		out.AuthorizedBy = &api.AuthorizedBy{Type: a.Type, UserID: a.UserID, Login: a.Login, Name: a.Name, ClientID: a.ClientID}
	}
	return out
}

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) {
	var req api.CreateConnectionRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch req.Auth {
	case "", "user":
		if req.PrivateKey != "" || req.KeyAlgorithm != "" || req.KeyID != "" || req.DPoP {
			s.writeError(w, r, problem.New(problem.InvalidInput, "privateKey, keyAlgorithm, keyId and dpop are for service connections").
				WithRemedy(`set "auth": "service" for an API Services app, or leave them out`).WithDetail("field", "auth"))
			return
		}
	case "service":
		if req.ClientSecret != "" {
			s.writeError(w, r, problem.New(problem.InvalidInput, "a service connection authenticates with a private key, not a client secret").
				WithRemedy("leave clientSecret out; give privateKey (PEM or JWK) or let cardflow generate a key").WithDetail("field", "clientSecret"))
			return
		}
		v, jwk, err := s.Connections.CreateService(r.Context(), connection.ServiceInput{
			Connector: req.Connector, Nickname: req.Nickname, Domain: req.Domain, ClientID: req.ClientID, Scopes: req.Scopes,
			PrivateKey: keyring.Secret(req.PrivateKey), KeyAlgorithm: req.KeyAlgorithm, KeyID: req.KeyID, DPoP: req.DPoP,
		}, actor(r.Context()))
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		w.Header().Set("Location", "/api/v1/connections/"+url.PathEscape(v.ID))
		writeJSON(w, http.StatusCreated, api.ConnectionKey{Connection: connectionJSON(v), PublicJWK: jwk})
		return
	default:
		s.writeError(w, r, problem.New(problem.InvalidInput, "auth must be \"user\" or \"service\", not %q", req.Auth).
			WithRemedy(`use "user" (a person signs in) or "service" (an API Services app with a key)`).WithDetail("field", "auth"))
		return
	}
	v, authURL, err := s.Connections.Create(r.Context(), connection.CreateInput{
		Connector:    req.Connector,
		Nickname:     req.Nickname,
		Domain:       req.Domain,
		ClientID:     req.ClientID,
		ClientSecret: keyring.Secret(req.ClientSecret),
		Scopes:       req.Scopes,
	}, actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/connections/"+url.PathEscape(v.ID))
	writeJSON(w, http.StatusCreated, api.ConnectionCreated{AuthorizeURL: authURL, Connection: connectionJSON(v)})
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := namePage(q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	vs, next, err := byName(r, q, p, func(p store.NamePage) ([]*connection.View, error) { return s.Connections.ListPage(r.Context(), p) },
		func(v *connection.View) (string, string) { return v.Nickname, v.ID })
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.ConnectionList{Connections: make([]api.Connection, 0, len(vs)), Next: next}
	for _, v := range vs {
		js := connectionJSON(v)
		// One read each, bounded by the page.
		src, err := s.eventSource(r.Context(), v.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if src != nil {
			js.PollError = src.PollError
		}
		out.Connections = append(out.Connections, js)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) {
	v, err := s.Connections.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	src, err := s.eventSource(r.Context(), v.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	js := connectionJSON(v)
	if src != nil {
		js.PollError = src.PollError
	}
	writeJSON(w, http.StatusOK, api.ConnectionDetail{Connection: js, EventSource: src})
}

// scopeSelection turns the body of POST .../reauthorize into the manager's
// scope selection; nil inherits.
func scopeSelection(req *api.ReauthorizeRequest) (*connection.ScopeSelection, error) {
	switch req.ScopeMode {
	case "":
		if req.Scopes == nil {
			return nil, nil
		}
		return connection.CustomScopeSelection(*req.Scopes...), nil
	case connection.ScopeModeDefault:
		if req.Scopes != nil {
			return nil, problem.New(problem.InvalidInput, `"scopeMode": "default" cannot be combined with "scopes"`).
				WithRemedy(`send {"scopeMode": "default"} for the default scopes, or {"scopes": [...]} for custom scopes`).WithDetail("field", "scopes")
		}
		return connection.DefaultScopeSelection(), nil
	case connection.ScopeModeCustom:
		if req.Scopes == nil {
			return nil, problem.New(problem.InvalidInput, `"scopeMode": "custom" needs "scopes"`).
				WithRemedy(`send {"scopes": [...]} with the custom scopes, or {"scopeMode": "default"} for the default scopes`).WithDetail("field", "scopes")
		}
		return connection.CustomScopeSelection(*req.Scopes...), nil
	}
	return nil, problem.New(problem.InvalidInput, `"scopeMode" must be "default" or "custom"`).
		WithRemedy(`send {"scopeMode": "default"}, {"scopes": [...]}, or {} to keep the previous selection`).WithDetail("field", "scopeMode")
}

func (s *Server) reauthorizeConnection(w http.ResponseWriter, r *http.Request) {
	var req api.ReauthorizeRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	sel, err := scopeSelection(&req)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	authURL, err := s.Connections.Reauthorize(r.Context(), r.PathValue("id"), sel, actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.Reauthorization{AuthorizeURL: authURL})
}

func (s *Server) testConnection(w http.ResponseWriter, r *http.Request) {
	res, err := s.Connections.Test(r.Context(), r.PathValue("id"), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := api.ConnectionTest{OK: res.OK, Status: res.Status, StatusReason: res.StatusReason, StatusReasonCode: res.StatusReasonCode, Remedy: res.Remedy,
		MissingScopes: res.MissingScopes, MissingScopeCards: res.MissingScopeCards, Auth: res.Auth, KeyRotation: res.KeyRotation}
	if out.MissingScopes == nil {
		out.MissingScopes = []string{}
	}
	if out.MissingScopeCards == nil {
		out.MissingScopeCards = map[string][]string{}
	}
	writeJSON(w, http.StatusOK, out)
}

// deleteConnection answers DELETE /api/v1/connections/{id}[?ifUnused=]:
// ifUnused=true refuses to delete a connection that enabled flows use;
// without it (or false) such a connection is deleted and the answer's
// warning names them, as SPEC C12 has it.
func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	del := s.Connections.DeleteWithResult
	if v, ok := r.URL.Query()["ifUnused"]; ok {
		// Strict, an empty value included: a script's ifUnused=$CHECK
		// whose variable is empty must not delete what it meant to keep.
		if len(v) != 1 || (v[0] != "true" && v[0] != "false") {
			s.writeError(w, r, problem.New(problem.InvalidInput, "ifUnused must be true or false, not %q", strings.Join(v, ",")).
				WithRemedy("use ifUnused=true to delete the connection only if no enabled flow uses it; ifUnused=false, or none, deletes it anyway").
				WithDetail("field", "ifUnused"))
			return
		}
		if v[0] == "true" {
			del = s.Connections.DeleteIfUnused
		}
	}
	res, err := del(r.Context(), r.PathValue("id"), actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ConnectionDeleted{ID: res.ID, Nickname: res.Nickname, Deleted: true, Revoked: res.Revoked, Warning: res.WarningAndInUse()})
}

// updateConnection answers PATCH /api/v1/connections/{id} with
// {connection}: the connection now needs reauthorization.
func (s *Server) updateConnection(w http.ResponseWriter, r *http.Request) {
	var req api.UpdateConnectionRequest
	if err := s.decodeJSON(w, r, &req, false); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, err := s.Connections.Update(r.Context(), r.PathValue("id"), connection.UpdateInput{ClientID: req.ClientID, ClientSecret: keyring.Secret(req.ClientSecret)}, actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ConnectionUpdated{Connection: connectionJSON(v)})
}

// rotateKey answers POST /api/v1/connections/{id}/rotate-key with
// {connection, publicJwk}: the new key's public half to add to the app.
func (s *Server) rotateKey(w http.ResponseWriter, r *http.Request) {
	var req api.RotateKeyRequest
	if err := s.decodeJSON(w, r, &req, true); err != nil {
		s.writeError(w, r, err)
		return
	}
	v, jwk, err := s.Connections.RotateKey(r.Context(), r.PathValue("id"), req.KeyAlgorithm, actor(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, api.ConnectionKey{Connection: connectionJSON(v), PublicJWK: jwk})
}
