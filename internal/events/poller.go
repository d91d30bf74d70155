package events

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/store"
)

// DefaultPollInterval is how often a connection's System Log is polled.
const DefaultPollInterval = 30 * time.Second

// DeviceEventTypes are the Okta event types of the connector's event
// cards; the poller reads only these.
var DeviceEventTypes = []string{
	"device.lifecycle.activate", "device.lifecycle.deactivate", "device.lifecycle.suspend",
	"device.lifecycle.unsuspend", "device.lifecycle.delete", "device.enrollment.create",
	"device.user.add", "device.user.remove",
}

// pollFilter is the System Log filter of the poller.
func pollFilter() string {
	parts := make([]string, len(DeviceEventTypes))
	for i, t := range DeviceEventTypes {
		parts[i] = `eventType eq "` + t + `"`
	}
	return strings.Join(parts, " or ")
}

// Orgs gives the Okta client of a connection (its org, credentials and
// the shared rate budget).
type Orgs interface {
	Client(ctx context.Context, connectionID string) (*okta.Client, error)
}

// Poller reads connections' System Logs into the inbox. Set its fields
// before use; it is then safe for concurrent use.
type Poller struct {
	// Store holds the cursors, the leases and the inbox (required).
	Store store.Store
	// Orgs gives each connection's Okta client (required).
	Orgs Orgs
	// Owner names this server in poll leases (required).
	Owner string
	// Interval is the time between polls of a connection; 0 means
	// DefaultPollInterval. The lease outlives two intervals.
	Interval time.Duration
	// PageSize is the limit of each System Log request; 0 means 1000.
	PageSize int
	// MaxPages bounds the pages one poll reads (a catch-up continues at
	// the next poll); 0 means 100.
	MaxPages int
	// Now is the clock of leases and received times; nil means time.Now.
	Now func() time.Time
	// Logger gets a line per failed poll; nil discards.
	Logger *slog.Logger
	// Stored, when set, is called after new events of a connection were
	// committed; it must not block.
	Stored func(connectionID string)
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) interval() time.Duration {
	if p.Interval > 0 {
		return p.Interval
	}
	return DefaultPollInterval
}

func pollLease(connID string) string { return "events-poll/" + connID }

// PollResult says what one poll did.
type PollResult struct {
	Polled bool // false when another server holds the connection's lease
	Pages  int
	Events int // events received
	New    int // of which new to the inbox
}

// Poll reads a connection's System Log from its stored cursor (or, on the
// first poll, from since) until a page comes back empty or MaxPages were
// read, storing each page's events before its cursor. Only the server
// holding the connection's poll lease polls; others get Polled false.
func (p *Poller) Poll(ctx context.Context, connectionID string, since time.Time) (PollResult, error) {
	var res PollResult
	ok, err := p.Store.TryLease(ctx, pollLease(connectionID), p.Owner, 2*p.interval()+time.Minute, p.now())
	if err != nil || !ok {
		return res, err
	}
	res.Polled = true
	cl, err := p.Orgs.Client(ctx, connectionID)
	if err != nil {
		return res, err
	}
	next := ""
	switch src, err := p.Store.GetEventSource(ctx, connectionID); {
	case err == nil:
		next = src.PollNext
	case !isNotFound(err):
		return res, err
	}
	limit, maxPages := p.PageSize, p.MaxPages
	if limit <= 0 {
		limit = 1000
	}
	if maxPages <= 0 {
		maxPages = 100
	}
	for res.Pages < maxPages {
		page, err := cl.PollLogs(ctx, next, since, pollFilter(), limit)
		if err != nil {
			return res, fmt.Errorf("events: polling the System Log of %s: %w", connectionID, err)
		}
		res.Pages++
		if len(page.Events) > 0 {
			evs, err := toStore(connectionID, page.Events, p.now())
			if err != nil {
				return res, fmt.Errorf("events: System Log of %s: %w", connectionID, err)
			}
			n, err := p.Store.PutEvents(ctx, evs, store.ViaPoll)
			if err != nil {
				return res, err
			}
			res.Events += len(evs)
			res.New += n
			if n > 0 && p.Stored != nil {
				p.Stored(connectionID)
			}
		}
		if page.Next == "" {
			return res, fmt.Errorf("events: the System Log of %s answered a polling request without a next link", connectionID)
		}
		if page.Next != next || next == "" {
			if err := p.Store.SetPollCursor(ctx, connectionID, page.Next, p.now()); err != nil {
				return res, err
			}
		}
		next = page.Next
		if len(page.Events) == 0 {
			break
		}
	}
	return res, nil
}
