package api

// ErrorBody is every error answer: {"error": {"code", "message", "details"}}.
type ErrorBody struct {
	Error Error `json:"error"`
}

// Error is the public error shape of the HTTP API. Code is one of the codes of
// internal/problem (invalid_input, not_found, ...); Details carries the
// remedy ("remedy"), the field at fault ("field") and what else a code
// explains itself with.
type Error struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// Health is GET /healthz: Status "ok", or "unavailable" (HTTP 503) when
// the server cannot do its work (its store is unreachable, or its keyring
// lacks the key the database's secrets are now sealed with).
type Health struct {
	Status string `json:"status"`
}
