package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestHealthCheckSaysWhatItDid: Test on a connection's page says what
// passed: a user connection refreshed its token; a service connection,
// which has no refresh token, got a token for its key.
func TestHealthCheckSaysWhatItDid(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	user := e.connect(t, "Prod", nil)
	robot, _, err := e.manager.CreateService(ctx, connection.ServiceInput{Connector: "okta-devices", Nickname: "Robot",
		Domain: e.emu.URL, ClientID: oktaemu.DemoServiceClientID}, store.Actor{Type: store.ActorUser, Login: "test"})
	if err != nil {
		t.Fatalf("create the service connection: %v", err)
	}
	e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, robot.PublicJWK)
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	for _, tc := range []struct {
		id, want string
	}{
		{user.ID, "Health check passed: the connection refreshed its token and read devices."},
		{robot.ID, "Health check passed: the org gave the connection a token for its key and read devices."},
	} {
		resp, _ := post(t, c, e.url+"/connections/"+tc.id+"/test", url.Values{"csrf": {csrf}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("test %s: status %d; want 303", tc.id, resp.StatusCode)
		}
		_, body := get(t, c, e.url+"/connections/"+tc.id)
		if !strings.Contains(body, tc.want) {
			t.Errorf("after Test the page of %s lacks %q", tc.id, tc.want)
		}
	}
}
