package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestEventsSayWhyAnEventWaits: the Events page says, under "not
// dispatched yet", why an event waits and what to do: here the
// reauthorization of its flow's connection.
func TestEventsSayWhyAnEventWaits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	e.connect(t, "Reader", nil)
	id := e.storeFlow(t, enrollQuarantineFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, out)
	}
	err := e.store.UpdateConnection(t.Context(), prod.ID, func(c *store.Connection) error {
		c.Status, c.StatusReason, c.Remedy = store.StatusNeedsReauthorization, "the refresh token was revoked", "reauthorize the connection"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	raw := `{"uuid":"e-held","eventType":"device.enrollment.create","published":"` + at.Format(time.RFC3339Nano) + `","target":[{"id":"guo9","type":"UDDevice"}]}`
	if _, err := e.store.PutEvents(t.Context(), []*store.Event{{UUID: "e-held", ConnectionID: prod.ID, EventType: "device.enrollment.create", Published: at, Raw: json.RawMessage(raw)}}, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/events")
	_, page := get(t, c, e.url+"/events")
	if want := "which needs reauthorization: reauthorize the connection"; !strings.Contains(page, "not dispatched yet") || !strings.Contains(page, want) {
		t.Errorf("the Events page lacks why the event waits (%q):\n%s", want, page)
	}

	// Only those that wait: the held event, not one dispatched; the
	// link back lists them all again, of the same connection.
	done := at.Add(-time.Minute)
	if _, err := e.store.PutEvents(t.Context(), []*store.Event{{UUID: "e-done", ConnectionID: prod.ID, EventType: "device.enrollment.create", Published: done,
		Raw: json.RawMessage(`{"uuid":"e-done","eventType":"device.enrollment.create","published":"` + done.Format(time.RFC3339Nano) + `"}`)}}, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	if err := e.store.MarkEventDispatched(t.Context(), "e-done", done); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, `href="/events?waiting=true" id="waiting-toggle">show only those that wait</a>`) || strings.Count(page, `<td role="cell" class="lead">`) != 1 {
		t.Errorf("the Events page does not offer the events that wait alone")
	}
	_, page = get(t, c, e.url+"/events?connection=Prod&waiting=true")
	if !strings.Contains(page, "<h1>Waiting events of Prod</h1>") || !strings.Contains(page, "<code>guo9</code>") || strings.Count(page, `<td role="cell" class="lead">`) != 1 ||
		!strings.Contains(page, `href="/events?connection=Prod" id="waiting-toggle">show the dispatched ones too</a>`) {
		t.Errorf("the Events page of the events that wait: want the held event alone, and the way back\n%s", page)
	}
	if err := e.store.MarkEventDispatched(t.Context(), "e-held", at); err != nil {
		t.Fatal(err)
	}
	if _, page = get(t, c, e.url+"/events?waiting=true"); !strings.Contains(page, "No event waits: every event received has been dispatched") {
		t.Errorf("the Events page of the events that wait, none waiting:\n%s", page)
	}
}
