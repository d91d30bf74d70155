package connection

import (
	"context"
	"testing"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// TestPendingConnectionIsNotReauthorization: a user connection created
// and never signed in to is refused as pending (connection_pending), not
// as needing a reauthorization it never had: the message says it is not
// authorized yet and why, the remedy how to finish the sign-in, naming
// the command that gives a new sign-in URL and how long one works.
func TestPendingConnectionIsNotReauthorization(t *testing.T) {
	e := newEnv(t)
	v, _ := e.create(t, "Prod", nil)
	_, err := e.m.Token(context.Background(), v.ID)
	p := wantProblem(t, err, problem.ConnectionPending, `connection "Prod" is not authorized yet (pending): waiting for an administrator to finish signing in to the org`,
		"open the authorize URL and sign in", `cardflow connections reauthorize "Prod"`, "works for 10 minutes")
	if p.Details["status"] != store.StatusPending || p.Details["connection"] != v.ID {
		t.Errorf("details %v; want status pending and the connection's id", p.Details)
	}
}
