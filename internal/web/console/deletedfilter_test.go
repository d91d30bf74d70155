package console_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestFiltersByDeletedConnectionID: the Audit and Runs pages filtered by
// the id of a deleted connection list its records, and only its, where a
// nickname no connection has is refused.
func TestFiltersByDeletedConnectionID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	temp := e.connect(t, "Temp", nil)
	if code, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json", `{"card":"okta-devices/search-devices","connection":"Prod","input":{}}`); code/100 != 2 {
		t.Fatalf("run a card: %d %s", code, out)
	}
	if _, err := e.manager.DeleteWithResult(context.Background(), temp.ID, store.Actor{Type: store.ActorUser, Login: "test"}); err != nil {
		t.Fatalf("delete Temp: %v", err)
	}
	c, _, _ := signInHTTP(t, e.url, "/audit")
	resp, body := get(t, c, e.url+"/audit?connection="+temp.ID)
	if got := auditActions(body); resp.StatusCode != http.StatusOK || !slices.Contains(got, "connection.delete") || slices.Contains(got, "card.run") {
		t.Errorf("the Audit page of deleted connection %s: %d, actions %q; want its events only (its deletion, not Prod's card run)", temp.ID, resp.StatusCode, got)
	}
	resp, _ = get(t, c, e.url+"/runs?connection="+temp.ID)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the Runs page of deleted connection %s: %d; want 200", temp.ID, resp.StatusCode)
	}
}
