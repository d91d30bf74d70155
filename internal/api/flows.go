package api

import (
	"encoding/json"
	"time"
)

// MaxFlowDocumentSize is the largest flow document the server accepts, in
// bytes (flow.MaxDocumentSize): the CLI names a larger file before sending
// it.
const MaxFlowDocumentSize = 1 << 20

// Flow is a stored flow: the answer of GET /api/v1/flows/{id} (with
// Source), of enable and disable, and an element of FlowList.
type Flow struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// Inputs and Steps are never null.
	Inputs map[string]FlowInput `json:"inputs"`
	Steps  []FlowStep           `json:"steps"`
	Source string               `json:"source,omitempty"`
	// Version is the latest version's number, which is also how many
	// versions the flow has; StoredBy is who stored it.
	Version  int    `json:"version"`
	StoredBy *Actor `json:"storedBy,omitempty"`
	// Enabled says whether the trigger starts runs; always false without
	// a trigger.
	Enabled bool `json:"enabled"`
	// EnabledBy is who last enabled or disabled the trigger; triggered
	// runs are attributed to who enabled it.
	EnabledBy *Actor `json:"enabledBy,omitempty"`
	// Trigger is null or {kind: "schedule", cron|every, timezone,
	// startingDeadline (when the document sets it, as "2h"), nextRunAt} or {kind: "event", card, connection, delivery, if}.
	Trigger map[string]any `json:"trigger"`
	// LastRun, in the answers about stored flows (list and get), is the
	// flow's most recent run (by when it was queued) without its steps;
	// absent when it never ran (or its runs are past the retention
	// period).
	LastRun *FlowRun `json:"lastRun,omitempty"`
	// Problems, in the list of stored flows, say why an enabled flow
	// starts no runs now or its runs fail: a connection it uses (its event
	// trigger's or a step's) that cannot run cards, or whose System Log
	// polls or event hook fail while its event trigger reads them (a
	// warning when the trigger reads both and the other works); absent
	// when there is none.
	Problems []FlowProblem `json:"problems,omitempty"`
	// Warnings are what the flow's document (its latest version) says
	// that is legal but likely not meant (timezone: EST): the flow runs as
	// written. Absent when it has none.
	Warnings []FlowWarning `json:"warnings,omitempty"`
	// DroppedReruns, in the answers of disable and of a store that
	// disabled the flow (another trigger, or none), are the ids of the
	// flow's failed event runs that waited for their connection to run
	// again by themselves, which it dropped (oldest first): enabling the
	// flow again does not bring them back. Absent when none.
	DroppedReruns []string  `json:"droppedReruns,omitempty"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// FlowProblem is a connection an enabled flow uses that stops it, or
// makes it work less well: Problem is the connection's status in words
// ("needs reauthorization", "pending"), "no such connection", "System Log
// polls failing", "event hook not working", or, for a trigger with
// delivery hook+poll of which one way works, "System Log polls fail;
// events arrive only by the event hook" or "event hook not working;
// events arrive only by the System Log polls"; Severity is "error" when
// the flow starts no runs or its runs fail, and "warning" when it still
// runs; Reason and Remedy say why and the fix.
type FlowProblem struct {
	Connection string `json:"connection"`
	Problem    string `json:"problem"`
	Severity   string `json:"severity"`
	Reason     string `json:"reason,omitempty"`
	Remedy     string `json:"remedy,omitempty"`
}

// FlowInput is one declared input of a flow (its name is its key in
// Flow.Inputs).
type FlowInput struct {
	Type        string `json:"type"`
	Required    bool   `json:"required"`
	Description string `json:"description,omitempty"`
	Default     any    `json:"default,omitempty"`
}

// FlowStep is one step of a flow document.
type FlowStep struct {
	ID         string `json:"id"`
	Card       string `json:"card"`
	Connection string `json:"connection"`
	ForEach    bool   `json:"forEach,omitempty"`
}

// FlowList is GET /api/v1/flows, by name ignoring case; Flows is never
// null.
type FlowList struct {
	Flows []Flow `json:"flows"`
	// Next, when more flows follow, is the address of the next page:
	// after (the last flow's name) and afterId (its id).
	Next string `json:"next,omitempty"`
}

// FlowDocument is the JSON form of a flow document request (POST
// /api/v1/flows, .../validate); the YAML itself may be the body instead.
type FlowDocument struct {
	Source string `json:"source"`
}

// FlowStored answers POST /api/v1/flows: the stored flow, whether the
// document was byte for byte the latest version's (Unchanged: no version
// was added) and, for a flow with a trigger, what storing did to its
// enabled state.
type FlowStored struct {
	Enablement *Enablement `json:"enablement,omitempty"`
	Flow       Flow        `json:"flow"`
	Unchanged  bool        `json:"unchanged"`
	// Warnings are what the document says that is legal but likely not
	// meant (never null): the flow is stored and runs as written.
	Warnings []FlowWarning `json:"warnings"`
}

// FlowVersion is one stored version of a flow: GET
// /api/v1/flows/{id}/versions/{n} (with Source) and an element of
// FlowVersionList (without).
type FlowVersion struct {
	FlowID   string    `json:"flowId"`
	Flow     string    `json:"flow"`
	Version  int       `json:"version"`
	Latest   bool      `json:"latest"`
	StoredAt time.Time `json:"storedAt"`
	StoredBy *Actor    `json:"storedBy,omitempty"`
	SHA256   string    `json:"sha256"`
	Size     int       `json:"size"`
	Source   string    `json:"source,omitempty"`
	// Warnings are what the version's document says that is allowed but
	// likely not meant (GET /api/v1/flows/{id}/versions/{n} only).
	Warnings []FlowWarning `json:"warnings,omitempty"`
}

// FlowVersionList is GET /api/v1/flows/{id}/versions: the flow, its latest
// version's number and its versions, newest first (never null).
type FlowVersionList struct {
	Flow     string        `json:"flow"`
	FlowID   string        `json:"flowId"`
	Latest   int           `json:"latest"`
	Versions []FlowVersion `json:"versions"`
	// Next, when there are older versions than the page's, is the
	// address of the next page: before, the last version's number.
	Next string `json:"next,omitempty"`
}

// Enablement is what storing a flow did to its enabled state: Outcome
// "new" (stored disabled), "kept" (same trigger), "disabled" (trigger
// changed) or "trigger-removed"; Message says it to a person.
type Enablement struct {
	Message string `json:"message"`
	Outcome string `json:"outcome"`
}

// FlowDeleted answers DELETE /api/v1/flows/{id}.
type FlowDeleted struct {
	Deleted bool   `json:"deleted"`
	ID      string `json:"id"`
	Name    string `json:"name"`
}

// FlowValidation answers POST /api/v1/flows/validate. Flow is the
// document's name when it parses; an invalid document has the error's
// Code, Message and Remedy and its Issues (never null). Warnings (never
// null) do not make a document invalid.
type FlowValidation struct {
	Code     string        `json:"code,omitempty"`
	Flow     string        `json:"flow,omitempty"`
	Issues   []FlowIssue   `json:"issues"`
	Message  string        `json:"message,omitempty"`
	Remedy   string        `json:"remedy,omitempty"`
	Valid    bool          `json:"valid"`
	Warnings []FlowWarning `json:"warnings"`
}

// FlowWarning is something a flow document says that is legal but likely
// not what its author means (timezone: EST, which keeps no daylight saving
// time), at a 1-based Line and Column and a Path in the document
// ("on.schedule.timezone"), with what to write instead (Remedy).
type FlowWarning struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path"`
	Message string `json:"message"`
	Remedy  string `json:"remedy"`
}

// FlowIssue is one problem found in a flow document, at a 1-based Line
// and Column (0 when unknown) and in Step, if any.
type FlowIssue struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Step    string `json:"step"`
	Message string `json:"message"`
}

// FlowPlanRequest is the body of POST /api/v1/flows/plan: a flow document
// to plan without storing it, and its inputs by name.
type FlowPlanRequest struct {
	Source string         `json:"source"`
	Inputs map[string]any `json:"inputs"`
	// Trigger, when set, plans the run the flow's trigger would start
	// instead of one a person starts (see FlowPlanStoredRequest).
	Trigger *PlanTrigger `json:"trigger,omitempty"`
}

// FlowPlanStoredRequest is the body of POST /api/v1/flows/{id}/plan: the
// flow's inputs by name, or a Trigger to plan the run it would start.
type FlowPlanStoredRequest struct {
	Inputs  map[string]any `json:"inputs"`
	Trigger *PlanTrigger   `json:"trigger,omitempty"`
}

// PlanTrigger asks for the plan of a triggered run: Kind "schedule" is the
// run of the flow's next tick, Kind "event" the run the stored event
// EventUUID would start, or the run Event would start (an Okta LogEvent as
// the System Log API answers it or an event hook delivers it: one event,
// or a list or a hook delivery of one); on.inputs computes the inputs from
// it (no Inputs are given then).
type PlanTrigger struct {
	Kind      string          `json:"kind"`
	EventUUID string          `json:"eventUuid,omitempty"`
	Event     json.RawMessage `json:"event,omitempty"`
}

// FlowInputsRequest is the body of POST /api/v1/flows/{id}/runs: the
// flow's inputs by name.
type FlowInputsRequest struct {
	Inputs map[string]any `json:"inputs"`
}

// Plan answers POST /api/v1/flows/{id}/plan: a dry run.
type Plan struct {
	Flow  string     `json:"flow"`
	Steps []PlanStep `json:"steps"`
	// Trigger and Inputs, for the plan of a triggered run, are the
	// trigger (the tick planned) and the inputs on.inputs computed.
	Trigger *FlowRunTrigger `json:"trigger,omitempty"`
	Inputs  map[string]any  `json:"inputs,omitempty"`
	// Warnings are the planned document's (never null): it is planned,
	// and runs, as written.
	Warnings []FlowWarning `json:"warnings"`
}

// PlanStep is what one step would do. Items counts the items that would
// run the card; Changes lists, for a manage step, each device it would
// change. Errors, present only when some item could not be planned, says
// why; Unsimulated lists the items whose effects the plan cannot predict
// (a Custom API Action that would POST, PUT or DELETE).
type PlanStep struct {
	ID          string        `json:"id"`
	Card        string        `json:"card"`
	Mode        string        `json:"mode"`
	Items       int           `json:"items"`
	Changes     []PlanChange  `json:"changes"`
	Errors      []PlanError   `json:"errors,omitempty"`
	Unsimulated []Unsimulated `json:"unsimulated,omitempty"`
}

// PlanChange is what a manage card would do to one device: its status now
// and after ("DELETED" for a delete).
type PlanChange struct {
	DeviceID string `json:"deviceId"`
	// DeviceName is the device's display name when the flow (or the
	// card's read) knew it; absent otherwise.
	DeviceName string `json:"deviceName,omitempty"`
	From       string `json:"from"`
	To         string `json:"to"`
	Call       string `json:"call,omitempty"`
}

// PlanError is an item (or a whole step, Index -1) that could not be
// planned.
type PlanError struct {
	Index   int    `json:"index"`
	Message string `json:"message"`
	// DeviceID and DeviceName name the device the item acts on, when its
	// input has a deviceId (and the flow knows the name).
	DeviceID   string `json:"deviceId,omitempty"`
	DeviceName string `json:"deviceName,omitempty"`
}

// Unsimulated is an item of a plan whose effect is unknown: Call is the
// call it would make ("POST /api/v1/...").
type Unsimulated struct {
	Index int    `json:"index"`
	Call  string `json:"call"`
}

// RerunRequest is the body of POST /api/v1/flow-runs/{id}/rerun.
type RerunRequest struct {
	FailedOnly bool `json:"failedOnly"`
}

// FlowRun is a flow run: the run, each step in document order and, unless
// left out, each step's first page of finished items.
type FlowRun struct {
	ID     string `json:"id"`
	FlowID string `json:"flowId"`
	Flow   string `json:"flow"`
	// FlowVersion is the version of the flow the run runs (absent for
	// runs stored before versions were kept).
	FlowVersion int `json:"flowVersion,omitempty"`
	// RerunOf is the id of the run this one repeats; its trigger is the
	// original's and its actor who asked for the rerun.
	RerunOf string          `json:"rerunOf,omitempty"`
	Status  string          `json:"status"`
	Actor   *Actor          `json:"actor"`
	Inputs  json.RawMessage `json:"inputs,omitempty"`
	Error   string          `json:"error,omitempty"`
	// Failure, of a failed run, says how it failed in short: its error,
	// or each failed step with its first error code ("step ID: code"),
	// which runs that failed the same way share.
	Failure    string     `json:"failure,omitempty"`
	CreatedAt  time.Time  `json:"createdAt"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// CancelRequestedAt is when someone asked the run to stop; the run
	// ends canceled once its items in flight finish.
	CancelRequestedAt *time.Time `json:"cancelRequestedAt,omitempty"`
	// CancelRequestedBy is who asked the run to stop (absent for runs
	// asked before it was recorded).
	CancelRequestedBy *Actor `json:"cancelRequestedBy,omitempty"`
	// CancelReason says why, when the asker did not decide it on their
	// own: "its starter LOGIN's access was revoked" (revoking a person
	// cancels the runs they started by hand).
	CancelReason string `json:"cancelReason,omitempty"`
	// RerunWhenActive, of a failed run an Okta event started whose
	// connection could not run its cards (it needs reauthorization, or the
	// org refuses the service connection), says that it runs again by
	// itself, its failed items, once that connection is active again, and
	// then which run did; absent for other runs.
	RerunWhenActive *RerunWhenActive `json:"rerunWhenActive,omitempty"`
	// Trigger is what started the run.
	Trigger *FlowRunTrigger `json:"trigger"`
	// Steps is absent in lists of runs.
	Steps []FlowRunStep `json:"steps,omitempty"`
}

// RerunWhenActive is the automatic rerun of a failed event run, waiting
// for Connection to be active again.
type RerunWhenActive struct {
	// Connection is the connection it waits for, named as it was when
	// the run failed.
	Connection ConnectionRef `json:"connection"`
	// Rerun is the id of the run that reran it: the automatic rerun, or a
	// rerun asked for by hand first; absent while it waits.
	Rerun string `json:"rerun,omitempty"`
	// NotRerun says why it was not rerun by itself: its flow was disabled
	// or deleted, or the connection deleted, meanwhile.
	NotRerun string `json:"notRerun,omitempty"`
}

// Text says what becomes of failed event run id, which its connection
// stopped, as the console and the CLI word it: "will run again when
// connection Robot is active again", "ran again as run ID", "not run again
// by itself: flow NAME was disabled; …"; "" for other runs (r nil).
func (r *RerunWhenActive) Text(id string) string {
	switch {
	case r == nil:
		return ""
	case r.Rerun != "":
		return "ran again as run " + r.Rerun
	case r.NotRerun != "":
		return "not run again by itself: " + r.NotRerun + "; to run its failed items: cardflow flows rerun " + id + " --failed-only"
	}
	name := r.Connection.Nickname
	if name == "" {
		name = r.Connection.ID
	}
	return "will run again when connection " + name + " is active again"
}

// FlowRunTrigger is what started a flow run: Kind "manual", "schedule" or
// "event", its Time, and the event's EventUUID, EventType and the Device
// and User it is about (as trigger.event has them; nil when it names none,
// or for a run of an earlier version that did not keep them).
type FlowRunTrigger struct {
	Kind      string       `json:"kind"`
	Time      time.Time    `json:"time"`
	EventUUID string       `json:"eventUuid,omitempty"`
	EventType string       `json:"eventType,omitempty"`
	Device    *EventDevice `json:"device,omitempty"`
	User      *EventUser   `json:"user,omitempty"`
}

// FlowRunStep is one step of a flow run.
type FlowRunStep struct {
	ID        string `json:"id"`
	Card      string `json:"card"`
	Status    string `json:"status"`
	Items     int    `json:"items"`
	Succeeded int    `json:"succeeded"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
	// NotRun counts the items of a finished step that did not run: a
	// canceled run never started them or stopped them before their card
	// sent its call (a failed run never reached them). None is recorded.
	NotRun int `json:"notRun"`
	// Changed counts the items of a finished step whose card changed
	// their device (suspended it, deleted it, ...); absent while the step
	// runs, when its cards' outputs do not say (read cards, Custom API
	// Action) and for steps stored before cardflow counted it.
	Changed *int   `json:"changed,omitempty"`
	Error   string `json:"error,omitempty"`
	// RateLimitWait is how long a card of the step last waited for the
	// org's rate limit, while the step runs in the answering server.
	RateLimitWait string     `json:"rateLimitWait,omitempty"`
	StartedAt     *time.Time `json:"startedAt,omitempty"`
	FinishedAt    *time.Time `json:"finishedAt,omitempty"`
	// Output is the output of a step with one item; a for_each step's
	// outputs are its items'.
	Output json.RawMessage `json:"output,omitempty"`
	// ItemResults is the first page of the step's finished items, by
	// index; NextItems, when set, is the address of the next page.
	ItemResults []FlowRunItem `json:"itemResults,omitempty"`
	NextItems   string        `json:"nextItems,omitempty"`
}

// FlowRunItem is one finished item of a step; RunID is its card run.
type FlowRunItem struct {
	Index      int             `json:"index"`
	Status     string          `json:"status"`
	Input      json.RawMessage `json:"input,omitempty"`
	Output     json.RawMessage `json:"output,omitempty"`
	Error      *Error          `json:"error,omitempty"`
	RunID      string          `json:"runId,omitempty"`
	StartedAt  *time.Time      `json:"startedAt,omitempty"`
	FinishedAt *time.Time      `json:"finishedAt,omitempty"`
	// DeviceName is the display name of the device the item acted on
	// (its input's deviceId), when the flow knew it; absent otherwise.
	DeviceName string `json:"deviceName,omitempty"`
	// Outcome says what its output tells in a few words ("now
	// SUSPENDED", "already SUSPENDED: no change", "12 devices"); absent
	// for an item without output.
	Outcome string `json:"outcome,omitempty"`
}

// FlowRunStatuses are the statuses a flow run can have, as the flow run
// lists' status= selects them.
var FlowRunStatuses = []string{"queued", "running", "succeeded", "failed", "canceled"}

// FlowRunList is GET /api/v1/flow-runs and /api/v1/flows/{id}/runs,
// newest first, without steps; Runs is never null.
type FlowRunList struct {
	Runs []FlowRun `json:"runs"`
	// Next, when the page is full, is the address of the next (older)
	// page.
	Next string `json:"next,omitempty"`
}

// FlowRunItemPage is GET /api/v1/flow-runs/{id}/items: a page of a step's
// items (never null) and the address of the next page, if any.
type FlowRunItemPage struct {
	Items []FlowRunItem `json:"items"`
	Next  string        `json:"next,omitempty"`
}
