package flow

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
)

const triggerSteps = `steps:
  - id: stale
    card: okta-devices/search-devices
    connection: Demo org
    input:
      search: 'lastUpdated lt "${{ inputs.since }}"'
`

func TestTriggerParse(t *testing.T) {
	doc := mustParse(t, `name: nightly
inputs:
  since: {type: string, required: true}
on:
  schedule:
    cron: "0 2 * * *"
    timezone: Europe/Berlin
  inputs:
    since: ${{ string(trigger.time - duration("2160h")) }}
`+triggerSteps)
	tr := doc.Trigger
	if tr == nil || tr.Schedule == nil || tr.Event != nil {
		t.Fatalf("trigger = %+v; want a schedule", tr)
	}
	if tr.Kind() != KindSchedule || tr.Schedule.Cron != "0 2 * * *" || tr.Schedule.Timezone != "Europe/Berlin" {
		t.Errorf("schedule = %+v", tr.Schedule)
	}
	if got, want := string(tr.SpecJSON()), `{"cron":"0 2 * * *","kind":"schedule","timezone":"Europe/Berlin"}`; got != want {
		t.Errorf("SpecJSON = %s; want %s", got, want)
	}
	tick := time.Date(2025, 3, 1, 1, 0, 0, 0, time.UTC) // 02:00 in Berlin
	in, err := doc.TriggerInputs(context.Background(), Firing{Kind: KindSchedule, Time: tick})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := in["since"], "2024-12-01T01:00:00Z"; got != want {
		t.Errorf("since = %v; want %v (90 days before the tick)", got, want)
	}
	late := mustParse(t, `name: late
inputs:
  since: {type: string, required: true}
on:
  schedule:
    cron: "0 2 * * *"
    timezone: Europe/Berlin
    startingDeadline: 120m
  inputs:
    since: ${{ string(trigger.time - duration("2160h")) }}
`+triggerSteps)
	if got := late.Trigger.Schedule.StartingDeadline; got != 2*time.Hour {
		t.Errorf("StartingDeadline = %v; want 2h", got)
	}
	if got, want := string(late.Trigger.SpecJSON()), `{"cron":"0 2 * * *","kind":"schedule","startingDeadline":"2h0m0s","timezone":"Europe/Berlin"}`; got != want {
		t.Errorf("SpecJSON with startingDeadline = %s; want %s", got, want)
	}
	if sch, err := ScheduleFromSpec(late.Trigger.SpecJSON()); err != nil || sch.StartingDeadline != 2*time.Hour {
		t.Errorf("ScheduleFromSpec = %+v, %v; want its startingDeadline of 2h", sch, err)
	}
	plain := mustParse(t, "name: manual\n"+triggerSteps[:0]+"steps:\n  - id: a\n    card: okta-devices/read-device\n    connection: c\n    input: {deviceId: x}\n")
	if plain.Trigger != nil || plain.Trigger.SpecJSON() != nil {
		t.Errorf("a flow without on: has trigger %+v", plain.Trigger)
	}
}

func TestScheduleNext(t *testing.T) {
	berlin, lordHowe, apia := mustZone(t, "Europe/Berlin"), mustZone(t, "Australia/Lord_Howe"), mustZone(t, "Pacific/Apia")
	tests := []struct {
		name     string
		schedule string
		after    time.Time
		want     []time.Time // the next ticks, in order
	}{
		{"every 15m aligned to the epoch", "every: 15m", time.Date(2025, 1, 1, 10, 7, 30, 0, time.UTC),
			[]time.Time{time.Date(2025, 1, 1, 10, 15, 0, 0, time.UTC), time.Date(2025, 1, 1, 10, 30, 0, 0, time.UTC)}},
		{"every on a tick gives the next", "every: 1h", time.Date(2025, 1, 1, 10, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2025, 1, 1, 11, 0, 0, 0, time.UTC)}},
		{"cron in UTC", `cron: "30 2 * * 1"`, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), // a Wednesday
			[]time.Time{time.Date(2025, 1, 6, 2, 30, 0, 0, time.UTC), time.Date(2025, 1, 13, 2, 30, 0, 0, time.UTC)}},
		{"cron in a zone", "cron: \"0 2 * * *\"\n    timezone: Europe/Berlin", time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2025, 1, 2, 2, 0, 0, 0, berlin), time.Date(2025, 1, 3, 2, 0, 0, 0, berlin)}},
		// 2025-03-30 02:00-03:00 does not exist in Berlin: as in cron, a
		// job at a fixed time in it runs right after the jump, at 03:00.
		{"spring forward runs right after the jump", "cron: \"30 2 * * *\"\n    timezone: Europe/Berlin", time.Date(2025, 3, 29, 12, 0, 0, 0, berlin),
			[]time.Time{time.Date(2025, 3, 30, 3, 0, 0, 0, berlin), time.Date(2025, 3, 31, 2, 30, 0, 0, berlin)}},
		{"spring forward: the hour's start", "cron: \"0 2 * * *\"\n    timezone: Europe/Berlin", time.Date(2025, 3, 29, 12, 0, 0, 0, berlin),
			[]time.Time{time.Date(2025, 3, 30, 1, 0, 0, 0, time.UTC), time.Date(2025, 3, 31, 2, 0, 0, 0, berlin)}},
		{"spring forward: a job after the gap runs once", "cron: \"0 3 * * *\"\n    timezone: Europe/Berlin", time.Date(2025, 3, 29, 12, 0, 0, 0, berlin),
			[]time.Time{time.Date(2025, 3, 30, 3, 0, 0, 0, berlin), time.Date(2025, 3, 31, 3, 0, 0, 0, berlin)}},
		{"spring forward: a list with a time in the gap and one after it", "cron: \"30 1,2,3 * * *\"\n    timezone: Europe/Berlin", time.Date(2025, 3, 30, 0, 0, 0, 0, berlin),
			[]time.Time{time.Date(2025, 3, 30, 1, 30, 0, 0, berlin), time.Date(2025, 3, 30, 3, 0, 0, 0, berlin), time.Date(2025, 3, 30, 3, 30, 0, 0, berlin)}},
		{"spring forward: a * hour skips the missing hour", "cron: \"30 * * * *\"\n    timezone: Europe/Berlin", time.Date(2025, 3, 30, 0, 45, 0, 0, time.UTC),
			[]time.Time{time.Date(2025, 3, 30, 1, 30, 0, 0, time.UTC), time.Date(2025, 3, 30, 2, 30, 0, 0, time.UTC)}},
		// Lord Howe Island moves its clocks half an hour, 02:00 to 02:30.
		{"spring forward by half an hour", "cron: \"15 2 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2025, 10, 4, 12, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2025, 10, 4, 15, 30, 0, 0, time.UTC), time.Date(2025, 10, 6, 2, 15, 0, 0, lordHowe)}},
		// On 2026-04-05 Lord Howe's clocks go back from 02:00 to 01:30
		// (+11:00 to +10:30, at 15:00 UTC); on 2026-10-04 forward from 02:00
		// to 02:30. robfig/cron's arithmetic in the zone skipped days there.
		{"half-hour fall back: midnight every day", "cron: \"0 0 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 4, 3, 12, 0, 0, 0, lordHowe),
			[]time.Time{time.Date(2026, 4, 4, 0, 0, 0, 0, lordHowe), time.Date(2026, 4, 5, 0, 0, 0, 0, lordHowe), time.Date(2026, 4, 6, 0, 0, 0, 0, lordHowe), time.Date(2026, 4, 7, 0, 0, 0, 0, lordHowe)}},
		{"half-hour fall back: a time after the repeat", "cron: \"15 2 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 4, 3, 12, 0, 0, 0, lordHowe),
			[]time.Time{time.Date(2026, 4, 4, 2, 15, 0, 0, lordHowe), time.Date(2026, 4, 4, 15, 45, 0, 0, time.UTC), time.Date(2026, 4, 6, 2, 15, 0, 0, lordHowe)}},
		{"half-hour fall back: the hour that ends at the change", "cron: \"0 2 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 4, 3, 12, 0, 0, 0, lordHowe),
			[]time.Time{time.Date(2026, 4, 4, 2, 0, 0, 0, lordHowe), time.Date(2026, 4, 4, 15, 30, 0, 0, time.UTC), time.Date(2026, 4, 6, 2, 0, 0, 0, lordHowe)}},
		{"half-hour fall back: a repeated time fires once, at the first", "cron: \"45 1 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 4, 3, 12, 0, 0, 0, lordHowe),
			[]time.Time{time.Date(2026, 4, 4, 1, 45, 0, 0, lordHowe), time.Date(2026, 4, 4, 14, 45, 0, 0, time.UTC), time.Date(2026, 4, 6, 1, 45, 0, 0, lordHowe)}},
		{"half-hour fall back: a * hour runs through both passes", "cron: \"*/30 * * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 4, 4, 14, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 4, 4, 14, 30, 0, 0, time.UTC), time.Date(2026, 4, 4, 15, 0, 0, 0, time.UTC), time.Date(2026, 4, 4, 15, 30, 0, 0, time.UTC), time.Date(2026, 4, 4, 16, 0, 0, 0, time.UTC)}},
		{"half-hour spring forward: midnight every day", "cron: \"0 0 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 10, 2, 12, 0, 0, 0, lordHowe),
			[]time.Time{time.Date(2026, 10, 3, 0, 0, 0, 0, lordHowe), time.Date(2026, 10, 4, 0, 0, 0, 0, lordHowe), time.Date(2026, 10, 5, 0, 0, 0, 0, lordHowe)}},
		{"half-hour spring forward: a time before the gap fires once", "cron: \"45 1 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 10, 2, 12, 0, 0, 0, lordHowe),
			[]time.Time{time.Date(2026, 10, 3, 1, 45, 0, 0, lordHowe), time.Date(2026, 10, 4, 1, 45, 0, 0, lordHowe), time.Date(2026, 10, 5, 1, 45, 0, 0, lordHowe)}},
		{"half-hour spring forward: a time in the gap runs right after the jump", "cron: \"15 2 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 10, 2, 12, 0, 0, 0, lordHowe),
			[]time.Time{time.Date(2026, 10, 3, 2, 15, 0, 0, lordHowe), time.Date(2026, 10, 3, 15, 30, 0, 0, time.UTC), time.Date(2026, 10, 5, 2, 15, 0, 0, lordHowe)}},
		{"half-hour spring forward: a * hour skips the missing half hour", "cron: \"*/30 * * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2026, 10, 3, 14, 30, 0, 0, time.UTC),
			[]time.Time{time.Date(2026, 10, 3, 15, 0, 0, 0, time.UTC), time.Date(2026, 10, 3, 15, 30, 0, 0, time.UTC), time.Date(2026, 10, 3, 16, 0, 0, 0, time.UTC)}},
		// Samoa skipped 2011-12-30 to move across the date line: not a
		// daylight saving change, so nothing runs for it.
		{"a zone's day-long jump is no daylight saving change", "cron: \"0 12 * * *\"\n    timezone: Pacific/Apia", time.Date(2011, 12, 29, 13, 0, 0, 0, apia),
			[]time.Time{time.Date(2011, 12, 31, 12, 0, 0, 0, apia)}},
		// On 2012-04-01 Samoa's clocks went back from 04:00 to 03:00: the
		// repeat of 03:00 is the instant of the change.
		{"fall back: a repeat at the instant of the change", "cron: \"0 3 * * 0\"\n    timezone: Pacific/Apia", time.Date(2012, 3, 30, 0, 0, 0, 0, apia),
			[]time.Time{time.Date(2012, 3, 31, 13, 0, 0, 0, time.UTC), time.Date(2012, 4, 8, 3, 0, 0, 0, apia)}},
		// Past 2037 the zone database gives a rule, not a table; Go's
		// time.ZoneBounds ends the last stretch of a leap year a day early.
		{"the end of a leap year past the zone's table", "cron: \"0 2 * * *\"\n    timezone: Australia/Lord_Howe", time.Date(2040, 12, 30, 12, 0, 0, 0, lordHowe),
			[]time.Time{time.Date(2040, 12, 31, 2, 0, 0, 0, lordHowe), time.Date(2041, 1, 1, 2, 0, 0, 0, lordHowe), time.Date(2041, 1, 2, 2, 0, 0, 0, lordHowe)}},
		// 2025-10-26 02:30 happens twice in Berlin; it fires once, at the first.
		{"fall back fires once", "cron: \"30 2 * * *\"\n    timezone: Europe/Berlin", time.Date(2025, 10, 25, 12, 0, 0, 0, berlin),
			[]time.Time{time.Date(2025, 10, 26, 0, 30, 0, 0, time.UTC), time.Date(2025, 10, 27, 2, 30, 0, 0, berlin)}},
		{"fall back: a * hour runs through both passes", "cron: \"30 * * * *\"\n    timezone: Europe/Berlin", time.Date(2025, 10, 26, 0, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2025, 10, 26, 0, 30, 0, 0, time.UTC), time.Date(2025, 10, 26, 1, 30, 0, 0, time.UTC), time.Date(2025, 10, 26, 2, 30, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, "name: s\non:\n  schedule:\n    "+tt.schedule+"\n"+triggerSteps+"inputs:\n  since: {type: string}\n")
			at := tt.after
			for i, want := range tt.want {
				got := doc.Trigger.Schedule.Next(at)
				if !got.Equal(want) {
					t.Fatalf("tick %d after %v = %v; want %v", i, at, got, want.UTC())
				}
				if got.Location() != time.UTC {
					t.Errorf("tick %v is not in UTC", got)
				}
				at = got
			}
		})
	}
}

// TestCronDayFields: the day fields are read as cron (Vixie cron, POSIX)
// reads them: when both are restricted a day matching either fires, but
// when one of them starts with * (*/2 as well as *) a day must match both.
// robfig/cron took */2 for a restriction, so that "0 2 */2 * 1-5" ran on
// every odd day, weekends too, and on every weekday. The scheduler, which
// reads the stored trigger, reads it the same.
func TestCronDayFields(t *testing.T) {
	day := func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 2, 0, 0, 0, time.UTC) }
	tests := []struct {
		cron  string
		after time.Time
		want  []time.Time
	}{
		// 2025-01-31 is a Friday: the odd weekdays after it.
		{"0 2 */2 * 1-5", time.Date(2025, 1, 31, 12, 0, 0, 0, time.UTC),
			[]time.Time{day(2, 3), day(2, 5), day(2, 7), day(2, 11), day(2, 13)}},
		// The 13ths that are a Sunday, Tuesday, Thursday or Saturday.
		{"0 2 13 * */2", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]time.Time{day(2, 13), day(3, 13), day(4, 13), day(5, 13), day(7, 13)}},
		// Both restricted without *: either (the 1st and 15th, and Mondays).
		{"0 2 1,15 * MON", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]time.Time{day(1, 1), day(1, 6), day(1, 13), day(1, 15), day(1, 20)}},
		{"0 2 * * MON", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]time.Time{day(1, 6), day(1, 13)}},
		{"0 2 */1 * MON", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
			[]time.Time{day(1, 6), day(1, 13)}},
	}
	for _, tt := range tests {
		t.Run(tt.cron, func(t *testing.T) {
			doc := mustParse(t, "name: s\non:\n  schedule:\n    cron: \""+tt.cron+"\"\n"+triggerSteps+"inputs:\n  since: {type: string}\n")
			stored, err := ScheduleFromSpec(doc.Trigger.SpecJSON())
			if err != nil {
				t.Fatal(err)
			}
			for name, sch := range map[string]*Schedule{"parsed": doc.Trigger.Schedule, "stored": stored} {
				at := tt.after
				for i, want := range tt.want {
					got := sch.Next(at)
					if !got.Equal(want) {
						t.Fatalf("%s: tick %d after %v = %v; want %v", name, i, at, got, want)
					}
					at = got
				}
			}
		})
	}
}

// TestCronSundaySeven: a day-of-week of 7 is Sunday, as cron (crontab(5):
// "0 or 7 is Sunday") reads it, alone, ending a range (with or without a
// step) and in a list, where robfig/cron refused "0 2 * * 7" as above its
// maximum; 8 is still refused, naming the range the field takes.
func TestCronSundaySeven(t *testing.T) {
	sundays := func(cron string) []time.Time {
		t.Helper()
		doc := mustParse(t, "name: s\non:\n  schedule:\n    cron: \""+cron+"\"\n"+triggerSteps+"inputs:\n  since: {type: string}\n")
		stored, err := ScheduleFromSpec(doc.Trigger.SpecJSON())
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Time
		at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) // a Wednesday
		for range 6 {
			next := doc.Trigger.Schedule.Next(at)
			if s := stored.Next(at); !s.Equal(next) {
				t.Fatalf("%s: the stored schedule's tick after %v is %v; the parsed one's %v", cron, at, s, next)
			}
			out = append(out, next)
			at = next
		}
		return out
	}
	for _, tt := range []struct{ cron, same string }{
		{"0 2 * * 7", "0 2 * * 0"},
		{"0 2 * * 5-7", "0 2 * * 0,5,6"},
		{"0 2 * * 1-7", "0 2 * * *"},
		{"0 2 * * 1-7/2", "0 2 * * 0,1,3,5"},
		{"0 2 * * 2-7/2", "0 2 * * 2,4,6"},
		{"0 2 * * 3,7", "0 2 * * 0,3"},
		{"0 2 * * FRI-7", "0 2 * * 0,5,6"},
		{"0 2 * * 7-7", "0 2 * * 0"},
	} {
		if got, want := sundays(tt.cron), sundays(tt.same); !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("%s: ticks %v; want those of %s, %v", tt.cron, got, tt.same, want)
		}
	}
	_, err := Parse([]byte("name: s\non:\n  schedule:\n    cron: \"0 2 * * 8\"\n" + triggerSteps + "inputs:\n  since: {type: string}\n"))
	checkIssues(t, err, []wantIssue{{4, 11, "", `cron "0 2 * * 8": the day-of-week field "8": 8 is above 7, the last day of the week (0-7); the fields are minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-7, 0 and 7 being Sunday, or SUN-SAT)`}})
}

// TestZoneHints: a timezone that is no zone says what it likely meant: the
// zone in its capitals or with _ (names are case-sensitive), the Etc zone
// of an offset (whose sign is the other way round), that an abbreviation
// names no zone, the zone of a city given alone (Berlin) or of a city
// misspelt by one letter (Europe/Berln, which had no hint), after which
// the remedy follows as before.
func TestZoneHints(t *testing.T) {
	for zone, want := range map[string]string{
		"europe/berlin":       `timezone "europe/berlin" is not a known zone (did you mean "Europe/Berlin"?); use an IANA zone name`,
		"America/New York":    `(did you mean "America/New_York"?)`,
		"AMERICA/LOS_ANGELES": `(did you mean "America/Los_Angeles"?)`,
		"us/eastern":          `(did you mean "US/Eastern"?)`,
		"utc":                 `(did you mean "UTC"?)`,
		"UTC+2":               `(UTC+2 is an offset, not a zone: write the zone of the place, such as Europe/Berlin, whose clocks follow its daylight saving time, or for a fixed offset Etc/GMT-2, whose sign is the other way round)`,
		"GMT-05:00":           `or for a fixed offset Etc/GMT+5, whose`,
		"UTC+05:30":           `(UTC+05:30 is an offset, not a zone: write the zone of the place, such as Europe/Berlin, whose clocks follow its daylight saving time); use`,
		"CEST":                `(CEST looks like an abbreviation, which names no zone: write the zone of the place, such as America/Los_Angeles rather than PST, or Europe/Berlin rather than CEST)`,
		"Europe/Berln":        `timezone "Europe/Berln" is not a known zone (did you mean "Europe/Berlin"?); use an IANA zone name`,
		"America/Chicgo":      `(did you mean "America/Chicago"?)`,
		"europe/lodnon":       `(did you mean "Europe/London"?)`,
		"Berlin":              `timezone "Berlin" is not a known zone (did you mean "Europe/Berlin"?)`,
		"new york":            `(did you mean "America/New_York"?)`,
		"Mars/Olympus":        `timezone "Mars/Olympus" is not a known zone; use an IANA zone name`,
	} {
		_, err := Parse([]byte("name: s\non:\n  schedule:\n    cron: \"0 2 * * *\"\n    timezone: \"" + zone + "\"\n" + triggerSteps + "inputs:\n  since: {type: string}\n"))
		checkIssues(t, err, []wantIssue{{5, 15, "", want}})
	}
}

func TestTriggerParseErrors(t *testing.T) {
	head := "name: t\ninputs:\n  since: {type: string, required: true}\n"
	tests := []struct {
		name string
		on   string
		want []wantIssue
	}{
		{"cron with six fields", "on:\n  schedule:\n    cron: \"0 0 2 * * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `cron "0 0 2 * * *": it has 6 fields; cron has five`}}},
		{"cron out of range", "on:\n  schedule:\n    cron: \"61 2 * * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `cron "61 2 * * *": the minute field "61": 61 is above 59, the last minute (0-59); the fields are`}}},
		{"cron hour out of range in a list", "on:\n  schedule:\n    cron: \"0 8,25 * * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `cron "0 8,25 * * *": the hour field "8,25": 25 is above 23, the last hour (0-23)`}}},
		{"cron day of the month 0", "on:\n  schedule:\n    cron: \"0 2 0 * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `the day-of-month field "0": 0 is below 1, the first day of the month (1-31)`}}},
		{"cron range backwards", "on:\n  schedule:\n    cron: \"0 22-2 * * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `the hour field "22-2": the range "22-2" runs backwards, and a cron range does not wrap around: write it from the smaller value to the larger, or as two ranges (e.g. 22-23,0-2)`}}},
		{"cron range of names backwards", "on:\n  schedule:\n    cron: \"0 2 * NOV-FEB *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `the month field "NOV-FEB": the range "NOV-FEB" runs backwards`}}},
		{"cron range without its end", "on:\n  schedule:\n    cron: \"0 2 * * MON-\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `the day-of-week field "MON-": "MON-" has no value after its -`}}},
		{"cron step of zero", "on:\n  schedule:\n    cron: \"*/0 * * * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `the minute field "*/0": the step of "*/0" is "0": write a whole number of 1 or more after the /`}}},
		{"cron list with an empty value", "on:\n  schedule:\n    cron: \"0 2,,4 * * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `the hour field "2,,4": a list has an empty value`}}},
		{"cron that never fires", "on:\n  schedule:\n    cron: \"0 0 30 2 *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", "never fires"}}},
		{"cron with Quartz's nth weekday", "on:\n  schedule:\n    cron: \"0 2 * * MON#1\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `cron "0 2 * * MON#1": the day-of-week field "MON#1": "MON#1" is not a number nor a name of the field (SUN ... SAT, three letters); cron has no L, W or #`}}},
		{"cron with Quartz's last day", "on:\n  schedule:\n    cron: \"0 2 L * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `cron "0 2 L * *": the day-of-month field "L": "L" is not a number; cron has no L, W or #`}}},
		{"cron with a day's full name", "on:\n  schedule:\n    cron: \"0 2 * * MONDAY-FRIDAY\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `cron "0 2 * * MONDAY-FRIDAY": the day-of-week field "MONDAY-FRIDAY": "MONDAY" is not a number nor a name of the field (SUN ... SAT, three letters); the fields are`}}},
		{"cron descriptor", "on:\n  schedule:\n    cron: \"@daily\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", "descriptors such as @daily are not supported"}}},
		{"every under a minute", "on:\n  schedule:\n    every: 30s\n  inputs: {since: x}\n",
			[]wantIssue{{6, 12, "", "every is 30s; the shortest interval is 1m"}}},
		{"startingDeadline not an interval", "on:\n  schedule:\n    cron: \"0 2 * * *\"\n    startingDeadline: 7200\n  inputs: {since: x}\n",
			[]wantIssue{{7, 23, "", `startingDeadline "7200" is not an interval: write a number and a unit, e.g. 30m or 2h`}}},
		{"startingDeadline under a minute", "on:\n  schedule:\n    cron: \"0 2 * * *\"\n    startingDeadline: 10s\n  inputs: {since: x}\n",
			[]wantIssue{{7, 23, "", "startingDeadline is 10s; the shortest is 1m"}}},
		{"startingDeadline as long as every", "on:\n  schedule:\n    every: 1h\n    startingDeadline: 60m\n  inputs: {since: x}\n",
			[]wantIssue{{7, 23, "", "startingDeadline 1h is not shorter than every 1h, so it would skip nothing: a missed tick runs at most one interval late without it; remove startingDeadline, or make it shorter than 1h"}}},
		{"Kubernetes' startingDeadlineSeconds", "on:\n  schedule:\n    cron: \"0 2 * * *\"\n    startingDeadlineSeconds: 7200\n  inputs: {since: x}\n",
			[]wantIssue{{7, 5, "", "write Kubernetes' startingDeadlineSeconds as startingDeadline, an interval with its unit (startingDeadline: 2h for 7200 seconds)"}}},
		{"startingDeadline under on", "on:\n  schedule: {cron: \"0 2 * * *\"}\n  startingDeadline: 2h\n  inputs: {since: x}\n",
			[]wantIssue{{6, 3, "", `unknown key "startingDeadline" in on; on has schedule or event, and inputs: startingDeadline goes under on.schedule`}}},
		{"every not an interval", "on:\n  schedule:\n    every: often\n  inputs: {since: x}\n",
			[]wantIssue{{6, 12, "", `every "often" is not an interval`}}},
		{"unknown zone", "on:\n  schedule:\n    every: 1h\n    timezone: Mars/Olympus\n  inputs: {since: x}\n",
			[]wantIssue{{7, 15, "", `timezone "Mars/Olympus" is not a known zone`}}},
		{"unknown zone and bad cron", "on:\n  schedule:\n    cron: \"0 25 * * *\"\n    timezone: Mars/Olympus\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `cron "0 25 * * *": `}, {7, 15, "", `timezone "Mars/Olympus" is not a known zone`}}},
		{"unknown zone before a cron of four fields", "on:\n  schedule:\n    timezone: Europe/Berln\n    cron: \"0 2 * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{6, 15, "", `timezone "Europe/Berln" is not a known zone`}, {7, 11, "", `cron "0 2 * *": it has 4 fields`}}},
		{"unknown key and bad cron", "on:\n  schedule:\n    cron: \"0 2 * * MON-FRY\"\n    timezon: UTC\n  inputs: {since: x}\n",
			[]wantIssue{{6, 11, "", `cron "0 2 * * MON-FRY"`}, {7, 5, "", `unknown key "timezon" in on.schedule`}}},
		{"the server's local zone", "on:\n  schedule:\n    every: 1h\n    timezone: Local\n  inputs: {since: x}\n",
			[]wantIssue{{7, 15, "", "the server's own zone"}}},
		{"cron and every", "on:\n  schedule:\n    every: 1h\n    cron: \"0 * * * *\"\n  inputs: {since: x}\n",
			[]wantIssue{{5, 3, "", "both cron and every"}}},
		{"missing inputs for triggered runs", "on:\n  schedule: {every: 1h}\n",
			[]wantIssue{{4, 1, "", "triggered runs have no value for required input since: give it under on.inputs"}}},
		{"unknown trigger input", "on:\n  schedule: {every: 1h}\n  inputs: {since: x, until: y}\n",
			[]wantIssue{{6, 29, "", `on.inputs.until: the flow has no input "until"`}}},
		{"inputs in on.inputs", "on:\n  schedule: {every: 1h}\n  inputs:\n    since: ${{ inputs.since }}\n",
			[]wantIssue{{7, 16, "", "only trigger is in scope here"}}},
		{"schedule and event", "on:\n  schedule: {every: 1h}\n  event: {card: okta-devices/device-deactivated, connection: Demo org}\n  inputs: {since: x}\n",
			[]wantIssue{{4, 1, "", "both schedule and event"}}},
		{"neither", "on:\n  inputs: {since: x}\n", []wantIssue{{4, 1, "", "neither schedule nor event"}}},
		{"unknown key", "on:\n  schedul: {every: 1h}\n", []wantIssue{{5, 3, "", `unknown key "schedul" in on; on has schedule or event, and inputs (did you mean "schedule"?)`}}},
		{"event without connection", "on:\n  event: {card: okta-devices/device-deactivated}\n  inputs: {since: x}\n",
			[]wantIssue{{5, 3, "", "on.event has no connection"}}},
		{"bad delivery", "on:\n  event: {card: okta-devices/device-deactivated, connection: c, delivery: push}\n  inputs: {since: x}\n",
			[]wantIssue{{5, 75, "", `delivery "push" is not one of hook, poll and hook+poll`}}},
		{"event if of the wrong kind", "on:\n  event: {card: okta-devices/device-deactivated, connection: c, if: sometimes}\n  inputs: {since: x}\n",
			[]wantIssue{{5, 65, "", "on.event.if must be true, false or one ${{ }} expression"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(head + tt.on + triggerSteps))
			checkIssues(t, err, tt.want)
		})
	}
}

// TestParserNowNeverFires: whether a cron schedule fires within five years
// is judged from Parser.Now, not the wall clock: February 29th at midnight
// fires within five years of 2026, but not of March 2097 (2100 is no leap
// year; the next one after 2096 is 2104).
func TestParserNowNeverFires(t *testing.T) {
	src := []byte("name: t\ninputs:\n  since: {type: string, required: true}\n" +
		"on:\n  schedule:\n    cron: \"0 0 29 2 *\"\n  inputs: {since: x}\n" + triggerSteps)
	at := func(s string) Parser {
		now, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return Parser{Now: func() time.Time { return now }}
	}
	if _, err := at("2026-12-06T00:00:00Z").Parse(src); err != nil {
		t.Errorf("Parse on 2026-12-06: %v; want February 29th accepted", err)
	}
	_, err := at("2097-03-01T00:00:00Z").Parse(src)
	checkIssues(t, err, []wantIssue{{6, 11, "", "never fires"}})
	_, err = at("2097-03-01T00:00:00Z").Check(context.Background(), src, demoEnv())
	checkIssues(t, err, []wantIssue{{6, 11, "", "never fires"}})
}

// eventEnv adds an event card to the test cards.
type eventEnv struct{ *testEnv }

func (e eventEnv) Card(ref string) (CardInfo, bool) {
	scopes := map[string]string{DeliveryHook: "okta.eventHooks.manage", DeliveryPoll: "okta.logs.read"}
	switch ref {
	case "okta-devices/device-removed-from-user":
		return CardInfo{Ref: ref, Mode: ModeEvent, DefaultDelivery: DeliveryPoll, DeliveryScopes: scopes, EventType: "device.user.remove"}, true
	case "okta-devices/device-deactivated":
		return CardInfo{Ref: ref, Mode: ModeEvent, DefaultDelivery: DeliveryPoll, DeliveryScopes: scopes, EventType: "device.lifecycle.deactivate",
			NoEventUser: true, UserEventCards: []string{"okta-devices/device-removed-from-user (device.user.remove)"}}, true
	}
	return e.testEnv.Card(ref)
}

const eventFlow = `name: quarantine
inputs:
  deviceId: {type: string, required: true}
on:
  event:
    card: okta-devices/device-removed-from-user
    connection: Events org
    delivery: DELIVERY
    if: ${{ !trigger.event.user.login.endsWith("@contractors.example.com") }}
  inputs:
    deviceId: ${{ trigger.event.device.id }}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Events org
    input:
      deviceId: ${{ inputs.deviceId }}
      status: '${{ trigger.kind == "event" ? "ACTIVE" : "" }}'
`

func TestEventTrigger(t *testing.T) {
	env := eventEnv{&testEnv{conns: []ConnInfo{{ID: "conn_ev", Nickname: "Events org", Status: "active",
		GrantedScopes: []string{"okta.devices.read", "okta.devices.manage", "okta.logs.read"}}}}}
	src := func(delivery string) string {
		return strings.ReplaceAll(eventFlow, "DELIVERY", delivery)
	}
	doc, err := Check(context.Background(), []byte(src("poll")), env)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	ev := doc.Trigger.Event
	if ev.ConnectionID() != "conn_ev" || ev.Delivery != DeliveryPoll || doc.Trigger.Kind() != KindEvent {
		t.Errorf("event trigger = %+v", ev)
	}
	var spec map[string]any
	if err := json.Unmarshal(doc.Trigger.SpecJSON(), &spec); err != nil {
		t.Fatal(err)
	}
	if spec["if"] != `${{ !trigger.event.user.login.endsWith("@contractors.example.com") }}` || spec["card"] != ev.Card {
		t.Errorf("spec = %v", spec)
	}

	fire := func(login string) Firing {
		return Firing{Kind: KindEvent, Time: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC), EventUUID: "e-1",
			Event: map[string]any{"uuid": "e-1", "eventType": "device.user.remove",
				"device": map[string]any{"id": "guo1"}, "user": map[string]any{"id": "00u1", "login": login}}}
	}
	for login, want := range map[string]bool{"ann@example.com": true, "bob@contractors.example.com": false} {
		got, err := doc.TriggerMatches(context.Background(), fire(login))
		if err != nil || got != want {
			t.Errorf("TriggerMatches(%s) = %v, %v; want %v", login, got, err, want)
		}
	}
	in, err := doc.TriggerInputs(context.Background(), fire("ann@example.com"))
	if err != nil || in["deviceId"] != "guo1" {
		t.Errorf("TriggerInputs = %v, %v; want deviceId guo1", in, err)
	}

	// The steps see trigger too.
	cards := newDeviceCards(0)
	cards.devices = append(cards.devices, map[string]any{"id": "guo1", "status": "ACTIVE"})
	r := &Runner{Cards: cards, State: newMemState()}
	res, err := r.RunTriggered(context.Background(), "run1", doc, in, fire("ann@example.com"))
	if err != nil || res.Status != StatusSucceeded {
		t.Fatalf("RunTriggered = %+v, %v", res, err)
	}
	if n := cards.calls("okta-devices/suspend-device", "guo1"); n != 1 {
		t.Errorf("suspend calls = %d; want 1", n)
	}

	// Scope preflight of the delivery: hook needs okta.eventHooks.manage.
	_, err = Check(context.Background(), []byte(src("hook+poll")), env)
	if problem.CodeOf(err) != problem.InsufficientScope {
		t.Fatalf("hook+poll without okta.eventHooks.manage: %v; want insufficient_scope", err)
	}
	checkIssues(t, err, []wantIssue{{5, 3, "", "needs scope okta.eventHooks.manage"}})

	// An action card is no event card, and an event card is no step.
	bad := strings.ReplaceAll(strings.ReplaceAll(src("poll"), "card: okta-devices/device-removed-from-user", "card: okta-devices/read-device"),
		"card: okta-devices/suspend-device", "card: okta-devices/device-removed-from-user")
	_, err = Check(context.Background(), []byte(bad), env)
	checkIssues(t, err, []wantIssue{
		{6, 11, "", "card okta-devices/read-device is not an event card"},
		{14, 11, "suspend", "is an event card: it starts flows and cannot run as a step"},
	})

	// An unknown event card names where the event cards are listed.
	_, err = Check(context.Background(), []byte(strings.ReplaceAll(src("poll"), "card: okta-devices/device-removed-from-user", "card: okta-devices/device-melted")), env)
	checkIssues(t, err, []wantIssue{{6, 11, "", `unknown event card "okta-devices/device-melted"; cardflow connectors lists the event cards (mode event; "kind": "event" in GET /api/v1/connectors)`}})
}

// listingEventEnv is eventEnv that lists its cards, as the server's
// does, so that a misspelt card gets a suggestion.
type listingEventEnv struct{ eventEnv }

func (e listingEventEnv) CardRefs() []string {
	refs := []string{"okta-devices/device-removed-from-user", "okta-devices/device-deactivated"}
	for r := range testCards {
		refs = append(refs, r)
	}
	return refs
}

// TestUnknownEventCardSuggestions: an unknown event card is answered with
// the event card it likely means: the event card nearest in spelling, or
// the only one whose name starts with what was written (before, only
// cards within two letters were suggested, any card); a name near no card
// gets none. An Okta event type written as the card is refused saying
// what it is.
func TestUnknownEventCardSuggestions(t *testing.T) {
	env := listingEventEnv{eventEnv{&testEnv{conns: []ConnInfo{{ID: "conn_ev", Nickname: "Events org", Status: "active",
		GrantedScopes: []string{"okta.devices.read", "okta.devices.manage", "okta.logs.read"}}}}}}
	src := strings.ReplaceAll(eventFlow, "DELIVERY", "poll")
	for card, want := range map[string]string{
		"okta-devices/device-removed":    `unknown event card "okta-devices/device-removed" (did you mean "okta-devices/device-removed-from-user"?); cardflow`,
		"okta-devices/device-deactivate": `(did you mean "okta-devices/device-deactivated"?)`,
		"okta-devices/device-melted":     `unknown event card "okta-devices/device-melted"; cardflow connectors lists the event cards`,
	} {
		_, err := Check(context.Background(), []byte(strings.ReplaceAll(src, "card: okta-devices/device-removed-from-user", "card: "+card)), env)
		checkIssues(t, err, []wantIssue{{6, 11, "", want}})
	}
	// An Okta event type is no card reference: refused as the document is
	// read, saying so.
	for _, card := range []string{"device.user.remove", "okta-devices/device.user.remove"} {
		_, err := Check(context.Background(), []byte(strings.ReplaceAll(src, "card: okta-devices/device-removed-from-user", "card: "+card)), env)
		checkIssues(t, err, []wantIssue{{6, 5, "", `card "` + card + `" is not an event card reference (device.user.remove is an Okta event type, as the System Log names it: write the event card that starts flows on it; cardflow connectors lists the event cards, and cardflow connectors CARD names a card's Okta event type): write connector/card`}})
	}
}

func TestManualRunSeesTrigger(t *testing.T) {
	doc := validated(t, `name: m
steps:
  - id: a
    card: okta-devices/read-device
    connection: Demo org
    input:
      deviceId: ${{ trigger.kind }}
`)
	cards := newDeviceCards(0)
	cards.devices = append(cards.devices, map[string]any{"id": "manual", "status": "ACTIVE"})
	res, err := (&Runner{Cards: cards, State: newMemState()}).Run(context.Background(), "r", doc, nil)
	if err != nil || res.Status != StatusSucceeded {
		t.Fatalf("Run = %+v, %v; want trigger.kind = manual to name the device", res, err)
	}
}

// TestNightlyExample checks the scheduled example: 02:00 in Berlin, and
// since 90 days before the tick in Okta's date format.
func TestNightlyExample(t *testing.T) {
	src, err := os.ReadFile("../../examples/nightly-stale-cleanup.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := validated(t, string(src))
	tick := doc.Trigger.Schedule.Next(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
	if want := time.Date(2025, 3, 2, 1, 0, 0, 0, time.UTC); !tick.Equal(want) { // 02:00 CET
		t.Fatalf("next tick = %v; want %v", tick, want)
	}
	in, err := doc.TriggerInputs(context.Background(), Firing{Kind: KindSchedule, Time: tick})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := in["since"], "2024-12-02T01:00:00.000Z"; got != want {
		t.Errorf("since = %v; want %v", got, want)
	}
}

// TestIntervalText: intervals read as a flow writes them.
func TestIntervalText(t *testing.T) {
	for in, want := range map[string]string{
		"1m0s": "1m", "15m0s": "15m", "1h0m0s": "1h", "1h30m0s": "1h30m", "24h0m0s": "24h",
		"1m30s": "1m30s", "90s": "1m30s", "15m": "15m", "soon": "soon", "": "",
	} {
		if got := IntervalText(in); got != want {
			t.Errorf("IntervalText(%q) = %q; want %q", in, got, want)
		}
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestScheduleNextProperties follows cron schedules through several years
// of zones with whole-hour, half-hour and 45-minute offsets, daylight
// saving changes of an hour and of half an hour, and Samoa's day-long jump
// across the date line. Ticks strictly increase; each falls on a wall-clock
// time the fields match, or, for a job at a fixed time, is the jump over
// one (less than three hours of clocks moved forward); every wall-clock
// time the fields match that happens gets a tick, a fixed-time job's at
// its first occurrence only; and so no day with such a time goes without.
func TestScheduleNextProperties(t *testing.T) {
	spans := []struct{ from, to time.Time }{
		{time.Date(2011, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2012, 6, 1, 0, 0, 0, 0, time.UTC)}, // Samoa's jump and its summer time
		{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)},
		{time.Date(2040, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2041, 2, 1, 0, 0, 0, 0, time.UTC)}, // past the zone tables, a leap year's end
	}
	zones := []string{"Australia/Lord_Howe", "Europe/Berlin", "America/New_York", "Pacific/Chatham", "Pacific/Apia", "Asia/Kathmandu", "UTC"}
	specs := []string{"0 0 * * *", "15 2 * * *", "45 1 * * *", "30 2 * * *", "0 3 * * 0", "5 1,2,3 * * *", "*/30 * * * *", "15 * * * *"}
	for _, zone := range zones {
		for _, spec := range specs {
			t.Run(zone+" "+spec, func(t *testing.T) {
				sch, err := ScheduleFromSpec([]byte(`{"kind":"schedule","cron":"` + spec + `","timezone":"` + zone + `"}`))
				if err != nil {
					t.Fatal(err)
				}
				for _, span := range spans {
					checkTicks(t, sch, span.from, span.to)
				}
			})
		}
	}
}

// checkTicks checks the ticks of sch from from to to (see
// TestScheduleNextProperties).
func checkTicks(t *testing.T, sch *Schedule, from, to time.Time) {
	t.Helper()
	loc := sch.Location()
	fields, err := cronParser.Parse(sch.Cron) // read in UTC: the wall clock
	if err != nil {
		t.Fatal(err)
	}
	fixed := !strings.HasPrefix(sch.Cron, "*") && !strings.HasPrefix(strings.Fields(sch.Cron)[1], "*")
	matches := func(wall time.Time) bool { return fields.Next(wall.Add(-time.Nanosecond)).Equal(wall) }
	ticksAt := map[time.Time]int{} // by wall-clock time, read as UTC
	for prev, tick := from, sch.Next(from); tick.Before(to); prev, tick = tick, sch.Next(tick) {
		if !tick.After(prev) || tick.Location() != time.UTC {
			t.Fatalf("tick after %v = %v; want a later time in UTC", prev, tick)
		}
		wall := wallTime(tick, loc)
		ticksAt[wall]++
		switch {
		case matches(wall):
			if fixed {
				// A fixed-time job fires at the first of two passes.
				for back := 15 * time.Minute; back <= 3*time.Hour; back += 15 * time.Minute {
					if wallTime(tick.Add(-back), loc).Equal(wall) {
						t.Fatalf("tick %v (%s in %v) repeats the wall-clock time of %v", tick, wall.Format("2006-01-02 15:04"), loc, tick.Add(-back))
					}
				}
			}
		case fixed:
			before, jump, ok := jumpAt(tick, loc)
			if !ok || jump <= 0 || jump >= 3*time.Hour {
				t.Fatalf("tick %v (%s in %v) neither matches %q nor follows a daylight saving jump", tick, wall.Format("2006-01-02 15:04"), loc, sch.Cron)
			}
			gap := tick.Add(before)
			if w := fields.Next(gap.Add(-time.Nanosecond)); !w.Before(gap.Add(jump)) {
				t.Fatalf("tick %v follows a jump over no time of %q", tick, sch.Cron)
			}
		default:
			t.Fatalf("tick %v (%s in %v) does not match %q", tick, wall.Format("2006-01-02 15:04"), loc, sch.Cron)
		}
	}
	// Every wall-clock time that matches and happens has its tick (a
	// fixed-time job's once); so does every day that has one.
	end := wallTime(to, loc).Add(-3 * time.Hour)
	for wall := fields.Next(wallTime(from, loc).Add(3 * time.Hour)); wall.Before(end); wall = fields.Next(wall) {
		at := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), 0, 0, loc)
		if !wallTime(at, loc).Equal(wall) {
			continue // skipped by the clocks
		}
		switch n := ticksAt[wall]; {
		case n == 0:
			t.Fatalf("no tick at %s in %v, which %q matches", wall.Format("2006-01-02 15:04 Mon"), loc, sch.Cron)
		case fixed && n > 1:
			t.Fatalf("%d ticks at %s in %v; want one", n, wall.Format("2006-01-02 15:04"), loc)
		}
	}
}

// wallTime is t's reading on the clocks of loc, as a UTC time.
func wallTime(t time.Time, loc *time.Location) time.Time {
	_, offset := t.In(loc).Zone()
	return t.UTC().Add(time.Duration(offset) * time.Second)
}

// jumpAt reports whether loc's offset changes at the instant t, the
// offset before it and by how much it changes.
func jumpAt(t time.Time, loc *time.Location) (before, jump time.Duration, ok bool) {
	_, off0 := t.Add(-time.Nanosecond).In(loc).Zone()
	_, off1 := t.In(loc).Zone()
	return time.Duration(off0) * time.Second, time.Duration(off1-off0) * time.Second, off0 != off1
}

// TestEveryRefusesAZone: a timezone beside every changes nothing (its ticks
// are counted from the Unix epoch), so a document that names one other than
// UTC is refused with where and what to write instead, rather than seeming
// to run in that zone (every: 24h in Europe/Berlin fires at 01:00 there).
// A stored flow that names one still parses and keeps its ticks.
func TestEveryRefusesAZone(t *testing.T) {
	doc := func(schedule string) []byte {
		return []byte("name: t\ninputs:\n  since: {type: string, required: true}\n" +
			"on:\n  schedule:\n" + schedule + "  inputs: {since: x}\n" + triggerSteps)
	}
	berlin := doc("    every: 24h\n    timezone: Europe/Berlin\n")
	_, err := Check(context.Background(), berlin, demoEnv())
	checkIssues(t, err, []wantIssue{{7, 15, "", `timezone Europe/Berlin has no effect with every: its ticks are the multiples of 24h counted from 1970-01-01 00:00 UTC`}})
	if p, _ := problem.As(err); p == nil || !strings.Contains(p.Error(), `cron: "0 0 * * *" with timezone Europe/Berlin`) {
		t.Errorf("error %v; want it to say to write cron with the zone instead", err)
	}

	stored, err := Parse(berlin)
	if err != nil {
		t.Fatalf("Parse of a stored flow with every and a zone: %v; want it read as before", err)
	}
	if s := stored.Trigger.Schedule; s.Every != 24*time.Hour || !s.Next(time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)).Equal(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("stored schedule %+v; want every 24h ticking at 00:00 UTC", s)
	}

	for _, ok := range []string{"    every: 24h\n", "    every: 15m\n    timezone: UTC\n", "    cron: \"0 0 * * *\"\n    timezone: Europe/Berlin\n"} {
		if _, err := Check(context.Background(), doc(ok), demoEnv()); err != nil {
			t.Errorf("Check of schedule %q: %v; want it accepted", ok, err)
		}
	}
}

// TestEventUserOfAnEventWithoutOne: a flow on an event that names no user
// (a device lifecycle event) is refused where its trigger's if, its
// on.inputs or a step reads trigger.event.user, which is empty in every
// run (a filter on it never holds, or always does when negated), each at
// its line and column, saying which event cards' events name a user; the
// same flow on device.user.remove, and one that reads only the device, is
// accepted.
func TestEventUserOfAnEventWithoutOne(t *testing.T) {
	env := eventEnv{&testEnv{conns: []ConnInfo{{ID: "conn_ev", Nickname: "Events org", Status: "active",
		GrantedScopes: []string{"okta.devices.read", "okta.devices.manage", "okta.logs.read"}}}}}
	const src = `name: quarantine
inputs:
  deviceId: {type: string, required: true}
  login: {type: string}
on:
  event:
    card: okta-devices/CARD
    connection: Events org
    delivery: poll
    if: ${{ !trigger.event.user.login.endsWith("@contractors.example.com") }}
  inputs:
    deviceId: ${{ trigger.event.device.id }}
    login: ${{ trigger.event.user.login }}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Events org
    if: ${{ trigger.event.user.id != "" }}
    input:
      deviceId: ${{ inputs.deviceId }}
`
	_, err := Check(context.Background(), []byte(strings.Replace(src, "CARD", "device-deactivated", 1)), env)
	got := checkIssues(t, err, []wantIssue{
		{10, 14, "", "on.event.if: ${{ !trigger.event.user.login.endsWith(\"@contractors.example.com\") }} reads trigger.event.user, which is empty"},
		{13, 16, "", "on.inputs: ${{ trigger.event.user.login }} reads trigger.event.user"},
		{18, 13, "suspend", "if: ${{ trigger.event.user.id != \"\" }} reads trigger.event.user"},
	})
	for _, g := range got {
		for _, want := range []string{"device.lifecycle.deactivate events (card okta-devices/device-deactivated) name no user",
			"only the events of okta-devices/device-removed-from-user (device.user.remove) name a user", "okta-devices/list-device-users"} {
			if !strings.Contains(g.Message, want) {
				t.Errorf("issue %q; want it to say %q", g.Message, want)
			}
		}
	}
	if _, err := Check(context.Background(), []byte(strings.Replace(src, "CARD", "device-removed-from-user", 1)), env); err != nil {
		t.Errorf("the same flow on device-removed-from-user: %v; want it accepted", err)
	}
	deviceOnly := strings.NewReplacer("CARD", "device-deactivated", "trigger.event.user.login", "trigger.event.device.displayName",
		"trigger.event.user.id", "trigger.event.device.id").Replace(src)
	if _, err := Check(context.Background(), []byte(deviceOnly), env); err != nil {
		t.Errorf("a device-deactivated flow reading only the device: %v; want it accepted", err)
	}
}

// TestEventIfRawFieldHint: an on.event.if that reads a field of
// trigger.event.raw that an event lacks fails saying that Okta leaves out
// what an event has no value for, with the has() test to write; before,
// it said so of "a device or user", which raw is not.
func TestEventIfRawFieldHint(t *testing.T) {
	env := eventEnv{&testEnv{conns: []ConnInfo{{ID: "conn_ev", Nickname: "Events org", Status: "active",
		GrantedScopes: []string{"okta.devices.read", "okta.devices.manage", "okta.logs.read"}}}}}
	src := strings.ReplaceAll(strings.ReplaceAll(eventFlow, "DELIVERY", "poll"),
		`!trigger.event.user.login.endsWith("@contractors.example.com")`, `trigger.event.raw.debugContext.debugData.risk == "HIGH"`)
	doc, err := Check(context.Background(), []byte(src), env)
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	f := Firing{Kind: KindEvent, Time: time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC), EventUUID: "e-1",
		Event: map[string]any{"uuid": "e-1", "eventType": "device.user.remove", "device": map[string]any{"id": "guo1"},
			"user": map[string]any{"id": "00u1", "login": "ann@example.com"}, "raw": map[string]any{"debugContext": map[string]any{"debugData": map[string]any{}}}}}
	_, err = doc.TriggerMatches(context.Background(), f)
	want := "no such key: risk (trigger.event.raw is the event as Okta sent it, and Okta leaves out a field an event has no value for, so trigger.event.raw.debugContext.debugData.risk is there in some events only: test has(trigger.event.raw.debugContext.debugData.risk) first"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("TriggerMatches = %v; want an error holding %q", err, want)
	}
}
