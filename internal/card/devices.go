package card

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
)

// Change is what a manage card would do to one device: its status now and
// after ("DELETED" for a delete).
type Change struct {
	DeviceID string `json:"deviceId"`
	From     string `json:"from"`
	To       string `json:"to"`
}

// StatusDeleted is the To of a delete's Change.
const StatusDeleted = "DELETED"

// invocation is one card call: the card, its checked input, the connection
// and a client of the connection's org.
type invocation struct {
	card   *Card
	conn   ConnectionInfo
	client *okta.Client
	in     map[string]any
	// emit, when set, receives search results one by one instead of the
	// output collecting them (Executor.RunStream).
	emit func(map[string]any) error
}

func (iv *invocation) str(name string) string { s, _ := iv.in[name].(string); return s }

func (iv *invocation) boolPtr(name string) *bool {
	if b, ok := iv.in[name].(bool); ok {
		return &b
	}
	return nil
}

func searchDevicesCard() Card {
	return Card{ID: "search-devices", Name: "Search Devices", Scope: ScopeRead, Mode: ModeRead,
		Description: "Search the org's devices with filters and/or a raw SCIM expression; resultSet all streams every page.",
		Inputs: []Input{
			{Name: "status", Type: TypeString, Enum: []string{okta.StatusCreated, okta.StatusActive, okta.StatusSuspended, okta.StatusDeactivated}, Description: "Only devices with this status."},
			{Name: "platform", Type: TypeString, Enum: []string{"ANDROID", "IOS", "MACOS", "WINDOWS"}, Description: "Only devices of this platform."},
			{Name: "manufacturer", Type: TypeString, Description: "Only devices of this manufacturer (exact match)."},
			{Name: "model", Type: TypeString, Description: "Only devices of this model (exact match)."},
			{Name: "osVersion", Type: TypeString, Description: "Only devices with this OS version (exact match)."},
			{Name: "registered", Type: TypeBool, Description: "Only registered (true) or unregistered (false) devices."},
			{Name: "secureHardwarePresent", Type: TypeBool, Description: "Only devices with (true) or without (false) secure hardware."},
			{Name: "diskEncryptionType", Type: TypeString, Enum: []string{"ALL_INTERNAL_VOLUMES", "FULL", "NONE", "SYSTEM_VOLUME", "USER"}, Description: "Only devices with this disk encryption."},
			{Name: "search", Type: TypeString, Description: `A raw SCIM filter, e.g. lastUpdated lt "2025-01-01T00:00:00.000Z"; combined with the filters above by "and".`},
			{Name: "expand", Type: TypeString, Enum: []string{"user", "userSummary"}, Description: "Include each device's users (full users or summaries) in _embedded.users."},
			{Name: "resultSet", Type: TypeString, Enum: []string{"first", "first200", "all"}, Default: "first200", Description: "first: the first match; first200: up to 200; all: every match, page after page."},
		},
		Outputs: "devices, count", run: searchDevices}
}

// searchDevices lists matching devices, stopping at the result set's size.
func searchDevices(ctx context.Context, iv *invocation) (map[string]any, error) {
	filter, err := BuildFilter(Filters{
		Status: iv.str("status"), Platform: iv.str("platform"), Manufacturer: iv.str("manufacturer"),
		Model: iv.str("model"), OSVersion: iv.str("osVersion"), Registered: iv.boolPtr("registered"),
		SecureHardwarePresent: iv.boolPtr("secureHardwarePresent"), DiskEncryptionType: iv.str("diskEncryptionType"),
		Search: iv.str("search"),
	})
	if err != nil {
		var fe *FilterError
		if errors.As(err, &fe) {
			return nil, invalidField(fe.Field, "input %s of card %s: %s", fe.Field, iv.card.Ref, fe.Reason)
		}
		return nil, err
	}
	limit, want := 200, -1 // page size; how many to return (-1: all)
	switch iv.str("resultSet") {
	case "first":
		limit, want = 1, 1
	case "first200":
		want = 200
	}
	var devices []any
	n := 0
	for d, err := range iv.client.ListDevices(ctx, okta.ListOptions{Search: filter, Expand: iv.str("expand"), Limit: limit}) {
		if err != nil {
			var ae *okta.APIError
			if errors.As(err, &ae) && ae.Code == okta.CodeInvalidSearch {
				return nil, problem.New(problem.InvalidInput, "Okta rejected the search filter %q: %s", filter, ae.Summary).
					WithRemedy("check the search expression (operators eq ne gt ge lt le sw pr co, and/or/not, quoted values)").
					WithDetail("field", "search").WithDetail("filter", filter).WithDetail("oktaRequestId", ae.RequestID)
			}
			return nil, err
		}
		n++
		v := DeviceValue(d)
		if iv.emit != nil {
			if err := iv.emit(v); err != nil {
				return nil, err
			}
		} else {
			devices = append(devices, v)
		}
		if n == want {
			break
		}
	}
	if iv.emit != nil {
		return map[string]any{"count": n}, nil
	}
	if devices == nil {
		devices = []any{}
	}
	return map[string]any{"devices": devices, "count": n}, nil
}

func readDevice(ctx context.Context, iv *invocation) (map[string]any, error) {
	d, err := iv.client.GetDevice(ctx, iv.str("deviceId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"device": DeviceValue(d)}, nil
}

func listDeviceUsers(ctx context.Context, iv *invocation) (map[string]any, error) {
	users, err := iv.client.ListDeviceUsers(ctx, iv.str("deviceId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"users": deviceUsersValue(users), "count": len(users)}, nil
}

// transition is a lifecycle action: the states it starts from and the one
// it leads to (OKTA.md §1).
type transition struct {
	action string
	from   []string
	to     string
}

// transitions by card id, and the action graph used to explain the way
// from a status to another.
var transitions = map[string]transition{
	"activate-device":   {okta.ActionActivate, []string{okta.StatusCreated, okta.StatusDeactivated}, okta.StatusActive},
	"deactivate-device": {okta.ActionDeactivate, []string{okta.StatusActive, okta.StatusSuspended}, okta.StatusDeactivated},
	"suspend-device":    {okta.ActionSuspend, []string{okta.StatusActive}, okta.StatusSuspended},
	"unsuspend-device":  {okta.ActionUnsuspend, []string{okta.StatusSuspended}, okta.StatusActive},
}

// pathTo returns the shortest list of lifecycle actions from status to
// target (breadth-first over transitions); nil when there is none.
func pathTo(status, target string) []string {
	type node struct {
		status string
		path   []string
	}
	seen := map[string]bool{status: true}
	queue := []node{{status: status}}
	actions := []string{"activate-device", "deactivate-device", "suspend-device", "unsuspend-device"}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		if n.status == target {
			return n.path
		}
		for _, id := range actions {
			tr := transitions[id]
			if slices.Contains(tr.from, n.status) && !seen[tr.to] {
				seen[tr.to] = true
				queue = append(queue, node{tr.to, append(slices.Clone(n.path), tr.action)})
			}
		}
	}
	return nil
}

// describePath turns actions into "activate it, then suspend it".
func describePath(actions []string) string {
	parts := make([]string, len(actions))
	for i, a := range actions {
		parts[i] = a + " it"
	}
	return strings.Join(parts, ", then ")
}

// disallowed is the conflict problem for a transition the device's status
// does not allow, naming the status and the way to get there.
func disallowed(id, status string, tr transition) *problem.Error {
	p := problem.New(problem.Conflict, "device %s is %s; %s is allowed only from %s", id, status, tr.action, strings.Join(tr.from, " or ")).
		WithDetail("deviceId", id).WithDetail("status", status).WithDetail("allowedFrom", tr.from)
	if path := pathTo(status, tr.to); len(path) > 0 {
		p.WithRemedy("to make it %s, %s", tr.to, describePath(path))
	}
	return p
}

func lifecycleCard(id, name, desc string) Card {
	return Card{ID: id, Name: name, Scope: ScopeManage, Mode: ModeManage, Description: desc + " Already there: succeeds with changed false.",
		Inputs: []Input{deviceID}, Outputs: "status, changed", run: runLifecycle, plan: planLifecycle}
}

// decideLifecycle reads the device and decides what the card would do: no
// change when it is already in the target state, the transition when the
// status allows it, a conflict otherwise. Run and Plan share it, so a plan
// says exactly what a run does.
//
// Reading first costs one GET per card, which keeps `changed` truthful
// (Okta answers 204 to a same-state call, so the POST alone cannot tell)
// and spares the POST when there is nothing to do.
func decideLifecycle(ctx context.Context, iv *invocation) (tr transition, d *okta.Device, change bool, err error) {
	tr = transitions[iv.card.ID]
	d, err = iv.client.GetDevice(ctx, iv.str("deviceId"))
	if err != nil {
		return tr, nil, false, err
	}
	switch {
	case d.Status == tr.to:
		return tr, d, false, nil
	case slices.Contains(tr.from, d.Status):
		return tr, d, true, nil
	}
	return tr, d, false, disallowed(d.ID, d.Status, tr)
}

func runLifecycle(ctx context.Context, iv *invocation) (map[string]any, error) {
	tr, d, change, err := decideLifecycle(ctx, iv)
	if err != nil {
		return nil, err
	}
	if change {
		if err := iv.client.Lifecycle(ctx, d.ID, tr.action); err != nil {
			return nil, raced(err, d.ID, tr)
		}
	}
	return map[string]any{"deviceId": d.ID, "status": tr.to, "changed": change}, nil
}

// raced maps Okta's E0000001 to a lifecycle POST that the device's status
// allowed a moment ago: it changed in between.
func raced(err error, id string, tr transition) error {
	var ae *okta.APIError
	if errors.As(err, &ae) && ae.Status == 400 && ae.Code == okta.CodeValidation {
		return problem.New(problem.Conflict, "Okta refused to %s device %s: %s", tr.action, id, ae.Summary).
			WithRemedy("the device's status changed meanwhile; read it and run the card again").
			WithDetail("deviceId", id).WithDetail("oktaRequestId", ae.RequestID).Wrap(err)
	}
	return err
}

func planLifecycle(ctx context.Context, iv *invocation) (*Change, map[string]any, error) {
	tr, d, change, err := decideLifecycle(ctx, iv)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]any{"deviceId": d.ID, "status": tr.to, "changed": change}
	if !change {
		return nil, out, nil
	}
	return &Change{DeviceID: d.ID, From: d.Status, To: tr.to}, out, nil
}

// decideDelete reads the device and decides: delete a DEACTIVATED device;
// deactivate then delete an ACTIVE or SUSPENDED one when deactivateFirst
// is set; refuse otherwise, saying how to get there.
func decideDelete(ctx context.Context, iv *invocation) (d *okta.Device, deactivate bool, err error) {
	d, err = iv.client.GetDevice(ctx, iv.str("deviceId"))
	if err != nil {
		return nil, false, err
	}
	if d.Status == okta.StatusDeactivated {
		return d, false, nil
	}
	first, _ := iv.in["deactivateFirst"].(bool)
	deact := transitions["deactivate-device"]
	if first && slices.Contains(deact.from, d.Status) {
		return d, true, nil
	}
	p := problem.New(problem.Conflict, "device %s is %s; Okta deletes only DEACTIVATED devices", d.ID, d.Status).
		WithDetail("deviceId", d.ID).WithDetail("status", d.Status)
	switch {
	case slices.Contains(deact.from, d.Status):
		p.WithRemedy("deactivate it before deleting, or set deactivateFirst")
	default:
		p.WithRemedy("%s before deleting", describePath(pathTo(d.Status, okta.StatusDeactivated)))
	}
	return d, false, p
}

func deleteDevice(ctx context.Context, iv *invocation) (map[string]any, error) {
	d, deactivate, err := decideDelete(ctx, iv)
	if err != nil {
		return nil, err
	}
	if deactivate {
		if err := iv.client.Lifecycle(ctx, d.ID, okta.ActionDeactivate); err != nil {
			return nil, raced(err, d.ID, transitions["deactivate-device"])
		}
	}
	if err := iv.client.DeleteDevice(ctx, d.ID); err != nil {
		var ae *okta.APIError
		if errors.As(err, &ae) && ae.Status == 400 {
			return nil, problem.New(problem.Conflict, "Okta refused to delete device %s: %s", d.ID, ae.Summary).
				WithRemedy("the device's status changed meanwhile; read it and run the card again").
				WithDetail("deviceId", d.ID).WithDetail("oktaRequestId", ae.RequestID).Wrap(err)
		}
		return nil, err
	}
	return map[string]any{"deviceId": d.ID, "deleted": true, "deactivated": deactivate}, nil
}

func planDelete(ctx context.Context, iv *invocation) (*Change, map[string]any, error) {
	d, deactivate, err := decideDelete(ctx, iv)
	if err != nil {
		return nil, nil, err
	}
	return &Change{DeviceID: d.ID, From: d.Status, To: StatusDeleted},
		map[string]any{"deviceId": d.ID, "deleted": true, "deactivated": deactivate}, nil
}
