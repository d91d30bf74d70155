package card

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
)

// Change is what a manage card would do to one device: its status now and
// after ("DELETED" for a delete).
type Change struct {
	DeviceID string
	// DeviceName is the device's display name when the card read the
	// device to decide (it asks Okta for nothing more); "" otherwise.
	DeviceName string
	From       string
	To         string
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
	// deviceName is the display name of the input's device when the card
	// read the device (to decide, or to read it again after Okta
	// contradicted its known status); "" otherwise.
	deviceName string
	// readDevice: the known status input is not to be trusted
	// (Request.ReadDevice).
	readDevice bool
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
			{Name: "search", Type: TypeString, Description: `A raw SCIM filter, e.g. lastUpdated lt "2025-01-01T00:00:00.000Z"; combined with the filters above by "and".`, Filter: true},
			{Name: "expand", Type: TypeString, Enum: []string{"user", "userSummary"}, Description: "Include each device's users (full users or summaries) in _embedded.users."},
			{Name: "resultSet", Type: TypeString, Enum: []string{"first", "first200", "all"}, Default: "first200", Description: "first: the first match; first200: up to 200; all: every match, page after page."},
		},
		Output: object("devices", "count").with("devices", listOf(deviceShape)).with("count", number), run: searchDevices}
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
			return nil, invalidField(fe.Field, "input %s of card %s: %s", fe.Field, iv.card.Ref, fe.Reason).
				WithRemedy("give %s as the device's value shows it in Okta (UTF-8 text, at most %d bytes), or leave it out", fe.Field, maxFilterValue)
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
					WithRemedy("%s", searchRemedy(filter)).
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

// Bases of a manage card's decision, reported as its output's "basis".
const (
	// BasisKnown: decided from the status input, the device's status as
	// the flow already knew it; no read was made.
	BasisKnown = "known"
	// BasisRead: decided from the device as read from Okta by this run.
	BasisRead = "read"
)

// knownStatus is the optional input of the lifecycle and delete cards that
// spares them reading the device first.
var knownStatus = Input{Name: "status", Type: TypeString,
	Enum: []string{okta.StatusCreated, okta.StatusActive, okta.StatusSuspended, okta.StatusDeactivated},
	Description: "The device's status as the flow already knows it, e.g. ${{ item.status }} over a search's devices. " +
		"With it the card decides without reading the device (one call per change); if Okta's answer contradicts it, " +
		"the card reads the device once and acts on what it finds. Without it the card reads the device first."}

// deviceState is what a manage card decides from: a device's status and
// where the card learned it (BasisKnown or BasisRead).
type deviceState struct {
	id, status, basis string
	name              string // the display name, when the device was read
}

// knownOrRead returns the device's state from the status input when the
// run has one (and may trust it), else reads the device.
func knownOrRead(ctx context.Context, iv *invocation) (deviceState, error) {
	id := iv.str("deviceId")
	if s := iv.str("status"); s != "" && !iv.readDevice {
		return deviceState{id: id, status: s, basis: BasisKnown}, nil
	}
	return readState(ctx, iv, id)
}

func readState(ctx context.Context, iv *invocation, id string) (deviceState, error) {
	d, err := iv.client.GetDevice(ctx, id)
	if err != nil {
		return deviceState{}, err
	}
	if d.ID == iv.str("deviceId") {
		iv.deviceName = d.Profile.DisplayName
	}
	return deviceState{id: d.ID, status: d.Status, basis: BasisRead, name: d.Profile.DisplayName}, nil
}

// contradicts reports Okta's 400 E0000001, its answer to a lifecycle call
// or delete that the device's real status does not allow.
func contradicts(err error) bool {
	var ae *okta.APIError
	return errors.As(err, &ae) && ae.Status == 400 && ae.Code == okta.CodeValidation
}

// is describes a device's status in a message, saying when it is the
// known status rather than one read from Okta.
func (ds deviceState) is() string {
	if ds.basis == BasisKnown {
		return fmt.Sprintf("device %s is %s (its known status)", ds.id, ds.status)
	}
	return fmt.Sprintf("device %s is %s", ds.id, ds.status)
}

// disallowed is the conflict problem for a transition the device's status
// does not allow, naming the status and the way to get there.
func disallowed(ds deviceState, tr transition) *problem.Error {
	p := problem.New(problem.Conflict, "%s; %s is allowed only from %s", ds.is(), tr.action, strings.Join(tr.from, " or ")).
		WithDetail("deviceId", ds.id).WithDetail("status", ds.status).WithDetail("allowedFrom", tr.from).WithDetail("basis", ds.basis)
	if path := pathTo(ds.status, tr.to); len(path) > 0 {
		p.WithRemedy("to make it %s, %s", tr.to, describePath(path))
	}
	return p
}

func lifecycleCard(id, name, desc string) Card {
	return Card{ID: id, Name: name, Scope: ScopeManage, Mode: ModeManage, Description: desc + " Already there: succeeds with changed false.",
		Inputs: []Input{deviceID, knownStatus}, Output: object("deviceId", "status", "changed", "basis", "note").
			kinds(str, "deviceId", "note").with("status", deviceStatus).with("basis", basis).with("changed", boolean), run: runLifecycle, plan: planLifecycle}
}

// decide says what the transition does to a device in state ds: nothing
// when it is already in the target state, the transition when the status
// allows it, a conflict otherwise. Run and Plan share it, so a plan says
// exactly what a run does.
//
// Without a known status the card reads the device first: one GET, which
// keeps `changed` truthful (Okta answers 204 to a same-state call, so the
// POST alone cannot tell) and spares the POST when there is nothing to do.
// With one it trusts it and lets Okta's answer correct it (runLifecycle).
func (tr transition) decide(ds deviceState) (change bool, err error) {
	switch {
	case ds.status == tr.to:
		return false, nil
	case slices.Contains(tr.from, ds.status):
		return true, nil
	}
	return false, disallowed(ds, tr)
}

// runLifecycle decides from the known or read status and posts the
// transition. When Okta refuses a transition the known status allowed,
// the known status was stale: the card reads the device once and decides
// again from what it finds.
func runLifecycle(ctx context.Context, iv *invocation) (map[string]any, error) {
	tr := transitions[iv.card.ID]
	ds, err := knownOrRead(ctx, iv)
	if err != nil {
		return nil, err
	}
	for {
		change, err := tr.decide(ds)
		if err != nil {
			return nil, err
		}
		if change {
			err := iv.client.Lifecycle(ctx, ds.id, tr.action)
			if err != nil && ds.basis == BasisKnown && contradicts(err) {
				if ds, err = readState(ctx, iv, ds.id); err != nil {
					return nil, err
				}
				continue
			}
			if err != nil && okta.Unsure(err) && ctx.Err() == nil {
				return unsureLifecycle(ctx, iv, ds, tr, err)
			}
			if err != nil {
				return nil, raced(err, ds.id, tr)
			}
		}
		return map[string]any{"deviceId": ds.id, "status": tr.to, "changed": change, "basis": ds.basis}, nil
	}
}

// raced maps Okta's E0000001 to a lifecycle POST that the device's status
// (as read) allowed a moment ago: it changed in between.
func raced(err error, id string, tr transition) error {
	var ae *okta.APIError
	if errors.As(err, &ae) && contradicts(err) {
		return problem.New(problem.Conflict, "Okta refused to %s device %s: %s", tr.action, id, ae.Summary).
			WithRemedy("the device's status changed meanwhile; read it and run the card again").
			WithDetail("deviceId", id).WithDetail("oktaRequestId", ae.RequestID).Wrap(err)
	}
	return err
}

func planLifecycle(ctx context.Context, iv *invocation) (*Change, map[string]any, error) {
	tr := transitions[iv.card.ID]
	ds, err := knownOrRead(ctx, iv)
	if err != nil {
		return nil, nil, err
	}
	change, err := tr.decide(ds)
	if err != nil {
		return nil, nil, err
	}
	out := map[string]any{"deviceId": ds.id, "status": tr.to, "changed": change, "basis": ds.basis}
	if !change {
		return nil, out, nil
	}
	return &Change{DeviceID: ds.id, DeviceName: ds.name, From: ds.status, To: tr.to}, out, nil
}

// decideDelete decides from the device's state: delete a DEACTIVATED
// device; deactivate then delete an ACTIVE or SUSPENDED one when
// deactivateFirst is set; refuse otherwise, saying how to get there.
func decideDelete(ds deviceState, deactivateFirst bool) (deactivate bool, err error) {
	if ds.status == okta.StatusDeactivated {
		return false, nil
	}
	deact := transitions["deactivate-device"]
	if deactivateFirst && slices.Contains(deact.from, ds.status) {
		return true, nil
	}
	p := problem.New(problem.Conflict, "%s; Okta deletes only DEACTIVATED devices", ds.is()).
		WithDetail("deviceId", ds.id).WithDetail("status", ds.status).WithDetail("basis", ds.basis)
	switch {
	case slices.Contains(deact.from, ds.status):
		p.WithRemedy("deactivate it before deleting, or set deactivateFirst")
	default:
		p.WithRemedy("%s before deleting", describePath(pathTo(ds.status, okta.StatusDeactivated)))
	}
	return false, p
}

// deleteDevice deletes the device, deactivating it first when asked to.
// From a known status it goes straight to the calls (a known ACTIVE device
// with deactivateFirst costs two POSTs' worth of calls and no read); when
// Okta refuses one that the known status allowed, it reads the device once
// and decides again from what it finds.
func deleteDevice(ctx context.Context, iv *invocation) (map[string]any, error) {
	first, _ := iv.in["deactivateFirst"].(bool)
	ds, err := knownOrRead(ctx, iv)
	if err != nil {
		return nil, err
	}
	deactivated := false
	for {
		deactivate, err := decideDelete(ds, first)
		if err != nil {
			return nil, err
		}
		if deactivate {
			err := iv.client.Lifecycle(ctx, ds.id, okta.ActionDeactivate)
			if err != nil && ds.basis == BasisKnown && contradicts(err) {
				if ds, err = readState(ctx, iv, ds.id); err != nil {
					return nil, err
				}
				continue
			}
			if err != nil && okta.Unsure(err) && ctx.Err() == nil {
				// Okta may have deactivated it all the same: a read tells
				// whether the delete may follow.
				if err := settle(ctx, iv, ds.id, okta.StatusDeactivated, "deactivate device "+ds.id, "deactivated, nor deleted", err); err != nil {
					return nil, err
				}
				err = nil
			}
			if err != nil {
				return nil, raced(err, ds.id, transitions["deactivate-device"])
			}
			deactivated = true
		}
		err = iv.client.DeleteDevice(ctx, ds.id)
		if err != nil && ds.basis == BasisKnown && contradicts(err) {
			if ds, err = readState(ctx, iv, ds.id); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil && okta.Unsure(err) && ctx.Err() == nil {
			return unsureDelete(ctx, iv, ds, deactivated, err)
		}
		if err != nil {
			var ae *okta.APIError
			if errors.As(err, &ae) && ae.Status == 400 {
				return nil, problem.New(problem.Conflict, "Okta refused to delete device %s: %s", ds.id, ae.Summary).
					WithRemedy("the device's status changed meanwhile; read it and run the card again").
					WithDetail("deviceId", ds.id).WithDetail("oktaRequestId", ae.RequestID).Wrap(err)
			}
			return nil, err
		}
		return map[string]any{"deviceId": ds.id, "deleted": true, "deactivated": deactivated, "basis": ds.basis}, nil
	}
}

// unsureLifecycle settles a lifecycle call that failed without a sure
// answer after its retries (5xx, or answers lost): Okta may have made the
// change all the same. Reading the device tells.
func unsureLifecycle(ctx context.Context, iv *invocation, ds deviceState, tr transition, err error) (map[string]any, error) {
	if err := settle(ctx, iv, ds.id, tr.to, fmt.Sprintf("%s device %s", tr.action, ds.id), strings.TrimSuffix(tr.action, "e")+"ed", err); err != nil {
		return nil, err
	}
	return map[string]any{"deviceId": ds.id, "status": tr.to, "changed": true, "basis": ds.basis,
		"note": "Okta gave the call no sure answer (a 5xx or a lost answer); reading the device found it " + tr.to}, nil
}

// settle reads device id after a call (what) that failed with err and no
// sure answer: nil when the device has reached status want all the same;
// otherwise err when the read fails too, or notDone naming the status the
// device is still in.
func settle(ctx context.Context, iv *invocation, id, want, what, done string, err error) error {
	d, rerr := iv.client.GetDevice(ctx, id)
	switch {
	case rerr != nil:
		return err
	case d.Status != want:
		return notDone(err, what, id, d.Status, done)
	}
	return nil
}

// notDone is the problem of a change whose answer was a 5xx or lost and
// that, as a read of the device shows, did not happen; done is the past
// participle of the change ("deleted", "suspended").
func notDone(err error, what, id, status, done string) *problem.Error {
	how := "Okta's answer to " + what + " was lost"
	var ae *okta.APIError
	var de *okta.DecodeError
	switch {
	case errors.As(err, &ae):
		how = fmt.Sprintf("Okta answered %d to %s", ae.Status, what)
	case errors.As(err, &de):
		how = fmt.Sprintf("the answer to %s was not Okta's (%s)", what, de.Reason())
	}
	p := problem.New(problem.UpstreamError, "%s; the device is still %s, so it was not %s", how, status, done).
		WithRemedy("run the card again; check the org's status if it keeps happening").WithDetail("deviceId", id).WithDetail("status", status)
	if ae != nil {
		p.WithDetail("oktaRequestId", ae.RequestID)
	}
	return p.Wrap(err)
}

// unsureDelete settles a delete whose answer was a 5xx or lost: Okta may
// have deleted the device all the same. A delete is never sent again
// blindly; reading the device tells what happened.
func unsureDelete(ctx context.Context, iv *invocation, ds deviceState, deactivated bool, err error) (map[string]any, error) {
	d, rerr := iv.client.GetDevice(ctx, ds.id)
	switch {
	case okta.IsNotFound(rerr):
		return map[string]any{"deviceId": ds.id, "deleted": true, "deactivated": deactivated, "basis": ds.basis,
			"note": "Okta gave the delete no sure answer (a 5xx or a lost answer); reading the device found it deleted"}, nil
	case rerr != nil:
		// Whether the delete happened is unknown: the delete's own error
		// says what went wrong.
		return nil, err
	}
	return nil, notDone(err, "the delete of device "+ds.id, ds.id, d.Status, "deleted")
}

func planDelete(ctx context.Context, iv *invocation) (*Change, map[string]any, error) {
	first, _ := iv.in["deactivateFirst"].(bool)
	ds, err := knownOrRead(ctx, iv)
	if err != nil {
		return nil, nil, err
	}
	deactivate, err := decideDelete(ds, first)
	if err != nil {
		return nil, nil, err
	}
	return &Change{DeviceID: ds.id, DeviceName: ds.name, From: ds.status, To: StatusDeleted},
		map[string]any{"deviceId": ds.id, "deleted": true, "deactivated": deactivate, "basis": ds.basis}, nil
}

// searchRemedy is the remedy of a search filter Okta rejected; a filter on
// a date attribute also gets the form its dates must have, the usual
// mistake (a date computed in another form, or left as a placeholder).
func searchRemedy(filter string) string {
	const base = "check the search expression (operators eq ne gt ge lt le sw pr co, and/or/not, quoted values)"
	if strings.Contains(filter, "lastUpdated") || strings.Contains(filter, "created") {
		return base + `; dates compared with lastUpdated or created must be quoted in Okta's form, such as "2024-12-23T00:00:00.000Z"`
	}
	return base
}
