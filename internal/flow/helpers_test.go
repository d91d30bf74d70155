package flow

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
)

// memState is an in-memory StateStore for the runner's tests (the app
// tests the adapter over the real store backends).
type memState struct {
	mu    sync.Mutex
	steps map[string]StepState
	items map[string]ItemState
	saves int      // items recorded (by SaveItem or SaveItems)
	batch []int    // the number of items of each SaveItems call
	fail  error    // when set, SaveItem fails with it
	log   []string // "step/index" in the order items were saved
}

func newMemState() *memState {
	return &memState{steps: map[string]StepState{}, items: map[string]ItemState{}}
}

func (m *memState) SaveStep(_ context.Context, s StepState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.steps[s.RunID+"/"+s.StepID] = s
	return nil
}

func (m *memState) SaveItem(_ context.Context, it ItemState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	key := fmt.Sprintf("%s/%s/%d", it.RunID, it.StepID, it.Index)
	if _, ok := m.items[key]; ok {
		return fmt.Errorf("mem: %s: %w", key, ErrItemExists)
	}
	m.items[key] = it
	m.saves++
	m.log = append(m.log, fmt.Sprintf("%s/%d", it.StepID, it.Index))
	return nil
}

func (m *memState) SaveItems(_ context.Context, its []ItemState) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	for _, it := range its {
		key := fmt.Sprintf("%s/%s/%d", it.RunID, it.StepID, it.Index)
		if _, ok := m.items[key]; ok {
			return fmt.Errorf("mem: %s: %w", key, ErrItemExists)
		}
	}
	m.batch = append(m.batch, len(its))
	for _, it := range its {
		m.items[fmt.Sprintf("%s/%s/%d", it.RunID, it.StepID, it.Index)] = it
		m.saves++
		m.log = append(m.log, fmt.Sprintf("%s/%d", it.StepID, it.Index))
	}
	return nil
}

func (m *memState) LoadItems(_ context.Context, runID, stepID string) ([]ItemState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ItemState
	for _, it := range m.items {
		if it.RunID == runID && it.StepID == stepID {
			out = append(out, it)
		}
	}
	return out, nil
}

func (m *memState) LoadSteps(_ context.Context, runID string) ([]StepState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []StepState
	for _, s := range m.steps {
		if s.RunID == runID {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memState) step(runID, stepID string) StepState {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.steps[runID+"/"+stepID]
}

func (m *memState) item(runID, stepID string, index int) (ItemState, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	it, ok := m.items[fmt.Sprintf("%s/%s/%d", runID, stepID, index)]
	return it, ok
}

// deviceCards is a deterministic CardRunner over a list of devices with the
// okta-devices lifecycle rules. It is the runner's own dependency in these
// tests, not a stand-in for Okta: it counts calls, tracks how many run at
// once, and fails the devices listed in failIDs.
type deviceCards struct {
	mu      sync.Mutex
	devices []map[string]any // id, status, profile
	failIDs map[string]bool

	runCalls   map[string]int // card + " " + deviceId -> completed RunCard calls
	planCalls  int
	inFlight   int
	maxFlight  int
	gate       int           // when > 0, the first calls wait until this many run at once
	gateOpen   chan struct{} // closed when gate calls run at once
	atGate     func()        // when set, called as the gate opens
	afterCalls int           // when > 0, cancel() is called once this many RunCards completed
	cancel     func()
	completed  int
	search     int // search-devices calls
	entered    int // RunCard calls, whatever their outcome
}

func newDeviceCards(n int) *deviceCards {
	c := &deviceCards{failIDs: map[string]bool{}, runCalls: map[string]int{}, gateOpen: make(chan struct{})}
	statuses := []string{"ACTIVE", "ACTIVE", "SUSPENDED", "DEACTIVATED"}
	platforms := []string{"MACOS", "WINDOWS", "IOS", "ANDROID"}
	for i := range n {
		c.devices = append(c.devices, map[string]any{
			"id":      fmt.Sprintf("guo%04d", i),
			"status":  statuses[i%len(statuses)],
			"profile": map[string]any{"displayName": fmt.Sprintf("device %d", i), "platform": platforms[i%len(platforms)]},
		})
	}
	return c
}

var targets = map[string]struct {
	to   string
	from []string
}{
	"okta-devices/activate-device":   {"ACTIVE", []string{"CREATED", "DEACTIVATED"}},
	"okta-devices/deactivate-device": {"DEACTIVATED", []string{"ACTIVE", "SUSPENDED"}},
	"okta-devices/suspend-device":    {"SUSPENDED", []string{"ACTIVE"}},
	"okta-devices/unsuspend-device":  {"ACTIVE", []string{"SUSPENDED"}},
	"okta-devices/delete-device":     {"DELETED", []string{"DEACTIVATED"}},
}

func (c *deviceCards) find(id string) map[string]any {
	for _, d := range c.devices {
		if d["id"] == id {
			return d
		}
	}
	return nil
}

// transition checks a lifecycle call and returns the device's status and
// the target status.
func (c *deviceCards) transition(call Call) (string, string, error) {
	id, _ := call.Input["deviceId"].(string)
	if c.failIDs[id] {
		return "", "", problem.New(problem.UpstreamError, "device %s: the org answered 500", id)
	}
	d := c.find(id)
	if d == nil {
		return "", "", problem.New(problem.NotFound, "device %q not found", id)
	}
	t := targets[call.Card]
	from := d["status"].(string)
	if known, ok := call.Input["status"].(string); ok && known != "" {
		from = known // the card decides from the status it is given
	}
	if from != t.to && !slices.Contains(t.from, from) {
		return "", "", problem.New(problem.InvalidInput, "device is %s; cannot move it to %s", from, t.to)
	}
	return from, t.to, nil
}

// enter counts a call in flight; lifecycle calls wait at the gate.
func (c *deviceCards) enter(ctx context.Context, card string) error {
	c.mu.Lock()
	c.inFlight++
	c.maxFlight = max(c.maxFlight, c.inFlight)
	_, manage := targets[card]
	gated := c.gate > 0 && manage
	if gated && c.inFlight >= c.gate {
		if c.atGate != nil {
			c.atGate()
		}
		close(c.gateOpen)
		c.gate = 0
	}
	c.mu.Unlock()
	if gated {
		select {
		case <-c.gateOpen:
		case <-time.After(10 * time.Second):
			c.leave()
			return fmt.Errorf("never reached the expected concurrency")
		case <-ctx.Done():
			c.leave()
			return ctx.Err()
		}
	}
	return nil
}

func (c *deviceCards) leave() {
	c.mu.Lock()
	c.inFlight--
	c.mu.Unlock()
}

func (c *deviceCards) RunCard(ctx context.Context, call Call) (CardResult, error) {
	c.mu.Lock()
	c.entered++
	c.mu.Unlock()
	if err := c.enter(ctx, call.Card); err != nil {
		return CardResult{}, err
	}
	defer c.leave()
	if err := ctx.Err(); err != nil {
		return CardResult{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out, err := c.run(call)
	if err != nil {
		return CardResult{}, err
	}
	c.completed++
	if c.afterCalls > 0 && c.completed == c.afterCalls {
		c.cancel()
	}
	return CardResult{Output: out}, nil
}

func (c *deviceCards) run(call Call) (map[string]any, error) {
	switch call.Card {
	case "okta-devices/search-devices":
		c.search++
		var list []any
		for _, d := range c.devices {
			if s, ok := call.Input["status"].(string); ok && d["status"] != s {
				continue
			}
			list = append(list, clone(d))
		}
		return map[string]any{"devices": list}, nil
	case "okta-devices/read-device":
		id, _ := call.Input["deviceId"].(string)
		if d := c.find(id); d != nil {
			return map[string]any{"device": clone(d)}, nil
		}
		return nil, problem.New(problem.NotFound, "device %q not found", id)
	}
	from, to, err := c.transition(call)
	if err != nil {
		return nil, err
	}
	id := call.Input["deviceId"].(string)
	c.runCalls[call.Card+" "+id]++
	if to == "DELETED" {
		c.devices = slices.DeleteFunc(c.devices, func(d map[string]any) bool { return d["id"] == id })
		return map[string]any{"deviceId": id, "deleted": true}, nil
	}
	c.find(id)["status"] = to
	return map[string]any{"deviceId": id, "status": to, "changed": from != to}, nil
}

func (c *deviceCards) PlanCard(ctx context.Context, call Call) (map[string]any, *Change, error) {
	if err := c.enter(ctx, call.Card); err != nil {
		return nil, nil, err
	}
	defer c.leave()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.planCalls++
	if _, manage := targets[call.Card]; !manage {
		out, err := c.run(call)
		return out, nil, err
	}
	from, to, err := c.transition(call)
	if err != nil {
		return nil, nil, err
	}
	if from == to {
		return nil, nil, nil
	}
	return nil, &Change{DeviceID: call.Input["deviceId"].(string), From: from, To: to}, nil
}

func (c *deviceCards) calls(card, id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.runCalls[card+" "+id]
}

func (c *deviceCards) totalRunCalls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.search
	for _, v := range c.runCalls {
		n += v
	}
	return n
}

func clone(d map[string]any) map[string]any {
	out := make(map[string]any, len(d))
	for k, v := range d {
		if m, ok := v.(map[string]any); ok {
			v = clone(m)
		}
		out[k] = v
	}
	return out
}

// validated parses and validates src against demoEnv.
func validated(t *testing.T, src string) *Document {
	t.Helper()
	doc := mustParse(t, src)
	if err := doc.Validate(context.Background(), demoEnv()); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return doc
}
