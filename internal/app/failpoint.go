package app

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// Failpoints kill the process with SIGKILL at a named point, so that crash
// tests can stop a real server exactly around a refresh or mid flow run.
// They are enabled only through Config.Failpoint.
const (
	fpRefreshBeforeRequest = "refresh-before-request"
	fpRefreshAfterResponse = "refresh-after-response"
	fpRefreshAfterCommit   = "refresh-after-commit"
	fpFlowAfterItems       = "flow-after-items:"
	fpFlowAfterCardRuns    = "flow-after-card-runs:"
	fpFlowAfterLifecycle   = "flow-after-lifecycle:"
	fpScheduleAfterTick    = "schedule-after-tick"
	// An event hook delivery: before its events are stored, and after
	// they are committed but before the 200 answer.
	fpEventBeforeStore = "event-delivery-before-store"
	fpEventAfterStore  = "event-delivery-after-store"
	// The dispatch of a stored event: before its run is started, and
	// after the run is committed but before the event is marked
	// dispatched.
	fpEventBeforeRun = "event-before-run"
	fpEventAfterRun  = "event-after-run"
)

// die kills the process as kill -9 would: no deferred functions, no
// flushing, no graceful anything.
func die(log *slog.Logger, point string) {
	log.Warn("failpoint reached; killing the process", slog.String("failpoint", point))
	_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Hour)
}

// failpointTransport kills the process around refresh-token requests, or
// after a number of device lifecycle calls were answered (before their
// card runs are finished).
type failpointTransport struct {
	next  http.RoundTripper
	point string
	log   *slog.Logger
	calls atomic.Int64
}

// countTo reports whether the point is prefix followed by a number that
// the counter n, incremented here, has now reached.
func countTo(point, prefix string, n *atomic.Int64) bool {
	s, ok := strings.CutPrefix(point, prefix)
	if !ok {
		return false
	}
	limit, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n.Add(1) >= limit
}

func (t *failpointTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.Contains(req.URL.Path, "/lifecycle/") &&
		strings.HasPrefix(t.point, fpFlowAfterLifecycle) {
		resp, err := t.next.RoundTrip(req)
		if err == nil && resp.StatusCode < 300 && countTo(t.point, fpFlowAfterLifecycle, &t.calls) {
			_, _ = io.Copy(io.Discard, resp.Body) // the org has changed the device
			die(t.log, t.point)
		}
		return resp, err
	}
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/v1/token") || req.Body == nil {
		return t.next.RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	refresh := form.Get("grant_type") == "refresh_token"
	if refresh && t.point == fpRefreshBeforeRequest {
		die(t.log, t.point)
	}
	resp, err := t.next.RoundTrip(req)
	if refresh && t.point == fpRefreshAfterResponse && err == nil {
		_, _ = io.Copy(io.Discard, resp.Body) // the org has answered (and rotated)
		die(t.log, t.point)
	}
	return resp, err
}

// failpointStore kills the process after a refresh's outcome is committed,
// after a number of flow items are recorded, or after a number of flow
// items' card runs are (before their items are).
type failpointStore struct {
	store.Store
	point    string
	log      *slog.Logger
	items    atomic.Int64
	cardRuns atomic.Int64
}

func (s *failpointStore) UpdateConnection(ctx context.Context, id string, fn func(*store.Connection) error) error {
	if s.point != fpRefreshAfterCommit {
		return s.Store.UpdateConnection(ctx, id, fn)
	}
	var before, after store.Connection
	err := s.Store.UpdateConnection(ctx, id, func(c *store.Connection) error {
		before = *c
		if err := fn(c); err != nil {
			return err
		}
		after = *c
		return nil
	})
	if err != nil {
		return err
	}
	if !before.RefreshStartedAt.IsZero() && after.RefreshStartedAt.IsZero() && !bytes.Equal(before.SealedRefreshToken, after.SealedRefreshToken) {
		die(s.log, s.point)
	}
	return nil
}

func (s *failpointStore) AdvanceSchedule(ctx context.Context, id string, due, next time.Time, run *store.FlowRun) error {
	if err := s.Store.AdvanceSchedule(ctx, id, due, next, run); err != nil {
		return err
	}
	if s.point == fpScheduleAfterTick && run != nil {
		die(s.log, s.point)
	}
	return nil
}

func (s *failpointStore) PutEvents(ctx context.Context, events []*store.Event, via string) (int, error) {
	if via == store.ViaHook && s.point == fpEventBeforeStore {
		die(s.log, s.point)
	}
	n, err := s.Store.PutEvents(ctx, events, via)
	if err == nil && n > 0 && via == store.ViaHook && s.point == fpEventAfterStore {
		die(s.log, s.point)
	}
	return n, err
}

func (s *failpointStore) StartEventRun(ctx context.Context, eventUUID, flowID string, run *store.FlowRun) error {
	if s.point == fpEventBeforeRun {
		die(s.log, s.point)
	}
	err := s.Store.StartEventRun(ctx, eventUUID, flowID, run)
	if err == nil && s.point == fpEventAfterRun {
		die(s.log, s.point)
	}
	return err
}

func (s *failpointStore) PutFlowItem(ctx context.Context, owner string, it *store.FlowItem) error {
	if err := s.Store.PutFlowItem(ctx, owner, it); err != nil {
		return err
	}
	if countTo(s.point, fpFlowAfterItems, &s.items) {
		die(s.log, s.point)
	}
	return nil
}

func (s *failpointStore) FinishRun(ctx context.Context, r *store.Run, e *store.AuditEvent) error {
	if err := s.Store.FinishRun(ctx, r, e); err != nil {
		return err
	}
	if r.FlowRunID != "" && countTo(s.point, fpFlowAfterCardRuns, &s.cardRuns) {
		die(s.log, s.point)
	}
	return nil
}

// FinishFlowItem stores an item with its card run: both failpoints of a
// finished flow item count it.
func (s *failpointStore) FinishFlowItem(ctx context.Context, it *store.FlowItem, r *store.Run, e *store.AuditEvent) error {
	if err := s.Store.FinishFlowItem(ctx, it, r, e); err != nil {
		return err
	}
	cardRuns := countTo(s.point, fpFlowAfterCardRuns, &s.cardRuns)
	if items := countTo(s.point, fpFlowAfterItems, &s.items); items || cardRuns {
		die(s.log, s.point)
	}
	return nil
}
