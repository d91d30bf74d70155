package access

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// TestRevokeOfAMisspeltLoginSaysWhoWasMeant: revoking a login nobody holds
// access as, one letter off a person's who does, asks "did you mean" with
// that login (and gives it as the suggestion detail), where it said only
// to list who has access; a login near nobody's keeps that remedy.
func TestRevokeOfAMisspeltLoginSaysWhoWasMeant(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	tokens := &Tokens{Store: st, Now: clock}
	people := &People{Store: st, Now: clock}
	if _, err := tokens.Create(ctx, user("user@example.com", Viewer), "cardflow login", "", 0); err != nil {
		t.Fatal(err)
	}
	admin := user("ada@example.com", Admin)

	_, err := people.Revoke(ctx, admin, "usr@example.com", false)
	pe, ok := problem.As(err)
	if !ok || pe.Code != problem.NotFound || !strings.HasPrefix(pe.Remedy, "did you mean user@example.com? (cardflow people revoke user@example.com)") || pe.Details["suggestion"] != "user@example.com" {
		t.Errorf("Revoke(usr@example.com) = %v (%+v); want not found, asking whether user@example.com was meant", err, pe)
	}
	_, err = people.Revoke(ctx, admin, "zed@elsewhere.org", false)
	if pe, ok := problem.As(err); !ok || pe.Code != problem.NotFound || strings.Contains(pe.Remedy, "did you mean") || pe.Details["suggestion"] != nil {
		t.Errorf("Revoke(zed@elsewhere.org) = %v; want not found, with no suggestion", err)
	}
	if toks, err := st.ListAPITokens(ctx, store.ActorUser, "user@example.com"); err != nil || len(toks) != 1 {
		t.Errorf("user@example.com's tokens after the misspelt revoke: %d, %v; want kept", len(toks), err)
	}
}
