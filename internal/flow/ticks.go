package flow

import (
	"math/bits"
	"time"

	"github.com/robfig/cron/v3"
)

// Latest is the latest tick at or before now, given first, a tick at or
// before now (the first one missed). It takes steps that grow with the
// logarithm of the time between them, not with the ticks in it (a cron
// of every minute missed for a month has 43 200): an interval's by
// arithmetic, a cron's by halving, to the second, the stretch that holds
// it.
func (s *Schedule) Latest(first, now time.Time) time.Time {
	if s.Every > 0 {
		return first.Add(now.Sub(first) / s.Every * s.Every)
	}
	due := func(t time.Time) bool { n := s.Next(t); return !n.IsZero() && !n.After(now) }
	if !due(first) {
		return first
	}
	// due(lo) holds and due(hi) does not: the latest tick is in (lo, hi].
	lo, hi := first, now
	for hi.Sub(lo) > time.Second {
		if mid := lo.Add(hi.Sub(lo) / 2); due(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return s.Next(lo)
}

// Ticks counts the ticks from from, inclusive, to to, exclusive, with as
// many steps as days rather than ticks: a cron's ticks are its fields'
// matches on the wall clock, counted a day at a time, but those of a
// fixed-time job within ticksMargin after a change of the zone's offset,
// where daylight saving time moves or repeats them (see Next), which are
// counted one by one.
func (s *Schedule) Ticks(from, to time.Time) int {
	if !from.Before(to) {
		return 0
	}
	if s.Every > 0 {
		return int(s.multiples(to) - s.multiples(from))
	}
	spec, _ := s.spec.(*cron.SpecSchedule)
	n := 0
	// Stretches of one offset each, [start, end), up to the next change
	// or to; the ticks after at are counted.
	for start, at := from, from.Add(-time.Nanosecond); start.Before(to); {
		end := to
		if c := nextOffsetChange(start, s.loc, to); !c.IsZero() && c.Before(to) {
			end = c
		}
		// One by one near its start, which may follow a change, for a
		// fixed-time job (see Next); the others' ticks are the wall
		// clock's matches throughout.
		near := end
		switch {
		case spec == nil:
		case !s.fixedTime:
			near = start
		case start.Add(ticksMargin).Before(end):
			near = start.Add(ticksMargin)
		}
		for t := s.Next(at); !t.IsZero() && t.Before(near); t = s.Next(t) {
			n++
		}
		if near.Before(end) {
			off := offsetAt(near, s.loc)
			n += wallMatches(spec, near.UTC().Add(off), end.UTC().Add(off))
		}
		// A tick at end itself (a fixed-time job's right after a jump)
		// is the next stretch's, found from just before it.
		start, at = end, end.Add(-time.Nanosecond)
	}
	return n
}

// ticksMargin is how long after a change of the zone's offset Ticks
// counts a fixed-time job's ticks one by one: a wall-clock time that happened
// before the change may repeat within it (maxOffset bounds the offsets).
const ticksMargin = maxOffset

// multiples is t in units of s.Every since the Unix epoch, rounded up:
// the ticks in [a, b) number multiples(b) - multiples(a).
func (s *Schedule) multiples(t time.Time) int64 {
	step, n := int64(s.Every), t.UnixNano()
	q := n / step // rounded toward zero: up for a negative n
	if n%step > 0 {
		q++
	}
	return q
}

// wallMatches counts the minutes in [wa, wb), wall-clock times read as
// UTC, that spec's fields match (its second is 0), a day at a time.
func wallMatches(spec *cron.SpecSchedule, wa, wb time.Time) int {
	const day = 24 * time.Hour
	minutes, hours := spec.Minute&(1<<60-1), spec.Hour&(1<<24-1)
	first := wa.Truncate(time.Minute)
	if first.Before(wa) {
		first = first.Add(time.Minute)
	}
	n := 0
	for d := first.Truncate(day); d.Before(wb); d = d.Add(day) {
		if !dayMatches(spec, d) {
			continue
		}
		lo, hi := later(first, d), earlier(wb, d.Add(day))
		if lo.Equal(d) && hi.Equal(d.Add(day)) {
			n += bits.OnesCount64(hours) * bits.OnesCount64(minutes)
			continue
		}
		for h := range 24 {
			if hours&(1<<h) == 0 {
				continue
			}
			hs := d.Add(time.Duration(h) * time.Hour)
			a, b := later(lo, hs), earlier(hi, hs.Add(time.Hour))
			if !a.Before(b) {
				continue
			}
			// The minutes m with a <= hs+m < b (a is on a minute).
			m0 := int(a.Sub(hs) / time.Minute)
			m1 := int((b.Sub(hs) + time.Minute - 1) / time.Minute)
			n += bits.OnesCount64(minutes & (1<<m1 - 1) &^ (1<<m0 - 1))
		}
	}
	return n
}

// dayMatches reports whether spec's month, day-of-month and day-of-week
// fields match day, as robfig/cron matches them: both day fields must
// match when either is *, else one of them.
func dayMatches(spec *cron.SpecSchedule, day time.Time) bool {
	if spec.Month&(1<<uint(day.Month())) == 0 {
		return false
	}
	dom := spec.Dom&(1<<uint(day.Day())) != 0
	dow := spec.Dow&(1<<uint(day.Weekday())) != 0
	if spec.Dom&cronStar != 0 || spec.Dow&cronStar != 0 {
		return dom && dow
	}
	return dom || dow
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
