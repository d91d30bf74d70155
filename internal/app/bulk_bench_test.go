package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// The bulk benchmarks suspend many ACTIVE devices through a real flow run
// (search-devices with resultSet all, then suspend-device for each device)
// on a real server wired as `cardflow serve` wires it, against an emulated
// org whose Devices API is rate limited. They run on the real clock and take
// over a minute, so run them once:
//
//	go test -run '^$' -bench BulkSuspend -benchtime=1x ./internal/app/
//
// Every iteration resets the org (the same devices are ACTIVE again) and
// starts a fresh server with a fresh rate budget.
//
// Each suspend-device item is given the status the search saw (status:
// ${{ item.status }}), so it posts the lifecycle change without reading the
// device first: suspending 1 000 devices takes 1 005 calls with the search's
// five pages, the fewest that can do it.
//
// Metrics (per run):
//
//   - limit-frac: Devices API calls per minute of wall time ÷ the limit, over
//     the whole run, counted from the org's request statistics (every
//     /api/v1/devices* route; answers of 429 included). The org counts in
//     fixed windows aligned to the minute, and a run that needs more than one
//     window ends early in its last window, which it uses only in part: over
//     a run of two windows this exceeds 1 (a perfect client would too), and
//     for a run inside one window it says only that the run did not wait.
//   - window-fill: the calls the org counted in the windows the run waited
//     out (every window but its last) ÷ the limit of those windows. A window
//     in which the run still had work is throughput lost for good if the
//     budget leaves part of it unused; this is the share of the limit's
//     throughput bulk work reaches (target ≥ 0.95; the budget keeps 1 % of
//     each window for the org's other callers). So that the first window is
//     a whole one rather than whatever part of a minute was left when the run
//     began, the org's clock is moved forward before the run (never during
//     it) to just after a window's start. BenchmarkBulkSuspendSmall starts
//     45 s into a window instead, to cross a window's end within seconds.
//   - 429s: Devices API answers of 429 (what the org answered; the server's
//     cardflow_okta_rate_limited_total must agree).
//   - failed: failed items (must be 0).
//   - items/s: suspended devices per second of the run.
//   - calls: Devices API calls of the run.
//   - calls/change: Devices API calls per suspended device (target ≤ 1.01).
//   - useful-work: the fewest calls that can do the job (one POST per
//     device and the search's pages) ÷ the calls made; 1 is the physical
//     limit of changes per call.

// bulkCase is one bulk-suspend scenario.
type bulkCase struct {
	devices     int           // ACTIVE devices to suspend
	others      int           // devices in other statuses, which the search leaves out
	limit       int           // the org's requests per minute per bucket
	concurrency int           // the for_each step's concurrency
	phase       time.Duration // how far into a rate-limit window the run starts
}

// BenchmarkBulkSuspend suspends 1 000 devices at 1 200 calls a minute.
func BenchmarkBulkSuspend(b *testing.B) {
	benchBulkSuspend(b, bulkCase{devices: 1000, others: 250, limit: 1200, concurrency: 8, phase: 50 * time.Millisecond})
}

// BenchmarkBulkSuspendSmall suspends 200 devices at 300 calls a minute, the
// run starting 15 s before a window ends: 401 calls in two windows, done
// in about 16 s.
func BenchmarkBulkSuspendSmall(b *testing.B) {
	benchBulkSuspend(b, bulkCase{devices: 200, others: 50, limit: 300, concurrency: 8, phase: 45 * time.Second})
}

const bulkFlowTemplate = `name: bulk-suspend
description: Suspend every active device
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      search: 'status eq "ACTIVE"'
      resultSet: all
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    for_each: ${{ steps.find.output.devices }}
    concurrency: %d
    input:
      deviceId: ${{ item.id }}
      status: ${{ item.status }}
`

// bulkTotals adds up the iterations' measurements.
type bulkTotals struct {
	elapsed     time.Duration
	calls       int // Devices API calls (org statistics)
	tooMany     int // 429s answered by the org
	failed      int
	succeeded   int
	filledCalls int // calls in windows the run waited out
	filledWins  int // windows the run waited out
	pages       int // search pages (GET /api/v1/devices)
}

func benchBulkSuspend(b *testing.B, bc bulkCase) {
	emu, meter := startMeteredEmulator(b, oktaemu.Config{Fixture: bulkFixture(bc.devices, bc.others), RateLimitPerMinute: bc.limit})
	flowDoc := fmt.Sprintf(bulkFlowTemplate, bc.concurrency)
	client := &http.Client{Timeout: 10 * time.Minute}
	var tot bulkTotals

	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		emu.Reset(b)
		base := benchServers(b, emu, "", 1)[0]
		benchConnect(b, emu, base)
		flowID := bulkStoreFlow(b, client, base, flowDoc)
		startRunAt(b, emu, bc.phase)
		before := emu.Stats(b)
		meter.take()

		b.StartTimer()
		start := time.Now()
		run := bulkRun(b, client, base, flowID)
		elapsed := time.Since(start)
		b.StopTimer()

		stats := diffStats(emu.Stats(b), before)
		windows, tooMany := meter.take()
		appTooMany := scrapeCounter(b, client, base, "cardflow_okta_rate_limited_total")
		calls := devicesCalls(stats)

		if len(run.Steps) != 2 {
			b.Fatalf("flow run %s: %d steps; want 2 (%+v)", run.ID, len(run.Steps), run)
		}
		step := run.Steps[1]
		if run.Status != "succeeded" || step.Items != bc.devices || step.Succeeded != bc.devices || step.Failed != 0 {
			b.Errorf("flow run %s: status %s, %d items, %d succeeded, %d failed; want succeeded with %d suspended",
				run.ID, run.Status, step.Items, step.Succeeded, step.Failed, bc.devices)
		}
		// A suspend answered 429 is sent again; no other is.
		if n := stats["POST /api/v1/devices/{deviceId}/lifecycle/suspend"]; n < bc.devices || n > bc.devices+tooMany {
			b.Errorf("%d suspend calls for %d devices (%d answers of 429); want one each", n, bc.devices, tooMany)
		}
		if sum := sumWindows(windows); sum != calls {
			b.Errorf("the org's statistics count %d Devices API calls; its answers name windows for %d", calls, sum)
		}
		if appTooMany != tooMany {
			b.Errorf("the server counted %d answers of 429; the org answered %d", appTooMany, tooMany)
		}
		filled, waited := waitedOut(windows)
		for _, w := range windowReport(windows, bc.limit) {
			b.Logf("window ending %s", w)
		}
		b.Logf("run %s: %d devices suspended, %d failed, %d Devices API calls in %v, %d answers of 429",
			run.ID, step.Succeeded, step.Failed, calls, elapsed.Round(time.Millisecond), tooMany)

		tot.elapsed += elapsed
		tot.calls += calls
		tot.tooMany += tooMany
		tot.failed += step.Failed
		tot.succeeded += step.Succeeded
		tot.filledCalls += filled
		tot.filledWins += waited
		tot.pages += stats["GET /api/v1/devices"]
	}

	minutes := tot.elapsed.Minutes()
	b.ReportMetric(float64(tot.calls)/minutes/float64(bc.limit), "limit-frac")
	if tot.filledWins > 0 {
		b.ReportMetric(float64(tot.filledCalls)/float64(tot.filledWins*bc.limit), "window-fill")
	} else {
		b.Logf("the runs waited out no window: window-fill does not apply")
	}
	b.ReportMetric(float64(tot.tooMany)/float64(b.N), "429s")
	b.ReportMetric(float64(tot.failed)/float64(b.N), "failed")
	b.ReportMetric(float64(tot.succeeded)/tot.elapsed.Seconds(), "items/s")
	b.ReportMetric(float64(tot.calls)/float64(b.N), "calls")
	if tot.succeeded > 0 {
		b.ReportMetric(float64(tot.calls)/float64(tot.succeeded), "calls/change")
		b.ReportMetric(float64(tot.succeeded+tot.pages)/float64(tot.calls), "useful-work")
	}
	if tot.failed != 0 {
		b.Errorf("%d items failed; want none", tot.failed)
	}
}

// bulkFixture is the demo org with n ACTIVE devices to suspend and others
// devices that are SUSPENDED, DEACTIVATED or CREATED.
func bulkFixture(n, others int) *oktaemu.Fixture {
	fx := oktaemu.DemoFixture(0)
	platforms := []string{"ANDROID", "IOS", "MACOS", "WINDOWS"}
	statuses := []string{"SUSPENDED", "DEACTIVATED", "CREATED"}
	for i := range n + others {
		d := oktaemu.FixtureDevice{Profile: map[string]any{
			"displayName": fmt.Sprintf("bulk-%05d", i), "platform": platforms[i%len(platforms)], "registered": true,
		}}
		if i >= n {
			d.Status = statuses[i%len(statuses)]
		}
		fx.Devices = append(fx.Devices, d)
	}
	return fx
}

// bulkStoreFlow stores the flow document and returns its id.
func bulkStoreFlow(b *testing.B, c *http.Client, base, doc string) string {
	b.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/flows", strings.NewReader(doc))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/yaml")
	var out struct {
		Flow struct {
			ID string `json:"id"`
		} `json:"flow"`
	}
	if code, body := bulkDo(b, c, req, &out); code != http.StatusCreated || out.Flow.ID == "" {
		b.Fatalf("store the flow: status %d; want 201\n%s", code, body)
	}
	return out.Flow.ID
}

// bulkRun runs the stored flow and waits for the run to end.
func bulkRun(b *testing.B, c *http.Client, base, flowID string) flowRun {
	b.Helper()
	req, err := http.NewRequest("POST", base+"/api/v1/flows/"+flowID+"/runs?wait=true", strings.NewReader(`{"inputs":{}}`))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/json")
	var run flowRun
	if code, body := bulkDo(b, c, req, &run); code != http.StatusOK {
		b.Fatalf("run the flow: status %d; want 200\n%.2000s", code, body)
	}
	return run
}

// bulkDo sends req and decodes a JSON answer into out; it returns the
// status and the body.
func bulkDo(b *testing.B, c *http.Client, req *http.Request, out any) (int, []byte) {
	b.Helper()
	resp, err := c.Do(req)
	if err != nil {
		b.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(body, out); err != nil {
			b.Fatalf("%s %s: status %d, body is not the expected JSON: %v\n%.2000s", req.Method, req.URL.Path, resp.StatusCode, err, body)
		}
	}
	return resp.StatusCode, body
}

// startRunAt moves the org's clock forward to phase into the next
// rate-limit window (or into the current one, if it is not that far yet).
// It is called before a run, never during one: the run itself goes on the
// real clock.
func startRunAt(b *testing.B, emu *emutest.Server, phase time.Duration) {
	b.Helper()
	now := emu.Org.Now()
	d := phase - now.Sub(now.Truncate(time.Minute))
	if d < 0 {
		d += time.Minute
	}
	emu.AdvanceClock(b, d)
}

// diffStats returns after minus before, by route.
func diffStats(after, before map[string]int) map[string]int {
	d := make(map[string]int, len(after))
	for k, v := range after {
		if n := v - before[k]; n != 0 {
			d[k] = n
		}
	}
	return d
}

// devicesCalls counts the Devices API routes' requests in stats ("METHOD
// /path" keys): /api/v1/devices and everything under it.
func devicesCalls(stats map[string]int) int {
	n := 0
	for k, v := range stats {
		_, path, _ := strings.Cut(k, " ")
		if isDevicesPath(path) {
			n += v
		}
	}
	return n
}

func isDevicesPath(path string) bool {
	return path == "/api/v1/devices" || strings.HasPrefix(path, "/api/v1/devices/")
}

func sumWindows(windows map[int64]int) int {
	n := 0
	for _, v := range windows {
		n += v
	}
	return n
}

// waitedOut returns the calls in every window but the last, and how many
// such windows there are.
func waitedOut(windows map[int64]int) (calls, count int) {
	last := int64(0)
	for end := range windows {
		last = max(last, end)
	}
	for end, n := range windows {
		if end != last {
			calls += n
			count++
		}
	}
	return calls, count
}

// windowReport describes each window: its end and its calls.
func windowReport(windows map[int64]int, limit int) []string {
	ends := make([]int64, 0, len(windows))
	for end := range windows {
		ends = append(ends, end)
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i] < ends[j] })
	var out []string
	for _, end := range ends {
		n := windows[end]
		out = append(out, fmt.Sprintf("%s: %d calls (%.3f of %d)", time.Unix(end, 0).UTC().Format(time.TimeOnly), n, float64(n)/float64(limit), limit))
	}
	return out
}

// scrapeCounter sums a counter's series on the server's /metrics.
func scrapeCounter(b *testing.B, c *http.Client, base, name string) int {
	b.Helper()
	req, err := http.NewRequest("GET", base+"/metrics", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	code, body := bulkDo(b, c, req, nil)
	if code != http.StatusOK {
		b.Fatalf("GET /metrics: status %d", code)
	}
	total := 0.0
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"{") && !strings.HasPrefix(line, name+" ") {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			b.Fatalf("metrics line %q: %v", line, err)
		}
		total += v
	}
	return int(total)
}

// BenchmarkForEachFiltered runs the bulk flow over 5 000 devices with an
// if that none of them meets (if: ${{ item.status == "SUSPENDED" }} over
// ACTIVE devices): the common "look at every device, act on the few that
// match" shape, where almost every item is skipped. Skipped items change
// nothing, so they are recorded a batch at a time rather than one commit
// each.
//
//	go test -run '^$' -bench ForEachFiltered -benchtime 3x ./internal/app/
//
// Metrics: items/s (items of the for_each step per second of the run,
// search included) and s/run.
func BenchmarkForEachFiltered(b *testing.B) {
	const devices = 5000
	emu, _ := startMeteredEmulator(b, oktaemu.Config{Fixture: bulkFixture(devices, 0)})
	client := &http.Client{Timeout: 10 * time.Minute}
	// The bulk flow with an if that no ACTIVE device meets.
	flowDoc := fmt.Sprintf(bulkFlowTemplate, 8) + "    if: ${{ item.status == \"SUSPENDED\" }}\n"
	var total time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		base := benchServers(b, emu, "", 1)[0]
		benchConnect(b, emu, base)
		flowID := bulkStoreFlow(b, client, base, flowDoc)
		b.StartTimer()
		start := time.Now()
		run := bulkRun(b, client, base, flowID)
		total += time.Since(start)
		b.StopTimer()
		if len(run.Steps) != 2 || run.Status != "succeeded" || run.Steps[1].Skipped != devices {
			b.Fatalf("flow run %s: %+v; want %d items skipped", run.ID, run, devices)
		}
	}
	b.ReportMetric(float64(devices*b.N)/total.Seconds(), "items/s")
	b.ReportMetric(total.Seconds()/float64(b.N), "s/run")
}
