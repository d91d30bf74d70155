package okta

import "time"

// WindowEndUncertainty is how much earlier than its estimate a rate-limit
// window may really end: the estimate comes from the whole-second Date
// header, plus the response's latency. Budgets grant nothing in that
// stretch.
const WindowEndUncertainty = 1100 * time.Millisecond

const (
	// budgetMargin is added to a window's end before requests flow again,
	// for the latency between the server's clock and ours.
	budgetMargin = 50 * time.Millisecond
	// sameWindowTolerance is how far apart two observed resets may be and
	// still be the same window (Date has one-second resolution).
	sameWindowTolerance = 1500 * time.Millisecond
	// assumedWindow is the window length assumed after a window ends and
	// before a response tells the new one (Okta's windows are a minute).
	assumedWindow = time.Minute
	// maxResetAhead is the farthest ahead a told window end is believed.
	// Okta's windows last a minute, so a reset further away is a broken
	// header; believed, it would hold every request of the bucket until
	// then, and the real answers after it could not correct it (they
	// would look like late answers of an older window).
	maxResetAhead = 2 * assumedWindow
)

// WindowState is one rate budget's count of its current window; Reserve
// and Learn are the pacing rules over it. Budget keeps one per bucket in
// memory; a budget shared by several servers keeps it in a store. The zero
// value knows nothing yet and lets requests through. WindowState is a plain
// value: its keeper serializes access.
type WindowState struct {
	// Limit is the requests allowed per window; 0 until a response tells it.
	Limit int
	// Used is the requests counted in the window: the grants, and what
	// responses told of the org's count.
	Used int
	// End is the window's end on the caller's clock; zero until told.
	End time.Time
	// Estimated reports that End is a guess made when the last window
	// ended, which no response has confirmed yet.
	Estimated bool
	// LastGrant is when Reserve last granted a request.
	LastGrant time.Time
}

// reserve is what the budget leaves for the org's other callers.
func (w *WindowState) reserve() int { return max(1, w.Limit/100) }

// lowWater is the remaining count at or below which requests are paced.
func (w *WindowState) lowWater() int { return max(w.reserve()+1, w.Limit/10) }

// Reserve grants one request at now and returns 0, or returns how long the
// request must wait. Requests flow while the window's remaining requests
// stay above a small reserve; the last tenth of them is spread evenly over
// the rest of the window; when only the reserve is left, or the window is
// in its uncertain last stretch, requests wait for the window's end.
func (w *WindowState) Reserve(now time.Time) time.Duration {
	if w.Limit == 0 {
		// Nothing known yet, so nothing to count: the first responses
		// will tell what the org has counted.
		w.LastGrant = now
		return 0
	}
	if !now.Before(w.End.Add(budgetMargin)) {
		// The window has ended: assume a full new one until a response
		// tells the real end.
		w.Used = 0
		w.End = now.Add(assumedWindow)
		w.Estimated = true
	}
	remaining := w.Limit - w.Used
	avail := remaining - w.reserve()
	// A told window end may be up to a second late (Date's resolution): a
	// request granted in that last stretch could reach the org in its next
	// window, which the org counts afresh.
	end := w.End
	if !w.Estimated {
		end = end.Add(-WindowEndUncertainty)
	}
	if avail <= 0 || !now.Before(end) {
		return w.End.Add(budgetMargin).Sub(now)
	}
	// A last grant after now is another server's, whose clock is ahead:
	// no interval can be measured from it.
	if remaining <= w.lowWater() && !w.LastGrant.IsZero() && !w.LastGrant.After(now) {
		interval := end.Sub(now) / time.Duration(avail+1)
		if next := w.LastGrant.Add(interval); now.Before(next) {
			return next.Sub(now)
		}
	}
	w.Used++
	w.LastGrant = now
	return 0
}

// Tells reports whether o, received at now, tells a budget anything: not
// when the response had no rate-limit headers, was a concurrency 429
// (limit 0), came from a window that has already ended, or names a reset
// further ahead than any window of Okta's lasts.
func (o Observation) Tells(now time.Time) bool {
	return o.Known && o.Limit > 0 && o.Reset.After(now) && !o.Reset.After(now.Add(maxResetAhead))
}

// Told says which window a response counted in, relative to a WindowState's.
type Told int

const (
	// ToldNothing: the Observation tells nothing (see Observation.Tells).
	ToldNothing Told = iota
	// ToldFirst: the state had no told end (none yet, or a guess since the
	// last window ended), so its grants since went into the told window.
	ToldFirst
	// ToldNewer: the org is in a newer window than the state thought.
	ToldNewer
	// ToldOlder: a late response of an older window; the state's stands.
	ToldOlder
	// ToldSame: the state's own window.
	ToldSame
)

// Learn applies the limit and window end that o, received at now, tells,
// and returns which window o counted in. It leaves Used to the caller,
// which alone knows which of its grants the org may not have counted yet.
// An Observation that tells nothing leaves w unchanged.
func (w *WindowState) Learn(o Observation, now time.Time) Told {
	if !o.Tells(now) {
		return ToldNothing
	}
	w.Limit = o.Limit
	switch {
	case w.End.IsZero() || w.Estimated:
		w.End, w.Estimated = o.Reset, false
		return ToldFirst
	case o.Reset.After(w.End.Add(sameWindowTolerance)):
		w.End = o.Reset
		return ToldNewer
	case o.Reset.Before(w.End.Add(-sameWindowTolerance)):
		return ToldOlder
	}
	// Every estimate is at or after the true end (Date is truncated), so
	// the earliest is the tightest safe one.
	if o.Reset.Before(w.End) {
		w.End = o.Reset
	}
	return ToldSame
}
