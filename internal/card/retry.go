package card

import (
	"context"
	"encoding/json"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// RunHistory reads recorded card runs (store.Store implements it).
type RunHistory interface {
	ListRuns(ctx context.Context, f store.RunFilter) ([]*store.Run, error)
}

// deleteDeviceCard is the one card whose retry needs AlreadyDeleted: the
// other lifecycle calls are idempotent in Okta, a delete is not.
const deleteDeviceCard = ConnectorID + "/delete-device"

// AlreadyDeleted handles a retried delete-device that found no device: if
// an interrupted attempt at the same item (same flow run, step and index,
// same device) is recorded as running or succeeded, that attempt deleted
// the device, and the item succeeds with the output it returns, naming the
// attempt's card run. Otherwise (or for any other card) it returns a nil
// output and the not_found stands. current is the id of the retry's own
// card run.
func AlreadyDeleted(ctx context.Context, history RunHistory, req Request, current string) (map[string]any, string, error) {
	if req.Card != deleteDeviceCard || req.FlowRunID == "" {
		return nil, "", nil
	}
	deviceID, _ := req.Input["deviceId"].(string)
	filter := store.RunFilter{FlowRunID: req.FlowRunID, Card: req.Card, Limit: 200}
	for {
		runs, err := history.ListRuns(ctx, filter)
		if err != nil {
			return nil, "", problem.New(problem.Internal, "device %s was not found, and the earlier attempts at this item could not be read", deviceID).Wrap(err)
		}
		for _, r := range runs {
			if r.ID == current || r.StepID != req.StepID || r.ItemIndex != req.ItemIndex ||
				(r.Status != StatusRunning && r.Status != StatusSucceeded) {
				continue
			}
			var in struct {
				DeviceID string `json:"deviceId"`
			}
			if json.Unmarshal(r.Input, &in) != nil || in.DeviceID != deviceID {
				continue
			}
			return map[string]any{"deviceId": deviceID, "deleted": true, "changed": false,
				"note": "already deleted by the interrupted attempt"}, r.ID, nil
		}
		if len(runs) < filter.Limit {
			return nil, "", nil
		}
		filter.Before = runs[len(runs)-1].StartedAt
	}
}
