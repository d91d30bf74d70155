package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestFlowsListNamesFailingPolls: an enabled event flow whose connection's
// System Log polls fail starts no runs; the flows list says so beside
// "enabled", as cardflow flows list does, and no more once a poll works.
func TestFlowsListNamesFailingPolls(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	e.connect(t, "Reader", nil)
	flowID := e.storeFlow(t, enrollQuarantineFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+flowID+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, out)
	}
	// Enabling the flow polls Prod's System Log at once: that poll, which
	// works, is awaited (it stores how far it read) before the failing
	// status is stored, or it would store that the polls work over it.
	deadline := time.Now().Add(time.Minute)
	for {
		src, err := e.store.GetEventSource(t.Context(), prod.ID)
		if err == nil && !src.Poll.ReadTo.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("enabling the flow polled no System Log in a minute (%v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	since := time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC)
	failing := store.PollStatus{Error: "Okta refused the System Log request (E0000006)", Remedy: "grant the app okta.logs.read, then reauthorize", FailingSince: since}
	if err := e.store.SetPollStatus(t.Context(), prod.ID, "", failing, since, nil); err != nil {
		t.Fatal(err)
	}
	c, _, _ := signInHTTP(t, e.url, "/flows")
	const want = "enabled connection Prod: System Log polls failing"
	if _, body := get(t, c, e.url+"/flows"); !strings.Contains(rowOf(body, "quarantine-on-enroll"), want) {
		t.Errorf("the flows list reads %q for the flow whose connection's polls fail; want %q", rowOf(body, "quarantine-on-enroll"), want)
	}
	if err := e.store.SetPollStatus(t.Context(), prod.ID, "", store.PollStatus{}, since.Add(time.Hour), nil); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, c, e.url+"/flows"); strings.Contains(rowOf(body, "quarantine-on-enroll"), "System Log polls failing") {
		t.Errorf("after a poll that worked, the flows list reads %q", rowOf(body, "quarantine-on-enroll"))
	}
}
