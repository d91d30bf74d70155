package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

func newConnection(id, nickname string) *store.Connection {
	return &store.Connection{
		ID:              id,
		Connector:       "okta-devices",
		Nickname:        nickname,
		Domain:          "example.okta.com",
		Status:          store.StatusPending,
		ScopeMode:       "default",
		RequestedScopes: []string{"openid", "okta.devices.read"},
		ClientID:        "0oaclient",
		CreatedAt:       at(0),
		UpdatedAt:       at(0),
	}
}

func testConnectionCRUD(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()

	_, err := s.GetConnection(ctx, "missing")
	wantErr(t, err, store.ErrNotFound, "GetConnection(missing)")
	_, err = s.GetConnectionByNickname(ctx, "okta-devices", "missing")
	wantErr(t, err, store.ErrNotFound, "GetConnectionByNickname(missing)")
	wantErr(t, s.DeleteConnection(ctx, "missing"), store.ErrNotFound, "DeleteConnection(missing)")
	wantErr(t, s.UpdateConnection(ctx, "missing", func(*store.Connection) error { return nil }), store.ErrNotFound, "UpdateConnection(missing)")

	for _, c := range []*store.Connection{
		newConnection("c2", "beta"),
		newConnection("c1", "Alpha"),
		newConnection("c3", "gamma"),
	} {
		noErr(t, s.CreateConnection(ctx, c), "CreateConnection")
		if c.Version != 1 {
			t.Errorf("after create, Version = %d; want 1", c.Version)
		}
	}
	other := newConnection("c0", "zulu")
	other.Connector = "another-connector"
	noErr(t, s.CreateConnection(ctx, other), "CreateConnection(other connector)")
	wantErr(t, s.CreateConnection(ctx, newConnection("c1", "delta")), store.ErrConflict, "CreateConnection(duplicate id)")

	generated := newConnection("", "generated")
	noErr(t, s.CreateConnection(ctx, generated), "CreateConnection(no id)")
	if generated.ID == "" {
		t.Errorf("CreateConnection left ID empty; want one filled in")
	}

	list, err := s.ListConnections(ctx)
	noErr(t, err, "ListConnections")
	var names []string
	for _, c := range list {
		names = append(names, c.Connector+"/"+c.Nickname)
	}
	diff(t, "ListConnections order", []string{"another-connector/zulu", "okta-devices/Alpha",
		"okta-devices/beta", "okta-devices/gamma", "okta-devices/generated"}, names)

	got, err := s.GetConnectionByNickname(ctx, "okta-devices", "ALPHA")
	noErr(t, err, "GetConnectionByNickname(ALPHA)")
	if got.ID != "c1" {
		t.Errorf("GetConnectionByNickname(ALPHA).ID = %q; want c1", got.ID)
	}
	_, err = s.GetConnectionByNickname(ctx, "another-connector", "alpha")
	wantErr(t, err, store.ErrNotFound, "GetConnectionByNickname(other connector)")

	var updated store.Connection
	noErr(t, s.UpdateConnection(ctx, "c1", func(c *store.Connection) error {
		diff(t, "connection given to the update", got, c)
		c.Status = store.StatusActive
		c.GrantedScopes = []string{"okta.devices.read"}
		c.Nickname = "ALPHA prime"
		c.UpdatedAt = at(10)
		c.ServiceRetries, c.ServiceRetryAt = 2, at(180)
		c.StatusReasonCode = store.ReasonNoAdminRole
		c.OrgClockOffset = 2000 * time.Hour
		updated = *c
		return nil
	}), "UpdateConnection")
	updated.Version++
	again, err := s.GetConnection(ctx, "c1")
	noErr(t, err, "GetConnection")
	diff(t, "connection after update", &updated, again)
	if again.Version != 2 {
		t.Errorf("after update, Version = %d; want 2", again.Version)
	}
	if _, err := s.GetConnectionByNickname(ctx, "okta-devices", "alpha prime"); err != nil {
		t.Errorf("GetConnectionByNickname(new nickname): %v", err)
	}

	noErr(t, s.DeleteConnection(ctx, "c1"), "DeleteConnection")
	_, err = s.GetConnection(ctx, "c1")
	wantErr(t, err, store.ErrNotFound, "GetConnection(deleted)")
	wantErr(t, s.DeleteConnection(ctx, "c1"), store.ErrNotFound, "DeleteConnection(deleted)")
	// A deleted connection's nickname is free again.
	noErr(t, s.CreateConnection(ctx, newConnection("c4", "alpha prime")), "CreateConnection(reused nickname)")
}

func testConnectionRoundTrip(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	tests := []struct {
		name string
		c    *store.Connection
	}{
		{name: "minimal", c: &store.Connection{ID: "min", Connector: "okta-devices", Nickname: "min"}},
		{name: "full", c: &store.Connection{
			ID: "full", Connector: "okta-devices", Nickname: "Prod devices ✓", Domain: "http://127.0.0.1:9090",
			Status: store.StatusNeedsReauthorization, StatusReason: "refresh token revoked", Remedy: "reauthorize",
			StatusReasonCode: store.ReasonRefreshTokenRefused,
			ScopeMode:        "custom", RequestedScopes: []string{"openid", "okta.devices.manage"}, GrantedScopes: []string{},
			ClientID: "0oaworkflowsclient", SealedClientSecret: []byte{1, 2, 0, 255}, SealedRefreshToken: []byte("rt"),
			SealedAccessToken: []byte("at"), SealedIDToken: []byte("it"), AccessTokenExpiry: at(3600),
			RefreshStartedAt: at(5), AuthorizedUserID: "00u1", AuthorizedLogin: "admin@example.com",
			AuthorizedName: "Ada Admin", AuthorizedAt: at(1), LastUsedAt: at(2), CreatedAt: at(-1), UpdatedAt: at(3),
			Auth: store.AuthUser, RefreshTokenExpiresAt: at(90 * 86400), ExpiryNotifiedAt: at(77 * 86400),
			OrgClockOffset: -(83*time.Hour + 1500*time.Millisecond),
		}},
		{name: "service", c: &store.Connection{
			ID: "service", Connector: "okta-devices", Nickname: "Service", Domain: "example.okta.com",
			Status: store.StatusActive, ScopeMode: "custom", RequestedScopes: []string{"okta.devices.read"},
			GrantedScopes: []string{"okta.devices.read"}, ClientID: "0oaserviceclient", Auth: store.AuthService,
			SealedPrivateKey: []byte("pk"), SealedNextPrivateKey: []byte("nk"), SealedDPoPKey: []byte("dk"), DPoP: true,
			SealedAccessToken: []byte("at"), AccessTokenExpiry: at(3600), AccessTokenType: "DPoP", CreatedAt: at(0), UpdatedAt: at(0),
			ServiceRetries: 3, ServiceRetryAt: at(420),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := *tt.c
			noErr(t, s.CreateConnection(ctx, tt.c), "CreateConnection")
			want.Version = 1
			got, err := s.GetConnection(ctx, tt.c.ID)
			noErr(t, err, "GetConnection")
			diff(t, "connection", &want, got)
			for _, ts := range []time.Time{got.AccessTokenExpiry, got.CreatedAt, got.AuthorizedAt} {
				if !ts.IsZero() && ts.Location() != time.UTC {
					t.Errorf("time %v is not in UTC", ts)
				}
			}
		})
	}
}

func testNicknameConflict(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	noErr(t, s.CreateConnection(ctx, newConnection("a", "Prod Devices")), "CreateConnection")
	noErr(t, s.CreateConnection(ctx, newConnection("u", "Ünïcödé")), "CreateConnection")
	tests := []struct {
		name      string
		connector string
		nickname  string
		wantErr   error
	}{
		{name: "same", nickname: "Prod Devices", wantErr: store.ErrConflict},
		{name: "other case", nickname: "prod devices", wantErr: store.ErrConflict},
		{name: "upper", nickname: "PROD DEVICES", wantErr: store.ErrConflict},
		{name: "non-ASCII other case", nickname: "üNÏCÖDÉ", wantErr: store.ErrConflict},
		// Compatibility look-alikes are the same nickname (Unicode NFKC).
		{name: "full-width look-alike", nickname: "Ｐｒｏｄ Ｄｅｖｉｃｅｓ", wantErr: store.ErrConflict},
		{name: "decomposed accents", nickname: "U\u0308nI\u0308co\u0308de\u0301", wantErr: store.ErrConflict},
		{name: "other connector", connector: "other", nickname: "prod devices"},
		{name: "different", nickname: "Prod Devices 2"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConnection(fmt.Sprintf("n%d", i), tt.nickname)
			if tt.connector != "" {
				c.Connector = tt.connector
			}
			err := s.CreateConnection(ctx, c)
			if tt.wantErr == nil {
				noErr(t, err, "CreateConnection")
				return
			}
			wantErr(t, err, tt.wantErr, "CreateConnection")
		})
	}
	if got, err := s.GetConnectionByNickname(ctx, "okta-devices", "ＰＲＯＤ devices"); err != nil || got.ID != "a" {
		t.Errorf("GetConnectionByNickname(full-width) = %v, %v; want connection a", got, err)
	}
	// Renaming onto a taken nickname conflicts too.
	b := newConnection("b", "staging")
	noErr(t, s.CreateConnection(ctx, b), "CreateConnection")
	rename := func(nickname string) error {
		return s.UpdateConnection(ctx, "b", func(c *store.Connection) error { c.Nickname = nickname; return nil })
	}
	wantErr(t, rename("PROD devices"), store.ErrConflict, "UpdateConnection(taken nickname)")
	if got, err := s.GetConnection(ctx, "b"); err != nil || got.Nickname != "staging" || got.Version != 1 {
		t.Errorf("after a failed rename: %+v, %v; want nickname staging, Version 1", got, err)
	}
	// Changing only the case of one's own nickname is fine.
	noErr(t, rename("STAGING"), "UpdateConnection(own nickname, new case)")
}

// testUpdateConnectionRefused: an error of the update function comes back
// as it is and nothing is written; an update may not change the id.
func testUpdateConnectionRefused(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	noErr(t, s.CreateConnection(ctx, newConnection("c", "c")), "CreateConnection")
	errNo := errors.New("the refresh token changed")
	err := s.UpdateConnection(ctx, "c", func(c *store.Connection) error {
		c.StatusReason = "written anyway"
		return errNo
	})
	if err != errNo {
		t.Errorf("UpdateConnection with a failing function: %v; want the function's error as it is", err)
	}
	err = s.UpdateConnection(ctx, "c", func(c *store.Connection) error {
		c.ID, c.StatusReason = "other", "written anyway"
		return nil
	})
	if err == nil {
		t.Errorf("UpdateConnection changing the id succeeded; want an error")
	}
	got, err := s.GetConnection(ctx, "c")
	noErr(t, err, "GetConnection")
	if got.StatusReason != "" || got.Version != 1 {
		t.Errorf("after refused updates: reason %q, Version %d; want nothing written", got.StatusReason, got.Version)
	}
}

// testUpdateConnectionNotify: the notifications of an update are stored
// with it, and neither is stored when the update is refused.
func testUpdateConnectionNotify(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	noErr(t, s.CreateConnection(ctx, newConnection("c", "c")), "CreateConnection")
	notice := func(id string) []*store.Notification {
		return []*store.Notification{
			{ID: id, Receiver: "rcv-a", Type: "connection.needs_reauthorization", Body: json.RawMessage(`{"id":"` + id + `"}`), NextAttemptAt: at(1), CreatedAt: at(1)},
			{ID: id, Receiver: "rcv-b", Type: "connection.needs_reauthorization", Body: json.RawMessage(`{"id":"` + id + `"}`), NextAttemptAt: at(1), CreatedAt: at(1)},
		}
	}
	errNo := errors.New("refused")
	err := s.UpdateConnectionNotify(ctx, "c", func(c *store.Connection) ([]*store.Notification, error) {
		c.Status = store.StatusNeedsReauthorization
		return notice("refused"), errNo
	})
	if err != errNo {
		t.Errorf("UpdateConnectionNotify with a failing function: %v; want the function's error as it is", err)
	}
	list, err := s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	if got, _ := s.GetConnection(ctx, "c"); len(list) != 0 || got.Status == store.StatusNeedsReauthorization {
		t.Fatalf("after a refused update: %d notifications, status %s; want nothing written", len(list), got.Status)
	}
	noErr(t, s.UpdateConnectionNotify(ctx, "c", func(c *store.Connection) ([]*store.Notification, error) {
		c.Status = store.StatusNeedsReauthorization
		return notice("n1"), nil
	}), "UpdateConnectionNotify")
	got, err := s.GetConnection(ctx, "c")
	noErr(t, err, "GetConnection")
	list, err = s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	if got.Status != store.StatusNeedsReauthorization || got.Version != 2 || len(list) != 2 || list[0].ID != "n1" {
		t.Errorf("after the update: status %s, version %d, %d notifications; want needs_reauthorization, 2, two n1", got.Status, got.Version, len(list))
	}
	// A message already in the outbox is left as it is; the update stands.
	noErr(t, s.UpdateConnectionNotify(ctx, "c", func(c *store.Connection) ([]*store.Notification, error) {
		c.StatusReason = "again"
		return notice("n1"), nil
	}), "UpdateConnectionNotify(same message)")
	list, err = s.ListNotifications(ctx, 0)
	noErr(t, err, "ListNotifications")
	if got, _ := s.GetConnection(ctx, "c"); got.StatusReason != "again" || len(list) != 2 {
		t.Errorf("after repeating the message: reason %q, %d notifications; want again, 2", got.StatusReason, len(list))
	}
}

// testConcurrentUpdate: concurrent updates through two handles (as two
// servers) wait for each other; none is lost.
func testConcurrentUpdate(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	noErr(t, s1.CreateConnection(ctx, newConnection("c", "c")), "CreateConnection")
	const n = 20
	parallel(n, func(i int) {
		err := alternate(i, s1, s2).UpdateConnection(ctx, "c", func(c *store.Connection) error {
			k, _ := strconv.Atoi(c.StatusReason)
			c.StatusReason = strconv.Itoa(k + 1)
			return nil
		})
		if err != nil {
			t.Errorf("UpdateConnection: %v", err)
		}
	})
	got, err := s1.GetConnection(ctx, "c")
	noErr(t, err, "GetConnection")
	if got.StatusReason != strconv.Itoa(n) || got.Version != 1+n {
		t.Errorf("after %d increments: count %q, Version %d; want %d and %d", n, got.StatusReason, got.Version, n, 1+n)
	}
}

func testAuthRequest(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	r := &store.AuthRequest{
		State: "state-1", ConnectionID: "c1", Reauthorize: true, ScopeMode: "custom",
		RequestedScopes: []string{"openid", "okta.devices.read"}, SealedVerifier: []byte("sealed"),
		Nonce: "nonce", Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, CreatedAt: at(0), ExpiresAt: at(600),
	}
	noErr(t, s.CreateAuthRequest(ctx, r), "CreateAuthRequest")
	wantErr(t, s.CreateAuthRequest(ctx, r), store.ErrConflict, "CreateAuthRequest(same state)")
	for i, exp := range []int{-10, 0, 1} {
		noErr(t, s.CreateAuthRequest(ctx, &store.AuthRequest{State: fmt.Sprintf("exp%d", i), ExpiresAt: at(exp)}), "CreateAuthRequest")
	}

	got, err := s.ConsumeAuthRequest(ctx, "state-1")
	noErr(t, err, "ConsumeAuthRequest")
	diff(t, "auth request", r, got)
	_, err = s.ConsumeAuthRequest(ctx, "state-1")
	wantErr(t, err, store.ErrNotFound, "ConsumeAuthRequest(used)")
	_, err = s.ConsumeAuthRequest(ctx, "never-issued")
	wantErr(t, err, store.ErrNotFound, "ConsumeAuthRequest(unknown)")

	for _, tt := range []struct {
		hash string
		exp  int
	}{{"h-old", -10}, {"h-now", 0}, {"h-later", 600}} {
		noErr(t, s.RecordAuthCompletion(ctx, tt.hash, at(tt.exp)), "RecordAuthCompletion")
	}
	noErr(t, s.RecordAuthCompletion(ctx, "h-old", at(1)), "RecordAuthCompletion(again, later)")
	for _, tt := range []struct {
		hash string
		at   int
		want bool
	}{{"h-old", 0, true}, {"h-old", 1, false}, {"h-now", -1, true}, {"h-now", 0, false}, {"h-later", 0, true}, {"never", 0, false}} {
		got, err := s.AuthCompleted(ctx, tt.hash, at(tt.at))
		noErr(t, err, "AuthCompleted")
		if got != tt.want {
			t.Errorf("AuthCompleted(%q, %d) = %v; want %v", tt.hash, tt.at, got, tt.want)
		}
	}

	noErr(t, s.DeleteExpiredAuthRequests(ctx, at(0)), "DeleteExpiredAuthRequests")
	for _, tt := range []struct {
		hash string
		want bool
	}{{"h-old", true}, {"h-now", false}, {"h-later", true}} {
		// Asked at a time before every expiry: only a deleted one is false.
		if got, err := s.AuthCompleted(ctx, tt.hash, at(-100)); err != nil || got != tt.want {
			t.Errorf("AuthCompleted(%q) after DeleteExpiredAuthRequests = %v, %v; want %v", tt.hash, got, err, tt.want)
		}
	}
	for _, tt := range []struct {
		state string
		want  error
	}{{"exp0", store.ErrNotFound}, {"exp1", store.ErrNotFound}, {"exp2", nil}} {
		_, err := s.ConsumeAuthRequest(ctx, tt.state)
		if !errors.Is(err, tt.want) {
			t.Errorf("after DeleteExpired, ConsumeAuthRequest(%s) err = %v; want %v", tt.state, err, tt.want)
		}
	}
}

func testAuthRequestSingleUse(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	noErr(t, s1.CreateAuthRequest(ctx, &store.AuthRequest{State: "once", ConnectionID: "c", ExpiresAt: at(600)}), "CreateAuthRequest")
	const n = 20
	var wins atomic.Int32
	parallel(n, func(i int) {
		s := alternate(i, s1, s2)
		switch r, err := s.ConsumeAuthRequest(ctx, "once"); {
		case err == nil && r.ConnectionID == "c":
			wins.Add(1)
		case err == nil:
			t.Errorf("ConsumeAuthRequest returned %+v", r)
		case !errors.Is(err, store.ErrNotFound):
			t.Errorf("ConsumeAuthRequest: %v; want nil or ErrNotFound", err)
		}
	})
	if got := wins.Load(); got != 1 {
		t.Errorf("%d of %d concurrent consumers got the request; want exactly 1", got, n)
	}
}

func testLease(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ttl := 30 * time.Second
	steps := []struct {
		name  string
		owner string
		now   time.Time
		want  bool
	}{
		{name: "free", owner: "a", now: at(0), want: true},
		{name: "held by other", owner: "b", now: at(10), want: false},
		{name: "renewed by owner", owner: "a", now: at(20), want: true},
		{name: "still held after first ttl (renewed)", owner: "b", now: at(40), want: false},
		{name: "at expiry", owner: "b", now: at(50), want: true},
		{name: "old owner lost it", owner: "a", now: at(55), want: false},
	}
	for _, st := range steps {
		got, err := s.TryLease(ctx, "refresh/c1", st.owner, ttl, st.now)
		noErr(t, err, "TryLease "+st.name)
		if got != st.want {
			t.Errorf("%s: TryLease(%s) = %v; want %v", st.name, st.owner, got, st.want)
		}
	}
	// Leases are independent by name.
	if ok, err := s.TryLease(ctx, "refresh/c2", "a", ttl, at(55)); err != nil || !ok {
		t.Errorf("TryLease(other name) = %v, %v; want true", ok, err)
	}
	noErr(t, s.ReleaseLease(ctx, "refresh/c1", "a"), "ReleaseLease(not owner)")
	if ok, _ := s.TryLease(ctx, "refresh/c1", "c", ttl, at(56)); ok {
		t.Errorf("ReleaseLease by a non-owner freed the lease")
	}
	noErr(t, s.ReleaseLease(ctx, "refresh/c1", "b"), "ReleaseLease(owner)")
	if ok, err := s.TryLease(ctx, "refresh/c1", "c", ttl, at(56)); err != nil || !ok {
		t.Errorf("TryLease after release = %v, %v; want true", ok, err)
	}
	noErr(t, s.ReleaseLease(ctx, "never-taken", "x"), "ReleaseLease(unknown)")
}

// testRenewLease: RenewLease extends a lease only while its owner holds
// it, also past its expiry while nobody took it; never once another owner
// took it (even lapsed since), or it was released.
func testRenewLease(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	ctx := t.Context()
	ttl := 30 * time.Second
	try := func(what, owner string, now time.Time, want bool) {
		t.Helper()
		got, err := s.TryLease(ctx, "poll/c1", owner, ttl, now)
		noErr(t, err, what)
		if got != want {
			t.Errorf("%s: TryLease(%s) = %v; want %v", what, owner, got, want)
		}
	}
	renew := func(what, name, owner string, now time.Time, want bool) {
		t.Helper()
		got, err := s.RenewLease(ctx, name, owner, ttl, now)
		noErr(t, err, what)
		if got != want {
			t.Errorf("%s: RenewLease(%s) = %v; want %v", what, owner, got, want)
		}
	}
	renew("never taken", "poll/c1", "a", at(0), false)
	try("free", "a", at(0), true)
	renew("held", "poll/c1", "a", at(20), true)
	try("renewed past the first ttl", "b", at(40), false)
	renew("by another owner", "poll/c1", "b", at(41), false)
	renew("past its expiry, nobody took it", "poll/c1", "a", at(100), true)
	try("renewed past its expiry", "b", at(110), false)
	try("lapsed", "b", at(130), true)
	renew("taken over", "poll/c1", "a", at(131), false)
	renew("taken over, lapsed again", "poll/c1", "a", at(500), false)
	try("still b's, lapsed", "a", at(501), true) // TryLease takes it
	renew("of another name", "poll/c2", "a", at(502), false)
	noErr(t, s.ReleaseLease(ctx, "poll/c1", "a"), "ReleaseLease(a)")
	renew("released", "poll/c1", "a", at(503), false)
}

func testLeaseExclusive(t *testing.T, open func(t *testing.T) store.Store) {
	s1, s2 := open(t), open(t)
	ctx := t.Context()
	// Round 1: a free lease; round 2: an expired one.
	for round, now := range []time.Time{at(0), at(100)} {
		const n = 20
		var winners atomic.Int32
		parallel(n, func(i int) {
			s := alternate(i, s1, s2)
			ok, err := s.TryLease(ctx, "org/example", fmt.Sprintf("owner-%d-%d", round, i), time.Minute, now)
			if err != nil {
				t.Errorf("TryLease: %v", err)
			}
			if ok {
				winners.Add(1)
			}
		})
		if got := winners.Load(); got != 1 {
			t.Errorf("round %d: %d of %d owners got the lease; want exactly 1", round, got, n)
		}
	}
}
