package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// errorBody is the public error shape of SPEC §5.
type errorBody struct {
	Error errorJSON `json:"error"`
}

type errorJSON struct {
	Code    problem.Code   `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// publicError turns any error into its public form: a *problem.Error keeps
// its code, message (with the remedy) and details; anything else becomes
// "internal" naming the request id. It is the only place where internal
// errors are translated for callers, shared by the API, the callback page
// and the console.
func publicError(ctx context.Context, err error) (int, errorJSON) {
	if p, ok := problem.As(err); ok && p.Code != problem.Internal {
		details := map[string]any{}
		for k, v := range p.Details {
			details[k] = v
		}
		if p.Remedy != "" {
			details["remedy"] = p.Remedy
		}
		if len(details) == 0 {
			details = nil
		}
		status := problem.HTTPStatus(p.Code)
		if big := (*http.MaxBytesError)(nil); errors.As(err, &big) {
			status = http.StatusRequestEntityTooLarge
		}
		return status, errorJSON{Code: p.Code, Message: p.Error(), Details: details}
	}
	if errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound, errorJSON{Code: problem.NotFound, Message: "not found"}
	}
	id := RequestID(ctx)
	return http.StatusInternalServerError, errorJSON{
		Code:    problem.Internal,
		Message: "internal error; the server log has the cause under request id " + id,
		Details: map[string]any{"requestId": id},
	}
}

// writeError logs err with its cause and writes the public error response.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	status, body := publicError(ctx, err)
	switch {
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		s.log.DebugContext(ctx, "request canceled by the client")
	case status >= 500:
		s.log.ErrorContext(ctx, "request failed", slog.String("code", string(body.Code)), slog.Any("cause", errCause(err)))
	default:
		s.log.InfoContext(ctx, "request refused", slog.String("code", string(body.Code)), slog.String("message", body.Message))
	}
	writeJSON(w, status, errorBody{Error: body})
}

// errCause is the internal error to log: the Problem's cause when it has
// one, else the error itself.
func errCause(err error) string {
	if p, ok := problem.As(err); ok && p.Err != nil {
		return p.Err.Error()
	}
	return err.Error()
}
