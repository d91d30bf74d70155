package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// BenchmarkEventDeliveryToRunStart measures, in hook mode on SQLite, the
// time from an event hook delivery reaching the server (the event's
// receivedAt) to the run it triggers starting (the run's startedAt), one
// device-user removal at a time, and reports its p50 and p99.
//
//	go test -run '^$' -bench EventDeliveryToRunStart -benchtime 200x ./internal/app/
func BenchmarkEventDeliveryToRunStart(b *testing.B) {
	emu := emutest.Start(b, oktaemu.Config{Devices: 1})
	k, err := keyring.Generate()
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, Config{Listen: "127.0.0.1:0", DataDir: b.TempDir(), Key: keyring.Secret(base64.StdEncoding.EncodeToString(k.Bytes)),
		APIToken: keyring.Secret(testAPIToken), TrustedOrigins: []string{emu.URL}, Stdout: io.Discard})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("server: %v", err)
		}
	})
	base := a.URL()
	benchConnect(b, emu, base)

	const login = "jonas.berg@example.com"
	devices := make([]string, b.N)
	for i := range devices {
		devices[i] = enrollDevice(b, emu, login)
	}
	emu.AdvanceClock(b, time.Second)
	doc := strings.ReplaceAll(strings.Replace(quarantineYAML, "DELIVERY", "hook", 1), "Prod devices", "Prod")
	req, _ := http.NewRequest("POST", base+"/api/v1/flows", strings.NewReader(doc))
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/yaml")
	var fl struct {
		Flow struct{ ID string } `json:"flow"`
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&fl)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated {
		b.Fatalf("store flow: %v %d", err, resp.StatusCode)
	}
	if code := benchCall(b, http.DefaultClient, "POST", base+"/api/v1/flows/"+fl.Flow.ID+"/enable", nil, nil); code != http.StatusOK {
		b.Fatalf("enable: %d", code)
	}
	waitHookVerified(b, emu)
	emu.AdvanceClock(b, time.Second)

	var lat []time.Duration
	prev := ""
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		removeDeviceUser(b, emu, devices[i], login)
		for {
			evs, err := a.Store.ListEvents(ctx, store.EventFilter{Limit: 1})
			if err != nil {
				b.Fatal(err)
			}
			if len(evs) == 1 && evs[0].UUID != prev && evs[0].EventType == "device.user.remove" && len(evs[0].FlowRuns) == 1 {
				run, err := a.Store.GetFlowRun(ctx, evs[0].FlowRuns[0])
				if err != nil {
					b.Fatal(err)
				}
				if !run.StartedAt.IsZero() {
					lat = append(lat, run.StartedAt.Sub(evs[0].ReceivedAt))
					prev = evs[0].UUID
					break
				}
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
}
