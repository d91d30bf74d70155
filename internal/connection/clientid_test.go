package connection

import (
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
)

// TestClientIDWithASpace: a client ID with a space in it, as a copy that
// took the secret beside it makes, is told that it contains a space and to
// copy the Client ID from the app's General tab, where it was told it "is
// required and must be printable ASCII"; what was pasted is not repeated.
// A taken nickname names the connector as people know it.
func TestClientIDWithASpace(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const pasted = "0oa1b2c3d4e5f6g7h8 not-to-be-repeated"
	_, _, err := e.m.Create(ctx, CreateInput{Connector: connector, Nickname: "New", Domain: e.emu.URL, ClientID: pasted, ClientSecret: keyring.Secret(e.secret)}, tester)
	p := wantProblem(t, err, problem.InvalidInput, "client ID contains a space", "copy the client ID from the OAuth app's General tab")
	_, _, err = e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL, ClientID: pasted}, tester)
	q := wantProblem(t, err, problem.InvalidInput, "client ID contains a space", "copy the client ID from the API Services app's General tab")
	v := e.connect(t, "Prod")
	_, err = e.m.Update(ctx, v.ID, UpdateInput{ClientID: pasted, ClientSecret: keyring.Secret(e.secret)}, tester)
	u := wantProblem(t, err, problem.InvalidInput, "client ID contains a space", "General tab")
	for _, p := range []*problem.Error{p, q, u} {
		if strings.Contains(p.Error(), "not-to-be-repeated") || strings.Contains(p.Error(), "printable ASCII") {
			t.Errorf("problem %q repeats what was pasted, or says printable ASCII of a space", p.Error())
		}
	}
	_, _, err = e.m.Create(ctx, CreateInput{Connector: connector, Nickname: "PROD", Domain: e.emu.URL, ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(e.secret)}, tester)
	wantProblem(t, err, problem.Conflict, `the Okta Devices connection "Prod" already has that nickname`)
}
