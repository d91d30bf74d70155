package api

import "time"

// EventList is GET /api/v1/events, newest first; Events is never null.
type EventList struct {
	Events []Event `json:"events"`
	// Next, when the page is full, is the address of the next (older)
	// page.
	Next string `json:"next,omitempty"`
}

// Event is a received Okta event: how it arrived (ReceivedVia
// "hook", "poll" or both) and the flow runs it started (never null).
// Connection is the receiving connection, as a card run names its
// connection (Nickname empty once it is deleted). Device and User are the
// device and the user the event is about (its UDDevice and User targets),
// as trigger.event has them; nil when it names none (a lifecycle event
// names no user). DispatchedAt is when the dispatcher had started every
// run the event triggers (none when no enabled flow's trigger matched
// it); nil until then, while Waiting says why it waits in the inbox
// ("not dispatched yet": for the next dispatch round, for the org's clock
// of a flow enabled since the last one, or for a flow whose trigger's
// connection needs reauthorization, its runs of the other flows started
// meanwhile); Waiting is left out once it is dispatched.
type Event struct {
	UUID         string       `json:"uuid"`
	EventType    string       `json:"eventType"`
	Published    time.Time    `json:"published"`
	Device       *EventDevice `json:"device,omitempty"`
	User         *EventUser   `json:"user,omitempty"`
	ReceivedVia  []string     `json:"receivedVia"`
	ReceivedAt   time.Time    `json:"receivedAt"`
	FlowRuns     []string     `json:"flowRuns"`
	DispatchedAt *time.Time   `json:"dispatchedAt,omitempty"`
	Waiting      string       `json:"waiting,omitempty"`
	// WaitingCode and WaitingReason say why it waits, while it does:
	// next_round (nothing holds it but the next dispatch round, within
	// seconds), connection_inactive (a flow it starts has a trigger whose
	// connection cannot run cards now, needing reauthorization, say),
	// org_clock_unknown (a flow of its type was enabled and the org's
	// time of the enabling is not known yet), behind_earlier_event (an
	// earlier event of its connection waits for that); the reason in
	// words, with what to do.
	WaitingCode   string         `json:"waitingCode,omitempty"`
	WaitingReason string         `json:"waitingReason,omitempty"`
	Connection    *ConnectionRef `json:"connection"`
}

// EventDevice is the device an event names.
type EventDevice struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// EventUser is the user an event names; Login is the target's alternateId.
type EventUser struct {
	ID    string `json:"id"`
	Login string `json:"login"`
}
