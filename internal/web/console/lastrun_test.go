package console

import (
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// TestLastRunStatus: the Flows page's Last run cell says of a canceled run
// in brief who asked or why, of a run still stopping that a cancel is
// requested and in brief by whom or why, and of other runs their status
// alone.
func TestLastRunStatus(t *testing.T) {
	at := time.Date(2026, 12, 6, 17, 0, 0, 0, time.UTC)
	ada := store.Actor{Type: store.ActorUser, Login: "ada@example.com"}
	adaToken := store.Actor{Type: store.ActorToken, Login: "ada@example.com", TokenName: "cli"}
	rey := store.Actor{Type: store.ActorUser, Login: "Rey@Example.com"}
	brief := func(a store.Actor) string {
		if a.Login == "ada@example.com" {
			return "Ada Admin"
		}
		return actorName(a)
	}
	for _, tc := range []struct {
		name string
		run  store.FlowRun
		want string
	}{
		{"succeeded", store.FlowRun{Status: "succeeded", Actor: rey}, "Succeeded"},
		{"succeeded after a cancel request", store.FlowRun{Status: "succeeded", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: ada}, "Succeeded"},
		{"canceled by a person", store.FlowRun{Status: "canceled", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: ada}, "Canceled by Ada Admin"},
		{"canceled with a token", store.FlowRun{Status: "canceled", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: adaToken}, "Canceled by Ada Admin"},
		{"canceled by the bootstrap admin", store.FlowRun{Status: "canceled", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: store.Actor{Type: store.ActorBootstrap}}, "Canceled by bootstrap admin"},
		{"canceled by a revoke", store.FlowRun{Status: "canceled", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: ada,
			CancelReason: "its starter rey@example.com's access was revoked"}, "Canceled: access revoked"},
		{"canceled for another reason", store.FlowRun{Status: "canceled", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: ada,
			CancelReason: "its starter ada@example.com's access was revoked"}, "Canceled: its starter ada@example.com's access was revoked"},
		{"canceled before who asked was recorded", store.FlowRun{Status: "canceled", Actor: rey, CancelRequestedAt: at}, "Canceled"},
		{"running", store.FlowRun{Status: "running", Actor: rey}, "Running"},
		{"stopping, asked by a person", store.FlowRun{Status: "running", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: ada},
			"Stopping (cancel requested by Ada Admin)"},
		{"stopping, asked with a token", store.FlowRun{Status: "running", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: adaToken},
			"Stopping (cancel requested by Ada Admin)"},
		{"stopping after a revoke", store.FlowRun{Status: "running", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: ada,
			CancelReason: "its starter rey@example.com's access was revoked"}, "Stopping (cancel requested: access revoked)"},
		{"stopping for another reason", store.FlowRun{Status: "running", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: ada,
			CancelReason: "the flow was deleted"}, "Stopping (cancel requested: the flow was deleted)"},
		{"stopping, who asked not recorded", store.FlowRun{Status: "running", Actor: rey, CancelRequestedAt: at}, "Stopping (cancel requested)"},
		{"failed after a cancel request", store.FlowRun{Status: "failed", Actor: rey, CancelRequestedAt: at, CancelRequestedBy: ada}, "Failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := lastRunStatus(&tc.run, brief); got != tc.want {
				t.Errorf("lastRunStatus = %q; want %q", got, tc.want)
			}
		})
	}
}
