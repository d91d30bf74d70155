package postgres

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres/pgtest"
	"github.com/cardflow/cardflow/internal/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestConformance runs the suite on a new, empty schema per test (on the
// server named by CARDFLOW_TEST_POSTGRES, else a throwaway cluster): to
// the store an empty database, made without copying a catalog. Its second
// handles are further connection pools on the same schema, as other
// servers would have.
func TestConformance(t *testing.T) {
	storetest.Run(t, storetest.PerTest(
		func(t *testing.T, _ bool) string { return pgtest.NewSchema(t) },
		func(t *testing.T, dsn string) store.Store {
			s, err := Open(t.Context(), dsn)
			return storetest.Opened(t, s, err)
		}))
}

func TestOpenErrorHidesPassword(t *testing.T) {
	const password = "canary-db-Passw0rd"
	tests := []struct {
		name string
		dsn  string
	}{
		{name: "unreachable", dsn: "postgres://cardflow:" + password + "@127.0.0.1:1/cardflow?sslmode=disable&connect_timeout=2"},
		{name: "malformed", dsn: "postgres://cardflow:" + password + "@[::1/cardflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(t.Context(), tt.dsn)
			if err == nil {
				s.Close()
				t.Fatalf("Open succeeded; want an error")
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("error %q contains the password", err)
			}
		})
	}
}

// BenchmarkPutEvents measures the inbox's ingest rate on PostgreSQL
// (storetest.BenchPutEvents).
//
//	go test -run '^$' -bench PutEvents ./internal/store/postgres/
func BenchmarkPutEvents(b *testing.B) {
	s, err := Open(b.Context(), pgtest.NewDatabase(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	storetest.BenchPutEvents(b, s)
}
