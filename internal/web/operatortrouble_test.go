package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// TestOperatorTroubleIsExplained: a request that failed because cardflow's
// database is full, read-only or cannot be reached, or because the server's keyring
// lacks the key the database's secrets are now sealed with, answers 503
// saying so, with what to do and the request id, and without the driver's
// words; any other internal failure stays a plain 500.
func TestOperatorTroubleIsExplained(t *testing.T) {
	ctx := context.Background()
	kr, err := keyring.New(keyring.Key{ID: "k-old", Bytes: make([]byte, keyring.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	kr.StopSealing("k-new", "this server has stopped sealing secrets")
	_, stopped := kr.Seal([]byte("x"), "c/f")
	for _, tc := range []struct {
		err    error
		status int
		want   string
	}{
		{problem.New(problem.Internal, "store token").Wrap(fmt.Errorf("store: update connection: sqlite: database or disk is full (13): %w", store.ErrFull)),
			http.StatusServiceUnavailable, "its disk is full"},
		{fmt.Errorf("store: claim: postgres: %w", store.ErrUnavailable), http.StatusServiceUnavailable, "cannot be reached"},
		{problem.New(problem.Internal, "store flow").Wrap(fmt.Errorf("store: put flow: postgres: cannot execute INSERT in a read-only transaction: %w", store.ErrReadOnly)),
			http.StatusServiceUnavailable, "it is read-only"},
		{problem.New(problem.Internal, "refresh a token").Wrap(fmt.Errorf("this server has stopped sealing secrets: %w", keyring.ErrSealingStopped)),
			http.StatusServiceUnavailable, "its keyring lacks the key"},
		{problem.New(problem.Internal, "use a connection").Wrap(fmt.Errorf("refresh: %w", stopped)),
			http.StatusServiceUnavailable, "its keyring lacks key k-new, which the database's secrets are now sealed with"},
		{problem.New(problem.Internal, "boom").Wrap(fmt.Errorf("driver said no")), http.StatusInternalServerError, "internal error"},
	} {
		status, body := publicError(ctx, tc.err)
		remedy, _ := body.Details["remedy"].(string)
		if status != tc.status || body.Code != string(problem.Internal) || !strings.Contains(body.Message, tc.want) ||
			strings.Contains(body.Message, "sqlite") || strings.Contains(body.Message, "postgres") || strings.Contains(body.Message, "driver") {
			t.Errorf("%v: %d %+v; want %d saying %q without the cause", tc.err, status, body, tc.status, tc.want)
		}
		if tc.status == http.StatusServiceUnavailable && !strings.Contains(remedy, "operator") {
			t.Errorf("%v: remedy %q; want it to say who can fix it", tc.err, remedy)
		}
	}
}
