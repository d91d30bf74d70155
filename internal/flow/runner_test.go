package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/cardflow/cardflow/internal/problem"
)

const suspendFlow = `name: suspend-active
inputs:
  status: {type: string, default: ACTIVE}
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
    input: {status: "${{ inputs.status }}"}
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    concurrency: 8
    input:
      deviceId: ${{ item.id }}
`

func fixedNow() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }

func TestRunForEach300(t *testing.T) {
	doc := validated(t, suspendFlow)
	cards := newDeviceCards(600) // 300 ACTIVE
	cards.gate = 8
	state := newMemState()
	var mu sync.Mutex
	var last map[string]Progress
	r := &Runner{Cards: cards, State: state, Now: fixedNow, Progress: func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		if last == nil {
			last = map[string]Progress{}
		}
		last[p.StepID] = p
	}}
	res, err := r.Run(context.Background(), "run1", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := &RunResult{ID: "run1", Status: "succeeded", Steps: []StepResult{
		{ID: "find", Status: "succeeded", Items: 1, Succeeded: 1},
		{ID: "suspend", Status: "succeeded", Items: 300, Succeeded: 300, Changed: changedN(300)},
	}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	active := 0
	for i := 0; i < 600; i++ {
		id := fmt.Sprintf("guo%04d", i)
		wantCalls := 0
		if i%4 < 2 {
			wantCalls = 1
			active++
		}
		if got := cards.calls("okta-devices/suspend-device", id); got != wantCalls {
			t.Errorf("suspend calls for %s = %d; want %d", id, got, wantCalls)
		}
	}
	if active != 300 {
		t.Fatalf("fixture has %d active devices; want 300", active)
	}
	if cards.maxFlight != 8 {
		t.Errorf("at most %d cards ran at once; want exactly the concurrency, 8", cards.maxFlight)
	}
	if state.saves != 301 {
		t.Errorf("saved %d items; want 301", state.saves)
	}
	st := state.step("run1", "suspend")
	if st.Status != StatusSucceeded || st.Items != 300 || st.Succeeded != 300 || !st.FinishedAt.Equal(fixedNow()) {
		t.Errorf("saved step = %+v; want succeeded with 300 items", st)
	}
	if st.Output != nil {
		t.Errorf("saved step output of %d bytes; want none (the items hold the outputs, kept once)", len(st.Output))
	}
	first, _ := state.item("run1", "suspend", 0)
	var output map[string]any
	if err := json.Unmarshal(first.Output, &output); err != nil {
		t.Fatalf("first item output: %v", err)
	}
	if diff := cmp.Diff(map[string]any{"deviceId": "guo0000", "status": "SUSPENDED", "changed": true}, output); diff != "" {
		t.Errorf("first output mismatch (-want +got):\n%s", diff)
	}
	it, ok := state.item("run1", "suspend", 7)
	if !ok || string(it.Input) != `{"deviceId":"guo0013"}` {
		t.Errorf("item 7 input = %s (%v); want deviceId guo0013", it.Input, ok)
	}
	if got, want := last["suspend"], (Progress{RunID: "run1", StepID: "suspend", Done: 300, Total: 300, Succeeded: 300}); got != want {
		t.Errorf("last progress = %+v; want %+v", got, want)
	}
}

func TestRunIf(t *testing.T) {
	doc := validated(t, `name: if
inputs:
  skip_read: {type: bool, default: true}
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    concurrency: 3
    if: ${{ item.status == "ACTIVE" && index < 5 }}
    input: {deviceId: "${{ item.id }}"}
  - id: read
    card: okta-devices/read-device
    connection: Demo org
    if: ${{ !inputs.skip_read }}
    input: {deviceId: guo0000}
  - id: after-read
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: "${{ steps.read.output.device.id }}"}
  - id: count
    card: okta-devices/read-device
    connection: Demo org
    if: ${{ steps.suspend.outputs.size() == 3 }}
    input: {deviceId: guo0002}
`)
	cards := newDeviceCards(8) // ACTIVE: 0 1 4 5; index < 5 leaves 0 1 4
	state := newMemState()
	res, err := (&Runner{Cards: cards, State: state}).Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := &RunResult{ID: "r", Status: StatusSucceeded, Steps: []StepResult{
		{ID: "find", Status: StatusSucceeded, Items: 1, Succeeded: 1},
		{ID: "suspend", Status: StatusSucceeded, Items: 8, Succeeded: 3, Skipped: 5, Changed: changedN(3)},
		{ID: "read", Status: StatusSkipped, Items: 1, Skipped: 1},
		{ID: "after-read", Status: StatusSkipped, Error: `not run: it uses the output of step "read", which was skipped by its if`},
		{ID: "count", Status: StatusSucceeded, Items: 1, Succeeded: 1},
	}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result mismatch (-want +got):\n%s", diff)
	}
	for i, want := range []int{1, 1, 0, 0, 1, 0, 0, 0} {
		if got := cards.calls("okta-devices/suspend-device", fmt.Sprintf("guo%04d", i)); got != want {
			t.Errorf("suspend calls for device %d = %d; want %d", i, got, want)
		}
	}
	if it, _ := state.item("r", "suspend", 2); it.Status != StatusSkipped {
		t.Errorf("item 2 status = %q; want skipped", it.Status)
	}
}

func TestRunFailuresDoNotLoseOthers(t *testing.T) {
	doc := validated(t, `name: failures
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
    input: {status: ACTIVE}
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    concurrency: 4
    input: {deviceId: "${{ item.id }}"}
  - id: serial
    card: okta-devices/read-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    input: {deviceId: "${{ item.profile.serialNumber }}"}
  - id: summary
    card: okta-devices/read-device
    connection: Demo org
    if: ${{ steps.suspend.outputs.size() == 8 }}
    input: {deviceId: guo0000}
  - id: missing
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: nope}
  - id: uses-missing
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: "${{ steps.missing.output.device.id }}"}
`)
	cards := newDeviceCards(20) // ACTIVE: 0 1 4 5 8 9 12 13 16 17
	cards.failIDs["guo0005"] = true
	cards.failIDs["guo0013"] = true
	state := newMemState()
	res, err := (&Runner{Cards: cards, State: state}).Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	want := &RunResult{ID: "r", Status: StatusFailed, Steps: []StepResult{
		{ID: "find", Status: StatusSucceeded, Items: 1, Succeeded: 1},
		{ID: "suspend", Status: StatusFailed, Items: 10, Succeeded: 8, Failed: 2, Changed: changedN(8),
			Error: "2 of 10 items failed; first: item 3: device guo0005: the org answered 500", FirstErrorCode: "upstream_error"},
		{ID: "serial", Status: StatusFailed, Items: 10, Failed: 10,
			Error: `10 of 10 items failed; first: item 0: input.deviceId: ${{ item.profile.serialNumber }}: no such key: serialNumber (Okta leaves out a field a device or user does not have, so item.profile.serialNumber is there on some items only: test has(item.profile.serialNumber) first, e.g. has(item.profile.serialNumber) && ...)`, FirstErrorCode: "invalid_input"},
		{ID: "summary", Status: StatusSucceeded, Items: 1, Succeeded: 1},
		{ID: "missing", Status: StatusFailed, Items: 1, Failed: 1, Error: `device "nope" not found`, FirstErrorCode: "not_found"},
		{ID: "uses-missing", Status: StatusSkipped, Error: `not run: it uses the output of step "missing", which failed`},
	}}
	if diff := cmp.Diff(want, res); diff != "" {
		t.Errorf("result mismatch (-want +got):\n%s", diff)
	}
	it, _ := state.item("r", "suspend", 3)
	if it.Status != StatusFailed || it.ErrorCode != "upstream_error" || it.Error != "device guo0005: the org answered 500" {
		t.Errorf("failed item = %+v; want upstream_error with the card's message", it)
	}
	for _, id := range []string{"guo0000", "guo0001", "guo0004", "guo0008", "guo0009", "guo0012", "guo0016", "guo0017"} {
		if got := cards.calls("okta-devices/suspend-device", id); got != 1 {
			t.Errorf("suspend calls for %s = %d; want 1", id, got)
		}
	}
	if got := state.step("r", "uses-missing").Status; got != StatusSkipped {
		t.Errorf("saved status of uses-missing = %q; want skipped", got)
	}
}

func TestRunResumeDoesNotRepeatItems(t *testing.T) {
	doc := validated(t, suspendFlow)
	cards := newDeviceCards(600)
	state := newMemState()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cards.afterCalls, cards.cancel = 120, cancel // the search and 119 suspends, then the "crash"
	r := &Runner{Cards: cards, State: state}
	if _, err := r.Run(ctx, "run1", doc, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted Run error = %v; want context.Canceled", err)
	}
	done := state.saves
	if done < 120 || done >= 301 {
		t.Fatalf("saved %d items before the interruption; want some but not all", done)
	}
	if got := state.step("run1", "suspend").Status; got != StatusRunning {
		t.Errorf("interrupted step status = %q; want running", got)
	}

	// While the run is down the org changes: the resumed run must keep the
	// search output it recorded, not search again.
	cards.mu.Lock()
	for i := range 50 {
		cards.devices = append(cards.devices, map[string]any{"id": fmt.Sprintf("new%02d", i), "status": "ACTIVE"})
	}
	cards.afterCalls = 0
	cards.mu.Unlock()

	res, err := r.Run(context.Background(), "run1", doc, nil)
	if err != nil {
		t.Fatalf("resumed Run: %v", err)
	}
	if res.Status != StatusSucceeded || res.Steps[1].Items != 300 || res.Steps[1].Succeeded != 300 {
		t.Errorf("resumed result = %+v; want 300 succeeded items", res)
	}
	if cards.search != 1 {
		t.Errorf("search ran %d times; want 1 (the resumed run reuses its output)", cards.search)
	}
	for i := 0; i < 600; i += 4 {
		for _, id := range []string{fmt.Sprintf("guo%04d", i), fmt.Sprintf("guo%04d", i+1)} {
			if got := cards.calls("okta-devices/suspend-device", id); got != 1 {
				t.Errorf("suspend calls for %s = %d; want exactly 1 across the interruption", id, got)
			}
		}
	}
	for i := range 50 {
		if got := cards.calls("okta-devices/suspend-device", fmt.Sprintf("new%02d", i)); got != 0 {
			t.Errorf("device new%02d (added after the search) was suspended", i)
		}
	}
	if state.saves != 301 {
		t.Errorf("saved %d items in all; want 301", state.saves)
	}

	// A third call finds everything done and calls no card.
	before := cards.totalRunCalls()
	again, err := r.Run(context.Background(), "run1", doc, nil)
	if err != nil {
		t.Fatalf("third Run: %v", err)
	}
	if diff := cmp.Diff(res, again); diff != "" {
		t.Errorf("re-run of a finished run differs (-first +again):\n%s", diff)
	}
	if got := cards.totalRunCalls(); got != before {
		t.Errorf("re-running a finished run made %d card calls; want 0", got-before)
	}
}

// rivalState hides recorded items from the first LoadItems of each step,
// as when another server recorded them after this one looked.
type rivalState struct {
	*memState
	mu     sync.Mutex
	hidden map[string]bool
}

func (s *rivalState) LoadItems(ctx context.Context, runID, stepID string) ([]ItemState, error) {
	s.mu.Lock()
	first := !s.hidden[stepID]
	s.hidden[stepID] = true
	s.mu.Unlock()
	if first {
		return nil, nil
	}
	return s.memState.LoadItems(ctx, runID, stepID)
}

func TestRunRecordedItemWins(t *testing.T) {
	doc := validated(t, `name: rival
steps:
  - id: read
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: guo0000}
  - id: next
    card: okta-devices/read-device
    connection: Demo org
    input: {deviceId: "${{ steps.read.output.device.id }}"}
`)
	mem := newMemState()
	mem.items["r/read/0"] = ItemState{RunID: "r", StepID: "read", Index: 0, Status: StatusSucceeded, Output: []byte(`{"device":{"id":"guo0001"}}`)}
	cards := newDeviceCards(2)
	var got []string
	rec := &recordingCards{CardRunner: cards, inputs: &got}
	res, err := (&Runner{Cards: rec, State: &rivalState{memState: mem, hidden: map[string]bool{}}}).Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Status != StatusSucceeded {
		t.Errorf("status = %s; want succeeded", res.Status)
	}
	if diff := cmp.Diff([]string{"read:guo0000", "next:guo0001"}, got); diff != "" {
		t.Errorf("card calls mismatch (-want +got):\n%s\n(the next step must see the recorded output)", diff)
	}
}

// recordingCards records "step:deviceId" of every RunCard call.
type recordingCards struct {
	CardRunner
	mu     sync.Mutex
	inputs *[]string
}

func (c *recordingCards) RunCard(ctx context.Context, call Call) (CardResult, error) {
	c.mu.Lock()
	*c.inputs = append(*c.inputs, fmt.Sprintf("%s:%v", call.StepID, call.Input["deviceId"]))
	c.mu.Unlock()
	return c.CardRunner.RunCard(ctx, call)
}

func TestRunStateFailureStopsTheRun(t *testing.T) {
	doc := validated(t, suspendFlow)
	state := newMemState()
	state.fail = errors.New("disk full")
	_, err := (&Runner{Cards: newDeviceCards(10), State: state}).Run(context.Background(), "r", doc, nil)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Run error = %v; want the store's error", err)
	}
}

func TestRunInputs(t *testing.T) {
	doc := validated(t, `name: inputs
inputs:
  since: {type: string, required: true}
  days: {type: number, default: 90}
  force: {type: bool, default: false}
  ids: {type: list}
steps:
  - id: a
    card: okta-devices/search-devices
    connection: Demo org
    input:
      search: 'lastUpdated lt "${{ inputs.since }}" ${{ inputs.days }} ${{ inputs.force }} ${{ has(inputs.ids) ? inputs.ids : [] }}'
`)
	tests := []struct {
		name    string
		inputs  map[string]any
		wantErr string
		search  string
	}{
		{"defaults", map[string]any{"since": "2025-01-01"}, "", `lastUpdated lt "2025-01-01" 90 false []`},
		{"all given", map[string]any{"since": "x", "days": 7, "force": true, "ids": []string{"a", "b"}}, "", `lastUpdated lt "x" 7 true ["a","b"]`},
		{"json number", map[string]any{"since": "x", "days": json.Number("1.5")}, "", `lastUpdated lt "x" 1.5 false []`},
		{"missing required", map[string]any{}, `input "since" is required: give it a string value`, ""},
		{"empty required", map[string]any{"since": ""}, `input "since" of flow inputs is empty: the flow needs it`, ""},
		{"blank required", map[string]any{"since": "  "}, `input "since" of flow inputs is empty: the flow needs it`, ""},
		{"wrong type", map[string]any{"since": "x", "days": "ninety"}, `input "days": got a string; want a number`, ""},
		{"unknown input", map[string]any{"since": "x", "colour": "y"}, `the flow has no input "colour"; its inputs are since, days, force, ids`, ""},
		{"misspelt input", map[string]any{"since": "x", "sinse": "y"}, `the flow has no input "sinse"; its inputs are since, days, force, ids (did you mean "since"?)`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls []Call
			cards := &captureCards{calls: &calls}
			res, err := (&Runner{Cards: cards, State: newMemState()}).Run(context.Background(), "r", doc, tt.inputs)
			if tt.wantErr != "" {
				if problem.CodeOf(err) != problem.InvalidInput || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run error = %v; want invalid_input containing %q", err, tt.wantErr)
				}
				if p, _ := problem.As(err); p.Details["field"] != InputsField {
					t.Errorf("Run error details = %v; want field %q, which tells it from a document's problems", p.Details, InputsField)
				}
				return
			}
			if err != nil || res.Status != StatusSucceeded {
				t.Fatalf("Run = %+v, %v; want success", res, err)
			}
			if got := calls[0].Input["search"]; got != tt.search {
				t.Errorf("search = %q; want %q", got, tt.search)
			}
		})
	}
}

// captureCards records calls and returns an empty output.
type captureCards struct {
	mu    sync.Mutex
	calls *[]Call
}

func (c *captureCards) RunCard(_ context.Context, call Call) (CardResult, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	*c.calls = append(*c.calls, call)
	return CardResult{Output: map[string]any{}}, nil
}

func (c *captureCards) PlanCard(ctx context.Context, call Call) (map[string]any, *Change, error) {
	res, err := c.RunCard(ctx, call)
	return res.Output, nil, err
}

func TestParseInputs(t *testing.T) {
	doc := mustParse(t, `name: inputs
inputs:
  s: {type: string}
  n: {type: number}
  b: {type: bool}
  l: {type: list}
steps:
  - id: a
    card: okta-devices/search-devices
    connection: Demo org
`)
	tests := []struct {
		name    string
		raw     map[string]string
		want    map[string]any
		wantErr string
	}{
		{"types", map[string]string{"s": "a=b", "n": "90", "b": "yes", "l": "x, y"},
			map[string]any{"s": "a=b", "n": 90.0, "b": true, "l": []any{"x", "y"}}, ""},
		{"json list", map[string]string{"l": `[1, "two", true]`, "b": "FALSE"},
			map[string]any{"l": []any{1.0, "two", true}, "b": false}, ""},
		{"empty list", map[string]string{"l": ""}, map[string]any{"l": []any{}}, ""},
		{"bad number", map[string]string{"n": "ninety"}, nil, `input "n": "ninety" is not a number`},
		{"bad bool", map[string]string{"b": "maybe"}, nil, `input "b": "maybe" is not true or false`},
		{"bad list", map[string]string{"l": "[1,"}, nil, `is not a JSON array`},
		{"unknown", map[string]string{"x": "1"}, nil, `the flow has no input "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseInputs(doc, tt.raw)
			if tt.wantErr != "" {
				if problem.CodeOf(err) != problem.InvalidInput || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseInputs error = %v; want invalid_input containing %q", err, tt.wantErr)
				}
				// The remedy lists what the flow takes.
				if p, _ := problem.As(err); p.Remedy != "give the inputs the flow declares: s (string), n (number), b (bool), l (list)" {
					t.Errorf("remedy %q; want the flow's inputs", p.Remedy)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseInputs: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("inputs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// waitingCards reports a rate-limit wait on every call (Call.OnWait).
type waitingCards struct{ captureCards }

func (c *waitingCards) RunCard(ctx context.Context, call Call) (CardResult, error) {
	call.OnWait(2 * time.Second)
	return c.captureCards.RunCard(ctx, call)
}

func TestProgressReportsWaits(t *testing.T) {
	doc := validated(t, "name: w\nsteps:\n  - id: a\n    card: okta-devices/read-device\n    connection: Demo org\n    input: {deviceId: guo1}\n")
	var calls []Call
	var got []Progress
	r := &Runner{Cards: &waitingCards{captureCards{calls: &calls}}, State: newMemState(), Progress: func(p Progress) { got = append(got, p) }}
	if _, err := r.RunTriggered(context.Background(), "r", doc, nil, Firing{Kind: KindManual, Actor: Actor{Type: "user", Login: "ops@example.com"}}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(calls) != 1 || calls[0].Actor.Login != "ops@example.com" {
		t.Errorf("calls %+v; want one, with the run's caller api:ops", calls)
	}
	want := []Progress{
		{RunID: "r", StepID: "a", Total: 1},
		{RunID: "r", StepID: "a", Total: 1, Wait: 2 * time.Second},
		{RunID: "r", StepID: "a", Total: 1, Done: 1, Succeeded: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress mismatch (-want +got):\n%s", diff)
	}
}

// TestRunStopped: once Stopped says so, no new item starts, the items in
// flight finish and are recorded, the step is saved canceled with what was
// done, and Run returns ErrCanceled.
func TestRunStopped(t *testing.T) {
	doc := validated(t, suspendFlow)
	cards := newDeviceCards(600) // 300 ACTIVE
	state := newMemState()
	var stop atomic.Bool
	cards.afterCalls, cards.cancel = 41, func() { stop.Store(true) } // the search and 40 suspends
	r := &Runner{Cards: cards, State: state, Stopped: func(runID string) bool { return runID == "run1" && stop.Load() }}
	_, err := r.Run(t.Context(), "run1", doc, nil)
	if !errors.Is(err, ErrCanceled) {
		t.Fatalf("Run error = %v; want ErrCanceled", err)
	}
	entered := cards.entered
	// Every card call that started finished and was recorded: the search
	// and the suspends, at most the step's concurrency after the 40th.
	if state.saves != entered || entered < 41 || entered > 41+8 {
		t.Errorf("%d items recorded, %d card calls; want them equal, between 41 and 49", state.saves, entered)
	}
	st := state.step("run1", "suspend")
	if st.Status != StatusCanceled || st.Items != 300 || st.Succeeded != entered-1 || st.FinishedAt.IsZero() {
		t.Errorf("suspend step = %+v; want canceled, 300 items, %d succeeded", st, entered-1)
	}
	// Stopped before a step starts: nothing runs.
	before := cards.entered
	if _, err := r.Run(t.Context(), "run1", doc, nil); !errors.Is(err, ErrCanceled) {
		t.Errorf("Run of a stopped run = %v; want ErrCanceled", err)
	}
	if cards.entered != before {
		t.Errorf("a stopped run called %d cards; want none", cards.entered-before)
	}
}

// TestRunCallsGoOnAfterStop: when the run's context ends (its server
// shutting down) no item starts, while the cards called before it ended
// go on under their call context (WithCallContext): they finish and their
// items are saved, so that a resume neither repeats nor loses them.
func TestRunCallsGoOnAfterStop(t *testing.T) {
	doc := validated(t, suspendFlow)
	cards := newDeviceCards(600) // 300 ACTIVE
	cards.gate = 8               // the first suspends wait until 8 are in flight
	state := newMemState()
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	cards.atGate = stop
	r := &Runner{Cards: cards, State: state, Now: fixedNow}
	_, err := r.Run(WithCallContext(ctx, t.Context()), "run1", doc, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run error = %v; want interrupted (context.Canceled)", err)
	}
	if cards.entered != 9 || cards.completed != 9 {
		t.Errorf("%d card calls made, %d completed; want the search and the 8 suspends in flight, all completed", cards.entered, cards.completed)
	}
	if state.saves != 9 {
		t.Errorf("%d items saved; want 9: the search and the 8 suspends that finished after the stop", state.saves)
	}
	for i := range 8 {
		if it, ok := state.item("run1", "suspend", i); !ok || it.Status != StatusSucceeded {
			t.Errorf("suspend item %d = %+v (saved %v); want saved as succeeded", i, it, ok)
		}
	}
	if st := state.step("run1", "suspend"); st.Status != StatusRunning {
		t.Errorf("suspend step saved as %q; want still running, for a resume", st.Status)
	}

	// Resumed: the other 292 ACTIVE devices, none of the 8 again.
	res, err := r.Run(t.Context(), "run1", doc, nil)
	if err != nil || res.Status != StatusSucceeded || res.Steps[1].Succeeded != 300 {
		t.Fatalf("resumed run = %+v, %v; want succeeded with 300 items", res, err)
	}
	if cards.completed != 9+292 {
		t.Errorf("%d card calls in all; want 301: the search, 8 before the stop and the rest once", cards.completed)
	}
}

// TestRunQuietItemsSaveTogether: items that invoke no card (skipped by
// their if, or failed before their card was called) are saved a batch at a
// time, one commit for many; items whose card ran are saved one by one.
func TestRunQuietItemsSaveTogether(t *testing.T) {
	doc := validated(t, `name: quiet
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Demo org
  - id: suspend
    card: okta-devices/suspend-device
    connection: Demo org
    for_each: ${{ steps.find.output.devices }}
    if: ${{ index % 300 == 4 || index == 599 }}
    input: {deviceId: "${{ index == 599 ? item.profile.serialNumber : item.id }}"}
`)
	cards := newDeviceCards(600)
	state := newMemState()
	res, err := (&Runner{Cards: cards, State: state}).Run(context.Background(), "r", doc, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Items 4 and 304 (ACTIVE devices) call their card; 599's input
	// names a field its device does not have (no serial number: it fails
	// before its card is called); the 597 others are skipped.
	want := StepResult{ID: "suspend", Status: StatusFailed, Items: 600, Succeeded: 2, Failed: 1, Skipped: 597, Changed: changedN(2), FirstErrorCode: "invalid_input"}
	if diff := cmp.Diff(want, res.Steps[1], cmpopts.IgnoreFields(StepResult{}, "Error")); diff != "" {
		t.Errorf("step result (-want +got):\n%s", diff)
	}
	if got := len(state.items); got != 601 {
		t.Errorf("%d items recorded; want 601 (the search and every suspend item)", got)
	}
	total := 0
	for _, n := range state.batch {
		if n > quietBatch {
			t.Errorf("a batch of %d items; want at most %d", n, quietBatch)
		}
		total += n
	}
	if total != 598 || len(state.batch) > 4 {
		t.Errorf("batches %v; want the 598 quiet items in a few batches of at most %d", state.batch, quietBatch)
	}
	if it, _ := state.item("r", "suspend", 599); it.Status != StatusFailed || it.RunRef != "" {
		t.Errorf("item 599 = %+v; want failed with no card run", it)
	}
	if got := cards.calls("okta-devices/suspend-device", "guo0304"); got != 1 {
		t.Errorf("device 304 suspended %d times; want 1", got)
	}
}
