package card

import (
	"context"
	"encoding/json"
	"maps"
	"strings"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// RunHistory reads the recorded card runs of flow items (store.Store
// implements it).
type RunHistory interface {
	ListItemRuns(ctx context.Context, flowRunID, stepID string, index int) ([]*store.Run, error)
}

// StatusInterrupted is a card run whose server stopped before it finished
// (store.RunInterrupted): whether its call reached Okta is unknown.
const StatusInterrupted = store.RunInterrupted

// deleteDeviceCard is the one card whose retry needs AlreadyDone's
// not_found rule: the other lifecycle calls are idempotent in Okta, a
// delete is not.
const deleteDeviceCard = ConnectorID + "/delete-device"

// earlierAttempts returns the card runs recorded for req's item (a flow
// item being run again after its flow run resumed) with the same card and,
// for a device card, the same device, oldest first, leaving out current
// (the retry's own run). The item's input is computed again from the same
// recorded data, so the same item is the same call; the device id guards
// against a flow whose data changed under it.
func earlierAttempts(ctx context.Context, history RunHistory, req Request, current string) ([]*store.Run, error) {
	if req.FlowRunID == "" {
		return nil, nil
	}
	runs, err := history.ListItemRuns(ctx, req.FlowRunID, req.StepID, req.ItemIndex)
	if err != nil {
		return nil, err
	}
	deviceID, _ := req.Input["deviceId"].(string)
	var out []*store.Run
	for _, r := range runs {
		if r.ID == current || r.Card != req.Card {
			continue
		}
		var in struct {
			DeviceID string `json:"deviceId"`
		}
		if json.Unmarshal(r.Input, &in) != nil || in.DeviceID != deviceID {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// Recorded handles an item run again after its flow run resumed: when an
// earlier attempt at the same item succeeded (the server stopped after the
// card run was stored but before the item was), that attempt did the
// work, and the item takes its output and its card run's id without
// calling Okta again. It returns a nil output when there is no such
// attempt, and then interrupted tells whether an earlier attempt was left
// running or interrupted: it may have changed the device, so a status the
// item's input gives predates it (the retry sets Request.ReadDevice).
func Recorded(ctx context.Context, history RunHistory, req Request) (out map[string]any, runID string, interrupted bool, err error) {
	runs, err := earlierAttempts(ctx, history, req, "")
	if err != nil {
		return nil, "", false, problem.New(problem.Internal, "the earlier attempts at this item could not be read").Wrap(err)
	}
	for _, r := range runs {
		if r.Status == StatusRunning || r.Status == StatusInterrupted {
			interrupted = true
		}
		if r.Status != StatusSucceeded {
			continue
		}
		out := map[string]any{}
		if len(r.Output) > 0 {
			if err := json.Unmarshal(r.Output, &out); err != nil {
				return nil, "", false, problem.New(problem.Internal, "the output of card run %s cannot be read", r.ID).Wrap(err)
			}
		}
		return out, r.ID, false, nil
	}
	return nil, "", interrupted, nil
}

// AlreadyDone handles the result res of an item run again after its flow
// run resumed, when an earlier attempt at the same item (same card and
// input) was interrupted (recorded as running or interrupted) and so may
// have done the work before the server stopped:
//
//   - a lifecycle card that found the device already in the target state
//     (changed: false): the interrupted attempt made the change. The item
//     keeps the retry's output with changed: true and a note, and names
//     the attempt's card run.
//   - delete-device that found no device: the interrupted attempt deleted
//     it. The item succeeds with the card's outputs (deletedBefore) and a
//     note, naming the attempt's card run.
//
// Otherwise (no such attempt, or any other outcome) it returns a nil
// output and res stands. res.RunID is the retry's own card run.
func AlreadyDone(ctx context.Context, history RunHistory, req Request, res *Result) (map[string]any, string, error) {
	notFound := res.Error != nil && res.Error.Code == problem.NotFound && req.Card == deleteDeviceCard
	unchanged := res.Error == nil && res.Output["changed"] == false && req.Card != deleteDeviceCard
	if !notFound && !unchanged {
		return nil, "", nil
	}
	runs, err := earlierAttempts(ctx, history, req, res.RunID)
	if err != nil {
		deviceID, _ := req.Input["deviceId"].(string)
		return nil, "", problem.New(problem.Internal, "device %s: the earlier attempts at this item could not be read", deviceID).Wrap(err)
	}
	for _, r := range runs {
		if r.Status != StatusRunning && r.Status != StatusInterrupted {
			continue
		}
		if notFound {
			return deletedBefore(req), r.ID, nil
		}
		out := maps.Clone(res.Output)
		out["changed"] = true
		out["note"] = "changed by the interrupted attempt"
		return out, r.ID, nil
	}
	return nil, "", nil
}

// deletedBefore is the output of a delete-device item whose interrupted
// attempt deleted the device: the outputs the card gives (deleted,
// deactivated, basis), deactivated as that attempt decided it from the
// same input. It deactivated the device first only with deactivateFirst
// and a status other than DEACTIVATED; with deactivateFirst and no known
// status, whether it did is unknown and deactivated is left out.
func deletedBefore(req Request) map[string]any {
	out := map[string]any{"deviceId": req.Input["deviceId"], "deleted": true, "basis": BasisRead,
		"note": "already deleted by the interrupted attempt"}
	first, _ := req.Input["deactivateFirst"].(bool)
	status, _ := req.Input["status"].(string)
	switch {
	case !first:
		out["deactivated"] = false
	case strings.TrimSpace(status) != "":
		out["deactivated"] = !strings.EqualFold(strings.TrimSpace(status), okta.StatusDeactivated)
	default:
		out["note"] = "already deleted by the interrupted attempt, which may have deactivated it first"
	}
	return out
}
