package console

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/store"
)

// readDeviceCard is the card the confirmation of a card that cannot be
// undone runs to show the device it acts on.
const readDeviceCard = card.ConnectorID + "/read-device"

// statusDeactivated is Okta's status of a deactivated device.
const statusDeactivated = "DEACTIVATED"

// confirmReadTimeout bounds the read of the device a confirmation shows.
const confirmReadTimeout = 15 * time.Second

// confirmDevice is the device a confirmation shows, as read just before
// it through the chosen connection.
type confirmDevice struct {
	ID string
	// RunID is the recorded read-device run that read it ("" when the
	// read could not even start: nothing was recorded).
	RunID string
	// Read is set when the read succeeded; the fields below are then
	// what Okta said ("" when the device does not have one).
	Read                                             bool
	Name, Platform, Status, Model, OSVersion, Serial string
	Registered                                       string // "yes" or "no"
	Created, LastUpdated                             time.Time
	// Error and Remedy say why the device could not be shown, when not
	// Read: the confirmation still goes on by id.
	Error, Remedy string
	// Will is what the run would do to the device as read (its plan from
	// the status read, which asks Okta nothing more); Refused, with
	// RefusedRemedy, the problem it would fail with instead, such as
	// deleting an ACTIVE device without deactivateFirst. Both "" when
	// the device could not be read or the plan could not be made.
	Will, Refused, RefusedRemedy string
}

// readConfirmDevice reads the device id through the connection conn as
// a card run of read-device by actor would (recorded in the run history
// and the audit log like any card run), for the confirmation of a card
// that cannot be undone. A failed read is returned as the device's
// Error: the confirmation never depends on it.
func (c *Console) readConfirmDevice(ctx context.Context, conn, id string, actor store.Actor) *confirmDevice {
	d := &confirmDevice{ID: id}
	// The page waits for the read: not for long (an org that hangs, a
	// long rate-limit wait), as its failure changes nothing.
	ctx, cancel := context.WithTimeout(ctx, confirmReadTimeout)
	defer cancel()
	res, err := c.Cards.Run(ctx, card.Request{Card: readDeviceCard, Connection: conn, Input: map[string]any{"deviceId": id}, Actor: actor})
	if res != nil {
		d.RunID = res.RunID
	}
	if err == nil && res.Error != nil {
		err = res.Error
	}
	if err != nil {
		_, e := c.publicError(ctx, err)
		d.Error, d.Remedy = e.Message, e.Remedy
		return d
	}
	dev, _ := res.Output["device"].(map[string]any)
	if dev == nil {
		d.Error = "the read answered without the device"
		return d
	}
	d.Read = true
	d.Status = outputText(dev["status"])
	d.Created, d.LastUpdated = outputTime(dev["created"]), outputTime(dev["lastUpdated"])
	if p, _ := dev["profile"].(map[string]any); p != nil {
		d.Name, d.Platform, d.OSVersion, d.Serial = outputText(p["displayName"]), outputText(p["platform"]), outputText(p["osVersion"]), outputText(p["serialNumber"])
		d.Model = strings.TrimSpace(outputText(p["manufacturer"]) + " " + outputText(p["model"]))
		if r, ok := p["registered"].(bool); ok {
			d.Registered = map[bool]string{true: "yes", false: "no"}[r]
		}
	}
	return d
}

// predict sets d.Will or d.Refused: what the run of cardRef with input
// would do to the device d read, planned from the status read (a plan
// with a known status makes no call and records nothing). It changes
// nothing when d was not read or the plan cannot be made.
func (c *Console) predict(ctx context.Context, d *confirmDevice, cardRef, conn string, input map[string]any, actor store.Actor) {
	if !d.Read || d.Status == "" {
		return
	}
	in := maps.Clone(input)
	in["status"] = d.Status
	ctx, cancel := context.WithTimeout(ctx, confirmReadTimeout)
	defer cancel()
	res, err := c.Cards.Run(ctx, card.Request{Card: cardRef, Connection: conn, Input: in, Actor: actor, DryRun: true})
	switch {
	case err != nil || res == nil:
		return
	case res.Error != nil:
		_, e := c.publicError(ctx, res.Error)
		d.Refused, d.RefusedRemedy = e.Message, e.Remedy
	case res.Change == nil:
		d.Will = fmt.Sprintf("Leave the device as it is (it is already %s).", d.Status)
	case res.Change.To == card.StatusDeleted && res.Change.From != statusDeactivated:
		d.Will = fmt.Sprintf("Deactivate the device (it is %s), then delete it.", res.Change.From)
	case res.Change.To == card.StatusDeleted:
		d.Will = "Delete the device."
	default:
		d.Will = fmt.Sprintf("Change its status from %s to %s.", res.Change.From, res.Change.To)
	}
}

// outputText is v when it is a string, else "".
func outputText(v any) string {
	s, _ := v.(string)
	return s
}

// outputTime parses an output's RFC 3339 time; zero when it has none.
func outputTime(v any) time.Time {
	t, err := time.Parse(time.RFC3339Nano, outputText(v))
	if err != nil {
		return time.Time{}
	}
	return t
}
