package api

import "time"

// NotificationTest answers POST /api/v1/notifications/test: how each
// notification receiver of the server that answered took a test message.
type NotificationTest struct {
	Receivers []NotificationTestResult `json:"receivers"`
}

// NotificationTestResult is one receiver's answer. Receiver names it as
// the server's logs do (scheme://host/… and a fingerprint, never its
// URL); Body is what it is sent (cardflow, slack, googlechat or teams);
// Error, when it did not take the message, says why; Unreached, that no
// answer came (the receiver down, its host unknown, a timeout: its URL
// may be right); Status, the HTTP status of an answer that refused it;
// Remedy, what to do.
type NotificationTestResult struct {
	Receiver  string `json:"receiver"`
	Body      string `json:"body"`
	Delivered bool   `json:"delivered"`
	Error     string `json:"error,omitempty"`
	Unreached bool   `json:"unreached,omitempty"`
	Status    int    `json:"status,omitempty"`
	Remedy    string `json:"remedy,omitempty"`
	// Waiting is how many notifications wait in the outbox for the
	// receiver, the oldest made at WaitingSince; LastError is why the
	// latest attempt at one of them failed. Left out when none waits.
	Waiting      int        `json:"waiting,omitempty"`
	WaitingSince *time.Time `json:"waitingSince,omitempty"`
	LastError    string     `json:"lastError,omitempty"`
}
