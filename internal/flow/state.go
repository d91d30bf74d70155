package flow

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Step and item statuses.
const (
	StatusPending   = "pending"
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	// StatusCanceled is a run (and the step it was in) stopped on request
	// (Runner.Stopped).
	StatusCanceled = "canceled"
)

// ErrCanceled is returned by Run when Runner.Stopped asked the run to
// stop: the items in flight finished and are recorded, no other started.
var ErrCanceled = errors.New("flow: run canceled")

// ErrStateUnavailable, wrapped in a CardRunner's error, says that the card
// run could not be recorded because the run's state cannot be stored now
// (the database is unavailable): the item is not recorded as failed, and
// the run stops with that error, to be resumed once the store works, as
// after a StateStore failure.
var ErrStateUnavailable = errors.New("flow: the run's state cannot be stored now")

// ErrHandBack, wrapped in a CardRunner's error, says that this server
// cannot go on with the run now though another can (its keyring lacks the
// key the database's secrets are sealed with since a rotation): the item
// is not recorded as failed (its card run is stored alone), and the run
// stops with that error, for its executor to hand it back to be resumed
// by a server that can.
var ErrHandBack = errors.New("flow: this server cannot go on with the run")

// ErrRunTaken, wrapped in a CardRunner's error, says that another server
// has taken the run over (this server's claim on it lapsed): the item is
// not recorded (its card run, if any, is stored alone), and the run stops
// with that error at once, to go on on the other server. A StateStore
// refuses writes of such a run with an error of its own, which stops the
// run as every StateStore error does.
var ErrRunTaken = errors.New("flow: another server has taken the run over")

// ErrNotSent, wrapped in a CardRunner's error, says that the card changed
// nothing at the org: the run's stop ended its wait to send a call (for the
// rate limit), and it had sent nothing but reads. An item of a run asked to
// stop (Runner.Stopped) that ends so is not recorded (its card run is
// stored alone): it did not run, as the items that never started, and its
// step is canceled with them. Without the stop the item fails.
var ErrNotSent = errors.New("flow: the card sent no call that could change the org")

// ErrItemExists is returned (possibly wrapped) by StateStore.SaveItem when
// the item was already recorded. The runner then uses the recorded item:
// the item is done.
var ErrItemExists = errors.New("flow: item already recorded")

// StateStore persists a run's progress so that an interrupted run resumes
// without repeating finished items. The app adapts internal/store to it
// (FlowStep and FlowItem have the same fields). Implementations must be safe
// for concurrent use: the runner saves items of a step from several
// goroutines.
type StateStore interface {
	// SaveStep creates or replaces the state of one step of a run.
	SaveStep(ctx context.Context, s StepState) error
	// SaveItem records one finished item. Recording the same (run, step,
	// index) twice returns an error wrapping ErrItemExists.
	SaveItem(ctx context.Context, it ItemState) error
	// SaveItems records finished items together: all of them or, with an
	// error, none (one wrapping ErrItemExists when one of them was
	// recorded before).
	SaveItems(ctx context.Context, its []ItemState) error
	// LoadItems returns the recorded items of one step of a run, in any
	// order.
	LoadItems(ctx context.Context, runID, stepID string) ([]ItemState, error)
	// LoadSteps returns the saved step states of a run, in any order.
	LoadSteps(ctx context.Context, runID string) ([]StepState, error)
}

// StepState is the persisted state of one step of a run (store.FlowStep).
type StepState struct {
	RunID     string
	StepID    string
	Status    string // StatusRunning, StatusSucceeded, StatusFailed, StatusSkipped or StatusCanceled
	Items     int
	Succeeded int
	Failed    int
	Skipped   int
	// Changed counts the items whose card changed their device (its
	// output says changed or deleted); nil when the step's outputs do not
	// say (read cards, Custom API Action, no item succeeded), while it
	// runs, and for steps stored by earlier versions.
	Changed *int
	// Output is not written by the runner (a step's output is its items'
	// outputs, saved with them); runs stored by earlier versions have it.
	Output     json.RawMessage
	Error      string
	StartedAt  time.Time
	FinishedAt time.Time
}

// ItemState is one finished item of a step (store.FlowItem). A step
// without for_each has one item, index 0. RunRef is the id of the item's
// card run as the CardRunner reported it (CardResult.RunRef), if any.
type ItemState struct {
	RunID      string
	StepID     string
	Index      int
	Status     string // StatusSucceeded, StatusFailed or StatusSkipped
	Input      json.RawMessage
	Output     json.RawMessage
	ErrorCode  string
	Error      string
	RunRef     string
	StartedAt  time.Time
	FinishedAt time.Time
	// DeviceName is the display name of the device the item is about,
	// when the flow knew it (DeviceNames); "" otherwise.
	DeviceName string
}

// Call is one card invocation by the runner. Retry is set when the item
// may already have been attempted: its step was running when an earlier
// Run of the same run was interrupted, and the item was not recorded. The
// card may then have done its work already (a CardRunner can recognise
// that, see Runner).
type Call struct {
	FlowRunID  string // empty for a plan
	StepID     string
	Index      int
	Card       string // "okta-devices/suspend-device"
	Connection string // the connection id resolved by Validate
	Input      map[string]any
	Retry      bool
	// ReadDevice asks a lifecycle or delete card to read the device first
	// rather than trust the status its input gives: an item of a rerun
	// whose earlier steps' outputs were kept from the run it reruns, whose
	// statuses may no longer be true (a device changed since, by that
	// run's rerun before, or by someone else), so that changed stays true
	// to what the card did.
	ReadDevice bool
	// DeviceName is the display name of the device the call acts on (its
	// input's deviceId) when the flow knows it; "" otherwise.
	DeviceName string
	// Actor is who the run acts for (Firing.Actor): card runs are
	// recorded and audited under it. Of a plan, who asked for it.
	Actor Actor
	// Plan, set for a call of a plan (Runner.PlanFiring), names the flow
	// planned: a read card runs for real and is recorded as that plan's.
	// Zero for a call of a run.
	Plan PlanRef
	// OnWait, set by the runner, is to be called whenever the card waits
	// d for the org's rate limit; the wait shows up as a Progress with
	// Wait set. It is safe to call from any goroutine.
	OnWait func(d time.Duration)
	// Ready, set by the runner for a for_each item, is to be called once
	// the card run is recorded as running and before the card acts: it
	// waits until the item its worker ran before is saved, and an error
	// means the card must not act. So no more items are finished but not
	// saved than calls are in flight, while the previous item's save
	// commits with this one's card run.
	Ready func() error
}

// CardResult is what RunCard returns: the card's output and the id under
// which its card run is recorded (RunRef), which the runner saves on the
// item whether the card succeeded or failed.
type CardResult struct {
	Output map[string]any
	// Encoded, when set, is Output as JSON (as the card run records it):
	// the runner decodes it instead of encoding Output again, and stores
	// the item's output with it.
	Encoded json.RawMessage
	RunRef  string
	// Pending, when set, is the card run's outcome, not stored yet: the
	// runner saves the item through it (one commit for both) instead of
	// StateStore.SaveItem, or stores it alone when it does not save the
	// item.
	Pending PendingRecord
	// DeviceName is the display name of the device the card acted on when
	// the card learned it (it read the device to decide); "" otherwise.
	DeviceName string
}

// PendingRecord is a card run's outcome that the CardRunner left to be
// stored with its item (CardResult.Pending).
type PendingRecord interface {
	// SaveItem stores the item together with the outcome. It returns an
	// error wrapping ErrItemExists, the outcome then stored alone, when
	// the item was recorded before. A non-nil next says that the worker
	// goes on to another item, whose commit the save may wait to share:
	// SaveItem calls it as soon as the save is queued, so that the next
	// item's card run is committed with it or after it, never before.
	SaveItem(ctx context.Context, it ItemState, next func()) error
	// Store stores the outcome alone, for an item that is not saved.
	Store(ctx context.Context) error
}

// Change is what a manage card would do to one device (a plan's change).
type Change struct {
	DeviceID string
	// DeviceName is the device's display name when the flow or the card
	// knew it without another call to Okta; "" otherwise.
	DeviceName string
	From       string
	To         string // "DELETED" for a delete
	// Call, set instead of the others, is a call the card would make whose
	// effect cannot be predicted (a Custom API Action that changes
	// something): a plan reports it as not simulated.
	Call string
}

// CardRunner runs cards for the runner; the app implements it over the
// card executor. Errors should be *problem.Error: their code and public
// message are recorded on the item.
type CardRunner interface {
	// RunCard runs the card for real and returns its output and run
	// reference; on an error the result still carries the RunRef, if a
	// card run was recorded.
	RunCard(ctx context.Context, c Call) (CardResult, error)
	// PlanCard runs a read card for real; for a manage card it returns the
	// change the card would make (nil when it would change nothing) and,
	// optionally, the output it predicts, without changing anything.
	PlanCard(ctx context.Context, c Call) (map[string]any, *Change, error)
}

// InputRecorder is implemented by a CardRunner whose card runs record an
// input otherwise than it was given (a header value of a custom call
// redacted): an item's input is recorded as RecordedInput gives it, so
// that the item keeps no more than its card run. Nothing reads an item's
// input back to run it: a resumed or rerun item is evaluated again from
// the flow document.
type InputRecorder interface {
	RecordedInput(card string, in map[string]any) map[string]any
}

// Progress reports a run's or plan's advance. The runner calls
// Runner.Progress with one at a time (never concurrently).
type Progress struct {
	RunID     string // empty for a plan
	StepID    string
	Done      int // items of the step finished (succeeded, failed or skipped)
	Total     int // items of the step
	Succeeded int
	Failed    int
	Skipped   int
	// Wait, when non-zero, says a card of this step is waiting that long
	// for the org's rate limit (Call.OnWait); the counts are unchanged.
	Wait time.Duration
}
