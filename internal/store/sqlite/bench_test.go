package sqlite

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/storetest"
)

func benchStore(b *testing.B) store.Store {
	b.Helper()
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func benchConnection(id string) *store.Connection {
	return &store.Connection{ID: id, Connector: "okta-devices", Nickname: id, Status: store.StatusActive,
		RequestedScopes:    []string{"openid", "okta.devices.read", "okta.devices.manage"},
		GrantedScopes:      []string{"openid", "okta.devices.read", "okta.devices.manage"},
		SealedRefreshToken: make([]byte, 120), SealedAccessToken: make([]byte, 900)}
}

// BenchmarkUpdateConnection measures one committed (fsynced) token swap.
func BenchmarkUpdateConnection(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	c := benchConnection("c")
	if err := s.CreateConnection(ctx, c); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := s.UpdateConnection(ctx, c.ID, func(*store.Connection) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdateConnectionParallel updates distinct connections from many
// goroutines: writers share the file lock.
func BenchmarkUpdateConnectionParallel(b *testing.B) {
	s := benchStore(b)
	ctx := b.Context()
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		c := benchConnection(fmt.Sprintf("c%d", n.Add(1)))
		if err := s.CreateConnection(ctx, c); err != nil {
			b.Error(err)
			return
		}
		for pb.Next() {
			if err := s.UpdateConnection(ctx, c.ID, func(*store.Connection) error { return nil }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func benchPutFlowItems(b *testing.B, parallel bool) {
	s := benchStore(b)
	ctx := b.Context()
	if err := s.CreateFlowRun(ctx, &store.FlowRun{ID: "r", Status: "running"}); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	put := func() error {
		return s.PutFlowItem(ctx, "", &store.FlowItem{RunID: "r", StepID: "suspend", Index: int(next.Add(1)),
			Status: "succeeded", Input: []byte(`{"deviceId":"guo4a1b2c3d4e5f6g7"}`),
			Output: []byte(`{"status":"SUSPENDED","changed":true}`), RunRef: "0123456789abcdef0123456789abcdef"})
	}
	if !parallel {
		for b.Loop() {
			if err := put(); err != nil {
				b.Fatal(err)
			}
		}
		return
	}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := put(); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkPutFlowItem measures recording one finished flow item.
func BenchmarkPutFlowItem(b *testing.B) { benchPutFlowItems(b, false) }

// BenchmarkPutFlowItemParallel records items from many goroutines.
func BenchmarkPutFlowItemParallel(b *testing.B) { benchPutFlowItems(b, true) }

// BenchmarkPutEvents measures the inbox's ingest rate (storetest.BenchPutEvents).
//
//	go test -run '^$' -bench PutEvents ./internal/store/sqlite/
func BenchmarkPutEvents(b *testing.B) { storetest.BenchPutEvents(b, benchStore(b)) }
