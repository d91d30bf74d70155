package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"
)

const (
	eventHooksPath = "/api/v1/eventHooks"
	logsPath       = "/api/v1/logs"
)

// EventHook is an Okta event hook (okta.eventHooks.read / manage). The
// auth header's value is write-only: Okta never returns it.
type EventHook struct {
	ID                 string      `json:"id,omitempty"`
	Name               string      `json:"name"`
	Status             string      `json:"status,omitempty"`             // ACTIVE | INACTIVE
	VerificationStatus string      `json:"verificationStatus,omitempty"` // UNVERIFIED | VERIFIED
	Events             HookEvents  `json:"events"`
	Channel            HookChannel `json:"channel"`
	Created            *time.Time  `json:"created,omitempty"`
	LastUpdated        *time.Time  `json:"lastUpdated,omitempty"`
	Description        *string     `json:"description,omitempty"`
}

// HookEvents are the event types a hook subscribes to.
type HookEvents struct {
	Type  string   `json:"type"` // EVENT_TYPE
	Items []string `json:"items"`
}

// HookChannel is where and how Okta calls the hook.
type HookChannel struct {
	Type    string     `json:"type"`    // HTTP
	Version string     `json:"version"` // 1.0.0
	Config  HookConfig `json:"config"`
}

// HookConfig is the hook's endpoint and its auth header.
type HookConfig struct {
	URI        string          `json:"uri"`
	Headers    []HookHeader    `json:"headers,omitempty"`
	AuthScheme *HookAuthScheme `json:"authScheme,omitempty"`
}

// HookHeader is a custom header Okta sends with each call.
type HookHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// HookAuthScheme is the header Okta sends to authenticate itself; Value
// is only ever sent, never read back.
type HookAuthScheme struct {
	Type  string `json:"type"` // HEADER
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

// NewEventHook returns a hook that POSTs the given event types to uri
// with the header "Authorization: secret".
func NewEventHook(name, uri, secret string, eventTypes []string) EventHook {
	return EventHook{
		Name:   name,
		Events: HookEvents{Type: "EVENT_TYPE", Items: eventTypes},
		Channel: HookChannel{Type: "HTTP", Version: "1.0.0", Config: HookConfig{
			URI: uri, AuthScheme: &HookAuthScheme{Type: "HEADER", Key: "Authorization", Value: secret},
		}},
	}
}

func validHookID(id string) error {
	if err := validID(id); err != nil {
		return &RequestError{Field: "eventHookId", Message: err.(*RequestError).Message}
	}
	return nil
}

// hookCall sends one event hook call and decodes the hook it answers.
func (c *Client) hookCall(ctx context.Context, op, method, path string, body *EventHook) (*EventHook, error) {
	u, err := c.endpoint(path, nil)
	if err != nil {
		return nil, err
	}
	cl := call{op: op, method: method, url: u}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		cl.body = b
		cl.header = http.Header{"Content-Type": {"application/json"}}
	}
	// Reads are idempotent; so are activate and deactivate.
	cl.retry = method == http.MethodGet || op == "ActivateEventHook" || op == "DeactivateEventHook"
	h := new(EventHook)
	cl.stream = func(r io.Reader) error {
		*h = EventHook{}
		return json.NewDecoder(r).Decode(h)
	}
	if _, err := c.send(ctx, cl); err != nil {
		return nil, err
	}
	return h, nil
}

// CreateEventHook registers a hook; Okta creates it ACTIVE and UNVERIFIED.
func (c *Client) CreateEventHook(ctx context.Context, h EventHook) (*EventHook, error) {
	return c.hookCall(ctx, "CreateEventHook", http.MethodPost, eventHooksPath, &h)
}

// ListEventHooks returns the org's event hooks (Okta allows at most 25
// active ones, so the list is not paged).
func (c *Client) ListEventHooks(ctx context.Context) ([]EventHook, error) {
	u, err := c.endpoint(eventHooksPath, nil)
	if err != nil {
		return nil, err
	}
	var hooks []EventHook
	_, err = c.send(ctx, call{op: "ListEventHooks", method: http.MethodGet, url: u, retry: true,
		stream: decodeInto(&hooks)})
	if err != nil {
		return nil, err
	}
	return hooks, nil
}

// OrgTime asks the org the time by its own clock, the clock of the
// published times of its events: the Date of its answer to a list of its
// event hooks. Any answer tells it, one refused for want of a scope or a
// role as well; only an answer without a Date (or none at all) fails.
// Date has whole seconds, truncated: the org's clock read at least the
// time returned when it answered.
func (c *Client) OrgTime(ctx context.Context) (time.Time, error) {
	u, err := c.endpoint(eventHooksPath, nil)
	if err != nil {
		return time.Time{}, err
	}
	res, err := c.send(ctx, call{op: "OrgTime", method: http.MethodGet, url: u, retry: true,
		stream: func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }})
	if res == nil {
		return time.Time{}, err
	}
	d, perr := http.ParseTime(res.header.Get("Date"))
	if perr != nil {
		if err == nil {
			err = fmt.Errorf("okta: the org's answer to %s has no Date to tell its time by", eventHooksPath)
		}
		return time.Time{}, err
	}
	return d.UTC(), nil
}

// GetEventHook reads a hook.
func (c *Client) GetEventHook(ctx context.Context, id string) (*EventHook, error) {
	if err := validHookID(id); err != nil {
		return nil, err
	}
	return c.hookCall(ctx, "GetEventHook", http.MethodGet, eventHooksPath+"/"+id, nil)
}

// ReplaceEventHook replaces a hook's name, events and channel; a new
// channel must be verified again.
func (c *Client) ReplaceEventHook(ctx context.Context, id string, h EventHook) (*EventHook, error) {
	if err := validHookID(id); err != nil {
		return nil, err
	}
	return c.hookCall(ctx, "ReplaceEventHook", http.MethodPut, eventHooksPath+"/"+id, &h)
}

// HookLifecycle runs "activate", "deactivate" or "verify" on a hook.
// Verification makes Okta call the hook's URI; it fails with a 400 when
// the endpoint does not answer the challenge.
func (c *Client) HookLifecycle(ctx context.Context, id, action string) (*EventHook, error) {
	if err := validHookID(id); err != nil {
		return nil, err
	}
	var op string
	switch action {
	case "activate":
		op = "ActivateEventHook"
	case "deactivate":
		op = "DeactivateEventHook"
	case "verify":
		op = "VerifyEventHook"
	default:
		return nil, &RequestError{Field: "action", Message: fmt.Sprintf("%q is not an event hook lifecycle action", action)}
	}
	return c.hookCall(ctx, op, http.MethodPost, eventHooksPath+"/"+id+"/lifecycle/"+action, nil)
}

// DeleteEventHook deletes a hook; Okta allows it only when INACTIVE.
func (c *Client) DeleteEventHook(ctx context.Context, id string) error {
	if err := validHookID(id); err != nil {
		return err
	}
	u, err := c.endpoint(eventHooksPath+"/"+id, nil)
	if err != nil {
		return err
	}
	_, err = c.send(ctx, call{op: "DeleteEventHook", method: http.MethodDelete, url: u})
	return err
}

// LogEvent is a System Log event as the System Log API and event hook
// deliveries carry it. Raw is the event's JSON as received.
type LogEvent struct {
	UUID           string      `json:"uuid"`
	Published      time.Time   `json:"published"`
	EventType      string      `json:"eventType"`
	DisplayMessage string      `json:"displayMessage"`
	Actor          LogActor    `json:"actor"`
	Target         []LogTarget `json:"target"`
	Raw            json.RawMessage
}

// LogActor is who did what an event records.
type LogActor struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// LogTarget is what an event was done to; look targets up by Type.
type LogTarget struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

// UnmarshalJSON decodes a LogEvent and keeps its raw JSON. A field of the
// wrong JSON type is a *json.UnmarshalTypeError naming it (published too).
func (e *LogEvent) UnmarshalJSON(b []byte) error {
	if err := e.decode(b); err != nil {
		return err
	}
	e.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// decode decodes the event b into e, but for Raw.
func (e *LogEvent) decode(b []byte) error {
	type plain LogEvent
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return publishedTypeError(b, err)
	}
	*e = LogEvent(p)
	return nil
}

// publishedTypeError returns, for the error err of decoding the event b,
// the *json.UnmarshalTypeError of its published when that is no JSON
// string: time.Time's decoder says only that "input is not a JSON string",
// naming no field. Any other err is returned as it is.
func publishedTypeError(b []byte, err error) error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	if errors.As(err, &te) || errors.As(err, &se) {
		return err
	}
	var probe struct {
		Published json.RawMessage `json:"published"`
	}
	if json.Unmarshal(b, &probe) != nil || len(probe.Published) == 0 {
		return err
	}
	var kind string
	switch c := probe.Published[0]; {
	case c == '"' || c == 'n': // a string, or null: not what failed
		return err
	case c == '{':
		kind = "object"
	case c == '[':
		kind = "array"
	case c == 't' || c == 'f':
		kind = "bool"
	default:
		kind = "number"
	}
	return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeFor[time.Time](), Field: "published"}
}

// TargetOf returns the first target of the given type (UDDevice, User).
func (e *LogEvent) TargetOf(typ string) (LogTarget, bool) {
	for _, t := range e.Target {
		if t.Type == typ {
			return t, true
		}
	}
	return LogTarget{}, false
}

// LogPage is one page of a System Log polling request.
type LogPage struct {
	// Events are the page's events that decode as a LogEvent, in the
	// page's order.
	Events []LogEvent
	// Undecodable are the page's other events (not a JSON object, or a
	// field of the wrong JSON type), in the page's order: they are set
	// apart rather than failing the page, which a poll would then ask for
	// again and again.
	Undecodable []LogEventError
	// Next is the page to ask for next (path and query of Okta's
	// rel="next" link). A polling request always has one.
	Next string
	// Date is the answer's Date header: the org's clock when it
	// answered, in whole seconds; zero without one.
	Date time.Time
}

// Len is the number of events Okta sent in the page.
func (p *LogPage) Len() int { return len(p.Events) + len(p.Undecodable) }

// decode reads the JSON array of a page's events one event at a time, so
// that one that does not decode as a LogEvent costs none of the others.
func (p *LogPage) decode(r io.Reader) error {
	p.Events, p.Undecodable = p.Events[:0], p.Undecodable[:0] // a retried request decodes again
	i := 0
	return decodeArray(r, func(dec *json.Decoder) error {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return err // not JSON: the body, not the event, is broken
		}
		var e LogEvent
		if err := e.decode(raw); err != nil {
			p.Undecodable = append(p.Undecodable, LogEventError{Index: i, Raw: raw, Err: err})
		} else {
			e.Raw = raw
			p.Events = append(p.Events, e)
		}
		i++
		return nil
	})
}

// LogEventError is an event of a System Log page that does not decode as
// a LogEvent.
type LogEventError struct {
	Index int             // its place in the page, from 0
	Raw   json.RawMessage // the event's JSON as received
	// Err is why it does not decode: a *json.UnmarshalTypeError for a
	// field of the wrong type, a *time.ParseError for a published that
	// is no time.
	Err error
}

func (e *LogEventError) Error() string {
	return fmt.Sprintf("okta: System Log event %d of the page: %v", e.Index+1, e.Err)
}

func (e *LogEventError) Unwrap() error { return e.Err }

// PollLogs reads one page of the System Log in polling mode: from the
// stored next link, or (when next is "") from since with filter. Events
// come in the order Okta persisted them; one that does not decode as a
// LogEvent is in the page's Undecodable, not an error of the page.
func (c *Client) PollLogs(ctx context.Context, next string, since time.Time, filter string, limit int) (*LogPage, error) {
	var u *url.URL
	var err error
	if next != "" {
		ref, perr := url.Parse(next)
		if perr != nil || ref.Path != logsPath || ref.Host != "" || ref.Scheme != "" {
			return nil, &RequestError{Field: "next", Message: "is not a System Log link of this org"}
		}
		u, err = c.endpoint(logsPath, nil)
		if err == nil {
			u.RawQuery = ref.RawQuery
		}
	} else {
		q := url.Values{}
		q.Set("since", since.UTC().Format(time.RFC3339Nano))
		if filter != "" {
			q.Set("filter", filter)
		}
		if limit <= 0 || limit > 1000 {
			limit = 1000
		}
		q.Set("limit", strconv.Itoa(limit))
		u, err = c.endpoint(logsPath, q)
	}
	if err != nil {
		return nil, err
	}
	page := &LogPage{}
	res, err := c.send(ctx, call{op: "ListLogEvents", method: http.MethodGet, url: u, retry: true,
		stream: page.decode})
	if err != nil {
		return nil, err
	}
	if d, err := http.ParseTime(res.header.Get("Date")); err == nil {
		page.Date = d
	}
	// A polling request's next link may repeat the request (nothing new
	// yet), so nextLink's same-page guard does not apply.
	for _, l := range ParseLink(res.header.Values("Link")) {
		if !l.HasRel("next") {
			continue
		}
		ref, err := url.Parse(l.Target)
		if err != nil {
			return nil, fmt.Errorf("okta: unusable next link %q: %w", l.Target, err)
		}
		n := u.ResolveReference(ref)
		if org, _ := c.origin(); !sameOrigin(n, org) || n.Path != logsPath {
			return nil, fmt.Errorf("okta: System Log next link leaves the org's System Log (%s)", n.Redacted())
		}
		page.Next = n.RequestURI()
		break
	}
	return page, nil
}
