// Package problem defines the error type that carries a public error code,
// a human message and a remedy from deep inside cardflow to its edges (HTTP
// API, CLI, console). Only the edge decides how a Problem is shown; nothing
// in a Problem may contain a secret.
package problem

import (
	"errors"
	"fmt"
	"strings"
)

// Code is a public, stable error code.
type Code string

// The public error codes.
const (
	InvalidInput         Code = "invalid_input"
	Unauthenticated      Code = "unauthenticated"
	Forbidden            Code = "forbidden"
	NotFound             Code = "not_found"
	Conflict             Code = "conflict"
	InsufficientScope    Code = "insufficient_scope"
	NeedsReauthorization Code = "needs_reauthorization"
	ConnectionPending    Code = "connection_pending" // created, its authorization (sign-in, key) not finished yet
	RateLimited          Code = "rate_limited"
	UpstreamError        Code = "upstream_error"
	Internal             Code = "internal"
)

// Error is an error with a public code. Message and Remedy are shown to the
// caller as they are, so they must be written for a person and never hold a
// secret. Details holds structured, public data (field names, scopes, ...).
// Err, when set, is the internal cause: logged, never shown.
type Error struct {
	Code    Code
	Message string
	Remedy  string
	Details map[string]any
	Err     error
}

// Error returns the public message, followed by the remedy when there is
// one. A message that ends its sentence (Okta's summaries do: "Invalid
// search criteria.") gives up its full stop to the semicolon.
func (e *Error) Error() string {
	if e.Remedy != "" {
		return strings.TrimSuffix(e.Message, ".") + "; " + e.Remedy
	}
	return e.Message
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// New returns a Problem with a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithRemedy sets the remedy and returns e.
func (e *Error) WithRemedy(format string, args ...any) *Error {
	e.Remedy = fmt.Sprintf(format, args...)
	return e
}

// WithDetail adds one public detail and returns e.
func (e *Error) WithDetail(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// Wrap sets the internal cause and returns e.
func (e *Error) Wrap(err error) *Error {
	e.Err = err
	return e
}

// As returns the first *Error in err's chain, if any.
func As(err error) (*Error, bool) {
	var p *Error
	if errors.As(err, &p) {
		return p, true
	}
	return nil, false
}

// CodeOf returns the public code of err: the code of its Problem, or
// Internal when it has none.
func CodeOf(err error) Code {
	if p, ok := As(err); ok {
		return p.Code
	}
	return Internal
}

// InternalMessage is the public message of every error that is not a
// Problem (or is an Internal one): its cause is for the server log only.
const InternalMessage = "internal error; see the server log"

// Public is what a caller may see of err, at every edge (the API, the
// console, the CLI, and what a flow run stores on its items): a Problem
// other than Internal keeps its code, message, remedy and details; anything
// else becomes an Internal problem with InternalMessage. The result never
// carries the internal cause.
func Public(err error) *Error {
	if p, ok := As(err); ok && p.Code != Internal {
		var details map[string]any
		if len(p.Details) > 0 {
			details = make(map[string]any, len(p.Details))
			for k, v := range p.Details {
				details[k] = v
			}
		}
		return &Error{Code: p.Code, Message: p.Message, Remedy: p.Remedy, Details: details}
	}
	return &Error{Code: Internal, Message: InternalMessage}
}

// Reauthorize is the remedy of a connection that needs reauthorization,
// naming both ways to do it, the console's button and the command, in the
// form the console shortens to its own way.
func Reauthorize(nickname string) string {
	return fmt.Sprintf("reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize %q)", nickname)
}

// NeedsReauthorizationMessage is the message of a connection that needs
// reauthorization, alike wherever it is found: "connection "Prod" needs
// reauthorization: REASON".
func NeedsReauthorizationMessage(nickname, reason string) string {
	return fmt.Sprintf("connection %q needs reauthorization: %s", nickname, reason)
}

// InErrorMessage is the message of a connection in error that is not
// waiting for its first authorization (one authorized before, a service
// connection), alike wherever it is found: "connection "Robot" is in
// error: REASON", or without the reason when there is none.
func InErrorMessage(nickname, reason string) string {
	if reason == "" {
		return fmt.Sprintf("connection %q is in error", nickname)
	}
	return fmt.Sprintf("connection %q is in error: %s", nickname, reason)
}

// PendingMessage is the message of a connection still pending, alike
// wherever it is found: "connection "Prod" is not authorized yet
// (pending): REASON".
func PendingMessage(nickname, reason string) string {
	return fmt.Sprintf("connection %q is not authorized yet (pending): %s", nickname, reason)
}

// SignInFailedMessage is the message of a person's connection whose
// first sign-in failed (status error), alike wherever it is found:
// "connection "Prod" is not authorized yet (its sign-in failed): REASON".
func SignInFailedMessage(nickname, reason string) string {
	return fmt.Sprintf("connection %q is not authorized yet (its sign-in failed): %s", nickname, reason)
}

// NotActiveCode is the code of the refusal to use a connection that is
// not active, alike for a card run on it and for a flow run, plan or
// enabling of a flow that uses it: connection_pending for one that was
// never authorized (status pending, or status error for a person's
// connection whose first sign-in failed: neverAuthorized), and
// needs_reauthorization for any other (authorized once, it is no longer
// usable; a service connection in error).
func NotActiveCode(status string, neverAuthorized bool) Code {
	if status == "pending" || status == "error" && neverAuthorized {
		return ConnectionPending
	}
	return NeedsReauthorization
}

// ReauthorizeAdding is the command line, for an insufficient_scope remedy,
// that reauthorizes the connection of that nickname with custom scopes
// asking for the Okta API scopes it requested and scope too: --scope
// replaces the selection, so it names them all.
func ReauthorizeAdding(nickname string, requested []string, scope string) string {
	var scopes []string
	for _, s := range requested {
		if strings.HasPrefix(s, "okta.") && s != scope {
			scopes = append(scopes, s)
		}
	}
	return fmt.Sprintf("cardflow connections reauthorize %q --scope %s", nickname, strings.Join(append(scopes, scope), ","))
}
