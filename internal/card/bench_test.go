package card

import (
	"context"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// BenchmarkRunOverhead measures what a card run costs over the bare Okta
// call it makes, on the same emulated org in one run:
//
//	go test -run '^$' -bench RunOverhead -benchmem ./internal/card/
//
// "direct" is okta.Client.GetDevice; "executor" is Executor.Run of
// read-device without recording (input checks, connection, scope
// preflight, output values); "executor+sqlite" also records the run and
// its audit event in SQLite (WAL, synchronous=FULL), as the server does.
func BenchmarkRunOverhead(b *testing.B) {
	e := newEnv(b, oktaemu.Config{Devices: 20})
	ctx := context.Background()
	id := e.device("ACTIVE")
	req := Request{Card: "okta-devices/read-device", Connection: "Prod", Input: map[string]any{"deviceId": id}, Actor: store.Actor{Type: store.ActorUser, Login: "bench"}}

	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.admin.GetDevice(ctx, id); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("executor", func(b *testing.B) {
		ex := &Executor{Connections: e.conns, Okta: e.exec.Okta}
		b.ReportAllocs()
		for b.Loop() {
			if res, err := ex.Run(ctx, req); err != nil || res.Status != StatusSucceeded {
				b.Fatalf("Run = %+v, %v", res, err)
			}
		}
	})
	b.Run("executor+sqlite", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if res, err := e.exec.Run(ctx, req); err != nil || res.Status != StatusSucceeded {
				b.Fatalf("Run = %+v, %v", res, err)
			}
		}
	})
}
