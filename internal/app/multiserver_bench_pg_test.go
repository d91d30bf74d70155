package app

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
)

// BenchmarkMultiServerCardRuns measures card runs per second through the
// HTTP API (POST /api/v1/runs of read-device: resolve the connection, one
// Okta call to an unthrottled emulator, the run record and its audit event)
// on one and on two servers, on SQLite and on PostgreSQL. Two SQLite
// servers share one database file, as two processes on one host would.
// Clients spread the runs evenly over the servers.
//
//	go test -run '^$' -bench MultiServerCardRuns -benchtime 3000x ./internal/app/
func BenchmarkMultiServerCardRuns(b *testing.B) {
	for _, db := range []string{"SQLite", "PostgreSQL"} {
		for _, n := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/servers=%d", db, n), func(b *testing.B) {
				emu := emutest.Start(b, oktaemu.Config{Devices: 20})
				var dsn string
				if db == "PostgreSQL" {
					dsn = pgtest.NewDatabase(b)
				}
				urls := benchServers(b, emu, dsn, n)
				benchConnect(b, emu, urls[0])
				device := activeDevice(b, emu)
				body := []byte(`{"card":"okta-devices/read-device","connection":"Prod","input":{"deviceId":"` + device + `"}}`)
				client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
				defer client.CloseIdleConnections()

				var next atomic.Int64
				var failed atomic.Int64
				b.SetParallelism(8)
				b.ResetTimer()
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						u := urls[int(next.Add(1))%len(urls)]
						if !benchRun(client, u, body) {
							failed.Add(1)
						}
					}
				})
				elapsed := time.Since(start)
				b.StopTimer()
				if f := failed.Load(); f != 0 {
					b.Fatalf("%d of %d runs failed", f, b.N)
				}
				b.ReportMetric(float64(b.N)/elapsed.Seconds(), "runs/s")
			})
		}
	}
}

// benchServers starts n servers sharing one store: dsn's PostgreSQL
// database, or else one SQLite data directory.
func benchServers(b *testing.B, emu *emutest.Server, dsn string, n int) []string {
	b.Helper()
	k, err := keyring.Generate()
	if err != nil {
		b.Fatal(err)
	}
	key := keyring.Secret(base64.StdEncoding.EncodeToString(k.Bytes))
	shared := b.TempDir()
	var urls []string
	for i := range n {
		cfg := Config{
			Listen: "127.0.0.1:0", DataDir: shared, DB: dsn, Key: key, APIToken: keyring.Secret(testAPIToken),
			TrustedOrigins: []string{emu.URL}, Owner: fmt.Sprintf("server-%d", i), Stdout: io.Discard,
		}
		if dsn != "" {
			cfg.DataDir = b.TempDir()
		}
		if len(urls) > 0 {
			cfg.PublicURL = urls[0]
		}
		ctx, cancel := context.WithCancel(context.Background())
		a, err := New(ctx, cfg)
		if err != nil {
			cancel()
			b.Fatalf("start server %d: %v", i, err)
		}
		done := make(chan error, 1)
		go func() { done <- a.Serve(ctx) }()
		b.Cleanup(func() {
			cancel()
			if err := <-done; err != nil {
				b.Errorf("server %d: %v", i, err)
			}
		})
		urls = append(urls, a.URL())
	}
	return urls
}

// benchConnect creates and authorizes the connection "Prod" on the server
// at base.
func benchConnect(b *testing.B, emu *emutest.Server, base string) {
	b.Helper()
	body, _ := json.Marshal(map[string]any{"connector": "okta-devices", "nickname": "Prod", "domain": emu.URL,
		"clientId": oktaemu.DemoClientID, "clientSecret": oktaemu.DemoClientSecret})
	var out struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	if code := benchCall(b, http.DefaultClient, "POST", base+"/api/v1/connections", body, &out); code != http.StatusCreated {
		b.Fatalf("create connection: status %d", code)
	}
	loc := emu.SignIn(b, out.AuthorizeURL, oktaemu.AdminLogin, oktaemu.DemoPassword)
	resp, err := http.Get(loc.String())
	if err != nil {
		b.Fatalf("callback: %v", err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), "Connected") {
		b.Fatalf("callback: status %d\n%s", resp.StatusCode, page)
	}
}

func benchCall(b *testing.B, c *http.Client, method, u string, body []byte, out any) int {
	b.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		b.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	if out != nil {
		_ = json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// benchRun runs the card once and reports whether it succeeded.
func benchRun(c *http.Client, base string, body []byte) bool {
	req, err := http.NewRequest("POST", base+"/api/v1/runs", bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
	}
	return json.NewDecoder(resp.Body).Decode(&r) == nil && resp.StatusCode == http.StatusCreated && r.Status == "succeeded"
}
