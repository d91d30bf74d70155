package app

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// TestDeletingAConnectionNamesTheEnabledFlowsUsingIt: deleting a
// connection that enabled flows use (an event trigger's, a scheduled
// flow's step, by nickname or by id) answers with a warning naming them
// and what to do, since from then on nobody watching, their runs fail or
// their events start nothing. A disabled flow, a manual one and a flow of
// another connection are not named; deleting a connection no enabled flow
// uses warns of nothing.
func TestDeletingAConnectionNamesTheEnabledFlowsUsingIt(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	prod := h.connect("Prod devices")
	other := h.connect("Other")

	storeEnabledFlow(t, h, "poll") // quarantine-on-user-removal, by nickname
	scheduled := func(name, conn string) string {
		return "name: " + name + "\non:\n  schedule:\n    cron: \"0 2 * * *\"\nsteps:\n  - id: s\n    card: okta-devices/search-devices\n    connection: " +
			conn + "\n    input: {search: 'status eq \"ACTIVE\"'}\n"
	}
	storeEnabledDoc(t, h, scheduled("nightly-by-id", prod.ID))
	storeEnabledDoc(t, h, scheduled("nightly-other", "Other"))
	for _, doc := range []string{scheduled("nightly-disabled", "Prod devices"),
		"name: manual\nsteps:\n  - id: s\n    card: okta-devices/search-devices\n    connection: Prod devices\n    input: {search: 'status eq \"ACTIVE\"'}\n"} {
		if code, body := h.postYAML("/api/v1/flows", doc, nil); code >= 300 {
			t.Fatalf("store flow: %d %s", code, body)
		}
	}

	var out struct {
		Deleted bool   `json:"deleted"`
		Warning string `json:"warning"`
	}
	if code, body := h.call("DELETE", "/api/v1/connections/"+prod.ID, nil, &out); code != http.StatusOK || !out.Deleted {
		t.Fatalf("delete the connection: %d %s", code, body)
	}
	for _, want := range []string{"the enabled flows nightly-by-id and quarantine-on-user-removal use it", "names another connection", "cardflow flows disable NAME"} {
		if !strings.Contains(out.Warning, want) {
			t.Errorf("warning of the deletion: %q; want it to contain %q", out.Warning, want)
		}
	}
	for _, notNamed := range []string{"nightly-other", "nightly-disabled", "manual"} {
		if strings.Contains(out.Warning, notNamed) {
			t.Errorf("warning of the deletion: %q; want no mention of %s", out.Warning, notNamed)
		}
	}

	if code, body := h.call("POST", "/api/v1/flows/nightly-other/disable", nil, nil); code != http.StatusOK {
		t.Fatalf("disable: %d %s", code, body)
	}
	out.Warning = ""
	if code, body := h.call("DELETE", "/api/v1/connections/"+other.ID, nil, &out); code != http.StatusOK || out.Warning != "" {
		t.Errorf("delete a connection no enabled flow uses: %d %s; want no warning", code, body)
	}
}

// countedReads is a store that counts its reads of connections.
type countedReads struct {
	store.Store
	n *atomic.Int64
}

func (c countedReads) GetConnection(ctx context.Context, id string) (*store.Connection, error) {
	c.n.Add(1)
	return c.Store.GetConnection(ctx, id)
}

func (c countedReads) GetConnectionByNickname(ctx context.Context, connector, nickname string) (*store.Connection, error) {
	c.n.Add(1)
	return c.Store.GetConnectionByNickname(ctx, connector, nickname)
}

// TestEnabledFlowsUsingReadsEachConnectionNameOnce: the enabled flows
// name a connection in many steps; the check of the flows that use it
// reads the connection once per name, not once per step of every flow.
func TestEnabledFlowsUsingReadsEachConnectionNameOnce(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	prod := h.connect("Prod devices")
	for _, name := range []string{"a", "b", "c"} {
		doc := "name: nightly-" + name + "\non:\n  schedule:\n    cron: \"0 2 * * *\"\nsteps:\n"
		for _, step := range []string{"s1", "s2"} {
			doc += "  - id: " + step + "\n    card: okta-devices/search-devices\n    connection: Prod devices\n    input: {search: 'status eq \"ACTIVE\"'}\n"
		}
		storeEnabledDoc(t, h, doc)
	}

	var reads atomic.Int64
	a := &App{Store: h.app.Store, cfg: h.app.cfg,
		Connections: &connection.Manager{Store: countedReads{h.app.Store, &reads}, Keyring: h.app.Keyring}}
	uses, err := a.enabledFlowsUsing(context.Background(), prod.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(uses) != 3 || len(uses[0].Steps) != 2 {
		t.Fatalf("flows using the connection: %+v; want the three flows, two steps each", uses)
	}
	if n := reads.Load(); n != 1 {
		t.Errorf("connection reads: %d; want 1 (one name)", n)
	}
}
