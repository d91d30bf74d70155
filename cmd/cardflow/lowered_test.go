package main

import (
	"testing"

	"github.com/cardflow/cardflow/internal/api"
)

// TestLoweredText: cardflow login says what its sign-in lowered, naming
// the tokens.
func TestLoweredText(t *testing.T) {
	for _, tt := range []struct {
		l    api.RoleLowered
		want string
	}{
		{api.RoleLowered{Role: "viewer", Sessions: 1, Tokens: []string{"cardflow login", "ci"}},
			"Your groups give you the viewer role now: your other sign-ins and tokens were lowered to it (1 console session, 2 tokens (cardflow login, ci))."},
		{api.RoleLowered{Role: "operator", Sessions: 2},
			"Your groups give you the operator role now: your other sign-ins and tokens were lowered to it (2 console sessions)."},
		{api.RoleLowered{Role: "viewer", Tokens: []string{"ci"}},
			"Your groups give you the viewer role now: your other sign-ins and tokens were lowered to it (1 token (ci))."},
	} {
		if got := loweredText(&tt.l); got != tt.want {
			t.Errorf("loweredText(%+v) = %q; want %q", tt.l, got, tt.want)
		}
	}
}
