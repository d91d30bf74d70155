package access

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
)

// TestRevokeByNameSaysTheID: a token's name given where its id goes (the
// name tokens list shows beside the id) is refused naming the id to give,
// where it said only that no token has that id; two tokens of that name
// are both named; another person's token of that name is not, to a
// non-admin.
func TestRevokeByNameSaysTheID(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tokens := &Tokens{Store: st, Now: func() time.Time { return now }}
	ada, bob := user("ada@example.com", Operator), user("bob@example.com", Operator)
	ci, err := tokens.Create(ctx, ada, "ci", Viewer, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = tokens.Revoke(ctx, ada, "CI")
	pe, ok := problem.As(err)
	want := `"CI" is the name of the token ` + ci.ID + ` (viewer, expires 2026-03-02 09:00:00 UTC): revoke it by its id, cardflow tokens revoke ` + ci.ID
	if !ok || pe.Code != problem.NotFound || !strings.HasPrefix(pe.Remedy, want) {
		t.Errorf("Revoke(name) = %v (remedy %q); want not found, remedy starting %q", err, pe.Remedy, want)
	}
	if _, _, err := tokens.Revoke(ctx, bob, "ci"); err == nil || strings.Contains(err.Error(), ci.ID) || strings.Contains(errRemedy(err), ci.ID) {
		t.Errorf("bob's Revoke(ada's token's name) = %v (%s); want not found, not naming ada's token", err, errRemedy(err))
	}
	ci2, err := tokens.Create(ctx, ada, "ci", Viewer, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = tokens.Revoke(ctx, ada, "ci")
	if r := errRemedy(err); !strings.Contains(r, `"ci" is the name of 2 tokens`) || !strings.Contains(r, ci.ID) || !strings.Contains(r, ci2.ID) {
		t.Errorf("Revoke(a name two tokens have): remedy %q; want both ids", r)
	}
	if _, err := tokens.Authenticate(ctx, ci.Token); err != nil {
		t.Errorf("the token after a revoke by name: %v; want it kept", err)
	}
}

func errRemedy(err error) string {
	if pe, ok := problem.As(err); ok {
		return pe.Remedy
	}
	return ""
}

// TestMisspeltRoleSaysWhichWasMeant: a token asked with a misspelt role
// is refused naming the role meant, where it listed the three only.
func TestMisspeltRoleSaysWhichWasMeant(t *testing.T) {
	tokens := &Tokens{Store: openStore(t)}
	_, err := tokens.Create(t.Context(), user("ada@example.com", Admin), "ci", "viewr", 0)
	if pe, ok := problem.As(err); !ok || pe.Code != problem.InvalidInput || pe.Remedy != "did you mean viewer? The roles: viewer, operator, admin" || pe.Details["suggestion"] != "viewer" {
		t.Errorf("Create(role viewr) = %v; want invalid input asking whether viewer was meant", err)
	}
	_, err = tokens.Create(t.Context(), user("ada@example.com", Admin), "ci", "boss", 0)
	if pe, ok := problem.As(err); !ok || pe.Remedy != "use viewer, operator or admin" {
		t.Errorf("Create(role boss) = %v; want the three roles named", err)
	}
}
