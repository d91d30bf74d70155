package connection

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

func TestHealthCheck(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	before := e.open(t, e.conn(t, v.ID), "access_token")

	posts := e.tokenPosts(t)
	res, err := e.m.Test(ctx, "prod", tester)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || res.Status != store.StatusActive {
		t.Errorf("Test = %+v; want ok and active", res)
	}
	if n := e.tokenPosts(t) - posts; n != 1 {
		t.Errorf("token requests %d; want 1 (the health check proves the refresh token)", n)
	}
	if e.open(t, e.conn(t, v.ID), "access_token") == before {
		t.Error("health check did not store a new access token")
	}
	if len(res.MissingScopes) != 0 || res.Auth != store.AuthUser {
		t.Errorf("Test = %+v; want no missing scopes, auth user", res)
	}

	// The org stops granting a scope: the check passes (devices are still
	// read) and names the scope and the cards it breaks.
	e.emu.RevokeGrant(t, "okta.devices.manage")
	res, err = e.m.Test(ctx, v.ID, tester)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || !slices.Equal(res.MissingScopes, []string{"okta.devices.manage"}) || len(res.MissingScopeCards["okta.devices.manage"]) == 0 {
		t.Errorf("Test after the org stopped granting okta.devices.manage = %+v; want ok, naming the scope and its cards", res)
	}
	e.emu.AddGrant(t, "okta.devices.manage")

	// Revoked at the org: the check finds out and says what to do.
	e.revokeAtOrg(t, e.open(t, e.conn(t, v.ID), "refresh_token"), "refresh_token")
	res, err = e.m.Test(ctx, v.ID, tester)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK || res.Status != store.StatusNeedsReauthorization || !strings.Contains(res.StatusReason, "invalid_grant") || res.Remedy == "" {
		t.Errorf("Test = %+v; want needs_reauthorization with reason and remedy", res)
	}
	evs := e.audit(t, v.ID)
	var outcomes []string
	for _, ev := range evs {
		if ev.Action == "connection.test" {
			outcomes = append(outcomes, ev.Outcome)
			if ev.ActingAs != "admin@example.com" || ev.Actor != tester {
				t.Errorf("test audit %+v; want caller and acting-as account", ev)
			}
		}
	}
	if strings.Join(outcomes, ",") != "failure,success,success" {
		t.Errorf("test audit outcomes %v; want failure, success, success (newest first)", outcomes)
	}

	// A pending connection is reported as it is.
	p, _ := e.create(t, "Pending", nil)
	res, err = e.m.Test(ctx, p.ID, tester)
	if err != nil || res.OK || res.Status != store.StatusPending || res.StatusReason == "" || res.Remedy == "" {
		t.Errorf("Test(pending) = %+v, %v; want pending with reason and remedy", res, err)
	}
	_, err = e.m.Test(ctx, "no-such-connection", tester)
	wantProblem(t, err, problem.NotFound, "no-such-connection")
}

func TestDeleteRevokesRefreshToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	rt := e.open(t, e.conn(t, v.ID), "refresh_token")
	revokes := e.emu.Stats(t)["POST /oauth2/v1/revoke"]

	res, err := e.m.DeleteWithResult(ctx, v.ID, tester)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Revoked || res.Warning != "" {
		t.Errorf("DeleteWithResult = %+v; want revoked without warning", res)
	}
	if n := e.emu.Stats(t)["POST /oauth2/v1/revoke"] - revokes; n != 1 {
		t.Errorf("revoke calls %d; want 1", n)
	}
	if code, _ := e.oauthPost(t, "/oauth2/v1/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); code != http.StatusBadRequest {
		t.Errorf("refresh with the deleted connection's token: status %d; want 400", code)
	}
	_, err = e.m.Get(ctx, v.ID)
	wantProblem(t, err, problem.NotFound)
	evs := e.audit(t, v.ID)
	if len(evs) == 0 || evs[0].Action != "connection.delete" || evs[0].Outcome != "success" || evs[0].ActingAs != "admin@example.com" {
		t.Errorf("latest audit %+v; want a successful connection.delete", evs[0])
	}

	// A revocation failure is reported, not fatal.
	v2 := e.connect(t, "Second")
	e.emu.Fault(t, "POST", "/oauth2/v1/revoke", http.StatusServiceUnavailable, 1)
	res, err = e.m.DeleteWithResult(ctx, "second", tester)
	if err != nil {
		t.Fatal(err)
	}
	if res.Revoked || !strings.Contains(res.Warning, "could not be revoked") {
		t.Errorf("DeleteWithResult = %+v; want a warning about the revocation", res)
	}
	if res.ID != v2.ID || res.Nickname != "Second" {
		t.Errorf("DeleteWithResult(\"second\") named %q %q; want the deleted connection's id %q and nickname \"Second\"", res.ID, res.Nickname, v2.ID)
	}
	if _, err := e.store.GetConnection(ctx, v2.ID); err == nil {
		t.Error("connection still stored after Delete")
	}
	evs = e.audit(t, v2.ID)
	if len(evs) == 0 || evs[0].Outcome != "success" || !strings.Contains(evs[0].Error, "could not be revoked") {
		t.Errorf("latest audit %+v; want success with the revocation failure noted", evs[0])
	}

	err = e.m.Delete(ctx, v.ID, tester)
	wantProblem(t, err, problem.NotFound)
}

func TestUnreadableSecretsFailClearly(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := e.connect(t, "A")
	b := e.connect(t, "B")
	// A keyring this server does not have: another server's after
	// `cardflow keys rotate`.
	stranger, err := keyring.New(keyring.Key{ID: "k0123abcd", Bytes: make([]byte, keyring.KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	altered := []string{"refresh token cannot be decrypted", "tampered with or copied from another connection", "reauthorize the connection or create it again"}
	tests := []struct {
		name    string
		change  func(c *store.Connection)
		want    []string
		notWant string
	}{
		{"flipped byte", func(c *store.Connection) { c.SealedRefreshToken[len(c.SealedRefreshToken)-1] ^= 1 }, altered, "keyring"},
		{"moved from another connection", func(c *store.Connection) { c.SealedRefreshToken = e.conn(t, b.ID).SealedRefreshToken }, altered, "keyring"},
		{"sealed with a key this keyring lacks", func(c *store.Connection) {
			sealed, err := stranger.Seal([]byte("rt"), sealedAAD(c.ID, fieldRefreshToken))
			if err != nil {
				t.Fatal(err)
			}
			c.SealedRefreshToken = sealed
		}, []string{`refresh token was sealed with key "k0123abcd", which this server's keyring does not have`,
			"give this server the keyring the other servers use", "restart it"}, "reauthorize"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := e.conn(t, a.ID)
			tt.change(c)
			c.AccessTokenExpiry = e.emu.Now() // force a refresh
			if err := e.store.UpdateConnection(ctx, c.ID, replaceWith(c)); err != nil {
				t.Fatal(err)
			}
			posts := e.tokenPosts(t)
			_, err := e.m.Token(ctx, a.ID)
			if p := wantProblem(t, err, problem.Internal, tt.want...); strings.Contains(p.Error(), tt.notWant) {
				t.Errorf("error %q; want no %q", p.Error(), tt.notWant)
			}
			if n := e.tokenPosts(t) - posts; n != 0 {
				t.Errorf("token requests %d; want 0", n)
			}
			if got := e.conn(t, a.ID); !got.RefreshStartedAt.IsZero() || got.Status != store.StatusActive {
				t.Errorf("status %q, RefreshStartedAt %v; want active and unset (nothing was presented)", got.Status, got.RefreshStartedAt)
			}
		})
	}
}

// TestDeleteReportsInUseApart: Manager.FlowsUsing is asked while the
// connection still exists, and what it names comes back apart from the
// warning (DeleteResult.InUse), so that the console can say it in its own
// terms; the API's text and the audit event hold both.
func TestDeleteReportsInUseApart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	var existed bool
	e.m.FlowsUsing = func(ctx context.Context, id string) ([]UsingFlow, error) {
		_, err := e.store.GetConnection(ctx, id)
		existed = err == nil && id == v.ID
		return []UsingFlow{{ID: "flow_1", Name: "nightly"}}, nil
	}
	e.emu.Fault(t, "POST", "/oauth2/v1/revoke", http.StatusServiceUnavailable, 1)
	res, err := e.m.DeleteWithResult(ctx, v.ID, tester)
	if err != nil {
		t.Fatal(err)
	}
	if !existed {
		t.Error("FlowsUsing was not asked while the connection existed")
	}
	const inUse = "the enabled flow nightly uses it: until each such flow names another connection (store it again) or is disabled (cardflow flows disable NAME), its scheduled runs fail and Okta events start no run of it"
	if res.InUse != inUse || !strings.Contains(res.Warning, "could not be revoked") || strings.Contains(res.Warning, "nightly") {
		t.Errorf("DeleteWithResult = %+v; want the revocation's warning and InUse apart", res)
	}
	if got, want := res.WarningAndInUse(), res.Warning+"; "+inUse; got != want {
		t.Errorf("WarningAndInUse() = %q; want %q", got, want)
	}
	if evs := e.audit(t, v.ID); len(evs) == 0 || evs[0].Error != res.WarningAndInUse() {
		t.Errorf("latest audit %+v; want its error to be %q", evs[0], res.WarningAndInUse())
	}
}

// TestDeleteIfUnused: DeleteIfUnused of a connection that enabled flows
// use deletes nothing and does nothing at the org (no hook deletion, no
// revocation): it answers a conflict naming the flows by id and name,
// with the stable reason code, and is audited as a failed
// connection.delete. When the flows cannot be read it deletes nothing
// either. Once no enabled flow uses it, it deletes as DeleteWithResult.
func TestDeleteIfUnused(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v := e.connect(t, "Prod")
	var flows []UsingFlow
	var flowsErr error
	e.m.FlowsUsing = func(context.Context, string) ([]UsingFlow, error) { return flows, flowsErr }
	var before int
	e.m.BeforeDelete = func(context.Context, string) string { before++; return "" }
	revokes := e.emu.Stats(t)["POST /oauth2/v1/revoke"]

	flows = []UsingFlow{{ID: "flow_1", Name: "nightly"}, {ID: "flow_2", Name: "quarantine"}}
	_, err := e.m.DeleteIfUnused(ctx, "prod", tester)
	p := wantProblem(t, err, problem.Conflict, `connection "Prod" was not deleted: the enabled flows nightly (flow_1) and quarantine (flow_2) use it`,
		"without the connection their scheduled runs would fail", "cardflow flows disable NAME", `cardflow connections delete "Prod" --force`, "without ifUnused=true")
	wantFlows := []map[string]string{{"id": "flow_1", "name": "nightly"}, {"id": "flow_2", "name": "quarantine"}}
	if p != nil && (p.Details["reasonCode"] != ReasonConnectionInUse || p.Details["connection"] != v.ID || !reflect.DeepEqual(p.Details["flows"], wantFlows)) {
		t.Errorf("details %v; want reasonCode %s, the connection's id and the flows", p.Details, ReasonConnectionInUse)
	}
	if evs := e.audit(t, v.ID); len(evs) == 0 || evs[0].Action != "connection.delete" || evs[0].Outcome != "failure" ||
		!strings.Contains(evs[0].Error, "nightly (flow_1)") || evs[0].ActingAs != "admin@example.com" {
		t.Errorf("latest audit %+v; want the refused connection.delete as a failure naming the flows", evs)
	}

	flows, flowsErr = nil, errors.New("database gone")
	_, err = e.m.DeleteIfUnused(ctx, v.ID, tester)
	wantProblem(t, err, problem.Internal)

	if _, err := e.store.GetConnection(ctx, v.ID); err != nil {
		t.Fatalf("connection after the refused deletions: %v; want it kept", err)
	}
	if n := e.emu.Stats(t)["POST /oauth2/v1/revoke"] - revokes; n != 0 || before != 0 {
		t.Errorf("after the refused deletions: %d revocations, BeforeDelete called %d times; want none", n, before)
	}
	if res, err := e.m.Test(ctx, v.ID, tester); err != nil || !res.OK {
		t.Errorf("Test after the refused deletions = %+v, %v; want the connection working", res, err)
	}

	flowsErr = nil
	res, err := e.m.DeleteIfUnused(ctx, v.ID, tester)
	if err != nil || !res.Revoked || res.InUse != "" {
		t.Fatalf("DeleteIfUnused of a connection no enabled flow uses = %+v, %v; want it deleted and revoked", res, err)
	}
	if _, err := e.store.GetConnection(ctx, v.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("connection after DeleteIfUnused: %v; want not found", err)
	}
}
