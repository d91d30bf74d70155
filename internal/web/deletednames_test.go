package web

import (
	"strconv"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// TestDeletedConnectionsNamedPastAThousand: a connection deleted before
// 1000 other deletions is still named by its nickname (ignoring case),
// with whoever deleted it and when, where only the newest 1000 deletions
// were read; so are more than a page of deletions of one nickname.
func TestDeletedConnectionsNamedPastAThousand(t *testing.T) {
	st := sqlitetest.Open(t)
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ann := store.Actor{Type: store.ActorUser, Login: "ann@example.com"}
	deleted := func(n int, id, nickname string) {
		t.Helper()
		if err := st.AppendAudit(t.Context(), &store.AuditEvent{Time: start.Add(time.Duration(n) * time.Second), Actor: ann,
			Action: store.ActionConnectionDelete, ConnectionID: id, InputSummary: "nickname " + nickname, Outcome: "success", DeletedNickname: nickname}); err != nil {
			t.Fatal(err)
		}
	}
	deleted(0, "conn_prod", "Prod")
	for i := range 1001 {
		deleted(1, "conn_other"+strconv.Itoa(i), "Other")
	}
	got := DeletedConnectionsNamed(t.Context(), st, "PROD")
	if len(got) != 1 || got[0].ID != "conn_prod" || !got[0].At.Equal(start) || got[0].By != ann.String() {
		t.Fatalf("deleted connections named PROD: %+v; want conn_prod, deleted at %s by %s", got, start, ann)
	}
	if n := len(DeletedConnectionsNamed(t.Context(), st, "other")); n != 1001 {
		t.Errorf("%d deleted connections named other; want 1001", n)
	}
}
