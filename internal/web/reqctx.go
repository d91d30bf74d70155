package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	callerKey
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

// Caller returns the authenticated caller of the request carried by ctx
// ("api-token:<fingerprint>" for API calls), or "" when there is none.
func Caller(ctx context.Context) string {
	c, _ := ctx.Value(callerKey).(string)
	return c
}

// WithCaller returns ctx carrying the authenticated caller c. The console
// uses it for requests authenticated by its session.
func WithCaller(ctx context.Context, c string) context.Context {
	return context.WithValue(ctx, callerKey, c)
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
