package oktaemu

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// logEvent is one System Log event. It is immutable once recorded.
type logEvent struct {
	seq       int64 // persistence order, from 1
	uuid      string
	published time.Time
	eventType string
	targetIDs []any // for target.id filters
	body      []byte
}

// attr is the attribute getter System Log filters use.
func (e *logEvent) attr(name string) (any, bool) {
	switch name {
	case "eventType":
		return e.eventType, true
	case "uuid":
		return e.uuid, true
	case "target.id":
		return e.targetIDs, true
	}
	return nil, false
}

// systemLog holds an org's events in persistence order.
type systemLog struct {
	mu     sync.RWMutex
	events []*logEvent
}

func (l *systemLog) append(e *logEvent) {
	l.mu.Lock()
	e.seq = int64(len(l.events)) + 1
	l.events = append(l.events, e)
	l.mu.Unlock()
}

// snapshot returns the events recorded so far; the slice is never written
// again below its length.
func (l *systemLog) snapshot() []*logEvent {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.events[:len(l.events):len(l.events)]
}

type logActorJSON struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	AlternateID string `json:"alternateId"`
	DisplayName string `json:"displayName"`
}

type logTargetJSON struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	AlternateID string         `json:"alternateId"`
	DisplayName string         `json:"displayName"`
	DetailEntry map[string]any `json:"detailEntry,omitempty"`
}

type logUserAgentJSON struct {
	RawUserAgent string `json:"rawUserAgent"`
	OS           string `json:"os"`
	Browser      string `json:"browser"`
}

type logClientJSON struct {
	UserAgent logUserAgentJSON `json:"userAgent"`
	Zone      string           `json:"zone"`
	Device    string           `json:"device"`
	ID        string           `json:"id,omitempty"`
	IPAddress string           `json:"ipAddress"`
}

type logOutcomeJSON struct {
	Result string `json:"result"`
}

type logTransactionJSON struct {
	Type   string         `json:"type"`
	ID     string         `json:"id"`
	Detail map[string]any `json:"detail"`
}

type logDebugContextJSON struct {
	DebugData map[string]any `json:"debugData"`
}

type logIPJSON struct {
	IP      string `json:"ip"`
	Version string `json:"version"`
}

type logRequestJSON struct {
	IPChain []logIPJSON `json:"ipChain"`
}

type logAuthContextJSON struct {
	AuthenticationStep int    `json:"authenticationStep"`
	ExternalSessionID  string `json:"externalSessionId"`
}

// logEventJSON is a LogEvent as the System Log API and event hook
// deliveries serve it.
type logEventJSON struct {
	UUID                  string              `json:"uuid"`
	Published             string              `json:"published"`
	EventType             string              `json:"eventType"`
	Version               string              `json:"version"`
	Severity              string              `json:"severity"`
	DisplayMessage        string              `json:"displayMessage"`
	Actor                 logActorJSON        `json:"actor"`
	Client                logClientJSON       `json:"client"`
	AuthenticationContext logAuthContextJSON  `json:"authenticationContext"`
	Outcome               logOutcomeJSON      `json:"outcome"`
	Target                []logTargetJSON     `json:"target"`
	Transaction           logTransactionJSON  `json:"transaction"`
	DebugContext          logDebugContextJSON `json:"debugContext"`
	SecurityContext       map[string]any      `json:"securityContext"`
	Request               logRequestJSON      `json:"request"`
}

// displayMessages are the System Log messages of the events the org
// records.
var displayMessages = map[string]string{
	"device.lifecycle.activate":          "Activate device",
	"device.lifecycle.deactivate":        "Deactivate device",
	"device.lifecycle.suspend":           "Suspend device",
	"device.lifecycle.unsuspend":         "Unsuspend device",
	"device.lifecycle.delete":            "Delete device",
	"device.enrollment.create":           "Enroll device",
	"device.user.add":                    "Add user to device",
	"device.user.remove":                 "Remove user from device",
	"event_hook.created":                 "Event hook created",
	"event_hook.updated":                 "Event hook updated",
	"event_hook.activated":               "Event hook activated",
	"event_hook.deactivated":             "Event hook deactivated",
	"event_hook.deleted":                 "Event hook deleted",
	"event_hook.verified":                "Event hook verified",
	"event_hook.delivery":                "Event hook delivery failed",
	"user.account.privilege.grant":       "Grant user privilege",
	"user.account.privilege.revoke":      "Revoke user privilege",
	"app.oauth2.client.privilege.grant":  "Grant client privilege",
	"app.oauth2.client.privilege.revoke": "Revoke client privilege",
}

// actorOf is who an API call acts as, in System Log form.
func actorOf(p *principal) logActorJSON {
	if p.user != nil {
		return userActor(p.user)
	}
	return logActorJSON{ID: p.app.clientID, Type: "PublicClientApp", AlternateID: p.app.clientID, DisplayName: p.app.label}
}

func userActor(u *user) logActorJSON {
	return logActorJSON{ID: u.id, Type: "User", AlternateID: u.login, DisplayName: u.name()}
}

// systemActor is the actor of events Okta raises by itself.
var systemActor = logActorJSON{ID: "0oaokta", Type: "SystemPrincipal", AlternateID: "system@okta.com", DisplayName: "Okta System"}

func deviceTarget(d *device) logTargetJSON {
	name, _ := d.profile["displayName"].(string)
	alt, _ := d.profile["serialNumber"].(string)
	if alt == "" {
		alt = "unknown"
	}
	detail := map[string]any{}
	if p, ok := d.profile["platform"].(string); ok {
		detail["platform"] = p
	}
	return logTargetJSON{ID: d.id, Type: "UDDevice", AlternateID: alt, DisplayName: name, DetailEntry: detail}
}

func userTarget(u *user) logTargetJSON {
	return logTargetJSON{ID: u.id, Type: "User", AlternateID: u.login, DisplayName: u.name()}
}

// clientTarget is a client app as the target of an event, in the shape of
// a client app acting (actorOf).
func clientTarget(a *app) logTargetJSON {
	return logTargetJSON{ID: a.clientID, Type: "PublicClientApp", AlternateID: a.clientID, DisplayName: a.label}
}

// roleTarget is a role assignment as the target of a privilege event.
func roleTarget(ra roleAssignment) logTargetJSON {
	return logTargetJSON{ID: ra.id, Type: "ROLE", AlternateID: ra.typ, DisplayName: roleLabels[ra.typ]}
}

// clientIP is the caller's address without the port.
func clientIP(r *http.Request) string {
	if r == nil {
		return "127.0.0.1"
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// record appends an event to the System Log and queues it for the event
// hooks that subscribe to its type. r is the request that caused it (nil
// for events Okta raises itself); clientID is the OAuth client of the
// call, if any.
func (o *Org) record(r *http.Request, actor logActorJSON, clientID, eventType string, targets ...logTargetJSON) {
	o.recordOutcome(r, actor, clientID, eventType, "SUCCESS", targets...)
}

// recordOutcome is record with the event's outcome.result.
func (o *Org) recordOutcome(r *http.Request, actor logActorJSON, clientID, eventType, result string, targets ...logTargetJSON) {
	o.recordEvent(r, actor, clientID, eventType, result, nil, targets)
}

// recordEvent is recordOutcome with entries added to the event's
// debugContext.debugData.
func (o *Org) recordEvent(r *http.Request, actor logActorJSON, clientID, eventType, result string, debug map[string]any, targets []logTargetJSON) {
	s := o.st()
	now := o.now()
	uuid := newUUID()
	ev := logEventJSON{
		UUID: uuid, Published: formatTime(now), EventType: eventType, Version: "0", Severity: "INFO",
		DisplayMessage: displayMessages[eventType], Actor: actor,
		Client:                logClientJSON{Zone: "null", Device: "Unknown", ID: clientID, IPAddress: clientIP(r)},
		AuthenticationContext: logAuthContextJSON{ExternalSessionID: "unknown"},
		Outcome:               logOutcomeJSON{Result: result},
		Target:                targets,
		Transaction:           logTransactionJSON{Type: "WEB", Detail: map[string]any{}},
		DebugContext:          logDebugContextJSON{DebugData: map[string]any{}},
		SecurityContext:       map[string]any{},
		Request:               logRequestJSON{IPChain: []logIPJSON{{IP: clientIP(r), Version: "V4"}}},
	}
	if strings.Contains(ev.Request.IPChain[0].IP, ":") {
		ev.Request.IPChain[0].Version = "V6"
	}
	ev.Client.UserAgent = logUserAgentJSON{RawUserAgent: "unknown", OS: "Unknown", Browser: "UNKNOWN"}
	if r != nil {
		if ua := r.UserAgent(); ua != "" {
			ev.Client.UserAgent.RawUserAgent = ua
		}
		reqID := requestID(r)
		if reqID == "" {
			reqID = newRequestID()
		}
		ev.Transaction.ID = reqID
		ev.DebugContext.DebugData["requestId"] = reqID
		ev.DebugContext.DebugData["requestUri"] = r.URL.Path
		ev.DebugContext.DebugData["url"] = r.URL.RequestURI()
	} else {
		ev.Transaction.Type = "JOB"
		ev.Transaction.ID = newRequestID()
	}
	for k, v := range debug {
		ev.DebugContext.DebugData[k] = v
	}
	if ev.Target == nil {
		ev.Target = []logTargetJSON{}
	}
	ids := make([]any, 0, len(targets))
	for _, t := range targets {
		ids = append(ids, t.ID)
	}
	e := &logEvent{uuid: uuid, published: now, eventType: eventType, targetIDs: ids, body: encodeJSON(ev)}
	s.log.append(e)
	o.deliver.enqueue(o, s, e)
}

// recordCall records an event caused by an API call of p.
func (o *Org) recordCall(r *http.Request, p *principal, eventType string, targets ...logTargetJSON) {
	o.record(r, actorOf(p), p.clientID, eventType, targets...)
}
