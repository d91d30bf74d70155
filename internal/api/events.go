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
// connection (Nickname empty once it is deleted).
type Event struct {
	UUID        string         `json:"uuid"`
	EventType   string         `json:"eventType"`
	Published   time.Time      `json:"published"`
	ReceivedVia []string       `json:"receivedVia"`
	ReceivedAt  time.Time      `json:"receivedAt"`
	FlowRuns    []string       `json:"flowRuns"`
	Connection  *ConnectionRef `json:"connection"`
}
