package connection

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// notes records the notifications a Manager sends.
type notes struct {
	mu   sync.Mutex
	sent []Notification
}

func (n *notes) Notify(_ context.Context, m Notification) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, m)
	return nil
}

// TestExpiringNotice: the connection.expiring notice names the org and
// the connection's remedy as a needs_reauthorization one does (the console
// button and the command), and says how long is left in hours when less
// than two days are (a server that was down through the warning's start,
// or a short -expiry-warning), where it read "in 0 days".
func TestExpiringNotice(t *testing.T) {
	e := newEnv(t)
	sent := &notes{}
	e.m.Notifier = sent
	v := e.connect(t, "Prod")
	c := e.conn(t, v.ID)
	if c.RefreshTokenExpiresAt.IsZero() {
		t.Fatal("no refresh token expiry after the sign-in")
	}
	e.emu.AdvanceClock(t, c.RefreshTokenExpiresAt.Sub(e.emu.Now())-12*time.Hour-time.Minute)
	if err := e.m.CheckExpiries(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(sent.sent) != 1 {
		t.Fatalf("%d notifications; want one connection.expiring", len(sent.sent))
	}
	n := sent.sent[0]
	if n.Kind != "connection.expiring" || n.Domain != e.emu.URL || !strings.Contains(n.Message, "(in 12 hours)") {
		t.Errorf("notification %+v; want connection.expiring for %s, in 12 hours", n, e.emu.URL)
	}
	if want := `cardflow connections reauthorize "Prod"`; !strings.Contains(n.Remedy, want) || !strings.Contains(n.Remedy, "Reauthorize on its console page") {
		t.Errorf("remedy %q; want the console's Reauthorize and %s", n.Remedy, want)
	}
}
