package app

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// storeFlow stores a flow of one search step on the connection Prod and
// returns its id.
func (h *harness) storeFlow(name string) string {
	h.t.Helper()
	var put putAnswer
	src := "name: " + name + "\nsteps:\n  - id: find\n    card: okta-devices/search-devices\n    connection: Prod\n"
	if code, data := h.postYAML("/api/v1/flows", src, &put); code != http.StatusCreated {
		h.t.Fatalf("store flow %s: %d %s", name, code, data)
	}
	return put.Flow.ID
}

// TestConnectionsAndFlowsPageByName: GET /api/v1/connections and GET
// /api/v1/flows list by name ignoring case, a page at a time; following
// next lists each record once, a page that ends the list has no next, and
// records deleted or stored between pages neither shift nor repeat the
// rest. Without ?limit= a page holds 100, and more have next.
func TestConnectionsAndFlowsPageByName(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	h.connect("Prod")
	for _, n := range []string{"charlie", "Alpha", "bravo", "Delta", "echo"} {
		h.create(n, oktaemu.DemoClientSecret, nil)
	}
	nicknames, pages := pageAll(t, h, "/api/v1/connections?limit=2", "connections", "nickname")
	if want := []string{"Alpha", "bravo", "charlie", "Delta", "echo", "Prod"}; !slices.Equal(nicknames, want) || pages != 3 {
		t.Errorf("connections %v in %d pages; want %v in 3", nicknames, pages, want)
	}

	ids := map[string]string{}
	for _, n := range []string{"zeta", "Alpha", "beta", "Gamma", "delta", "EPSILON"} {
		ids[n] = h.storeFlow(n)
	}
	for _, tt := range []struct {
		limit, pages int
	}{{1, 6}, {3, 2}, {4, 2}, {6, 1}, {1000, 1}} {
		names, pages := pageAll(t, h, fmt.Sprintf("/api/v1/flows?limit=%d", tt.limit), "flows", "name")
		if want := []string{"Alpha", "beta", "delta", "EPSILON", "Gamma", "zeta"}; !slices.Equal(names, want) || pages != tt.pages {
			t.Errorf("limit=%d: flows %v in %d pages; want %v in %d", tt.limit, names, pages, want, tt.pages)
		}
	}

	// Between two pages the flow the cursor names is deleted, one is
	// stored before it and one after it.
	var first struct {
		Flows []struct {
			Name string `json:"name"`
		} `json:"flows"`
		Next string `json:"next"`
	}
	if code, data := h.call("GET", "/api/v1/flows?limit=2", nil, &first); code != http.StatusOK {
		t.Fatalf("first page: %d %s", code, data)
	}
	q := url.Values{"after": {"beta"}, "afterId": {ids["beta"]}, "limit": {"2"}}
	if want := "/api/v1/flows?" + q.Encode(); first.Next != want {
		t.Errorf("next %q; want %q", first.Next, want)
	}
	if code, data := h.call("DELETE", "/api/v1/flows/beta", nil, nil); code != http.StatusOK {
		t.Fatalf("delete beta: %d %s", code, data)
	}
	h.storeFlow("Aardvark")
	h.storeFlow("BETA-2")
	rest, _ := pageAll(t, h, first.Next, "flows", "name")
	if want := []string{"BETA-2", "delta", "EPSILON", "Gamma", "zeta"}; !slices.Equal(rest, want) {
		t.Errorf("the pages after a change: %v; want %v", rest, want)
	}

	// Clients that leave ?limit= out get a page of 100 with next.
	for i := range 103 {
		name := fmt.Sprintf("seed-%03d", i)
		if _, err := h.app.Store.PutFlow(t.Context(), &store.Flow{Name: name, Source: []byte("name: " + name + "\n"), CreatedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Flows []map[string]any `json:"flows"`
		Next  string           `json:"next"`
	}
	if code, data := h.call("GET", "/api/v1/flows", nil, &page); code != http.StatusOK || len(page.Flows) != 100 || !strings.HasPrefix(page.Next, "/api/v1/flows?after=") {
		t.Errorf("without limit: %d, %d flows, next %q; want 100 flows and next\n%.300s", code, len(page.Flows), page.Next, data)
	}
	if all, pages := pageAll(t, h, "/api/v1/flows", "flows", "name"); len(all) != 110 || pages != 2 {
		t.Errorf("without limit: %d flows in %d pages; want 110 in 2", len(all), pages)
	}

	for _, tt := range []struct{ path, want string }{
		{"/api/v1/flows?afterId=" + ids["zeta"], "after is missing"},
		{"/api/v1/connections?after=Prod", "afterId is missing"},
		{"/api/v1/connections?limit=0", "limit must be a number from 1 to 1000"},
		{"/api/v1/flows?limit=1001", "limit must be a number from 1 to 1000"},
		{"/api/v1/flows?before=2026-01-01T00:00:00Z", `unknown query parameter \"before\"`},
	} {
		if code, data := h.call("GET", tt.path, nil, nil); code != http.StatusBadRequest || !strings.Contains(string(data), tt.want) {
			t.Errorf("%s: %d %s; want 400 %s", tt.path, code, data, tt.want)
		}
	}
}
