package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	sdk "github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// BenchmarkBulkSuspendVsSDK does the same job two ways on the same emulated
// org, in one run: suspend every ACTIVE device, once as a cardflow flow
// (search-devices with resultSet all, then suspend-device for each device
// with the status the search saw, concurrency 8) and once as a plain loop
// over Okta's Go SDK (okta-sdk-golang v5: list the ACTIVE devices page by
// page, then suspend them one after the other, with the SDK's 429 retries
// on). The org is limited to 600 Devices API calls a minute; both runs
// start 50 ms into a rate-limit window of a freshly reset org. Two more
// cases add a round trip to every Devices API answer, as an org across a
// network would: 1 ms (a client next to the org) and 20 ms. It runs on the
// real clock (over two minutes for the larger job):
//
//	go test -run '^$' -bench BulkSuspendVsSDK -benchtime 1x ./internal/app/
//
// Metrics: wall-ratio (cardflow's wall time ÷ the SDK loop's; target
// ≤ 1.05), cardflow-s and sdk-s (the wall times), cardflow-calls and
// sdk-calls (Devices API calls the org counted, 429s included), and
// sdk-failed (devices the SDK loop failed to suspend), and cardflow-cpu-ms/device
// and sdk-cpu-ms/device (processor time per device of the whole process,
// in which the emulated org, the cardflow server and the loop all run).
func BenchmarkBulkSuspendVsSDK(b *testing.B) {
	for _, tt := range []struct {
		devices int
		rtt     time.Duration
	}{{357, 0}, {696, 0}, {357, time.Millisecond}, {357, 20 * time.Millisecond}} {
		b.Run(fmt.Sprintf("devices=%d/rtt=%v", tt.devices, tt.rtt), func(b *testing.B) {
			benchBulkVsSDK(b, bulkCase{devices: tt.devices, others: tt.devices / 4, limit: 600, concurrency: 8, phase: 50 * time.Millisecond}, tt.rtt)
		})
	}
}

// benchBulkVsSDK runs the comparison; rtt is added to every Devices API
// answer, as the round trip to a real org would be (0: only the
// emulator's own, well under a millisecond).
func benchBulkVsSDK(b *testing.B, bc bulkCase, rtt time.Duration) {
	emu, meter := startMeteredEmulator(b, oktaemu.Config{Fixture: bulkFixture(bc.devices, bc.others), RateLimitPerMinute: bc.limit})
	meter.delay = rtt
	flowDoc := fmt.Sprintf(bulkFlowTemplate, bc.concurrency)
	client := &http.Client{Timeout: 10 * time.Minute}
	var cfTime, sdkTime, cfCPU, sdkCPU time.Duration
	var cfCalls, sdkCalls, sdkFailed int

	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		emu.Reset(b)
		base := benchServers(b, emu, "", 1)[0]
		benchConnect(b, emu, base)
		flowID := bulkStoreFlow(b, client, base, flowDoc)
		startRunAt(b, emu, bc.phase)
		before := emu.Stats(b)

		b.StartTimer()
		start, cpu := time.Now(), processCPU()
		run := bulkRun(b, client, base, flowID)
		elapsed := time.Since(start)
		cfCPU += processCPU() - cpu
		b.StopTimer()
		calls := devicesCalls(diffStats(emu.Stats(b), before))
		if len(run.Steps) != 2 || run.Status != "succeeded" || run.Steps[1].Succeeded != bc.devices {
			b.Fatalf("flow run %s: %+v; want %d devices suspended", run.ID, run, bc.devices)
		}
		b.Logf("cardflow: %d devices suspended, %d Devices API calls in %v", run.Steps[1].Succeeded, calls, elapsed.Round(time.Millisecond))
		cfTime += elapsed
		cfCalls += calls

		emu.Reset(b)
		api := bulkSDKClient(b, emu)
		startRunAt(b, emu, bc.phase)
		before = emu.Stats(b)
		b.StartTimer()
		start, cpu = time.Now(), processCPU()
		done, failed := sdkSuspendAll(b, api)
		elapsed = time.Since(start)
		sdkCPU += processCPU() - cpu
		b.StopTimer()
		calls = devicesCalls(diffStats(emu.Stats(b), before))
		if done+failed != bc.devices {
			b.Fatalf("the SDK loop found %d ACTIVE devices; want %d", done+failed, bc.devices)
		}
		b.Logf("SDK loop: %d devices suspended, %d failed, %d Devices API calls in %v", done, failed, calls, elapsed.Round(time.Millisecond))
		sdkTime += elapsed
		sdkCalls += calls
		sdkFailed += failed
	}
	b.ReportMetric(cfTime.Seconds()/sdkTime.Seconds(), "wall-ratio")
	b.ReportMetric(cfTime.Seconds()/float64(b.N), "cardflow-s")
	b.ReportMetric(sdkTime.Seconds()/float64(b.N), "sdk-s")
	b.ReportMetric(float64(cfCalls)/float64(b.N), "cardflow-calls")
	b.ReportMetric(float64(sdkCalls)/float64(b.N), "sdk-calls")
	b.ReportMetric(float64(sdkFailed)/float64(b.N), "sdk-failed")
	if cfCPU > 0 {
		perDevice := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N*bc.devices) }
		b.ReportMetric(perDevice(cfCPU), "cardflow-cpu-ms/device")
		b.ReportMetric(perDevice(sdkCPU), "sdk-cpu-ms/device")
	}
}

// bulkSDKClient is an SDK client of the org as the demo super admin, with
// the GET cache off, the port kept (NOTES: the SDK drops it) and 429
// retries on: up to five, each waiting up to two minutes for the reset.
func bulkSDKClient(b *testing.B, emu *emutest.Server) *sdk.APIClient {
	b.Helper()
	cfg, err := sdk.NewConfiguration(
		sdk.WithOrgUrl(emu.URL),
		sdk.WithToken(oktaemu.DemoAPIToken),
		sdk.WithTestingDisableHttpsCheck(true),
		sdk.WithCache(false),
		sdk.WithRateLimitMaxRetries(5),
		sdk.WithRateLimitMaxBackOff(120),
	)
	if err != nil {
		b.Fatalf("sdk.NewConfiguration: %v", err)
	}
	u, err := url.Parse(emu.URL)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Host = u.Host
	return sdk.NewAPIClient(cfg)
}

// sdkSuspendAll lists the ACTIVE devices and suspends each, the way a
// script over the SDK would.
func sdkSuspendAll(b *testing.B, api *sdk.APIClient) (done, failed int) {
	b.Helper()
	ctx := context.Background()
	page, resp, err := api.DeviceAPI.ListDevices(ctx).Search(`status eq "ACTIVE"`).Limit(200).Execute()
	if err != nil {
		b.Fatalf("SDK ListDevices: %v", err)
	}
	var ids []string
	for {
		for _, d := range page {
			ids = append(ids, d.GetId())
		}
		if !resp.HasNextPage() {
			break
		}
		page = nil
		if resp, err = resp.Next(&page); err != nil {
			b.Fatalf("SDK ListDevices next page: %v", err)
		}
	}
	for _, id := range ids {
		if _, err := api.DeviceAPI.SuspendDevice(ctx, id).Execute(); err != nil {
			failed++
			continue
		}
		done++
	}
	return done, failed
}
