package console_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserPollFailureShown: a connection whose System Log polls fail
// says so on its page, with since when, why and how to fix it; once a poll
// works again the warning is gone.
func TestBrowserPollFailureShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	since := time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC)
	failing := store.PollStatus{Error: "Okta refused the System Log request (E0000006)", Remedy: "grant the app okta.logs.read, then reauthorize", FailingSince: since}
	if err := e.store.SetPollStatus(t.Context(), v.ID, "", failing, since, nil); err != nil {
		t.Fatal(err)
	}
	b := newTab(t, e)
	b.signIn()
	b.open("/connections/" + v.ID)
	b.wantText("System Log polling has failed since 2026-11-30 08:15:00 UTC", failing.Error,
		"start no runs until it works again", "How to fix it: Grant the app okta.logs.read, then reauthorize")
	if err := e.store.SetPollStatus(t.Context(), v.ID, "", store.PollStatus{}, since.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	b.open("/connections/" + v.ID)
	b.wantText("Okta events")
	if got := b.mainText(); strings.Contains(got, "System Log polling has failed") {
		t.Errorf("after a poll that worked, the page still warns:\n%s", got)
	}
}
