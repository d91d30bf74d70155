package flow

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // IANA zones for on.schedule.timezone on hosts without a zone database
	"unicode"
	"unicode/utf8"

	"cel.dev/cel-go/common/types"
	"github.com/goccy/go-yaml/ast"
	"github.com/robfig/cron/v3"
)

// Trigger kinds: what started a run (Firing.Kind) and what a flow's on:
// section holds (Trigger.Kind).
const (
	KindManual   = "manual"
	KindSchedule = "schedule"
	KindEvent    = "event"
)

// Event deliveries.
const (
	DeliveryHook     = "hook"
	DeliveryPoll     = "poll"
	DeliveryHookPoll = "hook+poll"
)

// DeliveryOf is the delivery of an event trigger that names delivery
// named ("" when it names none) on a server whose default is
// serverDefault ("" meaning poll).
func DeliveryOf(named, serverDefault string) string {
	return cmp.Or(named, serverDefault, DeliveryPoll)
}

// MinEvery is the shortest interval of an on.schedule.every.
const MinEvery = time.Minute

// MinStartingDeadline is the shortest on.schedule.startingDeadline: a
// busy server (or one waiting for the database) may fire a tick some
// seconds late, which a shorter deadline would skip.
const MinStartingDeadline = time.Minute

// Trigger is a flow's on: section: what starts its runs without a person.
// Exactly one of Schedule and Event is set. It is immutable once parsed.
type Trigger struct {
	Schedule *Schedule
	Event    *EventTrigger
	Pos      Pos

	inputs *value // on.inputs: a mapping of the flow's input names to values
}

// Kind is KindSchedule or KindEvent.
func (t *Trigger) Kind() string {
	if t.Event != nil {
		return KindEvent
	}
	return KindSchedule
}

// Schedule is on.schedule: a cron expression of five fields or an
// interval, in a timezone.
type Schedule struct {
	// Cron is the five-field cron expression (minute hour day-of-month month
	// day-of-week); empty when Every is set.
	Cron string
	// Every is the interval (at least MinEvery); zero when Cron is set.
	// Its ticks are the multiples of Every since the Unix epoch, so every
	// server computes the same ones.
	Every time.Duration
	// Timezone is the IANA zone the cron fields are read in ("UTC" when
	// the document names none).
	Timezone string
	// StartingDeadline is how late a tick may still start its run: a tick
	// missed (every server down) for longer is skipped, as a Kubernetes
	// CronJob's startingDeadlineSeconds skips it. Zero when the document
	// names none: the latest missed tick runs, however late (it is less
	// than one interval old).
	StartingDeadline time.Duration

	loc       *time.Location
	spec      cron.Schedule // the cron fields read on the wall clock, in UTC
	fixedTime bool          // minute and hour fields do not start with * (or ?)
	zonePos   Pos           // where the document names timezone; zero when it does not
}

// Next is the first tick strictly after t, or the zero time when the
// schedule has none in the next five years (such as February 30th).
// Daylight saving time is handled as cron (Vixie cron, Debian's and most
// Linux systems') handles it, for a job at a fixed time (minute and hour
// not starting with *): when the clocks jump forward by less than three
// hours over its wall-clock time, it fires right after the jump; when a
// wall-clock time happens twice, it fires once, at the first. A job whose
// minute or hour is * fires by the wall clock: on both passes of a
// repeated hour, and not in a skipped one.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.Every > 0 {
		step := int64(s.Every)
		n := t.UnixNano()
		next := (n/step + 1) * step
		if n < 0 && n%step != 0 {
			next -= step
		}
		return time.Unix(0, next).UTC()
	}
	// The cron fields are matched on the wall clock (s.spec reads them in
	// UTC, which never jumps), one stretch of the zone's offset at a time:
	// within a stretch, a wall-clock time is one instant. robfig/cron's own
	// arithmetic in a zone assumes offsets change by whole hours, and skips
	// days where they change by half an hour (Australia/Lord_Howe).
	limit := t.Add(maxSearch)
	at, first := t, true // the stretch from at: after t, or from its start
	for ; !at.After(limit); first = false {
		off := offsetAt(at, s.loc)
		stop := nextOffsetChange(at, s.loc, limit)
		wall := at.UTC().Add(off)
		if !first {
			wall = wall.Add(-time.Nanosecond) // the stretch's first instant counts
		}
		for {
			w := s.spec.Next(wall)
			if w.IsZero() {
				return time.Time{}
			}
			tick := w.Add(-off)
			if !stop.IsZero() && !tick.Before(stop) {
				break
			}
			if !s.fixedTime || !s.happenedBefore(w, tick) {
				return tick
			}
			wall = w // a repeated wall-clock time: a fixed-time job ran at the first
		}
		// No tick in this stretch. A fixed-time job whose time the jump at
		// its end skips runs right after the jump.
		jump := offsetAt(stop, s.loc) - off
		if s.fixedTime && jump > 0 && jump < maxDSTJump {
			gap := stop.UTC().Add(off) // the wall-clock times [gap, gap+jump) do not happen
			if w := s.spec.Next(gap.Add(-time.Nanosecond)); w.Before(gap.Add(jump)) {
				return stop.UTC()
			}
		}
		at = stop
	}
	return time.Time{}
}

// maxSearch is how far ahead Next looks for a tick.
const maxSearch = 5 * 366 * 24 * time.Hour

// maxDSTJump is the largest forward jump of a zone's clocks after which a
// fixed-time job skipped by it still runs; larger ones are corrections of
// the zone (a country moving across the date line), as in cron.
const maxDSTJump = 3 * time.Hour

// maxOffset bounds how far an instant is from its wall-clock time read as
// UTC, with room to spare: offsets run from -12:00 to +14:00, and the local
// mean times of the past stay within a day.
const maxOffset = 48 * time.Hour

// happenedBefore reports whether the clocks of the schedule's zone showed
// the wall-clock time w (read as UTC) before the instant tick, which shows
// it: whether an earlier stretch of another offset covers it.
func (s *Schedule) happenedBefore(w, tick time.Time) bool {
	off := offsetAt(tick, s.loc)
	for at := tick; at.After(w.Add(-maxOffset)); {
		start, _ := at.In(s.loc).ZoneBounds()
		if start.IsZero() || start.After(at) {
			return false
		}
		// The stretch before start may be reported in pieces and with no
		// change of offset; the offset of the instant decides.
		at = start.Add(-time.Nanosecond)
		if o := offsetAt(at, s.loc); o != off {
			if j := w.Add(-o); j.Before(tick) && offsetAt(j, s.loc) == o {
				return true
			}
		}
	}
	return false
}

// offsetAt is loc's UTC offset at t.
func offsetAt(t time.Time, loc *time.Location) time.Duration {
	_, offset := t.In(loc).Zone()
	return time.Duration(offset) * time.Second
}

// nextOffsetChange is the first instant after t at which loc's UTC offset
// differs from t's, or the zero time when there is none up to limit.
// ZoneBounds alone does not say: it may end a stretch where the offset
// stays the same (at the end of a year, past the zone's table of changes),
// and then sometimes before t itself (at the end of a leap year).
func nextOffsetChange(t time.Time, loc *time.Location, limit time.Time) time.Time {
	off := offsetAt(t, loc)
	for at := t; !at.After(limit); {
		_, end := at.In(loc).ZoneBounds()
		switch {
		case end.IsZero():
			return time.Time{}
		case !end.After(at):
			end = at.Add(time.Hour)
			if offsetAt(end, loc) != off {
				// The change is within the hour: find its second.
				lo, hi := at, end
				for hi.Sub(lo) > time.Second {
					mid := lo.Add(hi.Sub(lo) / 2).Truncate(time.Second)
					if offsetAt(mid, loc) == off {
						lo = mid
					} else {
						hi = mid
					}
				}
				return hi.UTC()
			}
		case offsetAt(end, loc) != off:
			return end.UTC()
		}
		at = end
	}
	return time.Time{}
}

// Location is the schedule's timezone.
func (s *Schedule) Location() *time.Location { return s.loc }

// EventTrigger is on.event: runs start when the connection's org reports an
// event of the event card's kind for which if holds.
type EventTrigger struct {
	Card       string // "okta-devices/device-removed-from-user"
	Connection string // nickname or id, as written
	// Delivery is DeliveryHook, DeliveryPoll or DeliveryHookPoll; empty
	// when the document leaves it to the server's default.
	Delivery string

	cond        *value // on.event.if; nil when absent
	cardPos     Pos
	pos         Pos
	badDelivery bool // delivery is none of the three: its scopes are not checked

	connectionID string // set by Validate
}

// ConnectionID is the id of the trigger's connection; empty until the
// document has been validated.
func (e *EventTrigger) ConnectionID() string { return e.connectionID }

// Connector is the connector part of the event card's reference.
func (e *EventTrigger) Connector() string {
	c, _, _ := strings.Cut(e.Card, "/")
	return c
}

// Spec is the trigger as the API shows it: {kind: "schedule", cron|every,
// timezone, startingDeadline (when set)} or {kind: "event", card, connection, delivery, if}. Two
// triggers with equal specs (compared as JSON) start runs at the same
// moments.
func (t *Trigger) Spec() map[string]any {
	if t == nil {
		return nil
	}
	if e := t.Event; e != nil {
		m := map[string]any{"kind": KindEvent, "card": e.Card, "connection": e.Connection}
		if e.Delivery != "" {
			m["delivery"] = e.Delivery
		}
		if e.cond != nil {
			m["if"] = e.cond.source()
		}
		return m
	}
	s := t.Schedule
	m := map[string]any{"kind": KindSchedule, "timezone": s.Timezone}
	if s.Cron != "" {
		m["cron"] = s.Cron
	} else {
		m["every"] = s.Every.String()
	}
	if s.StartingDeadline > 0 {
		m["startingDeadline"] = s.StartingDeadline.String()
	}
	return m
}

// IntervalText writes an interval of Spec ("1m0s", "1h30m0s") as a flow
// document writes it ("1m", "1h30m"); text that is not an interval is
// returned as it is. Spec keeps Go's form, which stored triggers are
// compared in.
func IntervalText(text string) string {
	d, err := time.ParseDuration(text)
	if err != nil || d <= 0 {
		return text
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// SpecJSON is Spec as canonical JSON (keys sorted), or nil for no trigger.
func (t *Trigger) SpecJSON() []byte {
	if t == nil {
		return nil
	}
	b, _ := json.Marshal(t.Spec()) // a map of strings always marshals
	return b
}

// Firing is what started a run: the trigger's kind, its time (the schedule
// tick, the event's published time, or when a person started the run) and
// for events the event. It is `trigger` in the run's expressions.
type Firing struct {
	Kind      string    `json:"kind"`
	Time      time.Time `json:"time"`
	EventUUID string    `json:"eventUuid,omitempty"`
	// Event is trigger.event: {uuid, eventType, published, displayMessage,
	// actor, device, user, raw} as JSON data.
	Event map[string]any `json:"event,omitempty"`
	// Actor is who the run acts for (who started it; of a triggered run,
	// who enabled the flow): its card runs are recorded and audited under
	// it. It is not part of trigger; the store keeps it as the run's actor,
	// not in the firing.
	Actor Actor `json:"-"`
	// Rerun says the run runs again a finished run's items (a rerun):
	// the steps it keeps from that run (failed-only) give statuses from
	// then, not now. Not part of trigger.
	Rerun bool `json:"-"`
}

// Actor is who a run acts for: a person (Login), a personal API token
// (TokenName, owned by Login) or the bootstrap admin, as the caller names
// them (the store's actor has the same fields).
type Actor struct {
	Type      string
	Login     string
	TokenName string
}

// activation is `trigger` as expressions see it: time is a CEL timestamp.
func (f Firing) activation() map[string]any {
	m := map[string]any{"kind": f.Kind, "time": f.Time.UTC()}
	if f.Kind == KindEvent {
		m["eventUuid"] = f.EventUUID
		ev := f.Event
		if ev == nil {
			ev = map[string]any{}
		}
		m["event"] = ev
	}
	return m
}

// TriggerInputs evaluates on.inputs for a run started by f: the flow's
// inputs for that run, before conversion to the declared types. A document
// without on.inputs gives an empty map.
func (d *Document) TriggerInputs(ctx context.Context, f Firing) (map[string]any, error) {
	out := map[string]any{}
	if d.Trigger == nil || d.Trigger.inputs == nil {
		return out, nil
	}
	v, err := d.Trigger.inputs.eval(ctx, map[string]any{"trigger": f.activation()}, "on.inputs")
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("on.inputs gave %s, not a mapping of input names to values", kindOf(v))
	}
	return m, nil
}

// TriggerMatches evaluates on.event.if for f; true when the trigger has no
// if.
func (d *Document) TriggerMatches(ctx context.Context, f Firing) (bool, error) {
	if d.Trigger == nil || d.Trigger.Event == nil || d.Trigger.Event.cond == nil {
		return true, nil
	}
	v, err := d.Trigger.Event.cond.eval(ctx, map[string]any{"trigger": f.activation()}, "on.event.if")
	if err != nil {
		return false, err
	}
	b, ok := v.(bool)
	if !ok {
		return false, fmt.Errorf("on.event.if gave %s, not true or false", kindOf(v))
	}
	return b, nil
}

// cronParser reads exactly five fields, as the flow document pins; descriptors such
// as @every are not cron and have on.schedule.every instead.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

var onKeys = []string{"schedule", "event", "inputs"}

// trigger reads the on: section.
func (p *docParser) trigger(n ast.Node, keyPos Pos) *Trigger {
	n = p.plain(n, "")
	if n == nil {
		p.iss.add(keyPos, "", "on: is empty: add schedule: (cron or every) or event:, or remove on:")
		return nil
	}
	entries, ok := p.mapping(n, "", "on")
	if !ok {
		return nil
	}
	t := &Trigger{Pos: keyPos}
	good := true
	for _, e := range entries {
		switch e.key {
		case "schedule":
			t.Schedule = p.schedule(e)
			good = good && t.Schedule != nil
		case "event":
			t.Event = p.event(e)
			good = good && t.Event != nil
		case "inputs":
			v := p.value(e.val, "", 0)
			switch {
			case v == nil:
				good = false
			case v.kind == valMap:
				t.inputs = v
			case v.kind == valLiteral && v.lit == nil:
			default:
				p.iss.add(e.keyPos, "", "on.inputs must be a mapping of the flow's input names to values, e.g. since: ${{ string(trigger.time - duration(\"24h\")) }}")
				good = false
			}
		case "cron", "every", "timezone", "startingDeadline":
			p.iss.add(e.keyPos, "", "unknown key %q in on; on has schedule or event, and inputs: %s goes under on.schedule, e.g. on: {schedule: {cron: \"0 2 * * *\", timezone: Europe/Berlin}}", e.key, e.key)
			good = false
		default:
			p.iss.add(e.keyPos, "", "unknown key %q in on; on has schedule or event, and inputs%s", e.key, suggest(e.key, onKeys...))
			good = false
		}
	}
	switch {
	case t.Schedule != nil && t.Event != nil:
		p.iss.add(keyPos, "", "on has both schedule and event; a flow has one trigger: keep one (make a second flow for the other)")
		return nil
	case t.Schedule == nil && t.Event == nil:
		if good {
			p.iss.add(keyPos, "", "on has neither schedule nor event: add schedule: {cron: \"0 2 * * *\"} or event: {card: ..., connection: ...}")
		}
		return nil
	case !good:
		return nil
	}
	return t
}

// intervalKey is an interval of on.schedule (every, startingDeadline):
// its key, its shortest value and the words of its problems.
type intervalKey struct {
	key      string
	min      time.Duration
	examples string // valid values, after "e.g. "
	tooShort string // after "KEY is D; ", for a D under min
	whole    string // values in whole seconds, after "e.g. "
}

var (
	everyInterval    = intervalKey{"every", MinEvery, "15m, 1h or 24h", "the shortest interval is 1m: use 1m or more", "90s or 15m"}
	deadlineInterval = intervalKey{"startingDeadline", MinStartingDeadline, "30m or 2h (how late a missed tick may still run)",
		"the shortest is 1m, since a busy server may start a tick some seconds late: use 1m or more", "90s or 30m"}
)

// interval reads the value of e as the interval k into *d: a number and a
// unit, at least k.min, in whole seconds. A bad value is a valueIssue and
// leaves *d as it was. It returns where the value stands.
func (p *docParser) interval(e entry, k intervalKey, d *time.Duration) Pos {
	var text string
	p.asValues(func() { text, _ = p.str(e.val, "", k.key) })
	pos := p.pos(e.val)
	v, err := time.ParseDuration(strings.TrimSpace(text))
	switch {
	case err != nil:
		p.valueIssue(pos, "", "%s %q is not an interval: write a number and a unit, e.g. %s", k.key, text, k.examples)
	case v < k.min:
		p.valueIssue(pos, "", "%s is %s; %s", k.key, v, k.tooShort)
	case v%time.Second != 0:
		p.valueIssue(pos, "", "%s is %s; use whole seconds (e.g. %s)", k.key, v, k.whole)
	default:
		*d = v
	}
	return pos
}

func (p *docParser) schedule(se entry) *Schedule {
	const form = `write it as schedule: {cron: "0 2 * * *", timezone: Europe/Berlin} or schedule: {every: 15m}`
	if p.plain(se.val, "") == nil {
		p.iss.add(se.keyPos, "", "on.schedule is empty; %s", form)
		return nil
	}
	entries, ok := p.mapping(se.val, "", "on.schedule")
	if !ok {
		return nil
	}
	s := &Schedule{Timezone: "UTC", loc: time.UTC}
	var cronText string
	var cronPos, deadlinePos Pos
	hasCron, hasEvery, good := false, false, true
	for _, e := range entries {
		switch e.key {
		// A bad cron, interval or zone is a valueIssue: the trigger is
		// kept (without its ticks), so that on.inputs and the steps are
		// still checked.
		case "cron":
			p.asValues(func() { cronText, _ = p.str(e.val, "", "cron") })
			cronPos, hasCron = p.pos(e.val), true
		case "every":
			p.interval(e, everyInterval, &s.Every)
			hasEvery = true
		case "timezone":
			var name string
			p.asValues(func() { name, _ = p.str(e.val, "", "timezone") })
			loc, err := loadZone(name)
			if err != nil {
				p.valueIssue(p.pos(e.val), "", "timezone %q %v; use an IANA zone name such as UTC, Europe/Berlin or America/New_York", name, err)
				continue
			}
			s.Timezone, s.loc, s.zonePos = loc.String(), loc, p.pos(e.val)
			zoneWarning(&p.iss, s.zonePos, s.Timezone)
		case "startingDeadline":
			deadlinePos = p.interval(e, deadlineInterval, &s.StartingDeadline)
		case "startingDeadlineSeconds":
			p.iss.add(e.keyPos, "", "unknown key %q in on.schedule; write Kubernetes' startingDeadlineSeconds as startingDeadline, an interval with its unit (startingDeadline: 2h for 7200 seconds)", e.key)
			good = false
		default:
			p.iss.add(e.keyPos, "", "unknown key %q in on.schedule; a schedule has cron or every, timezone, and startingDeadline%s", e.key, suggest(e.key, "cron", "every", "timezone", "startingDeadline"))
			good = false
		}
	}
	if s.StartingDeadline > 0 && s.Every > 0 && s.StartingDeadline >= s.Every {
		// The latest missed tick is always less than one interval old when
		// the scheduler fires it: such a deadline would skip nothing.
		p.valueIssue(deadlinePos, "", "startingDeadline %s is not shorter than every %s, so it would skip nothing: a missed tick runs at most one interval late without it; remove startingDeadline, or make it shorter than %[2]s",
			IntervalText(s.StartingDeadline.String()), IntervalText(s.Every.String()))
	}
	switch {
	case hasCron && hasEvery:
		// Kept without its ticks, as after a cron that does not parse.
		p.valueIssue(se.keyPos, "", "on.schedule has both cron and every; keep one")
		hasCron, s.Every = false, 0
	case !hasCron && !hasEvery:
		p.valueIssue(se.keyPos, "", "on.schedule has neither cron nor every; %s", form)
	}
	var spec cron.Schedule
	if hasCron {
		// Checked whatever else is wrong (a bad timezone, an unknown
		// key), so that every problem is reported at once.
		var msg string
		if spec, msg = parseCron(cronText); msg != "" {
			p.valueIssue(cronPos, "", "cron %q: %s", cronText, msg)
			hasCron = false // the schedule is kept without its ticks
		}
	}
	if !good {
		return nil
	}
	if hasCron {
		fields := strings.Fields(cronText)
		s.Cron = strings.Join(fields, " ")
		s.fixedTime = !starField(fields[0]) && !starField(fields[1])
		s.spec = withLocation(spec, time.UTC)
		if s.Next(p.now).IsZero() {
			p.valueIssue(cronPos, "", "cron %q never fires (no such date in the next five years); check the day-of-month and month fields", cronText)
		} else {
			cronWarnings(&p.iss, cronPos, s.Cron, fields, s.spec)
		}
	}
	return s
}

// checkEveryZone adds to iss the problem of a schedule that names a zone
// other than UTC for every: the interval's ticks are counted from the Unix
// epoch whatever the zone, so the zone would change nothing but what the
// flow seems to say (every: 24h in Europe/Berlin fires at 01:00 there in
// winter, not at midnight). Check applies it to the documents it is given;
// a stored flow that names one keeps running, as it always did.
func checkEveryZone(t *Trigger, iss *issues) {
	if t == nil || t.Schedule == nil || t.Schedule.Every == 0 || t.Schedule.Timezone == "UTC" || t.Schedule.zonePos == (Pos{}) {
		return
	}
	s := t.Schedule
	iss.add(s.zonePos, "", "timezone %s has no effect with every: its ticks are the multiples of %s counted from 1970-01-01 00:00 UTC, whatever the zone; "+
		"remove timezone, or for times of day in %[1]s write cron instead (e.g. cron: \"0 0 * * *\" with timezone %[1]s for midnight there every day)",
		s.Timezone, IntervalText(s.Every.String()))
}

// parseCron parses five cron fields, returning a message for a person on
// failure.
func parseCron(text string) (cron.Schedule, string) {
	t := strings.TrimSpace(text)
	switch {
	case t == "":
		return nil, `cron is empty: write five fields, minute hour day-of-month month day-of-week, e.g. "0 2 * * *" for 02:00 every day`
	case strings.HasPrefix(t, "@"):
		return nil, `descriptors such as @daily are not supported: write five fields (e.g. "0 0 * * *"), or use every: for an interval`
	case strings.HasPrefix(t, "TZ=") || strings.HasPrefix(t, "CRON_TZ="):
		return nil, "write the zone under timezone:, not in the cron expression"
	}
	fields := strings.Fields(t)
	if n := len(fields); n != 5 {
		return nil, fmt.Sprintf("it has %d fields; cron has five: minute hour day-of-month month day-of-week (e.g. \"0 2 * * *\" for 02:00 every day)", n)
	}
	domStar, dowStar := starField(fields[2]), starField(fields[4])
	fields[4] = sundaySeven(fields[4])
	const fieldsText = `; the fields are minute (0-59) hour (0-23) day-of-month (1-31) month (1-12 or JAN-DEC) day-of-week (0-7, 0 and 7 being Sunday, or SUN-SAT)`
	if msg := cronTokenProblem(strings.Fields(t)); msg != "" {
		return nil, msg + fieldsText
	}
	if msg := cronRangeProblem(strings.Fields(t)); msg != "" {
		return nil, msg + fieldsText
	}
	spec, err := cronParser.Parse(strings.Join(fields, " "))
	if err != nil {
		return nil, err.Error() + fieldsText
	}
	// A day matches when either day field does, as in cron, unless one of
	// them starts with *: then both must. robfig/cron marks only a field
	// of * (or */1) so, and read "0 2 */2 * MON-FRI" as every other day
	// and every weekday, where cron runs it on the odd weekdays.
	if ss, ok := spec.(*cron.SpecSchedule); ok {
		if domStar {
			ss.Dom |= cronStar
		}
		if dowStar {
			ss.Dow |= cronStar
		}
	}
	return spec, ""
}

// starField reports whether a cron field starts with * or with ?, which
// robfig/cron reads as * (and cronWarnings warns of).
func starField(f string) bool {
	return strings.HasPrefix(f, "*") || strings.HasPrefix(f, "?")
}

// cronFieldNames names the five cron fields, in order.
var cronFieldNames = []string{"minute", "hour", "day-of-month", "month", "day-of-week"}

// cronNames are the names the month and day-of-week fields take.
var cronNames = map[int][]string{
	3: {"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"},
	4: {"sun", "mon", "tue", "wed", "thu", "fri", "sat"},
}

// cronTokenProblem says which value of the five fields is neither a
// number, * (or ?) nor a name the field takes, in cron's words rather
// than the parser's (failed to parse int from 5L: strconv.Atoi: ...): the
// L, W and # of Quartz and of some cloud schedulers, which cron has not,
// and a day's or month's full name; "" when each is one of them (the
// parser then judges ranges and steps).
func cronTokenProblem(fields []string) string {
	for i, f := range fields {
		for _, tok := range strings.FieldsFunc(f, func(r rune) bool { return r == ',' || r == '-' || r == '/' }) {
			low := strings.ToLower(tok)
			if tok == "*" || tok == "?" || strings.Trim(tok, "0123456789") == "" || slices.Contains(cronNames[i], low) {
				continue
			}
			msg := fmt.Sprintf("the %s field %q: %q is not a number", cronFieldNames[i], f, tok)
			if names := cronNames[i]; names != nil {
				msg += fmt.Sprintf(" nor a name of the field (%s ... %s, three letters)", strings.ToUpper(names[0]), strings.ToUpper(names[len(names)-1]))
			}
			switch {
			case strings.Contains(tok, "#") || (i == 2 || i == 4) && (strings.HasSuffix(low, "l") || strings.HasSuffix(low, "w")):
				msg += `; cron has no L, W or # (the last day, the nearest weekday or the nth weekday of a month, as Quartz writes them): write the days as numbers, ranges and lists; for the first Monday of a month, run on days 1-7 ("0 2 1-7 * *") and test trigger.time.getDayOfWeek("Europe/Berlin") == 1 (0 is Sunday; your zone) in the steps' if`
			}
			return msg
		}
	}
	return ""
}

// cronBounds are the smallest and largest value of each cron field, as
// cron takes them (a day-of-week of 7 is Sunday, as 0 is).
var cronBounds = [5][2]int{{0, 59}, {0, 23}, {1, 31}, {1, 12}, {0, 7}}

// cronUnits name a value of each cron field.
var cronUnits = []string{"minute", "hour", "day of the month", "month", "day of the week"}

// cronRangeProblem says what is wrong with a list, range or step of the
// five fields (whose values are numbers or names, cronTokenProblem), in
// the field's own terms rather than the parser's (end of range (8) above
// maximum (6), of a day-of-week of 8, whose largest is 7 in cron; failed
// to parse int from : of "MON-"); "" when it finds nothing, the parser
// then judging the rest.
func cronRangeProblem(fields []string) string {
	value := func(i int, tok string) int {
		if n, err := strconv.Atoi(tok); err == nil {
			return n
		}
		return slices.Index(cronNames[i], strings.ToLower(tok)) + cronBounds[i][0]
	}
	for i, f := range fields {
		lo, hi := cronBounds[i][0], cronBounds[i][1]
		at := fmt.Sprintf("the %s field %q: ", cronFieldNames[i], f)
		for _, el := range strings.Split(f, ",") {
			if el == "" {
				return at + "a list has an empty value (two commas, or a comma at an end)"
			}
			rng, step, hasStep := strings.Cut(el, "/")
			if hasStep {
				if strings.Contains(step, "/") {
					return at + fmt.Sprintf("%q has more than one /", el)
				}
				if n, err := strconv.Atoi(step); err != nil || n < 1 {
					return at + fmt.Sprintf("the step of %q is %q: write a whole number of 1 or more after the /", el, step)
				}
			}
			if rng == "*" || rng == "?" {
				continue
			}
			a, b, isRange := strings.Cut(rng, "-")
			switch {
			case starField(a) || starField(b):
				return at + fmt.Sprintf("%q: * stands alone (or with a step, */15), never in a range", el)
			case strings.Contains(b, "-"):
				return at + fmt.Sprintf("%q has more than one -", el)
			case a == "":
				return at + fmt.Sprintf("%q has no value before its -", el)
			case isRange && b == "":
				return at + fmt.Sprintf("%q has no value after its -", el)
			}
			ends := []string{a}
			if isRange {
				ends = append(ends, b)
			}
			for _, tok := range ends {
				switch n := value(i, tok); {
				case n < lo:
					return at + fmt.Sprintf("%s is below %d, the first %s (%d-%d)", tok, lo, cronUnits[i], lo, hi)
				case n > hi:
					return at + fmt.Sprintf("%s is above %d, the last %s (%d-%d)", tok, hi, cronUnits[i], lo, hi)
				}
			}
			if isRange && value(i, a) > value(i, b) {
				return at + fmt.Sprintf("the range %q runs backwards, and a cron range does not wrap around: write it from the smaller value to the larger, or as two ranges (e.g. %s-%d,%d-%s)", rng, a, hi, lo, b)
			}
		}
	}
	return ""
}

// sundaySeven writes a day-of-week field's 7, which cron reads as Sunday as
// it does 0 ("0 2 * * 7", "1-7"), as robfig/cron reads it: 0, the range
// lo-7 as lo-6 and 0 (when its step reaches 7). Anything else is left as
// it is, for the parser to judge.
func sundaySeven(field string) string {
	elems := strings.Split(field, ",")
	var out []string
	for _, el := range elems {
		rng, step, hasStep := strings.Cut(el, "/")
		lo, hi, isRange := strings.Cut(rng, "-")
		switch {
		case el == "7":
			out = append(out, "0")
			continue
		case !isRange || hi != "7":
			out = append(out, el)
			continue
		}
		n, err := strconv.Atoi(step)
		if !hasStep {
			n, err = 1, nil
		}
		l, lerr := strconv.Atoi(lo)
		if name, ok := dayNumbers[strings.ToLower(lo)]; ok {
			l, lerr = name, nil
		}
		if err != nil || lerr != nil || n <= 0 || l > 7 {
			out = append(out, el)
			continue
		}
		if l < 7 {
			r := lo + "-6"
			if hasStep {
				r += "/" + step
			}
			out = append(out, r)
		}
		if (7-l)%n == 0 {
			out = append(out, "0")
		}
	}
	return strings.Join(out, ",")
}

// dayNumbers are the day-of-week names cron takes, by number.
var dayNumbers = map[string]int{"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}

// cronStar is robfig/cron's mark of a day field that starts with * (its
// starBit).
const cronStar = 1 << 63

// withLocation reads a parsed cron schedule in loc.
func withLocation(s cron.Schedule, loc *time.Location) cron.Schedule {
	if spec, ok := s.(*cron.SpecSchedule); ok {
		c := *spec
		c.Location = loc
		return &c
	}
	return s
}

// loadZone loads an IANA zone; "Local" and "" are refused, as they mean
// the server's own zone and differ between servers.
func loadZone(name string) (*time.Location, error) {
	switch strings.TrimSpace(name) {
	case "":
		return nil, fmt.Errorf("is empty")
	case "Local":
		return nil, fmt.Errorf("is the server's own zone, which may differ between servers")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("is not a known zone%s", zoneHint(name))
	}
	return loc, nil
}

// utcOffset is a zone written as an offset: UTC+2, GMT-05:00.
var utcOffset = regexp.MustCompile(`^(?i:UTC|GMT)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$`)

// zoneHint says what a name that is no zone likely meant: the zone in
// other capitals or with _ for its spaces (zone names are
// case-sensitive), the Etc zone of an offset, or that an abbreviation is
// not a zone; "" when it cannot tell.
func zoneHint(name string) string {
	t := strings.TrimSpace(name)
	if m := utcOffset.FindStringSubmatch(t); m != nil {
		hint := " (" + t + " is an offset, not a zone: write the zone of the place, such as Europe/Berlin, whose clocks follow its daylight saving time"
		if h, _ := strconv.Atoi(m[2]); (m[3] == "" || m[3] == "00") && h <= 14 {
			sign := map[string]string{"+": "-", "-": "+"}[m[1]]
			if h == 0 {
				return hint + ", or UTC)"
			}
			if _, err := time.LoadLocation(fmt.Sprintf("Etc/GMT%s%d", sign, h)); err == nil {
				hint += fmt.Sprintf(", or for a fixed offset Etc/GMT%s%d, whose sign is the other way round)", sign, h)
				return hint
			}
		}
		return hint + ")"
	}
	words := func(s string, upper bool) string {
		parts := strings.Split(s, "/")
		for i, p := range parts {
			if upper && i == 0 && len(p) <= 3 {
				parts[i] = strings.ToUpper(p) // US/Eastern
				continue
			}
			b := []byte(strings.ToLower(p))
			for j := range b {
				if j == 0 || b[j-1] == '_' || b[j-1] == '-' {
					b[j] = byte(unicode.ToUpper(rune(b[j])))
				}
			}
			parts[i] = string(b)
		}
		return strings.Join(parts, "/")
	}
	spaced := strings.Join(strings.Fields(t), "_")
	for _, c := range []string{t, spaced, words(spaced, false), words(spaced, true), strings.ToUpper(spaced)} {
		if c == name || c == "" || c == "Local" || !utf8.ValidString(c) {
			continue
		}
		if _, err := time.LoadLocation(c); err == nil {
			return fmt.Sprintf(" (did you mean %q?)", c)
		}
	}
	if len(t) >= 2 && len(t) <= 5 && strings.ToUpper(t) == t && !strings.ContainsAny(t, "/_0123456789") {
		return " (" + t + " looks like an abbreviation, which names no zone: write the zone of the place, such as America/Los_Angeles rather than PST, or Europe/Berlin rather than CEST)"
	}
	if z := nearZone(words(spaced, false)); z != "" {
		return fmt.Sprintf(" (did you mean %q?)", z)
	}
	return ""
}

// zoneRegions are the areas of the IANA zones named after a city.
var zoneRegions = []string{"Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Atlantic", "Indian", "Antarctica"}

// nearZone is the zone that name, written as Area/City words, most likely
// meant: a city alone (Berlin, New_York) in its area, or a city misspelt
// by one letter (Europe/Berln, America/Chicgo); "" when none is found.
// The zone database lists no names, so candidates are tried one by one
// (a few hundred loads of the one area, on the path of an error only).
func nearZone(name string) string {
	if len(name) > 64 || strings.Count(name, "/") > 1 {
		return ""
	}
	area, city, hasArea := strings.Cut(name, "/")
	if !hasArea {
		for _, r := range zoneRegions {
			if _, err := time.LoadLocation(r + "/" + area); err == nil {
				return r + "/" + area
			}
		}
		return ""
	}
	if len(city) > 32 {
		return ""
	}
	areas := []string{area}
	const letters = "abcdefghijklmnopqrstuvwxyz_"
	try := func(c string) string {
		if c == "" || c == city {
			return ""
		}
		// Capitals after the start and after each _, as zone names have.
		b := []byte(strings.ToLower(c))
		for j := range b {
			if j == 0 || b[j-1] == '_' {
				b[j] = byte(unicode.ToUpper(rune(b[j])))
			}
		}
		for _, a := range areas {
			if _, err := time.LoadLocation(a + "/" + string(b)); err == nil {
				return a + "/" + string(b)
			}
		}
		return ""
	}
	lc := strings.ToLower(city)
	for i := 0; i <= len(lc); i++ {
		for _, l := range letters {
			if z := try(lc[:i] + string(l) + lc[i:]); z != "" { // a letter left out
				return z
			}
		}
	}
	for i := range len(lc) {
		if z := try(lc[:i] + lc[i+1:]); z != "" { // a letter too many
			return z
		}
		if i+1 < len(lc) {
			if z := try(lc[:i] + string(lc[i+1]) + string(lc[i]) + lc[i+2:]); z != "" { // two swapped
				return z
			}
		}
		for _, l := range letters {
			if z := try(lc[:i] + string(l) + lc[i+1:]); z != "" { // one wrong
				return z
			}
		}
	}
	return ""
}

var eventKeys = []string{"card", "connection", "delivery", "if"}

func (p *docParser) event(se entry) *EventTrigger {
	const form = "write it as event: {card: okta-devices/device-removed-from-user, connection: Prod devices}"
	if p.plain(se.val, "") == nil {
		p.iss.add(se.keyPos, "", "on.event is empty; %s", form)
		return nil
	}
	entries, ok := p.mapping(se.val, "", "on.event")
	if !ok {
		return nil
	}
	ev := &EventTrigger{pos: se.keyPos}
	// A bad card, connection, delivery or if is a valueIssue: the trigger
	// is kept without it, and Check leaves out what it lacks.
	good, hasCard, hasConn := true, false, false
	for _, e := range entries {
		switch e.key {
		case "card":
			hasCard = true
			var c string
			p.asValues(func() { c, _ = p.str(e.val, "", "card") })
			if !cardRefPattern.MatchString(c) {
				hint := ""
				name := c
				if _, after, ok := strings.Cut(c, "/"); ok {
					name = after
				}
				if strings.Count(name, ".") >= 2 {
					hint = fmt.Sprintf(" (%s is an Okta event type, as the System Log names it: write the event card that starts flows on it; cardflow connectors lists the event cards, and cardflow connectors CARD names a card's Okta event type)", name)
				}
				p.valueIssue(e.keyPos, "", "card %q is not an event card reference%s: write connector/card, e.g. okta-devices/device-removed-from-user", c, hint)
				continue
			}
			ev.Card, ev.cardPos = c, p.pos(e.val)
		case "connection":
			hasConn = true
			var c string
			p.asValues(func() { c, _ = p.str(e.val, "", "connection") })
			switch {
			case strings.TrimSpace(c) == "":
				p.valueIssue(e.keyPos, "", "on.event.connection is empty: give the nickname or id of a connection")
			case strings.Contains(c, "${{"):
				p.valueIssue(e.keyPos, "", "on.event.connection cannot hold an expression: give the nickname or id of a connection")
			default:
				ev.Connection = c
			}
		case "delivery":
			var d string
			p.asValues(func() { d, _ = p.str(e.val, "", "delivery") })
			switch d {
			case DeliveryHook, DeliveryPoll, DeliveryHookPoll:
				ev.Delivery = d
			default:
				p.valueIssue(p.pos(e.val), "", "delivery %q is not one of hook, poll and hook+poll (or leave it out for the server's default)", d)
				ev.badDelivery = true
			}
		case "if":
			v := p.value(e.val, "", 0)
			if v == nil {
				good = false
				continue
			}
			_, isBool := v.lit.(bool)
			if !(v.kind == valLiteral && isBool) && !v.isWholeExpr() {
				p.valueIssue(e.keyPos, "", "on.event.if must be true, false or one ${{ }} expression giving a bool, e.g. if: ${{ trigger.event.user.login.endsWith(\"@example.com\") }}")
				continue
			}
			ev.cond = v
		default:
			p.iss.add(e.keyPos, "", "unknown key %q in on.event; an event trigger has %s%s", e.key, strings.Join(eventKeys, ", "), suggest(e.key, eventKeys...))
			good = false
		}
	}
	if good && !hasCard {
		p.valueIssue(se.keyPos, "", "on.event has no card: add card: with one of the connector's event cards, e.g. okta-devices/device-deactivated")
	}
	if good && !hasConn {
		p.valueIssue(se.keyPos, "", "on.event has no connection: add connection: with the nickname or id of the connection whose org reports the events")
	}
	if !good {
		return nil
	}
	return ev
}

// checkTriggerInputs checks on.inputs against the declared inputs: every
// name is declared, and every required input without a default is given,
// since nobody is there to give it when the trigger fires.
func (p *docParser) checkTriggerInputs(doc *Document) {
	t := doc.Trigger
	given := map[string]bool{}
	if t.inputs != nil {
		for _, k := range t.inputs.keys {
			given[k] = true
			if _, ok := doc.Input(k); !ok {
				p.valueIssue(t.inputs.fields[k].pos, "", "on.inputs.%s: the flow has no input %q; %s", k, k, declaredInputs(doc))
			}
		}
	}
	var missing []string
	for _, in := range doc.Inputs {
		if in.Required && !in.HasDefault && !given[in.Name] {
			missing = append(missing, in.Name)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		p.valueIssue(t.Pos, "", "triggered runs have no value for required input %s: give it under on.inputs (trigger is in scope, e.g. since: ${{ string(trigger.time - duration(\"2160h\")) }}) or give it a default",
			missing[0])
	default:
		p.valueIssue(t.Pos, "", "triggered runs have no value for required inputs %s: give them under on.inputs (trigger is in scope, e.g. since: ${{ string(trigger.time - duration(\"2160h\")) }}) or give them a default",
			strings.Join(missing, ", "))
	}
}

// compileTrigger compiles the expressions of on.inputs and on.event.if,
// where only trigger is in scope, and refuses one whose kind the checker
// knows to be wrong (an if giving a string, an input of type string given
// trigger.event.device): every run it starts would fail there.
func (p *docParser) compileTrigger(doc *Document, envs *celEnvs) {
	t := doc.Trigger
	check := func(where string) func(*expression) {
		return func(e *expression) {
			for _, m := range e.compile(envs.trigger) {
				msg := m.msg
				if strings.Contains(msg, "undeclared reference") {
					msg += "; only trigger is in scope here (trigger.kind, trigger.time, trigger.event)"
				}
				p.iss.add(m.pos, "", "%s: %s", where, msg)
			}
		}
	}
	t.inputs.walkExprs(check("on.inputs"))
	if t.Event != nil {
		t.Event.cond.walkExprs(check("on.event.if"))
		if k, e := wholeExprKind(t.Event.cond); k != "" && k != "a bool" {
			p.iss.add(e.pos, "", "on.event.if: ${{ %s }} gives %s; it must give true or false, e.g. if: ${{ trigger.event.user.login.endsWith(\"@example.com\") }}",
				strings.TrimSpace(e.src), k)
		}
	}
	if t.inputs == nil || t.inputs.kind != valMap {
		return
	}
	for _, name := range t.inputs.keys {
		in, ok := doc.Input(name)
		if !ok {
			continue // checkTriggerInputs reports it
		}
		k, e := wholeExprKind(t.inputs.fields[name])
		switch {
		case k == "" || in.Type == "" || k == "a "+in.Type || k == "null": // null: as not given; "": its type is wrong, and said
			continue
		case (k == "a timestamp" || k == "a duration") && in.Type == TypeString:
			continue // given as its text
		}
		p.iss.add(e.pos, "", "on.inputs.%s: ${{ %s }} gives %s; input %s is a %s", name, strings.TrimSpace(e.src), k, name, in.Type)
	}
}

// wholeExprKind is the kind of value v, one compiled ${{ }} expression,
// gives, in the words of celKindText and kindOf ("a string", "a number"),
// with the expression; "" when v is not one or the checker does not know
// its kind (a field of trigger.event.raw).
func wholeExprKind(v *value) (string, *expression) {
	if !v.isWholeExpr() {
		return "", nil
	}
	e := v.tmpl.parts[0].expr
	if e == nil || e.ast == nil {
		return "", nil // it did not compile: that is reported
	}
	t := e.ast.OutputType()
	switch t.Kind() {
	case types.DynKind, types.AnyKind, types.TypeParamKind, types.ErrorKind:
		return "", nil
	}
	return celKindText(t), e
}

// source is the value as written, for showing a trigger's if.
func (v *value) source() string {
	switch v.kind {
	case valLiteral:
		return interpolate(v.lit)
	case valTemplate:
		var b strings.Builder
		for _, part := range v.tmpl.parts {
			if part.expr == nil {
				b.WriteString(part.text)
				continue
			}
			b.WriteString("${{ " + strings.TrimSpace(part.expr.src) + " }}")
		}
		return b.String()
	}
	return ""
}

// ScheduleFromSpec rebuilds a schedule from a trigger's SpecJSON, without
// the rest of its document (the scheduler reads only this). It returns nil
// and no error for an event trigger.
func ScheduleFromSpec(spec []byte) (*Schedule, error) {
	var sp struct {
		Kind, Cron, Every, Timezone, StartingDeadline string
	}
	if err := json.Unmarshal(spec, &sp); err != nil {
		return nil, fmt.Errorf("flow: trigger spec: %w", err)
	}
	if sp.Kind != KindSchedule {
		return nil, nil
	}
	loc, err := loadZone(sp.Timezone)
	if err != nil {
		return nil, fmt.Errorf("flow: trigger spec: timezone %q %v", sp.Timezone, err)
	}
	s := &Schedule{Cron: sp.Cron, Timezone: loc.String(), loc: loc}
	if sp.StartingDeadline != "" {
		if s.StartingDeadline, err = time.ParseDuration(sp.StartingDeadline); err != nil || s.StartingDeadline <= 0 {
			return nil, fmt.Errorf("flow: trigger spec: bad startingDeadline %q", sp.StartingDeadline)
		}
	}
	if sp.Cron == "" {
		if s.Every, err = time.ParseDuration(sp.Every); err != nil || s.Every < MinEvery {
			return nil, fmt.Errorf("flow: trigger spec: bad every %q", sp.Every)
		}
		return s, nil
	}
	spec2, msg := parseCron(sp.Cron)
	if msg != "" {
		return nil, fmt.Errorf("flow: trigger spec: cron %q: %s", sp.Cron, msg)
	}
	fields := strings.Fields(sp.Cron)
	s.spec, s.fixedTime = withLocation(spec2, time.UTC), !starField(fields[0]) && !starField(fields[1])
	return s, nil
}
