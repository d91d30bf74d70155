package app

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlstore"
)

// BenchmarkCardRunRecording measures card runs per second through the HTTP
// API on SQLite (POST /api/v1/runs of read-device by the connection's
// nickname, 16 concurrent clients, one Okta call to an unthrottled
// emulator), on two servers in one run: one wired as `cardflow serve` is,
// and one wired with the recording path it replaced. The two take turns in
// rounds of 200 runs, so that both see the same load on a shared machine.
//
//	go test -run '^$' -bench CardRunRecording -benchtime 4000x ./internal/app/
//
// The path it replaced ("before"): the run record, the finished run and its
// audit event each committed in a transaction of its own (three fsyncs per
// run), and the connection read three times (by id, then by nickname, then
// again for its access token). Now ("after"): the finished run and its
// audit event are one transaction, concurrent runs' writes are committed
// together (group commit), and the connection is read once. Both keep a
// run's record committed before the card calls Okta and its outcome
// committed before the API answers.
//
// Metrics: before-runs/s, after-runs/s and speedup (after ÷ before;
// target ≥ 2).
func BenchmarkCardRunRecording(b *testing.B) {
	emu := emutest.Start(b, oktaemu.Config{Devices: 20})
	before := benchServer(b, emu, recordLikeBefore)
	after := benchServer(b, emu, nil)
	benchConnect(b, emu, before)
	benchConnect(b, emu, after)
	device := activeDevice(b, emu)
	body := []byte(`{"card":"okta-devices/read-device","connection":"Prod","input":{"deviceId":"` + device + `"}}`)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()

	const clients, round = 16, 200
	var took [2]time.Duration
	var done [2]int
	var failed atomic.Int64
	b.ResetTimer()
	for n := 0; n < b.N; {
		k := min(round, b.N-n)
		for i, base := range []string{before, after} {
			start := time.Now()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for next.Add(1) <= int64(k) {
						if !benchRun(client, base, body) {
							failed.Add(1)
						}
					}
				})
			}
			wg.Wait()
			took[i] += time.Since(start)
			done[i] += k
		}
		n += k
	}
	b.StopTimer()
	if f := failed.Load(); f != 0 {
		b.Fatalf("%d of %d runs failed", f, 2*b.N)
	}
	rate := func(i int) float64 { return float64(done[i]) / took[i].Seconds() }
	b.ReportMetric(rate(0), "before-runs/s")
	b.ReportMetric(rate(1), "after-runs/s")
	b.ReportMetric(rate(1)/rate(0), "speedup")
}

// benchServer starts one server with its own SQLite data directory;
// rewire, when set, changes its wiring first.
func benchServer(b *testing.B, emu *emutest.Server, rewire func(*App)) string {
	b.Helper()
	k, err := keyring.Generate()
	if err != nil {
		b.Fatal(err)
	}
	cfg := Config{
		Listen: "127.0.0.1:0", DataDir: b.TempDir(), Key: keyring.Secret(base64.StdEncoding.EncodeToString(k.Bytes)),
		APIToken: keyring.Secret(testAPIToken), TrustedOrigins: []string{emu.URL}, Stdout: io.Discard, rewire: rewire,
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(ctx, cfg)
	if err != nil {
		cancel()
		b.Fatalf("start server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("server: %v", err)
		}
	})
	return a.URL()
}

// recordLikeBefore wires the card-run recording path that group commit,
// the finish-and-audit transaction and the single connection read
// replaced, to measure it side by side.
func recordLikeBefore(a *App) {
	st, ok := a.Store.(*sqlstore.Store)
	if !ok {
		panic(fmt.Sprintf("the store is a %T; want *sqlstore.Store", a.Store))
	}
	st.SetGroupCommit(false)
	a.Executor.Recorder = separateCommits{a.Store}
	a.Executor.Connections = readThrice{a.Connections, a.Store}
}

// separateCommits records a run in three transactions: the run, the
// finished run, its audit event.
type separateCommits struct{ st store.Store }

func (r separateCommits) StartRun(ctx context.Context, run *store.Run) error {
	return r.st.CreateRun(ctx, run)
}

func (r separateCommits) FinishRun(ctx context.Context, run *store.Run, e *store.AuditEvent) error {
	if err := r.st.UpdateRun(ctx, run); err != nil {
		return err
	}
	return r.st.AppendAudit(ctx, e)
}

// readThrice resolves a connection as before: a read by id (a nickname
// misses), a read by nickname, and a client that reads it again for its
// token.
type readThrice struct {
	m  *connection.Manager
	st store.Store
}

func (c readThrice) Resolve(ctx context.Context, connector, idOrNickname string) (card.ConnectionInfo, error) {
	_, _ = c.st.GetConnection(ctx, idOrNickname)
	info, err := cardConnections{c.m}.Resolve(ctx, connector, idOrNickname)
	info.HTTP = nil
	return info, err
}

func (c readThrice) HTTPClient(id string) *http.Client { return c.m.HTTPClient(id) }
