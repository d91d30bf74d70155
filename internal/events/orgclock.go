package events

import (
	"context"
	"fmt"
	"time"
)

// OrgOffset returns how far the clock of connectionID's org is ahead of
// now (negative: behind), by the Date of an answer of the org
// (okta.Client.OrgTime), for the enabling of an event flow to be told in
// the org's clock: the published times of its events are by that clock,
// and this host's may be minutes off it.
//
// Date is truncated to the second and was written between the request
// and its answer, which tells the offset to within a second and the
// answer's round trip (asked again, twice at most, when that is over a
// second). When no offset is told, the clocks agree as far as
// Okta says (both kept right by NTP, as is usual): 0. Otherwise it errs
// on the side of an earlier org time, never a later one: an enabling moved
// by it counts every event published after it, and possibly some
// published up to a second or so before it, never leaving one out.
func OrgOffset(ctx context.Context, orgs Orgs, connectionID string, now func() time.Time) (time.Duration, error) {
	cl, err := orgs.Client(ctx, connectionID)
	if err != nil {
		return 0, err
	}
	var least, most time.Duration
	for i := range orgTimeAsks {
		sent := now()
		date, err := cl.OrgTime(ctx)
		if err != nil {
			return 0, fmt.Errorf("events: asking the org of %s its time: %w", connectionID, err)
		}
		received := now()
		// The org's clock read from date to date+1s when it answered,
		// from sent to received by now: each answer bounds the offset,
		// and every bound holds.
		l, m := date.Sub(received), date.Add(time.Second).Sub(sent)
		if i == 0 || l > least {
			least = l
		}
		if i == 0 || m < most {
			most = m
		}
		if received.Sub(sent) <= slowOrgTime {
			break // told to within a second and a bit: enough
		}
	}
	if least <= 0 && most > 0 {
		return 0, nil
	}
	return least, nil
}

// orgTimeAsks is how often OrgOffset asks at most, and slowOrgTime the
// round trip over which it asks again: an answer slow to come (a busy
// host, a slow network) tells the offset only to within its round trip.
const (
	orgTimeAsks = 3
	slowOrgTime = time.Second
)
