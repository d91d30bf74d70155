package console_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestBrowserNameListsPage: with more connections and flows than a page
// holds, the Connections and Flows pages show fifty by name ignoring
// case, and their Next page link shows the rest, with a link back to the
// first page.
func TestBrowserNameListsPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	for i := range 53 {
		seed, name := "seed", "flow"
		if i%2 == 0 {
			seed, name = "Seed", "Flow"
		}
		if err := e.store.CreateConnection(ctx, &store.Connection{ID: fmt.Sprintf("conn_seed%03d", i), Connector: "okta-devices",
			Nickname: fmt.Sprintf("%s %03d", seed, i), Domain: "seed.okta.com", Status: store.StatusActive, ScopeMode: "default",
			ClientID: "x", CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
		f := &store.Flow{Name: fmt.Sprintf("%s-%03d", name, i), CreatedAt: at, UpdatedAt: at}
		f.Source = []byte("name: " + f.Name + "\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Seed 000\n")
		if _, err := e.store.PutFlow(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	b := newTab(t, e)
	b.signIn()
	for _, tt := range []struct {
		path, label, first, last, next string
	}{
		{path: "/connections", label: "Connections", first: "Seed 000", last: "seed 049", next: "Seed 050"},
		{path: "/flows", label: "Flows", first: "Flow-000", last: "flow-049", next: "Flow-050"},
	} {
		b.open(tt.path)
		rows := `//table[ancestor::*[@aria-label="` + tt.label + `"]]/tbody/tr`
		if got := b.text(rows + `[1]/td[contains(@class, "lead")]`); got != tt.first {
			b.fatalf("%s: the first row is %q; want %s", tt.path, got, tt.first)
		}
		if got := b.text(rows + `[50]/td[contains(@class, "lead")]`); got != tt.last {
			b.fatalf("%s: the fiftieth row is %q; want %s", tt.path, got, tt.last)
		}
		nav := `//nav[@aria-label="` + tt.label + `: pages"]`
		b.click(nav + `//a[@rel="next"]`)
		if got := b.text(rows + `[1]/td[contains(@class, "lead")]`); got != tt.next {
			b.fatalf("%s, page 2: the first row is %q; want %s", tt.path, got, tt.next)
		}
		if got := b.text(nav); !strings.Contains(got, "First page") || strings.Contains(got, "Next page") {
			b.fatalf("%s, page 2: the navigation reads %q; want First page and no Next page", tt.path, got)
		}
		b.screenshot(strings.TrimPrefix(tt.path, "/") + "-page-2")
	}
}
