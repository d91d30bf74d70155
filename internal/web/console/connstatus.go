package console

import (
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/store"
)

// statusLook is how the console shows a connection's status, the same on
// every page that does (the connections list, a connection's page): the
// class of its dot and badge (dot-ok, badge-ok), of the banner that says
// why it is not active (flash-error), and its label. Red (bad) means
// broken only: a connection that stopped working or never did. A pending
// one, created and not authorized yet, is not broken: it waits for a
// person (a sign-in to finish, a key to be added to the app).
type statusLook struct {
	Class string // ok, warn (active, expiring soon), pending, bad
	Flash string // warning or error: the banner of a connection not active
	Label string // "Active", "Pending", "Needs reauthorization", "Error"
}

// connStatus is the look of v's status.
func connStatus(v *connection.View) statusLook {
	switch v.Status {
	case store.StatusActive:
		if v.RefreshTokenExpired {
			// Active by its record, but the next card run will find
			// that it needs a new sign-in.
			return statusLook{Class: "bad", Flash: "error", Label: "Active"}
		}
		if v.ExpiresSoon {
			return statusLook{Class: "warn", Flash: "warning", Label: "Active"}
		}
		return statusLook{Class: "ok", Flash: "ok", Label: "Active"}
	case store.StatusPending:
		return statusLook{Class: "pending", Flash: "warning", Label: "Pending"}
	}
	return statusLook{Class: "bad", Flash: "error", Label: humanize(v.Status)}
}
