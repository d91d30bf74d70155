package okta

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"runtime/metrics"
	"testing"

	sdk "github.com/okta/okta-sdk-golang/v5/okta"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// The benchmarks compare cardflow's client with Okta's official Go SDK
// (okta-sdk-golang v5) on the same emulated org in one run:
//
//	go test -run '^$' -bench . -benchmem ./internal/okta/
//
// BenchmarkDecodePage decodes one 200-device page already in memory (what
// each client does with a page body); BenchmarkListDevices walks a
// 1 000-device org (5 pages) over HTTP and reports CPU time and allocations
// per page; BenchmarkStream100k streams 100 000 devices and reports the
// peak retained heap growth while it does.

// sdkClient returns an SDK client of srv as the demo super admin, with the
// SDK's GET cache off (it would serve stale devices) and the port kept.
func sdkClient(tb testing.TB, srv *emutest.Server) *sdk.APIClient {
	tb.Helper()
	cfg, err := sdk.NewConfiguration(
		sdk.WithOrgUrl(srv.URL),
		sdk.WithToken(oktaemu.DemoAPIToken),
		sdk.WithTestingDisableHttpsCheck(true),
		sdk.WithCache(false),
	)
	if err != nil {
		tb.Fatalf("sdk.NewConfiguration: %v", err)
	}
	u, err := url.Parse(srv.URL)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Host = u.Host // the SDK keeps only the host name otherwise
	return sdk.NewAPIClient(cfg)
}

// pageBody fetches the raw body of the first 200-device page.
func pageBody(tb testing.TB, srv *emutest.Server) []byte {
	tb.Helper()
	req, err := http.NewRequest("GET", srv.URL+"/api/v1/devices?limit=200", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Authorization", "SSWS "+oktaemu.DemoAPIToken)
	resp, err := srv.Client.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		tb.Fatalf("GET a page: %d %v", resp.StatusCode, err)
	}
	return b
}

// decodePage decodes a page the way ListDevices does.
func decodePage(b []byte) ([]*Device, error) {
	page := make([]*Device, 0, 200)
	err := decodeArray(bytes.NewReader(b), func(dec *json.Decoder) error {
		d := new(Device)
		if err := dec.Decode(d); err != nil {
			return err
		}
		page = append(page, d)
		return nil
	})
	return page, err
}

// decodePageSDK decodes a page the way the SDK does (its client.decode is
// json.Unmarshal into its generated model).
func decodePageSDK(b []byte) ([]sdk.DeviceList, error) {
	var page []sdk.DeviceList
	err := json.Unmarshal(b, &page)
	return page, err
}

func BenchmarkDecodePage(b *testing.B) {
	srv := emutest.Start(b, oktaemu.Config{Devices: 200})
	body := pageBody(b, srv)
	b.Run("cardflow", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			page, err := decodePage(body)
			if err != nil || len(page) != 200 {
				b.Fatalf("decoded %d devices: %v", len(page), err)
			}
		}
	})
	b.Run("okta-sdk-golang-v5", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			page, err := decodePageSDK(body)
			if err != nil || len(page) != 200 {
				b.Fatalf("decoded %d devices: %v", len(page), err)
			}
		}
	})
}

// TestDecodeAllocatesLessThanHalfOfSDK keeps the allocation advantage the
// benchmarks show (allocation counts are deterministic, unlike timings).
func TestDecodeAllocatesLessThanHalfOfSDK(t *testing.T) {
	srv := emutest.Start(t, oktaemu.Config{Devices: 200})
	body := pageBody(t, srv)
	ours := testing.AllocsPerRun(5, func() { _, _ = decodePage(body) })
	theirs := testing.AllocsPerRun(5, func() { _, _ = decodePageSDK(body) })
	t.Logf("allocations per 200-device page: cardflow %.0f, okta-sdk-golang v5 %.0f", ours, theirs)
	if ours*2 > theirs {
		t.Errorf("cardflow allocates %.0f times per page; want at most half of the SDK's %.0f", ours, theirs)
	}
}

const walkDevices = 1000 // 5 pages of 200

func BenchmarkListDevices(b *testing.B) {
	srv := emutest.Start(b, oktaemu.Config{Devices: walkDevices})
	ctx := context.Background()
	pages := float64(walkDevices / 200)
	b.Run("cardflow", func(b *testing.B) {
		c := clientFor(b, srv, "SSWS "+oktaemu.DemoAPIToken)
		b.ReportAllocs()
		m := startMallocs()
		for b.Loop() {
			n := 0
			for _, err := range c.ListDevices(ctx, ListOptions{}) {
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			if n != walkDevices {
				b.Fatalf("walked %d devices; want %d", n, walkDevices)
			}
		}
		reportPerPage(b, pages, m)
	})
	b.Run("okta-sdk-golang-v5", func(b *testing.B) {
		c := sdkClient(b, srv)
		b.ReportAllocs()
		m := startMallocs()
		for b.Loop() {
			page, resp, err := c.DeviceAPI.ListDevices(ctx).Limit(200).Execute()
			if err != nil {
				b.Fatal(err)
			}
			n := len(page)
			for resp.HasNextPage() {
				var next []sdk.DeviceList
				if resp, err = resp.Next(&next); err != nil {
					b.Fatal(err)
				}
				n += len(next)
			}
			if n != walkDevices {
				b.Fatalf("walked %d devices; want %d", n, walkDevices)
			}
		}
		reportPerPage(b, pages, m)
	})
}

// startMallocs returns the process's allocation count so far.
func startMallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}

// reportPerPage adds per-page CPU time and allocation metrics; since is
// startMallocs from before the loop (the emulated org's allocations in the
// same process are included, equally for both clients).
func reportPerPage(b *testing.B, pages float64, since uint64) {
	b.Helper()
	if b.N == 0 {
		return
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/pages, "ns/page")
	b.ReportMetric(float64(startMallocs()-since)/float64(b.N)/pages, "allocs/page")
}

// BenchmarkStream100k streams 100 000 devices (500 pages) and reports the
// peak growth of the retained heap while it does, measured after a forced
// collection every 10 000 devices: flat memory means the peak stays near one
// page's worth however many devices pass (the emulated org's own 100 000
// devices are part of the baseline).
func BenchmarkStream100k(b *testing.B) {
	const total, every = 100_000, 10_000
	srv := emutest.Start(b, oktaemu.Config{Devices: total})
	c := clientFor(b, srv, "SSWS "+oktaemu.DemoAPIToken)
	ctx := context.Background()
	b.ReportAllocs()
	var peak uint64
	for b.Loop() {
		runtime.GC()
		base := heapLive()
		n := 0
		for d, err := range c.ListDevices(ctx, ListOptions{}) {
			if err != nil {
				b.Fatal(err)
			}
			if d.ID != "" {
				n++
			}
			if n%every == 0 {
				runtime.GC()
				if h := heapLive(); h > base {
					peak = max(peak, h-base)
				}
			}
		}
		if n != total {
			b.Fatalf("streamed %d devices; want %d", n, total)
		}
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-retained-heap-growth-MiB")
}

// heapLive returns the bytes of heap objects (after a collection: the live
// ones).
func heapLive() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}
