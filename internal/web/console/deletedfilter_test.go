package console_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
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

// TestFilterByDeletedNicknameLinksItsID: the Audit and Runs pages filtered
// by the nickname of a deleted connection say that it was deleted, when
// and by whom, and link to the list filtered by its id, where they said
// only that no connection has that nickname.
func TestFilterByDeletedNicknameLinksItsID(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	temp := e.connect(t, "Temp", nil)
	if _, err := e.manager.DeleteWithResult(context.Background(), temp.ID, store.Actor{Type: store.ActorUser, Login: "test"}); err != nil {
		t.Fatalf("delete Temp: %v", err)
	}
	c, _, _ := signInHTTP(t, e.url, "/audit")
	for _, list := range []string{"/audit", "/runs"} {
		_, body := get(t, c, e.url+list+"?connection=temp")
		if !strings.Contains(body, "No connection has the nickname &#34;temp&#34; now: a connection of that nickname was deleted: "+temp.ID+" (deleted ") ||
			!strings.Contains(body, "by test).") || !strings.Contains(body, `href="`+list+`?connection=`+temp.ID+`"`) {
			t.Errorf("%s?connection=temp after Temp's deletion; want it said deleted, linking to %s?connection=%s\n%s", list, list, temp.ID, body)
		}
	}
}
