package events

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/store"
)

// DefaultMaxHookBody caps the body of one event hook delivery.
const DefaultMaxHookBody = 4 << 20

// HookPathPrefix is where the hook endpoint is served.
const HookPathPrefix = "/hooks/okta/"

// Sealer seals and opens secrets bound to additional data (a
// *keyring.Keyring).
type Sealer interface {
	Seal(plaintext []byte, aad string) ([]byte, error)
	Open(ciphertext []byte, aad string) ([]byte, error)
}

// SecretAAD is the additional data a connection's hook secret is sealed
// with.
func SecretAAD(connectionID string) string { return connectionID + "/event_hook_secret" }

// HookHandler serves the event hook endpoint, HookPathPrefix + the
// connection's opaque hook path. Set its fields before use; it is then
// safe for concurrent use.
type HookHandler struct {
	// Store holds the event sources and the inbox (required).
	Store store.Store
	// Keyring opens the hook secrets (required).
	Keyring Sealer
	// MaxBody caps a delivery's body; 0 means DefaultMaxHookBody.
	MaxBody int64
	// Now stamps received events; nil means time.Now.
	Now func() time.Time
	// Logger gets one line per refused or failed request, but for the
	// requests refused for their secret (anyone who can reach a hook's
	// URL can send them): the first to a hook is logged at once, the next
	// ones in one line at most every RefusalLogEvery (LogRefusals logs
	// the last of a burst); nil discards.
	Logger *slog.Logger
	// RefusalLogEvery is the least time between two lines about one
	// hook's requests refused for their secret; zero means
	// DefaultRefusalLogEvery.
	RefusalLogEvery time.Duration
	// Unauthorized, when set, is called for every request refused for
	// its secret (401), with the hook's connection (to count it in a
	// metric); it must not block.
	Unauthorized func(connectionID string)
	// Stored, when set, is called after new events of a connection were
	// committed (to wake the dispatcher); it must not block.
	Stored func(connectionID string)

	refused refusals
}

func (h *HookHandler) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *HookHandler) logger() *slog.Logger {
	if h.Logger != nil {
		return h.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// LogEventsOf reads Okta events in the shapes Okta writes them: one
// LogEvent, a System Log page (a list), or an event hook delivery. Each
// event is read on its own, as the intake reads a delivery or a page: one
// that is not an Okta LogEvent (a field of the wrong JSON type, say) is
// returned in bad, by its place, and costs none of the others. It does not
// ask for a uuid or a published time (a plan does without them). Its
// error says what the JSON as a whole is not.
func LogEventsOf(raw []byte) (good []okta.LogEvent, bad []Malformed, err error) {
	raw = bytes.TrimSpace(raw)
	var raws []json.RawMessage
	if len(raw) > 0 && raw[0] == '[' {
		if err := json.Unmarshal(raw, &raws); err != nil {
			return nil, nil, fmt.Errorf("is not a JSON list: %w", err)
		}
	} else {
		// A delivery by its eventType or its data.events; an event with
		// a field of the wrong type must not make it read as one event
		// of type com.okta.event_hook.
		var d struct {
			EventType any `json:"eventType"`
			Data      struct {
				Events []json.RawMessage `json:"events"`
			} `json:"data"`
		}
		if json.Unmarshal(raw, &d) == nil && (d.EventType == "com.okta.event_hook" || len(d.Data.Events) > 0) {
			raws = d.Data.Events
		} else {
			raws = []json.RawMessage{raw}
		}
	}
	for i, r := range raws {
		le, m := decodeEvent(i, r)
		if m != nil {
			bad = append(bad, *m)
			continue
		}
		good = append(good, le)
	}
	return good, bad, nil
}

// ServeHTTP answers Okta's verification GET and stores delivered events.
// Answers: 404 for an unknown hook path, 401 without the right secret, 400
// for a body that is not an event hook delivery, 413 for one over the cap,
// 503 when the store fails (Okta retries a 5xx once; the poller, if on,
// catches up), and 200 once the events are committed. An event of the
// delivery that cardflow cannot use is left out and reported
// (reportMalformed); the others are stored and answered 200.
func (h *HookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, HookPathPrefix)
	if !ok || path == "" || strings.Contains(path, "/") {
		http.NotFound(w, r)
		return
	}
	src, err := h.Store.GetEventSourceByHookPath(r.Context(), path)
	if errors.Is(err, store.ErrNotFound) || err == nil && len(src.SealedSecret) == 0 {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.logger().Error("event hook: reading the event source", "error", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	secret, err := h.Keyring.Open(src.SealedSecret, SecretAAD(src.ConnectionID))
	if err != nil {
		h.logger().Error("event hook: opening the hook secret", "connection", src.ConnectionID, "error", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), secret) != 1 {
		h.refuse(w, r, src.ConnectionID)
		return
	}
	switch r.Method {
	case http.MethodGet:
		challenge := r.Header.Get("X-Okta-Verification-Challenge")
		if challenge == "" {
			http.Error(w, "missing X-Okta-Verification-Challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"verification": challenge})
	case http.MethodPost:
		h.deliver(w, r, src.ConnectionID)
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

func (h *HookHandler) deliver(w http.ResponseWriter, r *http.Request, connID string) {
	limit := h.MaxBody
	if limit <= 0 {
		limit = DefaultMaxHookBody
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.logger().Warn("event hook: delivery over the body cap refused", "connection", connID, "limit", limit)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		http.Error(w, "reading the body failed", http.StatusBadRequest)
		return
	}
	var d delivery
	if err := json.Unmarshal(body, &d); err != nil || d.EventType != "com.okta.event_hook" {
		h.logger().Warn("event hook: malformed delivery refused", "connection", connID)
		http.Error(w, "not an Okta event hook delivery", http.StatusBadRequest)
		return
	}
	// An event cardflow cannot use is left out, the others stored and
	// the delivery answered 200: Okta sends no delivery again after a
	// 4xx, and only once after a 5xx, with the same event as unusable,
	// so refusing the delivery would lose the events it can use.
	les, bad := decodeEvents(d.Data.Events)
	evs, _ := toStore(connID, les, h.now()) // each usable: decodeEvents checked
	n, err := h.Store.PutEvents(r.Context(), evs, store.ViaHook)
	if err != nil {
		h.logger().Error("event hook: storing events", "connection", connID, "error", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	if n > 0 && h.Stored != nil {
		h.Stored(connID)
	}
	where := "event hook delivery " + d.EventID
	if err := reportMalformed(r.Context(), h.Store, h.logger(), connID, where, len(d.Data.Events), bad, h.now()); err != nil {
		// Okta sends it once more: its events are stored once.
		h.logger().Error("event hook: recording the events left out of a delivery", "connection", connID, "error", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// delivery is an event hook delivery as the endpoint reads it: its
// events one by one (decodeEvents).
type delivery struct {
	EventType string `json:"eventType"`
	EventID   string `json:"eventId"`
	Data      struct {
		Events []json.RawMessage `json:"events"`
	} `json:"data"`
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
