package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserExpiringConnection: a user connection within the expiry
// warning of its refresh token's end is marked in the list and has a
// banner that names the date, the 90-day limit and the fix; once the end
// has passed, the connection needs reauthorization with a reason naming
// the 90-day limit and the sign-in date. Its badge is yellow, as its mark
// in the list is.
func TestBrowserExpiringConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	ends := time.Now().UTC().Add(5 * 24 * time.Hour)
	setExpiry := func(at time.Time) {
		t.Helper()
		if err := e.store.UpdateConnection(context.Background(), v.ID, func(c *store.Connection) error {
			c.RefreshTokenExpiresAt = at
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	setExpiry(ends)
	b := newTab(t, e)
	b.signIn()
	b.open("/connections")
	if got := b.text(`.expiring`); !strings.Contains(got, "expires "+ends.Format("2006-01-02")) {
		t.Errorf("list mark %q; want it to name %s", got, ends.Format("2006-01-02"))
	}
	b.open("/connections/" + v.ID)
	banner := b.text(`#expiry-banner`)
	for _, want := range []string{"Expires soon", ends.Format("2006-01-02"), "90 days after the sign-in", "Reauthorize the connection"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner %q lacks %q", banner, want)
		}
	}
	// Its badge is yellow, as its mark in the list is (connStatus).
	if badge := eval[string](b, "read the badge's class", `document.getElementById('connection-status').className`); !strings.Contains(badge, "badge-warn") {
		t.Errorf("the expiring connection's badge has the class %q; want badge-warn, as its dot-warn in the list", badge)
	}
	b.screenshot("connection-expiring")

	// Past its end, before any card or check has found it: still active
	// by its record, but red and saying that it has expired.
	ended := time.Now().UTC().Add(-time.Minute)
	setExpiry(ended)
	b.open("/connections")
	if got := b.text(`.expiring`); !strings.Contains(got, "expired "+ended.Format("2006-01-02")) || !strings.Contains(got, "reauthorize") {
		t.Errorf("list mark of an expired connection %q; want it to say expired on %s and to reauthorize", got, ended.Format("2006-01-02"))
	}
	b.open("/connections/" + v.ID)
	banner = b.text(`#expiry-banner`)
	for _, want := range []string{"Expired", ended.Format("2006-01-02"), "Reauthorize the connection"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner of an expired connection %q lacks %q", banner, want)
		}
	}
	if badge := eval[string](b, "read the badge's class", `document.getElementById('connection-status').className`); !strings.Contains(badge, "badge-bad") {
		t.Errorf("the expired connection's badge has the class %q; want badge-bad", badge)
	}
	if got := b.text(`//dt[following-sibling::dd[@id="refresh-expiry"]][last()]`); got != "Refresh token expired" {
		t.Errorf("the expiry's label is %q; want Refresh token expired", got)
	}

	if err := e.manager.CheckExpiries(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.open("/connections/" + v.ID)
	reason := b.text(`#status-reason`)
	signIn := v.AuthorizedAt.UTC().Format("2006-01-02")
	for _, want := range []string{"Needs reauthorization", "90 days", signIn, "Reauthorize"} {
		if !strings.Contains(strings.ToLower(reason), strings.ToLower(want)) {
			t.Errorf("status %q lacks %q", reason, want)
		}
	}
	// Each card says in a sentence why it will fail.
	if row := b.text(`//table[@id="cards"]//tr[contains(., "Search Devices")]`); !strings.Contains(row, "The connection needs reauthorization.") {
		t.Errorf("Search Devices row = %q; want it to say the connection needs reauthorization", row)
	}
}
