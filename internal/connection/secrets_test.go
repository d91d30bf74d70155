package connection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// TestSecretsNeverLeak runs connections through their whole life with a
// canary client secret, collects every secret value that existed (client
// secrets, access, refresh and ID tokens) and checks that none appears in
// the SQLite files, the debug log, any View or result as JSON or printed,
// any error message or any audit event.
func TestSecretsNeverLeak(t *testing.T) {
	const canary = "canary-client-secret-Zq81xTpL"
	const wrongCanary = "canary-wrong-secret-Hv39sKd"
	e := newEnv(t, withClientSecret(canary))
	ctx := context.Background()
	secrets := []string{canary, wrongCanary}
	var public []string
	show := func(v any) {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		public = append(public, string(b), fmt.Sprintf("%v|%+v|%#v", v, v, v))
	}
	showErr := func(err error) {
		if err != nil {
			public = append(public, err.Error(), fmt.Sprintf("%+v", err))
			for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(u) {
				public = append(public, u.Error())
			}
		}
	}
	keep := func(id string) {
		c := e.conn(t, id)
		for _, f := range []string{"access_token", "refresh_token", "id_token"} {
			secrets = append(secrets, e.open(t, c, f))
		}
	}

	v, authURL := e.create(t, "Canary", nil)
	show(v)
	res := e.signIn(t, authURL, oktaemu.AdminLogin)
	show(res)
	keep(v.ID)
	tok, err := e.m.Token(ctx, v.ID)
	showErr(err)
	show(tok)

	e.emu.AdvanceClock(t, time.Hour)
	tok, err = e.m.Token(ctx, v.ID)
	showErr(err)
	show(tok)
	keep(v.ID)

	authURL, err = e.m.Reauthorize(ctx, v.ID, nil, tester)
	showErr(err)
	show(e.signIn(t, authURL, oktaemu.AdminLogin))
	keep(v.ID)
	tr, err := e.m.Test(ctx, v.ID, tester)
	showErr(err)
	show(tr)
	keep(v.ID)

	// Failures of every kind.
	_, err = e.m.Callback(ctx, url.Values{"state": {"forged"}, "code": {"x"}})
	showErr(err)
	_, _, err = e.m.Create(ctx, CreateInput{Connector: connector, Nickname: "", Domain: e.emu.URL, ClientID: "c", ClientSecret: canary}, tester)
	showErr(err)
	_, _, err = e.m.Create(ctx, CreateInput{Connector: connector, Nickname: "Bad", Domain: canary + ".okta.com/x", ClientID: "c", ClientSecret: canary}, tester)
	showErr(err)
	// The org refuses a wrong secret before any sign-in, of a new
	// connection and of one that works.
	_, _, err = e.m.Create(ctx, CreateInput{Connector: connector, Nickname: "Wrong secret", Domain: e.emu.URL,
		ClientID: oktaemu.DemoClientID, ClientSecret: keyring.Secret(wrongCanary)}, tester)
	showErr(err)
	_, err = e.m.Update(ctx, v.ID, UpdateInput{ClientSecret: keyring.Secret(wrongCanary)}, tester)
	showErr(err)
	e.revokeAtOrg(t, e.open(t, e.conn(t, v.ID), "refresh_token"), "refresh_token")
	_, err = e.m.Token(ctx, v.ID)
	showErr(err)
	tr, err = e.m.Test(ctx, v.ID, tester)
	showErr(err)
	show(tr)

	v2 := e.connect(t, "Deleted")
	keep(v2.ID)
	dr, err := e.m.DeleteWithResult(ctx, v2.ID, tester)
	showErr(err)
	show(dr)

	// A secret rotated at the org between the creation and the sign-in:
	// the code exchange is refused.
	_, rotatedURL := e.create(t, "Rotated", nil)
	secrets = append(secrets, e.emu.RotateClientSecret(t, oktaemu.DemoAppID))
	show(e.signIn(t, rotatedURL, oktaemu.AdminLogin))

	list, err := e.m.List(ctx)
	showErr(err)
	show(list)
	evs, err := e.store.ListAudit(ctx, store.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	show(evs)

	logs := e.logs.String()
	if !strings.Contains(logs, "level=DEBUG") || !strings.Contains(logs, "access token refreshed") {
		t.Fatalf("debug log not captured:\n%s", logs)
	}
	var db []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(e.dbPath + suffix)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		db = append(db, b...)
	}
	if len(db) == 0 {
		t.Fatal("read no database bytes")
	}
	all := strings.Join(public, "\n")
	for i, s := range secrets {
		if len(s) < 8 {
			t.Fatalf("secret %d is too short to search for", i)
		}
		if strings.Contains(logs, s) {
			t.Errorf("secret %d appears in the logs", i)
		}
		if bytes.Contains(db, []byte(s)) {
			t.Errorf("secret %d appears in the SQLite files", i)
		}
		if strings.Contains(all, s) {
			t.Errorf("secret %d appears in a view, result or error", i)
		}
	}
	if len(secrets) < 10 {
		t.Errorf("collected %d secrets; want the tokens of several authorizations and refreshes", len(secrets))
	}
}
