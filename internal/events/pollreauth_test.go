package events

import (
	"context"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// refusingOrgs refuses every connection's client with its err, as a
// connection that cannot be used does.
type refusingOrgs struct{ err error }

func (o refusingOrgs) Client(context.Context, string) (*okta.Client, error) {
	return nil, o.err
}

// TestPollOfConnectionNeedingReauthorizationSendsNoAlert: the polls of a
// connection that needs reauthorization fail for as long as nobody
// reauthorizes it, and the status says so, but no events.poll_failing goes
// out: connection.needs_reauthorization told the receivers already, and an
// alert (and an all-clear after the reauthorization) for every connection
// with an event flow whenever its 90 days end would say it again. Nor for
// a connection never authorized (connection_pending): it waits for the
// sign-in its status asks for, as one that needs reauthorization does.
func TestPollOfConnectionNeedingReauthorizationSendsNoAlert(t *testing.T) {
	for name, refusal := range map[string]error{
		"needs reauthorization": problem.New(problem.NeedsReauthorization, "%s", problem.NeedsReauthorizationMessage("Person", "the refresh token expired")),
		"pending":               problem.New(problem.ConnectionPending, "%s", problem.PendingMessage("Person", "waiting for an administrator to finish signing in to the org")),
		"sign-in failed":        problem.New(problem.ConnectionPending, "%s", problem.SignInFailedMessage("Person", "the account is not assigned to the OAuth app")),
	} {
		t.Run(name, func(t *testing.T) { testPollRefusedSendsNoAlert(t, refusal) })
	}
}

func testPollRefusedSendsNoAlert(t *testing.T, refusal error) {
	st, err := sqlite.Open(t.Context(), sqlitetest.NewFile(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	receivers, err := notify.ParseReceivers([]string{"https://hooks.example.com/cardflow"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 3, 7, 9, 0, 0, 0, time.UTC)
	p := &Poller{Store: st, Orgs: refusingOrgs{refusal}, Owner: "server-1", Now: func() time.Time { return now },
		Outbox: &notify.Outbox{Store: st, Receivers: receivers, Now: func() time.Time { return now }}, AlertAfter: 15 * time.Minute}
	for range 3 {
		if _, err := p.Poll(t.Context(), connID, now.Add(-time.Hour)); err == nil {
			t.Fatal("a poll of a connection that cannot be used worked")
		}
		now = now.Add(24 * time.Hour)
	}
	src, err := st.GetEventSource(t.Context(), connID)
	if err != nil {
		t.Fatal(err)
	}
	if src.Poll.Error == "" || src.Poll.FailingSince.IsZero() {
		t.Errorf("poll status %+v; want the failure and since when", src.Poll)
	}
	ns, err := st.ListNotifications(t.Context(), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		t.Errorf("notification %s: %s; want none", n.Type, n.Body)
	}
}
