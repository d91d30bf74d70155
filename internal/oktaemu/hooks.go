package oktaemu

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// MaxActiveEventHooks is how many ACTIVE event hooks an org may have
// (Okta: 25 active and verified hooks per org).
const MaxActiveEventHooks = 25

// DeviceEventTypes are the System Log event types the org records for
// devices; all are eligible for event hooks.
var DeviceEventTypes = []string{
	"device.enrollment.create",
	"device.lifecycle.activate",
	"device.lifecycle.deactivate",
	"device.lifecycle.suspend",
	"device.lifecycle.unsuspend",
	"device.lifecycle.delete",
	"device.user.add",
	"device.user.remove",
}

// roleEventTypes are the System Log event types the org records when an
// admin role is assigned or taken away; all are eligible for event hooks.
var roleEventTypes = []string{
	"user.account.privilege.grant", "user.account.privilege.revoke",
	"app.oauth2.client.privilege.grant", "app.oauth2.client.privilege.revoke",
}

// otherEligibleTypes are further event-hook-eligible types of Okta's
// catalogue that an event hook may subscribe to (the org never records
// them).
var otherEligibleTypes = []string{
	"user.lifecycle.create", "user.lifecycle.activate", "user.lifecycle.deactivate",
	"user.lifecycle.suspend", "user.lifecycle.unsuspend", "user.lifecycle.delete.initiated",
	"user.account.lock", "user.session.start", "user.authentication.sso",
	"group.user_membership.add", "group.user_membership.remove",
	"application.user_membership.add", "application.user_membership.remove",
	"user.mfa.factor.activate", "user.mfa.factor.deactivate",
}

func eligibleEventType(t string) bool {
	return slices.Contains(DeviceEventTypes, t) || slices.Contains(roleEventTypes, t) || slices.Contains(otherEligibleTypes, t)
}

// reservedHookHeaders may not be set as an event hook's custom headers.
var reservedHookHeaders = []string{"accept", "authorization", "content-type", "content-length", "host",
	"user-agent", "x-okta-request-id", "x-okta-verification-challenge", "connection", "transfer-encoding"}

type hookHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// eventHook is an event hook. It is immutable: a change stores a copy.
type eventHook struct {
	id, name           string
	description        *string
	events             []string
	uri                string
	headers            []hookHeader
	authKey, authValue string // authKey "" = no auth scheme
	status             string // ACTIVE | INACTIVE
	verification       string // UNVERIFIED | VERIFIED
	created, updated   time.Time
	createdBy          string
}

func (h *eventHook) receives(eventType string) bool {
	return h.status == "ACTIVE" && h.verification == "VERIFIED" && slices.Contains(h.events, eventType)
}

// sameChannel reports whether h and x call the same endpoint the same way.
func (h *eventHook) sameChannel(x *eventHook) bool {
	return h.uri == x.uri && h.authKey == x.authKey && h.authValue == x.authValue && slices.Equal(h.headers, x.headers)
}

type authSchemeJSON struct {
	Type  string `json:"type"`
	Key   string `json:"key"`
	Value string `json:"value,omitempty"`
}

type hookConfigJSON struct {
	URI        string          `json:"uri"`
	Headers    []hookHeader    `json:"headers"`
	AuthScheme *authSchemeJSON `json:"authScheme,omitempty"`
	Method     string          `json:"method,omitempty"`
}

type hookChannelJSON struct {
	Type    string          `json:"type"`
	Version string          `json:"version"`
	Config  *hookConfigJSON `json:"config"`
}

type hookEventsJSON struct {
	Type   string          `json:"type"`
	Items  []string        `json:"items"`
	Filter json.RawMessage `json:"filter"`
}

type eventHookJSON struct {
	ID                 string           `json:"id,omitempty"`
	Status             string           `json:"status,omitempty"`
	VerificationStatus string           `json:"verificationStatus,omitempty"`
	Name               *string          `json:"name"`
	Description        *string          `json:"description"`
	Created            string           `json:"created,omitempty"`
	CreatedBy          string           `json:"createdBy,omitempty"`
	LastUpdated        string           `json:"lastUpdated,omitempty"`
	Events             *hookEventsJSON  `json:"events"`
	Channel            *hookChannelJSON `json:"channel"`
	Links              map[string]any   `json:"_links,omitempty"`
}

func (h *eventHook) view(org string) eventHookJSON {
	name := h.name
	self := org + "/api/v1/eventHooks/" + h.id
	post := func(op string) link {
		return link{Href: self + "/lifecycle/" + op, Hints: &hints{Allow: []string{"POST"}}}
	}
	links := map[string]any{
		"self":   link{Href: self, Hints: &hints{Allow: []string{"GET", "PUT", "DELETE"}}},
		"verify": post("verify"),
	}
	if h.status == "ACTIVE" {
		links["deactivate"] = post("deactivate")
	} else {
		links["activate"] = post("activate")
	}
	cfg := &hookConfigJSON{URI: h.uri, Headers: h.headers, Method: "POST"}
	if cfg.Headers == nil {
		cfg.Headers = []hookHeader{}
	}
	if h.authKey != "" {
		cfg.AuthScheme = &authSchemeJSON{Type: "HEADER", Key: strings.ToLower(h.authKey)}
	}
	return eventHookJSON{
		ID: h.id, Status: h.status, VerificationStatus: h.verification, Name: &name, Description: h.description,
		Created: formatTime(h.created), CreatedBy: h.createdBy, LastUpdated: formatTime(h.updated),
		Events:  &hookEventsJSON{Type: "EVENT_TYPE", Items: h.events, Filter: json.RawMessage("null")},
		Channel: &hookChannelJSON{Type: "HTTP", Version: "1.0.0", Config: cfg},
		Links:   links,
	}
}

func hookTarget(h *eventHook) logTargetJSON {
	return logTargetJSON{ID: h.id, Type: "EventHook", AlternateID: h.uri, DisplayName: h.name}
}

// hookValidation answers a request body that does not make a valid event
// hook.
func hookValidation(w http.ResponseWriter, causes ...string) {
	writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: eventHook", causes...)
}

// parseHook validates a create or replace body into a hook (without id,
// status or times). It answers the error and returns nil when invalid.
func parseHook(w http.ResponseWriter, r *http.Request) *eventHook {
	var body eventHookJSON
	var auth struct {
		Channel *struct {
			Config *struct {
				AuthScheme *authSchemeJSON `json:"authScheme"`
			} `json:"config"`
		} `json:"channel"`
	}
	raw, err := readBody(r, 1<<20)
	if err == nil {
		err = json.Unmarshal(raw, &body)
	}
	if err == nil {
		err = json.Unmarshal(raw, &auth)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return nil
	}
	var causes []string
	h := &eventHook{description: body.Description}
	if body.Name == nil || strings.TrimSpace(*body.Name) == "" || len(*body.Name) > 255 {
		causes = append(causes, "name: The event hook name is required and must be 1 to 255 characters.")
	} else {
		h.name = *body.Name
	}
	switch {
	case body.Events == nil || body.Events.Type != "EVENT_TYPE":
		causes = append(causes, `events.type: The events object must have type "EVENT_TYPE".`)
	case len(body.Events.Items) == 0:
		causes = append(causes, "events.items: Subscribe to at least one event type.")
	case len(body.Events.Items) > 300:
		causes = append(causes, "events.items: An event hook may subscribe to at most 300 event types.")
	default:
		for _, t := range body.Events.Items {
			if !eligibleEventType(t) {
				causes = append(causes, "events.items: The event type "+t+" is not eligible for event hooks.")
			} else if !slices.Contains(h.events, t) {
				h.events = append(h.events, t)
			}
		}
		if f := strings.TrimSpace(string(body.Events.Filter)); f != "" && f != "null" {
			causes = append(causes, "events.filter: Event hook filters are not enabled in this org.")
		}
	}
	switch {
	case body.Channel == nil || body.Channel.Type != "HTTP" || body.Channel.Version != "1.0.0":
		causes = append(causes, `channel: The channel must have type "HTTP" and version "1.0.0".`)
	case body.Channel.Config == nil:
		causes = append(causes, "channel.config: The channel config with a uri is required.")
	default:
		c := body.Channel.Config
		if cause := checkHookURI(c.URI); cause != "" {
			causes = append(causes, cause)
		}
		h.uri = c.URI
		for _, hd := range c.Headers {
			if hd.Key == "" || slices.Contains(reservedHookHeaders, strings.ToLower(hd.Key)) {
				causes = append(causes, "channel.config.headers: The header "+hd.Key+" is reserved or empty.")
			}
		}
		h.headers = slices.Clone(c.Headers)
		if a := auth.Channel.Config.AuthScheme; a != nil {
			if a.Type != "HEADER" || a.Key == "" || a.Value == "" {
				causes = append(causes, `channel.config.authScheme: The auth scheme needs type "HEADER", a key and a value.`)
			}
			h.authKey, h.authValue = a.Key, a.Value
		}
	}
	if len(causes) > 0 {
		hookValidation(w, causes...)
		return nil
	}
	return h
}

// checkHookURI returns why uri cannot be an event hook endpoint, or "".
// Okta requires https; the emulator also accepts http on a loopback host.
func checkHookURI(uri string) string {
	const cause = "channel.config.uri: "
	if uri == "" || len(uri) > 1024 || strings.ContainsAny(uri, " \t\r\n") {
		return cause + "The uri is required, at most 1024 characters, without whitespace."
	}
	u, err := url.Parse(uri)
	if err != nil || u.Host == "" || u.User != nil {
		return cause + "The uri must be an absolute https URL."
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return ""
		}
	}
	return cause + "The uri must begin with https://."
}

// readBody reads r's body, refusing more than limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err == nil && int64(len(b)) > limit {
		err = errors.New("body too large")
	}
	return b, err
}

func (o *Org) hookPrincipal(w http.ResponseWriter, r *http.Request, manage bool) *principal {
	if manage {
		return o.authorizeAPI(w, r, "okta.eventHooks.manage", accessSuper)
	}
	return o.authorizeAPI(w, r, "okta.eventHooks.read", accessRead)
}

// creatorID is the id recorded as an object's creator.
func creatorID(p *principal) string {
	if p.user != nil {
		return p.user.id
	}
	return p.app.clientID
}

func (o *Org) listEventHooks(w http.ResponseWriter, r *http.Request) {
	if o.hookPrincipal(w, r, false) == nil {
		return
	}
	s := o.st()
	s.mu.RLock()
	out := make([]eventHookJSON, 0, len(s.hookOrder))
	for _, id := range s.hookOrder {
		out = append(out, s.hooks[id].view(origin(r)))
	}
	s.mu.RUnlock()
	writeJSON(w, http.StatusOK, out)
}

func (s *state) activeHooks() int {
	n := 0
	for _, h := range s.hooks {
		if h.status == "ACTIVE" {
			n++
		}
	}
	return n
}

const tooManyHooks = "eventHook: The org already has the maximum of 25 active event hooks; deactivate one first."

func (o *Org) createEventHook(w http.ResponseWriter, r *http.Request) {
	p := o.hookPrincipal(w, r, true)
	if p == nil {
		return
	}
	h := parseHook(w, r)
	if h == nil {
		return
	}
	now := o.now()
	s := o.st()
	s.mu.Lock()
	full := s.activeHooks() >= MaxActiveEventHooks
	if !full {
		h.id = s.newID("who")
		h.status, h.verification = "ACTIVE", "UNVERIFIED"
		h.created, h.updated, h.createdBy = now, now, creatorID(p)
		s.hooks[h.id] = h
		s.hookOrder = append(s.hookOrder, h.id)
	}
	s.mu.Unlock()
	if full {
		hookValidation(w, tooManyHooks)
		return
	}
	o.recordCall(r, p, "event_hook.created", hookTarget(h))
	writeJSON(w, http.StatusOK, h.view(origin(r)))
}

// hook returns the event hook named by the request path, or answers 404.
func (o *Org) hook(w http.ResponseWriter, r *http.Request) *eventHook {
	id := r.PathValue("eventHookId")
	s := o.st()
	s.mu.RLock()
	h := s.hooks[id]
	s.mu.RUnlock()
	if h == nil {
		writeNotFound(w, id, "EventHook")
	}
	return h
}

func (o *Org) getEventHook(w http.ResponseWriter, r *http.Request) {
	if o.hookPrincipal(w, r, false) == nil {
		return
	}
	if h := o.hook(w, r); h != nil {
		writeJSON(w, http.StatusOK, h.view(origin(r)))
	}
}

// updateHook applies change to the current hook of the path under the
// state lock; change returns the new hook, or "" and a cause to refuse.
func (o *Org) updateHook(w http.ResponseWriter, r *http.Request, change func(s *state, h *eventHook) (*eventHook, string)) *eventHook {
	id := r.PathValue("eventHookId")
	s := o.st()
	s.mu.Lock()
	old := s.hooks[id]
	var nh *eventHook
	cause := ""
	if old != nil {
		nh, cause = change(s, old)
		if nh != nil {
			s.hooks[id] = nh
		}
	}
	s.mu.Unlock()
	switch {
	case old == nil:
		writeNotFound(w, id, "EventHook")
	case nh == nil:
		hookValidation(w, cause)
	}
	return nh
}

func (o *Org) replaceEventHook(w http.ResponseWriter, r *http.Request) {
	p := o.hookPrincipal(w, r, true)
	if p == nil {
		return
	}
	if o.hook(w, r) == nil {
		return
	}
	in := parseHook(w, r)
	if in == nil {
		return
	}
	now := o.now()
	nh := o.updateHook(w, r, func(_ *state, old *eventHook) (*eventHook, string) {
		c := *in
		c.id, c.status, c.verification, c.created, c.createdBy, c.updated = old.id, old.status, old.verification, old.created, old.createdBy, now
		if !c.sameChannel(old) {
			c.verification = "UNVERIFIED"
		}
		return &c, ""
	})
	if nh != nil {
		o.recordCall(r, p, "event_hook.updated", hookTarget(nh))
		writeJSON(w, http.StatusOK, nh.view(origin(r)))
	}
}

func (o *Org) deleteEventHook(w http.ResponseWriter, r *http.Request) {
	p := o.hookPrincipal(w, r, true)
	if p == nil {
		return
	}
	id := r.PathValue("eventHookId")
	s := o.st()
	s.mu.Lock()
	h := s.hooks[id]
	if h != nil && h.status == "INACTIVE" {
		delete(s.hooks, id)
		s.hookOrder = slices.DeleteFunc(s.hookOrder, func(x string) bool { return x == id })
	}
	s.mu.Unlock()
	switch {
	case h == nil:
		writeNotFound(w, id, "EventHook")
	case h.status != "INACTIVE":
		hookValidation(w, "eventHook: Only an INACTIVE event hook can be deleted; deactivate it first.")
	default:
		o.recordCall(r, p, "event_hook.deleted", hookTarget(h))
		w.WriteHeader(http.StatusNoContent)
	}
}

func (o *Org) hookLifecycle(activate bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p := o.hookPrincipal(w, r, true)
		if p == nil {
			return
		}
		now := o.now()
		changed := false
		nh := o.updateHook(w, r, func(s *state, old *eventHook) (*eventHook, string) {
			want := "INACTIVE"
			if activate {
				want = "ACTIVE"
			}
			if old.status == want {
				return old, ""
			}
			if activate && s.activeHooks() >= MaxActiveEventHooks {
				return nil, tooManyHooks
			}
			c := *old
			c.status, c.updated, changed = want, now, true
			return &c, ""
		})
		if nh == nil {
			return
		}
		if changed {
			typ := "event_hook.deactivated"
			if activate {
				typ = "event_hook.activated"
			}
			o.recordCall(r, p, typ, hookTarget(nh))
		}
		writeJSON(w, http.StatusOK, nh.view(origin(r)))
	}
}

func (o *Org) verifyEventHook(w http.ResponseWriter, r *http.Request) {
	p := o.hookPrincipal(w, r, true)
	if p == nil {
		return
	}
	h := o.hook(w, r)
	if h == nil {
		return
	}
	err := o.deliver.verify(r.Context(), o, h)
	if err != nil {
		o.recordOutcome(r, actorOf(p), p.clientID, "event_hook.verified", "FAILURE", hookTarget(h))
		// Okta's cause names the hook, not what went wrong; the reason
		// goes to the emulator's log only.
		o.log.Debug("event hook verification failed", slog.String("hook", h.id), slog.String("reason", err.Error()))
		hookValidation(w, "Unable to verify event hook. Hook "+h.name+" execution failed")
		return
	}
	now := o.now()
	nh := o.updateHook(w, r, func(_ *state, cur *eventHook) (*eventHook, string) {
		if !cur.sameChannel(h) {
			return nil, "eventHook: The event hook's channel changed during verification; verify it again."
		}
		c := *cur
		c.verification, c.updated = "VERIFIED", now
		return &c, ""
	})
	if nh != nil {
		o.recordCall(r, p, "event_hook.verified", hookTarget(nh))
		writeJSON(w, http.StatusOK, nh.view(origin(r)))
	}
}
