// Package notify tells receivers outside cardflow what happened
// (flow_run.failed, connection.needs_reauthorization, connection.failing,
// connection.expiring and the others of the Type constants)
// through a durable outbox: Outbox.Enqueue writes a message to the store
// once for every receiver, and Sender, on any server, claims due
// messages, POSTs them as JSON signed with HMAC-SHA256
// (X-Cardflow-Signature: sha256=<hex>) and retries with capped exponential
// backoff until the receiver answers 2xx. The backoff holds the receiver
// as well as the message: a receiver that failed gets one message again
// when its backoff has passed, so one that is down costs no attempt per
// waiting message and does not hold up the others. A message keeps its id across
// attempts and servers, so receivers deduplicate on it; nothing is lost to
// a crash, since a message leaves the outbox only once delivered.
//
// The caller may make a message's id stable, so that a repeated warning is
// delivered once. A status change that warrants a message (a connection
// that needs reauthorization, a service connection that fails, fails for
// another kind of reason (another Connection.StatusReasonCode, which the
// message carries) or recovers, an event intake that fails or
// recovers) stores it in the transaction that stores the status: Outbox.Notifications
// builds the rows and the store commits them (store.UpdateConnectionNotify,
// SetPollStatus, PutEventHook). A Sender sends only to its own server's
// receivers. Messages of one thread (Message.Thread: a connection's
// System Log polls, its event hook, a service connection's status) reach each receiver in the order they
// were enqueued: a recovery waits for the failure it ends, also while
// that failure waits for a retry.
//
// A receiver's URL is a credential (an incoming webhook's path or query is
// its key), so it lives only in the servers' configuration: the outbox
// names a receiver by the SHA-256 of its URL (Receiver.Digest), and logs
// and errors show it as scheme://host/… and a fingerprint
// (Receiver.String).
//
// A chat service's incoming webhook (Slack, Google Chat, Teams) refuses
// cardflow's JSON: a receiver on such a host, or one whose -notify-url
// names the body (slack=https://…), gets the message as that service's
// chat post (Receiver.Body, postBody).
package notify
