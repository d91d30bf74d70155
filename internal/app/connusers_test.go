package app

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
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
