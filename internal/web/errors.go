package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// publicError turns any error into its public form (problem.Public) and
// HTTP status for the API, the callback page and the console; an internal
// error's message names the request id under which the log has its cause.
func publicError(ctx context.Context, err error) (int, api.Error) {
	if _, ok := problem.As(err); !ok && errors.Is(err, store.ErrNotFound) {
		return http.StatusNotFound, api.Error{Code: string(problem.NotFound), Message: "not found; check the id",
			Details: map[string]any{"remedy": "check the id"}}
	}
	p := problem.Public(err)
	if msg, remedy, ok := OperatorTrouble(err); ok && p.Code == problem.Internal {
		id := RequestID(ctx)
		return http.StatusServiceUnavailable, api.Error{Code: string(problem.Internal), Message: msg + " (request id " + id + "); " + remedy,
			Details: map[string]any{"requestId": id, "remedy": remedy}}
	}
	if p.Code == problem.Internal {
		id := RequestID(ctx)
		return http.StatusInternalServerError, api.Error{
			Code:    string(problem.Internal),
			Message: "internal error; the server log has the cause under request id " + id,
			Details: map[string]any{"requestId": id},
		}
	}
	details := p.Details
	if p.Remedy != "" {
		if details == nil {
			details = map[string]any{}
		}
		details["remedy"] = p.Remedy
	}
	status := HTTPStatus(p.Code)
	if big := (*http.MaxBytesError)(nil); errors.As(err, &big) {
		status = http.StatusRequestEntityTooLarge
	}
	return status, api.Error{Code: string(p.Code), Message: p.Error(), Details: details}
}

// OperatorTrouble is what a request that failed on cardflow's own
// database or keyring tells its caller, for the failures only the server's
// operator can end: a database whose disk is full, one that refuses to
// write, one that cannot be reached, and a server whose keyring lacks the key the database's
// secrets are now sealed with (keyring.ErrSealingStopped). ok is false for
// any other failure, whose cause stays in the server log.
func OperatorTrouble(err error) (message, remedy string, ok bool) {
	switch {
	case errors.Is(err, keyring.ErrSealingStopped):
		key := "the key"
		if id := keyring.MissingKey(err); id != "" {
			key = "key " + id + ","
		}
		return "this cardflow server cannot use or store secrets now: its keyring lacks " + key + " which the database's secrets are now sealed with (a key rotation passed it)",
			"try again: another server, which has the key, answers (this one fails its health check); ask the server's operator to give this server the current keyring: restart it with CARDFLOW_KEY holding the key, or copy the rotated keyring file over its own, which it reads again within 10 s (the server log has the details)", true
	case errors.Is(err, store.ErrFull):
		return "cardflow's database cannot write: its disk is full",
			"ask the server's operator to free disk space where the database is (the server log has the details), then try again", true
	case errors.Is(err, store.ErrReadOnly):
		return "cardflow's database refuses to write: it is read-only",
			"ask the server's operator to make the database writable again (a read-only file, directory or mount, or a PostgreSQL server that is a standby or set read-only; the server log has the details), then try again", true
	case errors.Is(err, store.ErrUnavailable):
		return "cardflow's database cannot be reached right now",
			"try again shortly; if it persists, ask the server's operator to check the database (the server log has the details)", true
	}
	return "", "", false
}

// HTTPStatus is the HTTP status of a public error code, for the API and
// the console.
func HTTPStatus(code problem.Code) int {
	switch code {
	case problem.InvalidInput:
		return http.StatusBadRequest
	case problem.Unauthenticated:
		return http.StatusUnauthorized
	case problem.Forbidden, problem.InsufficientScope:
		return http.StatusForbidden
	case problem.NotFound:
		return http.StatusNotFound
	case problem.Conflict, problem.NeedsReauthorization, problem.ConnectionPending:
		return http.StatusConflict
	case problem.RateLimited:
		return http.StatusTooManyRequests
	case problem.UpstreamError:
		return http.StatusBadGateway
	default:
		return http.StatusInternalServerError
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
		s.log.ErrorContext(ctx, "request failed", slog.String("code", body.Code), slog.Any("cause", errCause(err)))
	default:
		s.log.InfoContext(ctx, "request refused", slog.String("code", body.Code), slog.String("message", body.Message))
	}
	writeJSON(w, status, api.ErrorBody{Error: body})
}

// errCause is the internal error to log: the Problem's cause when it has
// one, else the error itself.
func errCause(err error) string {
	if p, ok := problem.As(err); ok && p.Err != nil {
		return p.Err.Error()
	}
	return err.Error()
}
