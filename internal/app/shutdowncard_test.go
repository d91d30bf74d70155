package app

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestShutdownTimeoutCutsCardRun: a card run asked through the API whose
// call Okta has not answered when the shutdown's time is up is cut off
// and recorded interrupted by the server that stops, and its caller is
// answered, as a flow run's call is; it is not left running in the
// database, with the caller's connection dropped, for another server to
// end once its lease lapses. The lease here is half an hour: a run left
// running would still be running when the next server reads it.
func TestShutdownTimeoutCutsCardRun(t *testing.T) {
	t.Parallel()
	cfg := func(c *Config) { c.CardLeaseTTL = 30 * time.Minute; c.ShutdownTimeout = time.Millisecond }
	h := startHarness(t, oktaemu.Config{Devices: 20}, cfg)
	h.connect("Prod")
	device := h.deviceWithStatus("Prod", "ACTIVE")
	const suspend = "/api/v1/devices/{deviceId}/lifecycle/suspend"
	h.emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: suspend, Count: 1, Body: "hang"})
	before := lifecycleCalls(h.emu.Stats(t))

	type answer struct {
		code int
		body []byte
		err  error
	}
	answered := make(chan answer, 1)
	go func() {
		body, _ := json.Marshal(map[string]any{"card": "okta-devices/suspend-device", "connection": "Prod", "input": map[string]any{"deviceId": device}})
		req, _ := http.NewRequest("POST", h.url+"/api/v1/runs", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testAPIToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.http.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		answered <- answer{code: resp.StatusCode, body: data, err: err}
	}()
	waitFor(t, "the suspension to reach the org", func() bool { return lifecycleCalls(h.emu.Stats(t))-before == 1 })
	h.stop()

	a := <-answered
	if a.err != nil {
		t.Errorf("the caller of the card run cut off at the shutdown got no answer: %v", a.err)
	} else if !strings.Contains(string(a.body), "cancelled before Okta answered") {
		t.Errorf("the caller of the card run cut off at the shutdown was answered %d %s; want the run interrupted, saying so", a.code, a.body)
	}

	h2 := startServer(t, h.emu, h.dataDir, cfg)
	var list struct{ Runs []runJSON }
	if code, data := h2.call("GET", "/api/v1/runs?card=okta-devices/suspend-device", nil, &list); code != http.StatusOK {
		t.Fatalf("list runs: %d %s", code, data)
	}
	var found []string
	for _, r := range list.Runs {
		if r.Card != "okta-devices/suspend-device" {
			continue
		}
		msg := ""
		if r.Error != nil {
			msg = r.Error.Message
		}
		found = append(found, r.Status+": "+msg)
	}
	if len(found) != 1 || !strings.HasPrefix(found[0], "interrupted: ") || !strings.Contains(found[0], "cancelled before Okta answered") {
		t.Errorf("suspend-device runs after the shutdown: %q; want one, interrupted as cut off before Okta answered", found)
	}
}
