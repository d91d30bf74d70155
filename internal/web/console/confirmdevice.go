package console

import (
	"context"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/store"
)

// readDeviceCard is the card the confirmation of a card that cannot be
// undone runs to show the device it acts on.
const readDeviceCard = card.ConnectorID + "/read-device"

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
