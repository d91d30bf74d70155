package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/store"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	principalKey
)

// RequestID returns the request id carried by ctx, or "" outside a request.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithRequestID returns ctx carrying the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// PrincipalOf returns who the request carried by ctx was authenticated as
// (by the API's bearer token or the console's session), and false outside
// an authenticated request. Handlers read it once and pass its actor on
// explicitly to the services they call.
func PrincipalOf(ctx context.Context) (access.Principal, bool) {
	p, ok := ctx.Value(principalKey).(access.Principal)
	return p, ok
}

// WithPrincipal returns ctx carrying the authenticated principal p.
func WithPrincipal(ctx context.Context, p access.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// actor is the audit actor of the request carried by ctx (the zero Actor
// outside an authenticated request).
func actor(ctx context.Context) store.Actor {
	p, _ := PrincipalOf(ctx)
	return p.Actor
}

// starter is who starts a flow run with the request: its actor and the
// personal API token (or console session) it acts with.
func starter(ctx context.Context) flowrun.Starter {
	p, _ := PrincipalOf(ctx)
	return flowrun.Starter{Actor: p.Actor, SessionID: p.SessionID, TokenID: p.TokenID}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ContextHandler is a slog.Handler that adds the request id found in the
// record's context to every record, so that any package logging with
// Logger.InfoContext(ctx, ...) inside a request is tagged with it.
type ContextHandler struct {
	slog.Handler
}

// Handle adds request_id (when ctx has one) and passes the record on.
func (h ContextHandler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper around the derived handler.
func (h ContextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return ContextHandler{h.Handler.WithAttrs(attrs)}
}

// WithGroup keeps the wrapper around the derived handler.
func (h ContextHandler) WithGroup(name string) slog.Handler {
	return ContextHandler{h.Handler.WithGroup(name)}
}
