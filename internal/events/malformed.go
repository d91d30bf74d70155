package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/store"
)

// malformed is an event of a hook delivery or a System Log page that
// cardflow cannot use, and leaves out: it is not an Okta LogEvent, or it
// lacks its uuid, eventType or published time. Its uuid and eventType, as
// far as they could be read, let someone find it in the org's System Log.
type malformed struct {
	index           int // its place in the delivery or page, from 0
	uuid, eventType string
	reason          string // what is wrong, without any of its values
}

// decodeEvents reads the events of a hook delivery one at a time, so that
// one cardflow cannot use costs none of the others: those that do not
// decode as a LogEvent, and those toStore would leave out, are returned
// apart.
func decodeEvents(raws []json.RawMessage) ([]okta.LogEvent, []malformed) {
	var good []okta.LogEvent
	var bad []malformed
	for i, raw := range raws {
		var le okta.LogEvent
		if err := json.Unmarshal(raw, &le); err != nil {
			bad = append(bad, undecodable(i, raw, err))
			continue
		}
		if reason := lacks(&le); reason != "" {
			bad = append(bad, malformed{index: i, uuid: le.UUID, eventType: le.EventType, reason: reason})
			continue
		}
		good = append(good, le)
	}
	return good, bad
}

// undecodable is the event raw, at index, that does not decode as a
// LogEvent (err), named by its uuid and eventType when it has them.
func undecodable(index int, raw json.RawMessage, err error) malformed {
	m := malformed{index: index, reason: "it is not an Okta LogEvent: " + decodeReason(err)}
	var ids struct{ UUID, EventType any }
	if json.Unmarshal(raw, &ids) == nil {
		m.uuid, _ = ids.UUID.(string)
		m.eventType, _ = ids.EventType.(string)
	}
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
func toStore(connID string, in []okta.LogEvent, now time.Time) ([]*store.Event, []malformed) {
	out := make([]*store.Event, 0, len(in))
	var bad []malformed
	for i := range in {
		e := &in[i]
		if reason := lacks(e); reason != "" {
			bad = append(bad, malformed{index: i, uuid: e.UUID, eventType: e.EventType, reason: reason})
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
func pageEvents(connID string, page *okta.LogPage, now time.Time) ([]*store.Event, []malformed) {
	out := make([]*store.Event, 0, len(page.Events))
	var bad []malformed
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
			bad = append(bad, malformed{index: i, uuid: e.UUID, eventType: e.EventType, reason: reason})
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
// connection.event-malformed audit event naming them. It says nothing of
// the events' contents beyond their uuid and type.
func reportMalformed(ctx context.Context, st store.Store, log *slog.Logger, connID, where string, total int, bad []malformed, now time.Time) error {
	if len(bad) == 0 {
		return nil
	}
	named := make([]string, 0, min(len(bad), maxNamed))
	for i, m := range bad {
		log.WarnContext(ctx, "events: an Okta event cardflow cannot use was left out; it starts no run",
			slog.String("connection", connID), slog.String("in", where), slog.Int("index", m.index),
			slog.String("uuid", m.uuid), slog.String("event_type", m.eventType), slog.String("reason", m.reason))
		if i < maxNamed {
			named = append(named, m.String())
		}
	}
	summary := fmt.Sprintf("%s: left out %d of its %d events, which start no run (the others were stored): %s",
		where, len(bad), total, strings.Join(named, "; "))
	if len(bad) > maxNamed {
		summary += fmt.Sprintf("; and %d more (see the log)", len(bad)-maxNamed)
	}
	return st.AppendAudit(context.WithoutCancel(ctx), &store.AuditEvent{Time: now, Actor: store.ServerActor,
		Action: store.ActionConnectionEventMalformed, ConnectionID: connID, InputSummary: summary, Outcome: "failure",
		Error: "an Okta event cardflow cannot use (" + bad[0].reason + ")"})
}

// String names m for people: its place, uuid and type, and what is wrong.
func (m malformed) String() string {
	s := fmt.Sprintf("event %d", m.index+1)
	var ids []string
	if m.uuid != "" {
		ids = append(ids, "uuid "+m.uuid)
	}
	if m.eventType != "" {
		ids = append(ids, m.eventType)
	}
	if len(ids) > 0 {
		s += " (" + strings.Join(ids, ", ") + ")"
	}
	return s + ": " + m.reason
}
