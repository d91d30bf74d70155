package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
)

// TestCLIEventsListSaysWhatWaits: GET /api/v1/events and events list say of an event the
// dispatcher has not dispatched yet (here one of a flow whose connection
// needs reauthorization) that it waits, as the console's Events page
// does, where its FLOW RUNS read "-" as for an event no flow wanted; an
// event dispatched without a run still shows "-", and --json has
// dispatchedAt for it and waiting for the other.
func TestCLIEventsListSaysWhatWaits(t *testing.T) {
	var dir string
	s := startServerWith(t, oktaemu.Config{Devices: 2}, func(c *app.Config) { dir = c.DataDir })
	id := s.connect(t, "Demo org")
	flowFile := filepath.Join(t.TempDir(), "quarantine.yaml")
	writeFile(t, flowFile, quarantineFlow)
	if code, out, errOut := runCLI(t, s.vars, "flows", "store", flowFile, "--enable"); code != exitOK {
		t.Fatalf("flows store --enable: exit %d\n%s%s", code, out, errOut)
	}
	// The connection needs reauthorization: an enrollment waits for it.
	var upOut, upErr strings.Builder
	e := &env{stdin: strings.NewReader(oktaemu.DemoClientSecret), stdout: &upOut, stderr: &upErr, getenv: func(k string) string { return s.vars[k] }}
	if code := run(context.Background(), []string{"connections", "update", "Demo org", "--client-secret-stdin", "--no-reauthorize"}, e); code != exitOK {
		t.Fatalf("connections update --no-reauthorize: exit %d\n%s%s", code, &upOut, &upErr)
	}

	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// Published well after the flow's enabling, by any clock: the flow
	// wants the enrollment.
	now := s.emu.Now()
	published := now.Add(time.Minute).UTC().Truncate(time.Millisecond)
	event := func(uuid, typ string) *store.Event {
		raw := `{"uuid": "` + uuid + `", "eventType": "` + typ + `", "published": "` + published.Format("2006-01-02T15:04:05.000Z") + `",
		  "target": [{"id": "guo9", "type": "UDDevice", "displayName": "Kiosk 9"}]}`
		return &store.Event{UUID: uuid, ConnectionID: id, EventType: typ, Published: published, Raw: json.RawMessage(raw)}
	}
	if _, err := st.PutEvents(t.Context(), []*store.Event{event("e-waits", "device.enrollment.create"), event("e-done", "device.lifecycle.suspend")}, store.ViaPoll); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkEventDispatched(t.Context(), "e-done", now); err != nil {
		t.Fatal(err)
	}

	// The API: dispatchedAt for the dispatched event, waiting (and no
	// dispatchedAt) for the other; neither left empty.
	code, body := s.api(t, "GET", "/api/v1/events", "")
	var answer struct {
		Events []map[string]any `json:"events"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &answer) != nil || len(answer.Events) != 2 {
		t.Fatalf("GET /api/v1/events: %d %s; want the two events", code, body)
	}
	for _, ev := range answer.Events {
		_, hasAt := ev["dispatchedAt"]
		waiting, hasWaiting := ev["waiting"]
		switch ev["uuid"] {
		case "e-waits":
			if hasAt || waiting != "not dispatched yet" {
				t.Errorf("GET /api/v1/events lists the waiting event as %v; want waiting \"not dispatched yet\", no dispatchedAt", ev)
			}
		case "e-done":
			if !hasAt || hasWaiting {
				t.Errorf("GET /api/v1/events lists the dispatched event as %v; want its dispatchedAt, no waiting", ev)
			}
		}
	}

	code, out, errOut := runCLI(t, s.vars, "events", "list")
	if code != exitOK {
		t.Fatalf("events list: exit %d\n%s%s", code, out, errOut)
	}
	// Under the list, why it waits and what to do: whether the org's time
	// of the flow's enabling was asked before the connection needed
	// reauthorization or not, it waits for the reauthorization.
	if want := regexp.MustCompile(`\n\nEvent e-waits is not dispatched yet: .*flow quarantine-new-devices.*the connection Demo org, which needs reauthorization.*: reauthorize the connection \(Reauthorize on its console page, or cardflow connections reauthorize "Demo org"\): sign in to the org again.*\.\n$`); !want.MatchString(out) {
		t.Errorf("events list does not say why e-waits waits (%s):\n%s", want, out)
	}
	for _, want := range []string{
		`(?m) e-waits +poll +- \(not dispatched yet\)$`,
		`(?m) e-done +poll +-$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("events list lacks %s:\n%s", want, out)
		}
	}
	code, out, errOut = runCLI(t, s.vars, "events", "list", "--json")
	var list api.EventList
	if code != exitOK || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("events list --json: exit %d\n%s%s", code, out, errOut)
	}
	got := map[string]api.Event{}
	for _, ev := range list.Events {
		got[ev.UUID] = ev
	}
	if ev := got["e-waits"]; ev.Waiting != "not dispatched yet" || ev.DispatchedAt != nil {
		t.Errorf("the waiting event: waiting %q, dispatchedAt %v; want it not dispatched yet\n%s", ev.Waiting, ev.DispatchedAt, out)
	}
	if ev := got["e-waits"]; ev.WaitingCode != "connection_inactive" && ev.WaitingCode != "org_clock_unknown" || !strings.Contains(ev.WaitingReason, "Demo org, which needs reauthorization") {
		t.Errorf("the waiting event: waitingCode %q, waitingReason %q; want it waiting for the connection's reauthorization\n%s", ev.WaitingCode, ev.WaitingReason, out)
	}
	if ev := got["e-done"]; ev.WaitingCode != "" || ev.WaitingReason != "" {
		t.Errorf("the dispatched event: waitingCode %q, waitingReason %q; want neither", ev.WaitingCode, ev.WaitingReason)
	}
	if ev := got["e-done"]; ev.Waiting != "" || ev.DispatchedAt == nil || !ev.DispatchedAt.Equal(now) {
		t.Errorf("the dispatched event: waiting %q, dispatchedAt %v; want dispatched at %s\n%s", ev.Waiting, ev.DispatchedAt, now, out)
	}
	if strings.Contains(out, `"waiting": ""`) {
		t.Errorf("events list --json has an empty waiting; want it left out\n%s", out)
	}
}
