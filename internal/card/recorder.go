package card

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/store"
)

// StoreRecorder records runs and audit events in a store.Store.
type StoreRecorder struct {
	Store store.Store
}

// StartRun creates the run record; the store assigns its id.
func (r StoreRecorder) StartRun(ctx context.Context, run *store.Run) error {
	return r.Store.CreateRun(ctx, run)
}

// FinishRun stores the finished run and its audit event in one
// transaction (one commit instead of two).
func (r StoreRecorder) FinishRun(ctx context.Context, run *store.Run, e *store.AuditEvent) error {
	return r.Store.FinishRun(ctx, run, e)
}

// redacted replaces the values of custom-api-action headers in records:
// a header may carry a credential of some other system.
const redacted = "(redacted)"

// recordedInput is the run's input as stored: the checked input, with
// header values of custom-api-action redacted.
func recordedInput(c *Card, in map[string]any) json.RawMessage {
	b, err := json.Marshal(redactInput(c, in))
	if err != nil {
		return nil
	}
	return b
}

// RecordedInput is in, an input of card ref ("okta-devices/custom-api-action"),
// as records keep it: a flow item's input is recorded as its card run's
// is, each custom-api-action header value replaced by "(redacted)" (a
// headers value that is no map, which the card refuses, is replaced
// whole). in is not changed.
func RecordedInput(ref string, in map[string]any) map[string]any {
	c := lookup(ref)
	if c == nil {
		return in
	}
	return redactInput(c, in)
}

func redactInput(c *Card, in map[string]any) map[string]any {
	v, ok := in["headers"]
	if !ok || v == nil || c.ID != "custom-api-action" {
		return in
	}
	rec := maps.Clone(in)
	h, ok := v.(map[string]any)
	if !ok {
		rec["headers"] = redacted
		return rec
	}
	hh := make(map[string]any, len(h))
	for k := range h {
		hh[k] = redacted
	}
	rec["headers"] = hh
	return rec
}

// maxSummary bounds an audit event's input summary.
const maxSummary = 200

// summarizeInput is the one-line input summary of an audit event:
// "deviceId=guo..." for device cards, "METHOD /path" for custom calls.
func summarizeInput(c *Card, in map[string]any) string {
	var s string
	if c.ID == "custom-api-action" {
		rel, _ := in["relativeUrl"].(string)
		path, _, _ := strings.Cut(rel, "?")
		s = fmt.Sprintf("%v %s", in["method"], path)
	} else {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(in)) {
			v := fmt.Sprint(in[k])
			if strings.ContainsAny(v, " \t\"=") {
				v = fmt.Sprintf("%q", v)
			}
			parts = append(parts, k+"="+v)
		}
		s = strings.Join(parts, " ")
	}
	if utf8.RuneCountInString(s) > maxSummary {
		r := []rune(s)
		s = string(r[:maxSummary]) + "…"
	}
	return s
}
