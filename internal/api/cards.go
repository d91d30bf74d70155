package api

import (
	"encoding/json"
	"time"
)

// ConnectorList is GET /api/v1/connectors: every connector with its cards.
type ConnectorList struct {
	Connectors []Connector `json:"connectors"`
}

// Connector is one connector: its cards and the Okta API scopes they use.
type Connector struct {
	ID            string      `json:"id"`
	Name          string      `json:"name"`
	Description   string      `json:"description"`
	Scopes        []ScopeInfo `json:"scopes"`
	DefaultScopes []string    `json:"defaultScopes"`
	Cards         []Card      `json:"cards"`
}

// ScopeInfo is one Okta API scope of a connector's catalogue and what it
// enables.
type ScopeInfo struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

// Card describes one card. Ref ("connector/card") is how requests name
// it. Scope is the Okta API scope it needs (absent when it depends on the
// call or the delivery: DeliveryScopes); Mode is "read", "manage" or
// "event"; Kind "action" or "event"; EventType the Okta System Log event
// type an event card reacts to.
type Card struct {
	ID             string            `json:"id"`
	Ref            string            `json:"ref"`
	Name           string            `json:"name"`
	Description    string            `json:"description"`
	Kind           string            `json:"kind"`
	Scope          string            `json:"scope,omitempty"`
	Mode           string            `json:"mode"`
	Inputs         []CardInput       `json:"inputs"`
	Outputs        string            `json:"outputs"`
	EventType      string            `json:"eventType,omitempty"`
	DeliveryScopes map[string]string `json:"deliveryScopes,omitempty"`
}

// CardInput is one input of a card. Default applies when the input is
// absent; Enum, when set, lists the accepted values.
type CardInput struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Required    bool     `json:"required"`
	Description string   `json:"description"`
	Enum        []string `json:"enum,omitempty"`
	Default     any      `json:"default,omitempty"`
}

// RunRequest is the body of POST /api/v1/runs: a card (its ref, or its
// name alone when one connector has it), a connection (id or nickname) and
// the card's input.
type RunRequest struct {
	Card       string         `json:"card"`
	Connection string         `json:"connection"`
	Input      map[string]any `json:"input"`
}

// Run is a card run: the answer of POST /api/v1/runs and GET
// /api/v1/runs/{id}.
type Run struct {
	ID         string         `json:"id"`
	Card       string         `json:"card"`
	Connection *ConnectionRef `json:"connection,omitempty"`
	Actor      *Actor         `json:"actor"`
	ActingAs   string         `json:"actingAs,omitempty"`
	// Status is "running", "succeeded", "failed" or "interrupted".
	Status string          `json:"status"`
	Input  json.RawMessage `json:"input,omitempty"`
	Output json.RawMessage `json:"output"`
	// Outcome says what the output tells in a few words ("now
	// SUSPENDED", "already SUSPENDED: no change", "12 devices"); absent
	// without output.
	Outcome        string   `json:"outcome,omitempty"`
	Error          *Error   `json:"error"`
	OktaRequestIDs []string `json:"oktaRequestIds,omitempty"`
	// FlowRunID, StepID and ItemIndex place a run that a flow made.
	FlowRunID  string     `json:"flowRunId,omitempty"`
	StepID     string     `json:"stepId,omitempty"`
	ItemIndex  *int       `json:"itemIndex,omitempty"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// DeviceName is the display name of the device the run acted on, when
	// it was known without asking Okta (its flow's search or read output,
	// or the run's own output); absent otherwise.
	DeviceName string `json:"deviceName,omitempty"`
	// Plan, on a run a flow's plan made (its read steps run for real,
	// as Actor, who asked for the plan), names the flow planned; absent
	// on every other run.
	Plan *PlanRef `json:"plan,omitempty"`
}

// PlanRef names the flow a plan was of: FlowID is the stored flow's id,
// absent for a document planned without being stored (cardflow flows plan
// FILE); FlowName is the document's name.
type PlanRef struct {
	FlowID   string `json:"flowId,omitempty"`
	FlowName string `json:"flowName"`
}

// ConnectionRef names the connection a run used.
type ConnectionRef struct {
	ID       string `json:"id"`
	Nickname string `json:"nickname,omitempty"`
}

// RunList is GET /api/v1/runs, newest first; Runs is never null.
type RunList struct {
	Runs []Run `json:"runs"`
	// Next, when the page is full, is the address of the next (older)
	// page: the same filters with before and beforeId of the last run.
	Next string `json:"next,omitempty"`
}

// AuditList is GET /api/v1/audit, newest first; Events is never null.
type AuditList struct {
	Events []AuditEvent `json:"events"`
	// ActorSuggestion, when an actor filter matched no event, is the
	// login of an actor of the newest events that is near it (a
	// misspelling, or its start): "did you mean".
	ActorSuggestion string `json:"actorSuggestion,omitempty"`
	// Next, when the page is full, is the address of the next (older)
	// page: the same filters with before, the id of the last event.
	Next string `json:"next,omitempty"`
}

// AuditEvent is one entry of the audit log.
type AuditEvent struct {
	ID           int64     `json:"id"`
	Time         time.Time `json:"time"`
	Actor        *Actor    `json:"actor"`
	Action       string    `json:"action"`
	ConnectionID string    `json:"connectionId,omitempty"`
	// ConnectionNickname is the connection's nickname now; absent once
	// the connection is deleted (its connection.delete event names it).
	ConnectionNickname string `json:"connectionNickname,omitempty"`
	ActingAs           string `json:"actingAs,omitempty"`
	Card               string `json:"card,omitempty"`
	InputSummary       string `json:"inputSummary,omitempty"`
	Outcome            string `json:"outcome"`
	Error              string `json:"error,omitempty"`
	OktaRequestID      string `json:"oktaRequestId,omitempty"`
	// Plan, on the card.run event of a run a flow's plan made, names the
	// flow planned (Run.Plan); absent otherwise.
	Plan *PlanRef `json:"plan,omitempty"`
}
