// Package notify tells receivers outside cardflow what happened
// (flow_run.failed, connection.needs_reauthorization, connection.expiring)
// through a durable outbox: Outbox.Enqueue writes a message to the store
// once for every receiver URL, and Sender, on any server, claims due
// messages, POSTs them as JSON signed with HMAC-SHA256
// (X-Cardflow-Signature: sha256=<hex>) and retries with capped exponential
// backoff until the receiver answers 2xx. A message keeps its id across
// attempts and servers, so receivers deduplicate on it; nothing is lost to
// a crash, since a message leaves the outbox only once delivered.
package notify
