package connection

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// A user connection's refresh token ends at a time of the org's clock (90
// days after the sign-in, by the ID token's iat; introspection's exp),
// which may be off this server's: by minutes on a host whose clock is not
// kept right, by weeks when the emulated org's clock is moved. So its
// expiry warning, its connection.expiring notice and the check that stops
// it before a card run once its token has ended go by the org's clock:
// this server's plus the connection's OrgClockOffset, which the Date of
// the org's answers to the connection tells (introspection after each
// sign-in and refresh, card calls, System Log polls), without a call of
// its own. An answer without a Date tells nothing, and a connection that
// no answer told any offset goes by this server's clock.

// orgClockSeen is what one answer of the org tells of its clock: its
// Date, truncated to the second, was written between sent and received
// by this server's clock, so the org's clock was ahead of this server's
// by at least least and less than most.
type orgClockSeen struct {
	least, most time.Duration
}

// seeOrgClock reads the org's clock in the Date of an answer (its
// headers h) to a request sent at sent and answered at received; false
// when the answer has no Date.
func seeOrgClock(h http.Header, sent, received time.Time) (orgClockSeen, bool) {
	if h == nil {
		return orgClockSeen{}, false
	}
	date, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return orgClockSeen{}, false
	}
	return orgClockSeen{least: date.Sub(received), most: date.Add(time.Second).Sub(sent)}, true
}

// orgClockMargin is how far outside an answer's bounds a known offset may
// be and still be kept: Date's whole seconds and the round trip make the
// bounds of one answer differ from the next one's, and an offset that
// moved by less does not move an expiry's day.
const orgClockMargin = time.Second

// agrees reports whether offset is what the answer tells, give or take
// orgClockMargin.
func (s orgClockSeen) agrees(offset time.Duration) bool {
	return offset >= s.least-orgClockMargin && offset < s.most+orgClockMargin
}

// offset is the org's clock offset the answer tells: zero when it allows
// the clocks to agree (both kept right by NTP, as is usual), otherwise
// its least, erring as events.OrgOffset does on the side of an earlier
// org time: an expiry seen by it has passed at the org too.
func (s orgClockSeen) offset() time.Duration {
	if s.least <= 0 && s.most > 0 {
		return 0
	}
	return s.least
}

// orgNow is the time by the clock of c's org (see OrgClockOffset).
func (m *Manager) orgNow(c *store.Connection) time.Time {
	return m.now().Add(c.OrgClockOffset)
}

// orgClockRewrite is how soon this server stores again an offset it
// stored already, when the connection holds another: servers whose own
// clocks disagree each see their own offset, and each stores its own at
// most this often rather than at every answer.
const orgClockRewrite = time.Minute

// orgClockWrite is the offset this server last stored for a connection,
// and when.
type orgClockWrite struct {
	offset time.Duration
	at     time.Time
}

// errOrgClockKept: the stored offset agrees with the answer already.
var errOrgClockKept = errors.New("the org's clock offset is known already")

// noteOrgClock stores the offset of the clock of user connection id's
// org that an answer tells (seen), when the offset it holds (stored) does
// not agree with it. Best effort: a failure is logged and the connection
// keeps the offset it had.
func (m *Manager) noteOrgClock(ctx context.Context, id string, stored time.Duration, seen orgClockSeen) {
	if seen.agrees(stored) {
		return
	}
	off := seen.offset()
	now := m.now()
	m.orgClockMu.Lock()
	if m.orgClockWrote == nil {
		m.orgClockWrote = map[string]orgClockWrite{}
	}
	if w, ok := m.orgClockWrote[id]; ok && seen.agrees(w.offset) && now.Sub(w.at) < orgClockRewrite {
		m.orgClockMu.Unlock()
		return // stored by this server a moment ago; another server stored its own since
	}
	m.orgClockWrote[id] = orgClockWrite{offset: off, at: now}
	m.orgClockMu.Unlock()
	var was time.Duration
	err := m.Store.UpdateConnection(ctx, id, func(c *store.Connection) error {
		if c.Auth == store.AuthService || seen.agrees(c.OrgClockOffset) {
			return errOrgClockKept
		}
		was, c.OrgClockOffset = c.OrgClockOffset, off
		return nil
	})
	switch {
	case err == nil:
		m.log.InfoContext(ctx, "the org's clock is ahead of this server's by the offset (negative: behind), as its answer's Date tells; the connection's refresh token expiry goes by it",
			"connection", id, "orgClockAheadBy", off, "before", was)
	case !errors.Is(err, errOrgClockKept) && !errors.Is(err, store.ErrNotFound):
		m.log.WarnContext(ctx, "cannot store the org's clock offset", "connection", id, "error", err)
	}
}
