package access

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// racingTokens is a TokenStore on which, before each of the first deletes
// asked of it, every token of tree still stored creates a token, as
// requests that authenticated with them just before the revoke would:
// whatever steps a revoke takes, tokens are created between them.
type racingTokens struct {
	TokenStore
	t      *testing.T
	tree   []*store.APIToken
	rounds int
}

func (r *racingTokens) DeleteAPIToken(ctx context.Context, id string) ([]*store.APIToken, error) {
	if r.rounds > 0 {
		r.rounds--
		for _, parent := range slices.Clone(r.tree) {
			name := fmt.Sprintf("by-%s-%d", parent.Name, len(r.tree))
			tok := &store.APIToken{Name: name, Hash: "h-" + name, Role: string(Admin), OwnerType: parent.OwnerType, OwnerLogin: parent.OwnerLogin,
				ParentID: parent.ID, CreatedAt: parent.CreatedAt.Add(time.Duration(len(r.tree)) * time.Second), ExpiresAt: parent.ExpiresAt}
			switch err := r.TokenStore.CreateAPIToken(ctx, tok); {
			case err == nil:
				r.tree = append(r.tree, tok)
			case !errors.Is(err, store.ErrRevoked):
				r.t.Errorf("CreateAPIToken(%s): %v", name, err)
			}
		}
	}
	return r.TokenStore.DeleteAPIToken(ctx, id)
}

// TestRevokeLeavesNoOffspring: tokens created with a token being revoked,
// or with the tokens it created, while it is being revoked are revoked
// with it or refused; none is left stored.
func TestRevokeLeavesNoOffspring(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	direct := &Tokens{Store: st, Now: func() time.Time { return now }}
	ada := user("ada@example.com", Admin)
	laptop, err := direct.Create(ctx, ada, "laptop", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	withLaptop, err := direct.Authenticate(ctx, laptop.Token)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := direct.Create(ctx, withLaptop, "ci", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	other, err := direct.Create(ctx, ada, "other", "", 0)
	if err != nil {
		t.Fatal(err)
	}

	racing := &racingTokens{TokenStore: st, t: t, tree: []*store.APIToken{laptop.APIToken, ci.APIToken}, rounds: 2}
	tokens := &Tokens{Store: racing, Now: direct.Now}
	rec, offspring, err := tokens.Revoke(ctx, ada, laptop.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID != laptop.ID {
		t.Errorf("Revoke revoked %s; want laptop", rec.Name)
	}
	var revoked, want []string
	for _, tok := range offspring {
		revoked = append(revoked, tok.Name)
	}
	for _, tok := range racing.tree[1:] {
		want = append(want, tok.Name)
	}
	slices.Sort(revoked)
	slices.Sort(want)
	if !slices.Equal(revoked, want) {
		t.Errorf("Revoke(laptop) revoked the offspring %v; want every token created with laptop or its tokens before it ended, %v", revoked, want)
	}
	left, err := st.ListAPITokens(ctx, store.ActorUser, ada.Actor.Login)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tok := range left {
		names = append(names, tok.Name)
	}
	if !slices.Equal(names, []string{other.Name}) {
		t.Errorf("ada's tokens after revoking laptop: %v; want only %s", names, other.Name)
	}
}

// TestTokenNameLimitIsInCharacters: a token's name may have 100
// characters, however many bytes they take (the console's field counts
// characters too); the 101st, a blank or a control character is refused.
func TestTokenNameLimitIsInCharacters(t *testing.T) {
	st := openStore(t)
	ctx := t.Context()
	tokens := &Tokens{Store: st, Now: func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }}
	ada := user("ada@example.com", Admin)
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{strings.Repeat("é", 100), true},
		{strings.Repeat("ü", 50) + strings.Repeat("x", 50), true},
		{strings.Repeat("é", 101), false},
		{strings.Repeat("x", 101), false},
		{"   ", false},
		{"ci\x07", false},
	} {
		_, err := tokens.Create(ctx, ada, tt.name, "", 0)
		if (err == nil) != tt.ok {
			t.Errorf("Create(name of %d characters, %d bytes) = %v; want ok %v", len([]rune(tt.name)), len(tt.name), err, tt.ok)
		}
	}
}

// TestListAllRefusalSaysHowToListOnesOwn: a viewer or operator asking for
// everyone's tokens is told how to list their own in the words of the CLI
// and of the API, where "(without all)" named neither --all nor all=true.
func TestListAllRefusalSaysHowToListOnesOwn(t *testing.T) {
	tokens := &Tokens{Store: openStore(t)}
	_, err := tokens.List(t.Context(), user("olga@example.com", Operator), true)
	pe, ok := problem.As(err)
	if !ok || pe.Code != problem.Forbidden || !strings.Contains(pe.Remedy, "cardflow tokens list without --all") || !strings.Contains(pe.Remedy, "GET /api/v1/tokens without all=true") {
		t.Errorf("List(all) of an operator: %v; want forbidden, saying to leave out --all (CLI) and all=true (API)", err)
	}
}

// TestExpiredTokenSaysWhenItEnded: an expired token's error names it and
// its end as every text for people writes a time.
func TestExpiredTokenSaysWhenItEnded(t *testing.T) {
	st := openStore(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	tokens := &Tokens{Store: st, Now: func() time.Time { return now }}
	laptop, err := tokens.Create(t.Context(), user("ada@example.com", Admin), "laptop", "", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	_, err = tokens.Authenticate(t.Context(), laptop.Token)
	var expired *ExpiredError
	if !errors.As(err, &expired) || !errors.Is(err, ErrBadToken) {
		t.Fatalf("Authenticate(expired) = %v; want an ExpiredError", err)
	}
	if got, want := err.Error(), `access: the token "laptop" expired on 2026-03-01 10:00:00 UTC`; got != want {
		t.Errorf("error %q; want %q", got, want)
	}
}
