package connection

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// TestServiceTokenRetriesPassingFailures: a service connection's token
// request (client_credentials, which rotates nothing) is sent again after
// a 5xx, an error page or a lost answer, a bounded number of times, as a
// user connection's refresh is; a passing outage does not fail its cards
// nor change its status.
func TestServiceTokenRetriesPassingFailures(t *testing.T) {
	tests := []struct {
		name      string
		fault     emutest.FaultSpec
		wantOK    bool
		wantPosts int
	}{
		{name: "one 503", fault: emutest.FaultSpec{Status: http.StatusServiceUnavailable, Count: 1}, wantOK: true, wantPosts: 2},
		{name: "one HTML 502", fault: emutest.FaultSpec{Status: http.StatusBadGateway, Body: "html", Count: 1}, wantOK: true, wantPosts: 2},
		{name: "one reset", fault: emutest.FaultSpec{Body: "reset", After: true, Count: 1}, wantOK: true, wantPosts: 2},
		{name: "an outage that does not pass", fault: emutest.FaultSpec{Status: http.StatusServiceUnavailable, Count: 100}, wantPosts: refreshAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			waits := e.sleeps(t)
			ctx := context.Background()
			v, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
				ClientID: oktaemu.DemoServiceClientID}, tester)
			if err != nil {
				t.Fatalf("CreateService: %v", err)
			}
			e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
			if _, err := e.m.Token(ctx, v.ID); err != nil {
				t.Fatalf("first token: %v", err)
			}
			e.emu.AdvanceClock(t, time.Hour)
			f := tt.fault
			f.Method, f.Path = "POST", "/oauth2/v1/token"
			e.emu.Inject(t, f)
			*waits = nil
			posts := e.tokenPosts(t)
			_, err = e.m.Token(ctx, v.ID)
			if tt.wantOK && err != nil {
				t.Fatalf("Token: %v; want the retry to get one", err)
			}
			if !tt.wantOK {
				wantProblem(t, err, problem.UpstreamError)
			}
			if n := e.tokenPosts(t) - posts; n != tt.wantPosts || len(*waits) != tt.wantPosts-1 {
				t.Errorf("token requests %d, waits %v; want %d requests", n, *waits, tt.wantPosts)
			}
			if c := e.conn(t, v.ID); c.Status != store.StatusActive {
				t.Errorf("status %s (%s); want active", c.Status, c.StatusReason)
			}
		})
	}
}
