package console_test

import (
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestInterruptedRunRemedyOfItsCard: a direct card run its server left
// running, ended interrupted by the sweep, gives the remedy of its own
// card's kind, on its console page and in the API: a read card's says it
// changed nothing, a manage card's to read the device, where both gave
// the remedy of either kind ("a card that changes devices: ...; a card that
// reads changed nothing: ...").
func TestInterruptedRunRemedyOfItsCard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	v := e.connect(t, "Prod", nil)
	ctx := t.Context()
	now := time.Now()
	want := map[string]string{
		"okta-devices/read-device":    store.InterruptedReadRemedy,
		"okta-devices/suspend-device": store.InterruptedChangeRemedy,
	}
	ids := map[string]string{}
	for ref := range want {
		id := "run_" + strings.TrimPrefix(ref, "okta-devices/")
		ids[ref] = id
		run := &store.Run{ID: id, Card: ref, ConnectionID: v.ID, ConnectionNickname: "Prod",
			Actor: store.Actor{Type: store.ActorUser, Login: "test"}, Status: store.RunRunning, Input: []byte(`{"deviceId":"guo1"}`),
			StartedAt: now.Add(-time.Hour), Owner: "gone", LeaseUntil: now.Add(-time.Minute)}
		if err := e.store.CreateRun(ctx, run); err != nil {
			t.Fatal(err)
		}
	}
	// The server's own sweep of lapsed card runs may end them first;
	// either way both are interrupted once this sweep has run.
	if _, err := e.store.InterruptLapsedRuns(ctx, now); err != nil {
		t.Fatalf("the sweep: %v", err)
	}
	for _, id := range ids {
		if r, err := e.store.GetRun(ctx, id); err != nil || r.Status != store.RunInterrupted {
			t.Fatalf("run %s after the sweep: %+v (%v); want it interrupted", id, r, err)
		}
	}
	c, _, _ := signInHTTP(t, e.url, "/runs")
	for ref, remedy := range want {
		code, out := e.api(t, http.MethodGet, "/api/v1/runs/"+ids[ref], "", "")
		var run struct {
			Error struct {
				Details map[string]any `json:"details"`
			} `json:"error"`
		}
		if err := json.Unmarshal([]byte(out), &run); code != http.StatusOK || err != nil || run.Error.Details["remedy"] != remedy {
			t.Errorf("GET the interrupted run of %s: %d %s; want the remedy %q", ref, code, out, remedy)
		}
		_, body := get(t, c, e.url+"/runs/"+ids[ref])
		body = html.UnescapeString(body)
		if !strings.Contains(body, remedy[1:]) || strings.Contains(body, "a card that reads changed nothing") {
			t.Errorf("the console page of the interrupted run of %s lacks its remedy %q, or gives that of either kind", ref, remedy)
		}
	}
}
