package okta

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Okta error codes the client and its callers act on (OKTA.md §2). Only the
// error code is meant for program logic; summaries are for people.
const (
	CodeValidation     = "E0000001"
	CodeInvalidSession = "E0000005"
	CodeForbidden      = "E0000006"
	CodeNotFound       = "E0000007"
	CodeInternal       = "E0000009"
	CodeInvalidToken   = "E0000011"
	CodeInvalidSearch  = "E0000031"
	CodeRateLimited    = "E0000047"
)

const (
	// maxErrorBodyBytes caps the body read from an error answer.
	maxErrorBodyBytes = 64 << 10
	// insufficientScopeErr is the WWW-Authenticate error of a missing scope.
	insufficientScopeErr = "insufficient_scope"
)

// APIError is a non-2xx answer from Okta. Status is the HTTP status; Code,
// Summary, Causes and ErrorID come from Okta's error body when it has one;
// RequestID is the response's X-Okta-Request-Id. Challenge is the error of
// the answer's Bearer or DPoP WWW-Authenticate challenge ("invalid_token",
// "invalid_dpop_proof", "use_dpop_nonce", ...), whose description becomes
// Summary when the body has none. It never holds a credential.
type APIError struct {
	Status    int
	Code      string
	Summary   string
	Causes    []string
	RequestID string
	ErrorID   string
	Challenge string
	// Date is the answer's Date header, the org's clock when it answered;
	// zero when it had none.
	Date time.Time
}

// Error describes the failure in one line for logs.
func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "okta: %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Challenge != "" && e.Challenge != e.Code {
		b.WriteString(" " + e.Challenge)
	}
	if e.Summary != "" {
		b.WriteString(" " + e.Summary)
	}
	if len(e.Causes) > 0 {
		b.WriteString(" (" + strings.Join(e.Causes, "; ") + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// ScopeError is Okta's 403 for an access token that lacks a scope, read from
// the response's WWW-Authenticate challenge (error="insufficient_scope").
// Scope is the scope Okta names as required.
type ScopeError struct {
	Scope       string
	Description string
	Resource    string
	RequestID   string
}

// Error describes the missing scope in one line.
func (e *ScopeError) Error() string {
	s := "okta: 403 insufficient_scope: the access token lacks scope " + quoteOrNone(e.Scope)
	if e.Resource != "" {
		s += " for " + e.Resource
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(not named)"
	}
	return fmt.Sprintf("%q", s)
}

func asAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}

// IsNotFound reports whether err is Okta's 404 (E0000007). A 404 without
// Okta's error body (a proxy's page) is not: it says nothing of the
// resource, and callers take "not found" for "gone".
func IsNotFound(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Code == CodeNotFound
}

// IsForbidden reports whether err is E0000006: the authenticated admin's
// role does not allow the action (a missing scope is a ScopeError instead).
func IsForbidden(err error) bool {
	e, ok := asAPIError(err)
	return ok && e.Code == CodeForbidden
}

// IsInvalidToken reports whether Okta rejected the credential itself
// (401, E0000011: bad, expired or revoked token). A 401 whose challenge
// refuses something else (a DPoP proof, a missing nonce) is not.
func IsInvalidToken(err error) bool {
	e, ok := asAPIError(err)
	return ok && (e.Status == http.StatusUnauthorized || e.Code == CodeInvalidToken) &&
		(e.Challenge == "" || e.Challenge == "invalid_token")
}

// IsDPoPRefused reports whether Okta refused the DPoP proof of the call
// (invalid_dpop_proof, or use_dpop_nonce still after the nonce was sent)
// rather than the token or the request.
func IsDPoPRefused(err error) bool {
	e, ok := asAPIError(err)
	return ok && (e.Challenge == "invalid_dpop_proof" || e.Challenge == "use_dpop_nonce")
}

// IsRateLimited reports whether err is a 429 (E0000047) that the client
// could not get past within its retries and MaxWait.
func IsRateLimited(err error) bool {
	e, ok := asAPIError(err)
	return ok && (e.Status == http.StatusTooManyRequests || e.Code == CodeRateLimited)
}

// IsInsufficientScope reports whether err is a ScopeError and returns it.
func IsInsufficientScope(err error) (*ScopeError, bool) {
	var e *ScopeError
	ok := errors.As(err, &e)
	return e, ok
}

// errorBody is Okta's error document.
type errorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

// newResponseError builds the error for a non-2xx response whose body (at
// most maxErrorBodyBytes of it) has been read.
func newResponseError(status int, h http.Header, body []byte) error {
	reqID := h.Get("X-Okta-Request-Id")
	if status == http.StatusForbidden {
		if se := scopeErrorFromHeader(h.Values("Www-Authenticate")); se != nil {
			se.RequestID = reqID
			return se
		}
	}
	e := &APIError{Status: status, RequestID: reqID}
	if d, err := http.ParseTime(h.Get("Date")); err == nil {
		e.Date = d
	}
	var eb errorBody
	if len(body) > 0 && json.Unmarshal(body, &eb) == nil {
		e.Code = eb.ErrorCode
		e.Summary = eb.ErrorSummary
		e.ErrorID = eb.ErrorID
		for _, c := range eb.ErrorCauses {
			if c.ErrorSummary != "" {
				e.Causes = append(e.Causes, c.ErrorSummary)
			}
		}
	}
	if ch := authChallenge(h.Values("Www-Authenticate")); ch != nil {
		e.Challenge = ch.Params["error"]
		if e.Summary == "" {
			e.Summary = ch.Params["error_description"]
		}
	}
	if e.Summary == "" {
		e.Summary = http.StatusText(status)
	}
	return e
}

// ChallengeError is the error of h's Bearer or DPoP WWW-Authenticate
// challenge ("invalid_token", "use_dpop_nonce", "invalid_dpop_proof",
// "insufficient_scope"), or "" when it has none (Okta's E0000011 comes
// without one from SSWS calls).
func ChallengeError(h http.Header) string {
	if ch := authChallenge(h.Values("Www-Authenticate")); ch != nil {
		return ch.Params["error"]
	}
	return ""
}

// authChallenge returns the first Bearer or DPoP challenge with an error
// among the WWW-Authenticate values, or nil.
func authChallenge(values []string) *Challenge {
	for _, ch := range ParseWWWAuthenticate(values) {
		if (strings.EqualFold(ch.Scheme, "Bearer") || strings.EqualFold(ch.Scheme, "DPoP")) && ch.Params["error"] != "" {
			return &ch
		}
	}
	return nil
}

// scopeErrorFromHeader returns the insufficient_scope challenge among the
// WWW-Authenticate values, or nil.
func scopeErrorFromHeader(values []string) *ScopeError {
	for _, ch := range ParseWWWAuthenticate(values) {
		if !strings.EqualFold(ch.Scheme, "Bearer") && !strings.EqualFold(ch.Scheme, "DPoP") {
			continue
		}
		if ch.Params["error"] != insufficientScopeErr {
			continue
		}
		return &ScopeError{
			Scope:       ch.Params["scope"],
			Description: ch.Params["error_description"],
			Resource:    ch.Params["resource"],
		}
	}
	return nil
}

// RootCause is the innermost error of err's chain: for a network failure
// of a call, the system's words ("connection refused") without the
// request's URL.
func RootCause(err error) error {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err
		}
		err = u
	}
}
