package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// TestCLIEventsListNamesDeviceAndUser: events list names the device (name
// and id) and the user each event is about, so that the event of a device
// can be found (to plan a flow against it with flows plan --event UUID)
// without reading every event's LogEvent; an event that names no user
// shows "-" there.
func TestCLIEventsListNamesDeviceAndUser(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/events" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"events": [
 {"uuid": "e-2", "eventType": "device.user.remove", "published": "2026-12-07T04:55:42.100Z",
  "device": {"id": "guo1gNf6HdSNDFDrvOVH", "displayName": "Eng-dev-MBP-0001"}, "user": {"id": "00u1", "login": "ann@example.com"},
  "receivedVia": ["hook", "poll"], "receivedAt": "2026-12-07T04:55:42.200Z", "flowRuns": ["r1"], "connection": {"id": "conn_1", "nickname": "Prod"}},
 {"uuid": "e-1", "eventType": "device.lifecycle.suspend", "published": "2026-12-07T04:51:37.682Z",
  "device": {"id": "guo2", "displayName": "Kiosk 2"},
  "receivedVia": ["poll"], "receivedAt": "2026-12-07T04:51:40Z", "flowRuns": [], "connection": {"id": "conn_1", "nickname": "Prod"}}]}`)
	}))
	t.Cleanup(srv.Close)
	code, out, errOut := runCLI(t, map[string]string{"CARDFLOW_SERVER": srv.URL, "CARDFLOW_API_TOKEN": "x"}, "events", "list")
	if code != exitOK {
		t.Fatalf("events list: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		`(?m)^PUBLISHED +EVENT TYPE +DEVICE +USER +UUID +RECEIVED VIA +FLOW RUNS$`,
		`(?m)^2026-12-07 04:55:42 UTC +device\.user\.remove +Eng-dev-MBP-0001 \(guo1gNf6HdSNDFDrvOVH\) +ann@example\.com +e-2 +hook\+poll +r1$`,
		`(?m)^2026-12-07 04:51:37 UTC +device\.lifecycle\.suspend +Kiosk 2 \(guo2\) +- +e-1 +poll +-$`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("events list lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "00u1") {
		t.Errorf("events list shows the user's id, not only the login:\n%s", out)
	}
}

// TestCLIShowRunNamesItsEvent: flows show-run of a run an event started
// names the event (uuid and type) and the device and user it is about, as
// the console's run page does, where it said only "event at TIME"; a run
// of a schedule, or of an earlier version's event without them, shows
// what it has.
func TestCLIShowRunNamesItsEvent(t *testing.T) {
	runs := map[string]string{
		"r-event": `{"kind": "event", "time": "2026-12-07T04:55:42.100Z", "eventUuid": "e-2", "eventType": "device.user.remove",
		  "device": {"id": "guo1gNf6HdSNDFDrvOVH", "displayName": "Eng-dev-MBP-0001"}, "user": {"id": "00u1", "login": "ann@example.com"}}`,
		"r-lifecycle": `{"kind": "event", "time": "2026-12-07T04:55:42.100Z", "eventUuid": "e-3", "eventType": "device.lifecycle.suspend",
		  "device": {"id": "guo2", "displayName": ""}}`,
		"r-old":      `{"kind": "event", "time": "2026-12-07T04:55:42.100Z", "eventUuid": "e-1"}`,
		"r-schedule": `{"kind": "schedule", "time": "2026-12-07T02:00:00Z"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/api/v1/flow-runs/")
		trig, ok := runs[id]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": %q, "flow": "quarantine", "flowVersion": 1, "status": "succeeded", "actor": {"type": "bootstrap"},
		  "createdAt": "2026-12-07T04:55:43Z", "trigger": %s, "steps": []}`, id, trig)
	}))
	t.Cleanup(srv.Close)
	vars := map[string]string{"CARDFLOW_SERVER": srv.URL, "CARDFLOW_API_TOKEN": "x"}
	for id, want := range map[string]string{
		"r-event":     "\nEvent:   e-2 device.user.remove, device Eng-dev-MBP-0001 (guo1gNf6HdSNDFDrvOVH), user ann@example.com\n",
		"r-lifecycle": "\nEvent:   e-3 device.lifecycle.suspend, device guo2\n",
		"r-old":       "\nEvent:   e-1\n",
	} {
		code, out, errOut := runCLI(t, vars, "flows", "show-run", id)
		if code != exitOK || !strings.Contains(out, "\nTrigger: event at 2026-12-07 04:55:42 UTC; actor: ") || !strings.Contains(out, want) {
			t.Errorf("flows show-run %s: exit %d\n%s%s; want the trigger line and %q", id, code, out, errOut, want)
		}
	}
	code, out, errOut := runCLI(t, vars, "flows", "show-run", "r-schedule")
	if code != exitOK || !strings.Contains(out, "Trigger: schedule at 2026-12-07 02:00:00 UTC") || strings.Contains(out, "Event:") {
		t.Errorf("flows show-run of a scheduled run: exit %d\n%s%s; want its tick and no event", code, out, errOut)
	}
}

// TestCLINextRunInTheZone: flows enable of a cron flow in a zone says its
// next run on that zone's clocks too, where daylight saving moves a run
// away from the written time (30 2 * * * in Berlin runs at 03:00 on the
// night the clocks skip 02:00-03:00): the UTC time alone left it to the
// reader to work out. A flow in UTC, or one with every, says UTC alone.
func TestCLINextRunInTheZone(t *testing.T) {
	flows := map[string]string{
		"berlin": `{"kind": "schedule", "cron": "30 2 * * *", "timezone": "Europe/Berlin", "nextRunAt": "2027-03-28T01:00:00Z"}`,
		"utc":    `{"kind": "schedule", "cron": "30 2 * * *", "timezone": "UTC", "nextRunAt": "2027-03-28T02:30:00Z"}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/flows/"), "/enable")
		trig, ok := flows[name]
		if r.Method != http.MethodPost || !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"id": "f-%s", "name": %q, "enabled": true, "trigger": %s}`, name, name, trig)
	}))
	t.Cleanup(srv.Close)
	vars := map[string]string{"CARDFLOW_SERVER": srv.URL, "CARDFLOW_API_TOKEN": "x"}
	for name, want := range map[string]string{
		"berlin": "flow berlin: enabled (trigger: cron 30 2 * * * Europe/Berlin, next run: 2027-03-28 01:00:00 UTC = 2027-03-28 03:00 Europe/Berlin)\n",
		"utc":    "flow utc: enabled (trigger: cron 30 2 * * * UTC, next run: 2027-03-28 02:30:00 UTC)\n",
	} {
		if code, out, errOut := runCLI(t, vars, "flows", "enable", name); code != exitOK || out != want {
			t.Errorf("flows enable %s: exit %d\n%s%s; want %q", name, code, out, errOut, want)
		}
	}
}
