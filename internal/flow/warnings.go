package flow

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/robfig/cron/v3"
)

// Warning is something a flow document says that is legal but likely not
// what its author means. A document with warnings only is valid: it is
// stored and runs as written (refusing it would break flows stored before
// the warning existed). Path is where in the document it is
// ("on.schedule.timezone"), Message what the document does, Remedy how to
// say what was likely meant.
type Warning struct {
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Path    string `json:"path"`
	Message string `json:"message"`
	Remedy  string `json:"remedy"`
}

// String formats the warning with its position and remedy, as shown to a
// person.
func (w Warning) String() string {
	var b strings.Builder
	if w.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", w.Line, w.Column)
	}
	if w.Path != "" {
		b.WriteString(w.Path + ": ")
	}
	b.WriteString(w.Message)
	if w.Remedy != "" {
		b.WriteString("; " + w.Remedy)
	}
	return b.String()
}

// Warnings are the document's warnings, in document order; nil when it has
// none.
func (d *Document) Warnings() []Warning {
	if d == nil {
		return nil
	}
	return slices.Clone(d.warnings)
}

// withWarnings adds warnings to err, a document's problems, as
// details.warnings: what else is to be said of the document once they are
// fixed. err is returned, with them when it holds a *problem.Error.
func withWarnings(err error, warnings []Warning) error {
	p, ok := problem.As(err)
	if !ok || len(warnings) == 0 {
		return err
	}
	p.WithDetail("warnings", inOrder(warnings))
	return err
}

// inOrder is a copy of warnings in document order, by line and column.
func inOrder(warnings []Warning) []Warning {
	out := slices.Clone(warnings)
	slices.SortStableFunc(out, func(a, b Warning) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
	return out
}

// warn adds a warning at pos.
func (is *issues) warn(pos Pos, path, remedy, format string, args ...any) {
	is.warnings = append(is.warnings, Warning{Line: pos.Line, Column: pos.Column, Path: path, Message: fmt.Sprintf(format, args...), Remedy: remedy})
}

// fixedZones are the tz database's names of a fixed offset that people
// write for a place whose clocks keep daylight saving time (EST for New
// York): each with its offset and the zones of the places meant.
var fixedZones = map[string]struct{ offset, remedy string }{
	"EST": {"UTC-5", "write timezone: America/New_York for the clocks of New York (the US East Coast), which follow daylight saving time; keep EST only for UTC-5 all year"},
	"MST": {"UTC-7", "write timezone: America/Denver for the clocks of Denver (the US Mountain zone), which follow daylight saving time, or America/Phoenix for Arizona's, which do not; keep MST only for UTC-7 all year"},
	"HST": {"UTC-10", "write timezone: Pacific/Honolulu, the zone of Hawaii (which keeps no daylight saving time, so the runs stay where they are) and which follows its clocks should its rules change"},
}

// etcGMT is an Etc/GMT zone of an offset other than zero.
var etcGMT = regexp.MustCompile(`^Etc/GMT([+-])(\d{1,2})$`)

// zoneWarning warns of a timezone that is a fixed offset under a name that
// reads as something else: EST, MST and HST (UTC-5, -7 and -10 all year,
// where the places their names suggest mostly keep daylight saving time:
// a New York admin's 02:00 job runs at 03:00 there in summer), and an
// Etc/GMT zone, whose sign is inverted (Etc/GMT+5 is UTC-5).
func zoneWarning(is *issues, pos Pos, name string) {
	const path = "on.schedule.timezone"
	if z, ok := fixedZones[name]; ok {
		is.warn(pos, path, z.remedy, "timezone %s is a fixed offset, %s all year, without daylight saving time: where the clocks move an hour forward in summer, every run comes an hour later by them (02:00 becomes 03:00)", name, z.offset)
		return
	}
	m := etcGMT.FindStringSubmatch(name)
	if m == nil || strings.TrimLeft(m[2], "0") == "" {
		return
	}
	h, _ := strconv.Atoi(m[2])
	written := fmt.Sprintf("UTC%s%d", m[1], h) // what the name seems to say
	real := map[string]string{"+": "-", "-": "+"}[m[1]]
	is.warn(pos, path,
		fmt.Sprintf("keep it for UTC%s%d all year; for %s write Etc/GMT%s%d; for the clocks of a place, with its daylight saving time, write its zone, such as America/New_York or Europe/Berlin", real, h, written, real, h),
		"timezone %s is UTC%s%d all year, not %s: the sign of the Etc/GMT zones is inverted (POSIX counts the hours west of Greenwich)", name, real, h, written)
}

// cronWarnings warns of cron fields that fire otherwise than they read:
// a ? (Quartz's "no specific value", which cron has not and is read as
// *), a step of the minute or hour field that does not divide the hour or
// the day (*/45 fires at :00 and :45, 45 then 15 minutes apart), and a
// day of the month that some of its months lack (31 skips February,
// April, June, September and November). fields are the cron's five.
func cronWarnings(is *issues, pos Pos, text string, fields []string, spec cron.Schedule) {
	const path = "on.schedule.cron"
	for i, f := range fields {
		if strings.Contains(f, "?") {
			is.warn(pos, path, "write * instead (? is Quartz's, not cron's)",
				"cron %q: the %s field's ? is read as * (every %s)", text, cronFieldNames[i], map[int]string{0: "minute", 1: "hour", 2: "day", 3: "month", 4: "day"}[i])
		}
	}
	for i, span := range []int{60, 24} { // the minute and hour fields
		unevenStep(is, pos, text, fields[i], span)
	}
	if ss, ok := spec.(*cron.SpecSchedule); ok && ss.Dow&cronStar != 0 && ss.Dom&cronStar == 0 {
		shortMonths(is, pos, text, ss)
	}
}

// unevenStep warns of a field of one stepped range up to the end of its
// span (*/N, S/N, S-MAX/N) whose step does not divide the span: the step
// starts again at each hour (or day), so the runs are not N apart.
func unevenStep(is *issues, pos Pos, text, f string, span int) {
	rng, stepText, ok := strings.Cut(f, "/")
	if !ok || strings.Contains(f, ",") {
		return
	}
	step, err := strconv.Atoi(stepText)
	if err != nil || step <= 0 {
		return
	}
	start := 0
	if lo, hi, isRange := strings.Cut(rng, "-"); isRange {
		if h, err := strconv.Atoi(hi); err != nil || h != span-1 {
			return // a range short of the end: its times are meant
		}
		rng = lo
	}
	if rng != "*" && rng != "?" {
		if start, err = strconv.Atoi(rng); err != nil || start >= span {
			return
		}
	}
	var at []string
	last := start
	for v := start; v < span; v += step {
		at, last = append(at, strconv.Itoa(v)), v
	}
	wrap := start + span - last
	if wrap == step {
		return
	}
	field, unit, within, every := "minute", "minutes", "hour", fmt.Sprintf("every: %dm", step)
	if span == 24 {
		field, unit, within, every = "hour", "hours", "day", fmt.Sprintf("every: %dh (counted from 00:00 UTC)", step)
	}
	if len(at) == 1 {
		is.warn(pos, "on.schedule.cron", fmt.Sprintf("for a run every %d %s write %s instead of cron; to keep this time, write %s", step, unit, every, at[0]),
			"cron %q: the %s field %s fires at %s %s only, once %s: a step counts within each %s", text, field, f, field, at[0], map[string]string{"hour": "an hour", "day": "a day"}[within], within)
		return
	}
	is.warn(pos, "on.schedule.cron", fmt.Sprintf("for a run every %d %s write %s instead of cron; to keep these times, list them (%s)", step, unit, every, strings.Join(at, ",")),
		"cron %q: the %s field %s fires at %ss %s, %d then %d %s apart: a step starts again with each %s", text, field, f, field, listText(at), step, wrap, unit, within)
}

// shortMonths warns of a day-of-month field whose days some of the
// schedule's months lack (ss's day-of-week field is *): those months have
// no run.
func shortMonths(is *issues, pos Pos, text string, ss *cron.SpecSchedule) {
	first := 0
	for d := 1; d <= 31; d++ {
		if ss.Dom&(1<<d) != 0 {
			first = d
			break
		}
	}
	if first < 29 {
		return
	}
	var skipped []string
	leapOnly := false
	for m := 1; m <= 12; m++ {
		if ss.Month&(1<<m) == 0 {
			continue
		}
		days := [13]int{0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}[m]
		switch {
		case m == 2 && first == 29:
			leapOnly = true
		case first > days:
			skipped = append(skipped, time.Month(m).String())
		}
	}
	if len(skipped) == 0 && !leapOnly {
		return
	}
	var what []string
	switch {
	case len(skipped) == 1:
		what = append(what, fmt.Sprintf("in %s, which has no %s", skipped[0], ordinal(first)))
	case len(skipped) > 1:
		what = append(what, fmt.Sprintf("in %s, which have no %s", listText(skipped), ordinal(first)))
	}
	if leapOnly {
		what = append(what, "in February but of leap years, the only ones with a 29th")
	}
	remedy := `for the last day of every month, run on days 28-31 and add to each step's if that the next day is the 1st: ` + nextDayFirst
	if ss.Month&^cronStar == 1<<2 {
		remedy = `for the last day of February every year, run on days 28-29 and add to each step's if that the next day is the 1st: ` + nextDayFirst
	}
	is.warn(pos, "on.schedule.cron", remedy, "cron %q has no run %s", text, strings.Join(what, ", nor "))
}

// nextDayFirst is the test of a run on the last day of a month.
const nextDayFirst = `(trigger.time + duration("24h")).getDayOfMonth("UTC") == 0 (0 is the 1st; your zone)`

// ordinal writes 29 as 29th, 31 as 31st.
func ordinal(n int) string {
	switch {
	case n%10 == 1 && n%100 != 11:
		return strconv.Itoa(n) + "st"
	case n%10 == 2 && n%100 != 12:
		return strconv.Itoa(n) + "nd"
	case n%10 == 3 && n%100 != 13:
		return strconv.Itoa(n) + "rd"
	}
	return strconv.Itoa(n) + "th"
}

// listText joins words as "a, b and c".
func listText(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
