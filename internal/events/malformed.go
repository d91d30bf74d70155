package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/store"
)

// Malformed is an event of a hook delivery, a System Log page or a list
// given to plan (LogEventsOf) that cardflow cannot use, and leaves out: it
// is not an Okta LogEvent, or (in the intake) it lacks its uuid, eventType
// or published time. Its UUID and EventType, as far as they could be read,
// let someone find it in the org's System Log.
type Malformed struct {
	Index           int // its place in the delivery, page or list, from 0
	UUID, EventType string
	Reason          string // what is wrong, without any of its values

	// key names it among the connection's events that cardflow cannot
	// use, so that it is audited once however often it arrives: its
	// uuid, or a hash of its JSON for one without.
	key string
}

// malformedKey is the key of a Malformed event with uuid and JSON raw.
func malformedKey(uuid string, raw []byte) string {
	if uuid != "" {
		return uuid
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// decodeEvents reads the events of a hook delivery one at a time, so that
// one cardflow cannot use costs none of the others: those that do not
// decode as a LogEvent, and those toStore would leave out, are returned
// apart.
func decodeEvents(raws []json.RawMessage) ([]okta.LogEvent, []Malformed) {
	var good []okta.LogEvent
	var bad []Malformed
	for i, raw := range raws {
		le, m := decodeEvent(i, raw)
		if m != nil {
			bad = append(bad, *m)
			continue
		}
		if reason := lacks(&le); reason != "" {
			bad = append(bad, lacking(i, &le, reason))
			continue
		}
		good = append(good, le)
	}
	return good, bad
}

// lacking is the event e, at index, that decoded but lacks what the
// intake needs (reason, from lacks).
func lacking(index int, e *okta.LogEvent, reason string) Malformed {
	return Malformed{Index: index, UUID: e.UUID, EventType: e.EventType, Reason: reason, key: malformedKey(e.UUID, e.Raw)}
}

// decodeEvent decodes the event raw, at index, as a LogEvent; the
// Malformed is set when it does not decode.
func decodeEvent(index int, raw json.RawMessage) (okta.LogEvent, *Malformed) {
	var le okta.LogEvent
	if err := json.Unmarshal(raw, &le); err != nil {
		m := undecodable(index, raw, err)
		return le, &m
	}
	return le, nil
}

// undecodable is the event raw, at index, that does not decode as a
// LogEvent (err), named by its uuid and eventType when it has them.
func undecodable(index int, raw json.RawMessage, err error) Malformed {
	m := Malformed{Index: index, Reason: "it is not an Okta LogEvent: " + decodeReason(err)}
	var ids struct{ UUID, EventType any }
	if json.Unmarshal(raw, &ids) == nil {
		m.UUID, _ = ids.UUID.(string)
		m.EventType, _ = ids.EventType.(string)
	}
	m.key = malformedKey(m.UUID, raw)
	return m
}

// lacks says what e lacks of what the inbox needs (its uuid, eventType,
// published time); "" when nothing.
func lacks(e *okta.LogEvent) string {
	var missing []string
	if e.UUID == "" {
		missing = append(missing, "uuid")
	}
	if e.EventType == "" {
		missing = append(missing, "eventType")
	}
	if e.Published.IsZero() {
		missing = append(missing, "published time")
	}
	if len(missing) == 0 {
		return ""
	}
	return "it lacks its " + strings.Join(missing, " and ")
}

// decodeReason says why an event did not decode, naming the field but
// none of the event's values.
func decodeReason(err error) string {
	var te *json.UnmarshalTypeError
	var pe *time.ParseError
	switch {
	case errors.As(err, &te) && te.Field != "":
		return fmt.Sprintf("its %s is a JSON %s", te.Field, te.Value)
	case errors.As(err, &te):
		return fmt.Sprintf("it is a JSON %s, not an object", te.Value)
	case errors.As(err, &pe):
		return "its published is not a time"
	}
	return "it does not decode"
}

// toStore turns Okta events into inbox records of a connection; those
// lacking a uuid, eventType or published time are returned apart.
func toStore(connID string, in []okta.LogEvent, now time.Time) ([]*store.Event, []Malformed) {
	out := make([]*store.Event, 0, len(in))
	var bad []Malformed
	for i := range in {
		e := &in[i]
		if reason := lacks(e); reason != "" {
			bad = append(bad, lacking(i, e, reason))
			continue
		}
		out = append(out, inboxEvent(connID, e, now))
	}
	return out, bad
}

// pageEvents turns a System Log page into inbox records of a connection;
// the events that did not decode as a LogEvent and those lacking a uuid,
// eventType or published time are returned apart, each by its place in
// the page.
func pageEvents(connID string, page *okta.LogPage, now time.Time) ([]*store.Event, []Malformed) {
	out := make([]*store.Event, 0, len(page.Events))
	var bad []Malformed
	evs, undecoded := page.Events, page.Undecodable
	for i := range page.Len() {
		if len(undecoded) > 0 && (undecoded[0].Index == i || len(evs) == 0) {
			bad = append(bad, undecodable(i, undecoded[0].Raw, undecoded[0].Err))
			undecoded = undecoded[1:]
			continue
		}
		e := &evs[0]
		evs = evs[1:]
		if reason := lacks(e); reason != "" {
			bad = append(bad, lacking(i, e, reason))
			continue
		}
		out = append(out, inboxEvent(connID, e, now))
	}
	return out, bad
}

// inboxEvent is the inbox record of a connection's event e.
func inboxEvent(connID string, e *okta.LogEvent, now time.Time) *store.Event {
	return &store.Event{UUID: e.UUID, ConnectionID: connID, EventType: e.EventType,
		Published: e.Published.UTC(), Raw: e.Raw, ReceivedAt: now}
}

// maxNamed bounds the malformed events one audit event names.
const maxNamed = 10

// reportMalformed makes the events left out of a delivery or page (where,
// of total events) visible: a warning in the log for each, and one
// connection.event-malformed audit event naming those not named before.
// An event is audited once per connection, by its uuid (or its JSON, for
// one without), however often it arrives: a hook delivery retried, and
// the System Log poll reading what the hook delivered. It says nothing of
// the events' contents beyond their uuid and type.
func reportMalformed(ctx context.Context, st store.Store, log *slog.Logger, connID, where string, total int, bad []Malformed, now time.Time) error {
	if len(bad) == 0 {
		return nil
	}
	keys := make([]string, len(bad))
	for i, m := range bad {
		log.WarnContext(ctx, "events: an Okta event cardflow cannot use was left out; it starts no run",
			slog.String("connection", connID), slog.String("in", where), slog.Int("index", m.Index),
			slog.String("uuid", m.UUID), slog.String("event_type", m.EventType), slog.String("reason", m.Reason))
		keys[i] = m.key
	}
	return st.NoteMalformedEvents(context.WithoutCancel(ctx), connID, keys, now, func(fresh []string) *store.AuditEvent {
		unnamed := make(map[string]bool, len(fresh))
		for _, k := range fresh {
			unnamed[k] = true
		}
		var news []Malformed
		for _, m := range bad {
			if unnamed[m.key] {
				news = append(news, m)
				delete(unnamed, m.key) // an event twice in one delivery is named once
			}
		}
		if len(news) == 0 {
			return nil // each was audited when it first arrived
		}
		named := make([]string, 0, min(len(news), maxNamed))
		for _, m := range news[:min(len(news), maxNamed)] {
			named = append(named, m.String())
		}
		summary := fmt.Sprintf("%s: left out %d of its %d events, which start no run (the others were stored): %s",
			where, len(bad), total, strings.Join(named, "; "))
		if len(news) > maxNamed {
			summary += fmt.Sprintf("; and %d more (see the log)", len(news)-maxNamed)
		}
		if before := len(bad) - len(news); before > 0 {
			summary += fmt.Sprintf("; %d more arrived before and were named then", before)
		}
		return &store.AuditEvent{Time: now, Actor: store.ServerActor,
			Action: store.ActionConnectionEventMalformed, ConnectionID: connID, InputSummary: summary, Outcome: "failure",
			Error: "an Okta event cardflow cannot use (" + news[0].Reason + ")"}
	})
}

// String names m for people: its place (from 1), uuid and type, and what
// is wrong.
func (m Malformed) String() string {
	return fmt.Sprintf("event %d%s: %s", m.Index+1, m.Names(), m.Reason)
}

// Names is " (uuid U, TYPE)" of m, as far as it has them; "" when it has
// neither.
func (m Malformed) Names() string {
	var ids []string
	if m.UUID != "" {
		ids = append(ids, "uuid "+m.UUID)
	}
	if m.EventType != "" {
		ids = append(ids, m.EventType)
	}
	if len(ids) == 0 {
		return ""
	}
	return " (" + strings.Join(ids, ", ") + ")"
}
