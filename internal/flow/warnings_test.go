package flow

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
)

// scheduleDoc is a valid flow document whose on.schedule has lines (line
// 4: cron, at column 11; line 5: timezone, at column 15).
func scheduleDoc(cron, zone string) string {
	return "name: t\non:\n  schedule:\n    cron: \"" + cron + "\"\n    timezone: " + zone + "\n" + `steps:
  - id: a
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: x}
`
}

// TestScheduleWarnings: what a schedule says that is legal but likely not
// meant is a warning at its line, with a remedy; the document is valid and
// its schedule is as it was (a stored flow with it runs as it did).
func TestScheduleWarnings(t *testing.T) {
	tests := []struct {
		name, cron, zone string
		line, col        int
		path             string
		msg, remedy      string // contained in the warning's
	}{
		{"EST", "0 2 * * *", "EST", 5, 15, "on.schedule.timezone",
			"timezone EST is a fixed offset, UTC-5 all year, without daylight saving time", "America/New_York"},
		{"MST", "0 2 * * *", "MST", 5, 15, "on.schedule.timezone", "UTC-7 all year", "America/Denver for the clocks of Denver (the US Mountain zone), which follow daylight saving time, or America/Phoenix"},
		{"HST", "0 2 * * *", "HST", 5, 15, "on.schedule.timezone", "UTC-10 all year", "Pacific/Honolulu"},
		{"Etc/GMT+5", "0 2 * * *", "Etc/GMT+5", 5, 15, "on.schedule.timezone",
			"timezone Etc/GMT+5 is UTC-5 all year, not UTC+5: the sign of the Etc/GMT zones is inverted", "for UTC+5 write Etc/GMT-5"},
		{"Etc/GMT-2", "0 2 * * *", "Etc/GMT-2", 5, 15, "on.schedule.timezone", "is UTC+2 all year, not UTC-2", "for UTC-2 write Etc/GMT+2"},
		{"question mark", "0 2 ? * MON", "UTC", 4, 11, "on.schedule.cron",
			`cron "0 2 ? * MON": the day-of-month field's ? is read as * (every day)`, "write * instead"},
		{"minute step that does not divide the hour", "*/45 * * * *", "UTC", 4, 11, "on.schedule.cron",
			"the minute field */45 fires at minutes 0 and 45, 45 then 15 minutes apart", "write every: 45m instead of cron; to keep these times, list them (0,45)"},
		{"minute step over the hour", "*/90 * * * *", "UTC", 4, 11, "on.schedule.cron",
			"the minute field */90 fires at minute 0 only, once an hour", "every: 90m"},
		{"hour step that does not divide the day", "0 */5 * * *", "Europe/Berlin", 4, 11, "on.schedule.cron",
			"the hour field */5 fires at hours 0, 5, 10, 15 and 20, 5 then 4 hours apart", "list them (0,5,10,15,20)"},
		{"stepped range to the end", "0-59/7 9 * * *", "UTC", 4, 11, "on.schedule.cron", "7 then 4 minutes apart", "every: 7m"},
		{"31st", "0 2 31 * *", "UTC", 4, 11, "on.schedule.cron",
			`cron "0 2 31 * *" has no run in February, April, June, September and November, which have no 31st`, "run on days 28-31"},
		{"30th", "0 2 30 * *", "UTC", 4, 11, "on.schedule.cron", "no run in February, which has no 30th", "days 28-31"},
		{"29th of February", "0 2 29 2 *", "UTC", 4, 11, "on.schedule.cron", "no run in February but of leap years", "for the last day of February every year, run on days 28-29"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Check(context.Background(), []byte(scheduleDoc(tt.cron, tt.zone)), demoEnv())
			if err != nil {
				t.Fatalf("Check: %v; want the document valid, with a warning", err)
			}
			ws := doc.Warnings()
			if len(ws) != 1 {
				t.Fatalf("warnings = %+v; want one", ws)
			}
			w := ws[0]
			if w.Line != tt.line || w.Column != tt.col || w.Path != tt.path || !strings.Contains(w.Message, tt.msg) || !strings.Contains(w.Remedy, tt.remedy) {
				t.Errorf("warning = %+v;\nwant %d:%d %s, message with %q, remedy with %q", w, tt.line, tt.col, tt.path, tt.msg, tt.remedy)
			}
			if s := doc.Trigger.Schedule; s.Cron != tt.cron || s.Timezone != tt.zone {
				t.Errorf("schedule = %q in %s; want it as written", s.Cron, s.Timezone)
			}
		})
	}
}

// TestScheduleWithoutWarnings: what is meant as written warns of nothing:
// zones of places, UTC and its names, Etc/GMT+0, steps that divide the
// hour or the day, a stepped range short of the end, a 31st that the
// months named all have, and days that either day field matches.
func TestScheduleWithoutWarnings(t *testing.T) {
	for _, c := range [][2]string{
		{"0 2 * * *", "America/New_York"}, {"0 2 * * *", "UTC"}, {"0 2 * * *", "Etc/UTC"}, {"0 2 * * *", "Etc/GMT+0"},
		{"0 2 * * *", "EST5EDT"}, {"0 2 * * *", "America/Phoenix"},
		{"*/15 */6 * * *", "UTC"}, {"5/20 * * * *", "UTC"}, {"0-30/7 * * * *", "UTC"}, {"*/30 9-17/2 * * *", "UTC"},
		{"0 2 31 1,3,5,7,8,10,12 *", "UTC"}, {"0 2 1,31 * *", "UTC"}, {"0 2 31 * MON", "UTC"}, {"0 2 28 * *", "UTC"},
	} {
		doc := mustParse(t, scheduleDoc(c[0], c[1]))
		if ws := doc.Warnings(); len(ws) != 0 {
			t.Errorf("cron %q in %s: warnings %+v; want none", c[0], c[1], ws)
		}
	}
}

// TestWarningsBesideErrors: a document with problems carries its warnings
// in details.warnings, both when its parse fails and when only its
// connections do; every is not warned of for a zone (that is an error).
func TestWarningsBesideErrors(t *testing.T) {
	src := strings.Replace(scheduleDoc("0 2 * * *", "EST"), "deviceId: x", "deviceId: x, colour: red", 1)
	_, err := Check(context.Background(), []byte(src), demoEnv())
	p, ok := problem.As(err)
	if !ok {
		t.Fatalf("Check: %v; want the unknown input refused", err)
	}
	ws, _ := p.Details["warnings"].([]Warning)
	if len(ws) != 1 || !strings.Contains(ws[0].Message, "timezone EST") {
		t.Errorf("details.warnings = %#v; want the one of EST", p.Details["warnings"])
	}

	src = strings.Replace(scheduleDoc("*/45 * * * *", "UTC"), "Demo org", "Old org", 1)
	doc, err := Check(context.Background(), []byte(src), demoEnv())
	p, ok = problem.As(err)
	if !ok || p.Code != problem.NeedsReauthorization {
		t.Fatalf("Check: %v; want needs_reauthorization", err)
	}
	if ws, _ := p.Details["warnings"].([]Warning); len(ws) != 1 || ws[0].Path != "on.schedule.cron" {
		t.Errorf("details.warnings = %#v; want the one of */45", p.Details["warnings"])
	}
	if doc == nil || len(doc.Warnings()) != 1 {
		t.Errorf("document = %v; want it with its warning", doc)
	}

	if _, err := Parse([]byte(strings.Replace(scheduleDoc("0 2 * * *", "UTC"), "timezone: UTC", "colour: red", 1))); err != nil {
		if p, _ := problem.As(err); p.Details["warnings"] != nil {
			t.Errorf("details.warnings = %#v of a document without any", p.Details["warnings"])
		}
	} else {
		t.Fatal("an unknown key in on.schedule was accepted")
	}
}

// TestWarningsOfAStoredSchedule: the scheduler's schedule of a flow with
// a warning ticks as the document reads it: EST is UTC-5 in July too, and
// */45 fires at :00 and :45.
func TestWarningsOfAStoredSchedule(t *testing.T) {
	doc := mustParse(t, scheduleDoc("0 2 * * *", "EST"))
	s, err := ScheduleFromSpec(doc.Trigger.SpecJSON())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Next(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)), time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("next = %v; want %v (02:00 at UTC-5)", got, want)
	}
	s = mustParse(t, scheduleDoc("*/45 * * * *", "UTC")).Trigger.Schedule
	at := time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	var got []string
	for range 3 {
		at = s.Next(at)
		got = append(got, at.Format("15:04"))
	}
	if strings.Join(got, " ") != "00:45 01:00 01:45" {
		t.Errorf("ticks = %v; want 00:45 01:00 01:45", got)
	}
}

// TestWarningsInDocumentOrder: warnings are listed by line, though the
// cron's are found after the timezone's.
func TestWarningsInDocumentOrder(t *testing.T) {
	ws := mustParse(t, scheduleDoc("0 2 ? * *", "Etc/GMT+5")).Warnings()
	if len(ws) != 2 || ws[0].Line != 4 || ws[0].Path != "on.schedule.cron" || ws[1].Line != 5 || ws[1].Path != "on.schedule.timezone" {
		t.Errorf("warnings = %+v; want the cron's (line 4), then the timezone's (line 5)", ws)
	}
}

// TestQuestionMarkIsStar: a cron field's ?, which the warning says is read
// as *, fires as * does, also where that differs from a fixed time: in
// the hour the clocks skip (a job of every minute of 02:xx has none that
// night in Berlin, where a job at a fixed time runs after the jump) and
// with a step in a day field (?/2 restricts the day-of-month as */2 does,
// so that a day must match the day-of-week too).
func TestQuestionMarkIsStar(t *testing.T) {
	for _, c := range [][2]string{{"? 2 * * *", "* 2 * * *"}, {"0 2 ?/2 * MON", "0 2 */2 * MON"}, {"?/20 2 * * *", "*/20 2 * * *"}} {
		q := mustParse(t, scheduleDoc(c[0], "Europe/Berlin")).Trigger.Schedule
		star := mustParse(t, scheduleDoc(c[1], "Europe/Berlin")).Trigger.Schedule
		at := time.Date(2027, 3, 20, 0, 0, 0, 0, time.UTC)
		for range 40 {
			a, b := q.Next(at), star.Next(at)
			if !a.Equal(b) {
				t.Errorf("cron %q: next after %v = %v; want %v, as %q", c[0], at, a, b, c[1])
				break
			}
			at = a
		}
	}
}

// TestConnectionWarnings: Check's refusal of a document whose only
// problems are the state of its connections (one not active, a scope not
// granted) turns into one warning per step (or event trigger) at the
// connection, saying the fix the refusal says; a refusal with any other
// problem does not.
func TestConnectionWarnings(t *testing.T) {
	const head = "name: f\non:\n  event:\n    card: okta-devices/device-removed-from-user\n    connection: Old org\n    delivery: poll\nsteps:\n"
	const steps = "  - id: find\n    card: okta-devices/search-devices\n    connection: Old org\n" +
		"  - id: suspend\n    card: okta-devices/suspend-device\n    connection: Read only\n    for_each: ${{ steps.find.output.devices }}\n    input: {deviceId: \"${{ item.id }}\"}\n"
	env := demoEnv()
	for i := range env.conns {
		if env.conns[i].Nickname == "Old org" {
			env.conns[i].StatusReason = "its refresh token expired"
		}
	}
	doc, err := Check(context.Background(), []byte(head+steps), eventEnv{env})
	if err == nil || doc == nil {
		t.Fatalf("Check = %v, %v; want the document and its connections' refusal", doc, err)
	}
	ws, ok := ConnectionWarnings(err)
	if !ok {
		t.Fatalf("ConnectionWarnings(%v) = false; want the connections' problems as warnings", err)
	}
	reauth := `connection "Old org" needs reauthorization: its refresh token expired; the flow is not run, planned or enabled until it is active`
	fix := `reauthorize the connection (Reauthorize on its console page, or cardflow connections reauthorize "Old org")`
	want := []Warning{
		{Line: 3, Column: 3, Path: "on.event.connection", Message: reauth, Remedy: fix},
		{Line: 10, Column: 17, Path: "steps[0].connection", Message: reauth, Remedy: fix},
		{Line: 11, Column: 5, Path: "steps[1].connection", Message: `card okta-devices/suspend-device needs scope okta.devices.manage, which connection "Read only" was not granted (granted: openid okta.devices.read); the flow is not run, planned or enabled until it is`},
	}
	if len(ws) != len(want) {
		t.Fatalf("warnings = %#v; want %d", ws, len(want))
	}
	for i := range want {
		if want[i].Remedy == "" {
			want[i].Remedy = ws[i].Remedy // the scope's fix, said by TestValidateScopePreflight
		}
		if ws[i] != want[i] || ws[i].Remedy == "" {
			t.Errorf("warning %d = %#v; want %#v", i, ws[i], want[i])
		}
	}
	doc.AddWarnings(ws)
	if got := doc.Warnings(); len(got) != 3 {
		t.Errorf("document warnings = %#v; want the 3", got)
	}

	_, err = Check(context.Background(), []byte(head+steps+"  - id: bad\n    card: okta-devices/no-such-card\n    connection: Demo org\n"), eventEnv{env})
	if problem.CodeOf(err) != problem.InvalidInput {
		t.Fatalf("Check of an unknown card = %v; want invalid_input", err)
	}
	if ws, ok := ConnectionWarnings(err); ok {
		t.Errorf("ConnectionWarnings of a document with an unknown card = %#v, true; want false", ws)
	}
	if _, ok := ConnectionWarnings(errors.New("database down")); ok {
		t.Error("ConnectionWarnings of another error = true")
	}
}
