package connection

import (
	"context"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/problem"
)

// A client secret that no OAuth app has (too long, or holding a control
// character: a paste of more than the secret) is refused for what it is,
// on create and on update, before the org is asked; the message gives its
// length, never the secret. A secret of 1025 characters read "client
// secret is required".
func TestClientSecretShape(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	long := strings.Repeat("S3cr3tL0ng", 103)[:1025]
	tests := []struct {
		name, secret string
		create, upd  string
	}{
		{"too long", long, "client secret is 1025 characters long; an OAuth app's client secret has at most 1024",
			"the new client secret is 1025 characters long"},
		{"line break", e.secret + "\nS3cr3tTail", "client secret contains a control character",
			"the new client secret contains a control character"},
		{"NUL", "S3cr3t\x00Tail", "client secret contains a control character",
			"the new client secret contains a control character"},
		{"empty", "  ", "client secret is required", "the new client secret is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.introspections(t)
			_, _, err := e.m.Create(ctx, CreateInput{Connector: connector, Nickname: "New", Domain: e.emu.URL,
				ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(tt.secret)}, tester)
			p := wantProblem(t, err, problem.InvalidInput, tt.create, "General tab")
			_, err = e.m.Update(ctx, v.ID, UpdateInput{ClientSecret: keyring.Secret(tt.secret)}, tester)
			q := wantProblem(t, err, problem.InvalidInput, tt.upd, "General tab")
			for _, pp := range []*problem.Error{p, q} {
				if pp.Details["field"] != "clientSecret" {
					t.Errorf("problem %q names field %v; want clientSecret", pp.Error(), pp.Details["field"])
				}
				if strings.Contains(pp.Error(), "S3cr3t") {
					t.Errorf("problem %q holds the secret", pp.Error())
				}
			}
			if n := e.introspections(t) - before; n != 0 {
				t.Errorf("%d requests to the org; want none", n)
			}
		})
	}
}
