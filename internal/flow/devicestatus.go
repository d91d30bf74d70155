package flow

import (
	"maps"

	"github.com/cardflow/cardflow/internal/problem"
)

// Devices a run changes: a step after the one that changed a device acts
// on it as that step left it. The status the document gives a later
// step's card (${{ item.status }} over the search the flow began with) is
// from before the change, and a card trusts the status it is given: a
// delete told ACTIVE refuses a device the flow has just deactivated. A
// plan changes nothing at Okta, so a card that read the device to plan
// would see it as it was before the flow began, and predict a failure
// where the run succeeds.

// statusDeleted is what a run knows of a device one of its steps deleted.
const statusDeleted = "DELETED"

// changedDevice is the status an earlier step of a run (or plan) left a
// device in, and that step's id.
type changedDevice struct {
	status string
	step   string
}

// noteChanges records, from a finished step's items, the status each
// device is left in: the output of a card that takes the device's status
// (the lifecycle cards' status, a delete's deleted) for the device it
// names (its deviceId). In a run, a read of a device the run changed
// earlier (a device or a search's devices with their status) refreshes
// what the run knows of it; a plan's reads, which see the devices as they
// were before the plan, are given what it predicts (predictRead).
func (x *execution) noteChanges(st *Step, outcomes []*itemOutcome) {
	for _, o := range outcomes {
		if o == nil || o.status != StatusSucceeded {
			continue
		}
		if !st.takesStatus {
			if x.plan {
				x.predictRead(o.output)
			} else {
				x.refreshChanged(o.output)
			}
			continue
		}
		// The output's deviceId: a resumed run's finished items are loaded
		// without their input.
		out, _ := o.output.(map[string]any)
		id, _ := out["deviceId"].(string)
		if id == "" {
			id = deviceIDOf(o.input)
		}
		if id == "" {
			continue
		}
		if deleted, _ := out["deleted"].(bool); deleted {
			x.changed[id] = changedDevice{status: statusDeleted, step: st.ID}
		} else if s, ok := out["status"].(string); ok && s != "" {
			x.changed[id] = changedDevice{status: s, step: st.ID}
		}
	}
}

// refreshChanged updates the status of the devices the run changed that
// out holds (itself, its "device", each of its "devices").
func (x *execution) refreshChanged(out any) {
	if len(x.changed) == 0 {
		return
	}
	refresh := func(v any) {
		m, _ := v.(map[string]any)
		id, _ := m["id"].(string)
		s, _ := m["status"].(string)
		if c, ok := x.changed[id]; ok && s != "" {
			x.changed[id] = changedDevice{status: s, step: c.step}
		}
	}
	refresh(out)
	m, _ := out.(map[string]any)
	refresh(m["device"])
	if list, ok := m["devices"].([]any); ok {
		for _, d := range list {
			refresh(d)
		}
	}
}

// predictRead makes a plan's read output what the run's would be for the
// devices the plan's earlier steps change: such a device has the status
// they leave it in, and one they delete is not among a search's devices
// (nor counted). Which devices a search whose filter a change affects
// (status eq "ACTIVE" after a suspension) would find is not predicted.
func (x *execution) predictRead(out any) {
	m, _ := out.(map[string]any)
	if m == nil || len(x.changed) == 0 {
		return
	}
	predict := func(v any) {
		d, _ := v.(map[string]any)
		id, _ := d["id"].(string)
		if c, ok := x.changed[id]; ok && c.status != statusDeleted {
			if _, has := d["status"]; has {
				d["status"] = c.status
			}
		}
	}
	predict(m["device"])
	list, ok := m["devices"].([]any)
	if !ok {
		return
	}
	kept := make([]any, 0, len(list))
	for _, v := range list {
		d, _ := v.(map[string]any)
		id, _ := d["id"].(string)
		if x.changed[id].status == statusDeleted {
			continue
		}
		predict(v)
		kept = append(kept, v)
	}
	if gone := len(list) - len(kept); gone > 0 {
		m["devices"] = kept
		if n, ok := m["count"].(float64); ok {
			m["count"] = n - float64(gone)
		}
	}
}

// asChanged gives an item's input the status an earlier step of the run
// left its device in, when the step's card takes one: the card then
// decides from it (and a plan predicts from it) rather than from a status
// the document took from before the change, or from a read. It returns
// the input to call the card with, or the item's problem when an earlier
// step deleted the device.
func (x *execution) asChanged(st *Step, input map[string]any) (map[string]any, error) {
	id := deviceIDOf(input)
	c, ok := x.changed[id]
	switch {
	case !ok:
		return input, nil
	case c.status == statusDeleted:
		return nil, problem.New(problem.NotFound, "device %s was deleted by step %s of this run", id, c.step).
			WithRemedy("leave the devices that step deletes out of step %s's for_each", st.ID).WithDetail("deviceId", id)
	case !st.takesStatus || input["status"] == c.status:
		return input, nil
	}
	in := maps.Clone(input)
	in["status"] = c.status
	return in, nil
}
