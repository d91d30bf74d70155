package app

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
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

// TestDeleteIfUnused: DELETE /api/v1/connections/{id}?ifUnused=true of a
// connection that enabled flows use (an event trigger's on its hook, a
// schedule's step by id) deletes nothing: 409 conflict with the stable
// reasonCode, naming the flows by id and name and the ways on, audited
// as a refused connection.delete; the connection stays and works, its
// refresh token is not revoked and its event hook stays at the org. A
// value other than true or false is 400, deleting nothing. Once the flows
// are disabled, and for a connection no flow uses, ifUnused=true deletes.
func TestDeleteIfUnused(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { c.Now = emu.Now })
	prod := h.connect("Prod devices")
	spare := h.connect("Spare")
	hooked := storeEnabledFlow(t, h, "hook") // quarantine-on-user-removal, by nickname
	waitHookVerified(t, emu)
	nightly := storeEnabledDoc(t, h, "name: nightly\non:\n  schedule:\n    cron: \"0 2 * * *\"\nsteps:\n  - id: s\n    card: okta-devices/search-devices\n    connection: "+
		prod.ID+"\n    input: {search: 'status eq \"ACTIVE\"'}\n")
	orgCalls := func() map[string]int {
		s := emu.Stats(t)
		return map[string]int{"revoke": s["POST /oauth2/v1/revoke"], "hook deactivate": s["POST /api/v1/eventHooks/{eventHookId}/lifecycle/deactivate"],
			"hook delete": s["DELETE /api/v1/eventHooks/{eventHookId}"]}
	}
	before := orgCalls()

	var refused struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Details struct {
				ReasonCode string              `json:"reasonCode"`
				Connection string              `json:"connection"`
				Flows      []map[string]string `json:"flows"`
				Remedy     string              `json:"remedy"`
			} `json:"details"`
		} `json:"error"`
	}
	code, body := h.call("DELETE", "/api/v1/connections/"+url.PathEscape("Prod devices")+"?ifUnused=true", nil, &refused)
	e := refused.Error
	if code != http.StatusConflict || e.Code != "conflict" || e.Details.ReasonCode != "connection_in_use" || e.Details.Connection != prod.ID {
		t.Fatalf("delete in use with ifUnused=true: %d %s; want 409 conflict, reasonCode connection_in_use", code, body)
	}
	wantFlows := []map[string]string{{"id": nightly, "name": "nightly"}, {"id": hooked, "name": "quarantine-on-user-removal"}}
	if !reflect.DeepEqual(e.Details.Flows, wantFlows) {
		t.Errorf("details.flows %v; want %v", e.Details.Flows, wantFlows)
	}
	for _, want := range []string{"nightly (" + nightly + ")", "quarantine-on-user-removal (" + hooked + ")", "was not deleted"} {
		if !strings.Contains(e.Message, want) {
			t.Errorf("message %q; want it to contain %q", e.Message, want)
		}
	}
	for _, want := range []string{"cardflow flows disable NAME", "naming another connection", "without ifUnused=true", "--force"} {
		if !strings.Contains(e.Details.Remedy, want) {
			t.Errorf("remedy %q; want it to contain %q", e.Details.Remedy, want)
		}
	}
	if evs := h.audit("action=connection.delete&connection=" + prod.ID); len(evs) != 1 || evs[0]["outcome"] != "failure" || !strings.Contains(fmt.Sprint(evs[0]["error"]), "nightly") {
		t.Errorf("audit of the refused delete: %v; want one failed connection.delete naming the flows", evs)
	}

	if code, body := h.call("DELETE", "/api/v1/connections/"+prod.ID+"?ifUnused=perhaps", nil, nil); code != http.StatusBadRequest ||
		!strings.Contains(string(body), "ifUnused must be true or false") {
		t.Errorf("delete with ifUnused=perhaps: %d %s; want 400 naming the allowed values", code, body)
	}

	if got := h.connection(prod.ID); got.Status != "active" {
		t.Errorf("connection after the refusals: status %q; want active", got.Status)
	}
	h.connectionWorks(prod.ID, "after the refused deletions")
	var run struct{ Status string }
	if code, body := h.call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": "Prod devices", "input": map[string]any{}}, &run); code != http.StatusCreated || run.Status != "succeeded" {
		t.Errorf("card run after the refused deletions: %d %s; want it to succeed", code, body)
	}
	if after := orgCalls(); !reflect.DeepEqual(after, before) {
		t.Errorf("calls to the org before the refusals %v, after %v; want none (nothing revoked, the hook kept)", before, after)
	}
	if hs := orgHooks(t, emu); len(hs) != 1 || hs[0].Status != "ACTIVE" {
		t.Errorf("event hooks at the org after the refusals: %+v; want the connection's, active", hs)
	}

	for _, id := range []string{hooked, nightly} {
		if code, body := h.call("POST", "/api/v1/flows/"+id+"/disable", nil, nil); code != http.StatusOK {
			t.Fatalf("disable: %d %s", code, body)
		}
	}
	for _, c := range []connJSON{prod, spare} {
		var out struct {
			Deleted, Revoked bool
			Warning          string
		}
		if code, body := h.call("DELETE", "/api/v1/connections/"+c.ID+"?ifUnused=true", nil, &out); code != http.StatusOK || !out.Deleted || !out.Revoked || out.Warning != "" {
			t.Errorf("delete %s, which no enabled flow uses, with ifUnused=true: %d %s; want deleted and revoked, no warning", c.Nickname, code, body)
		}
	}
}
