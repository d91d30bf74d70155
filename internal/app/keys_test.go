package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// newApp builds (without serving) an App on dir and returns it or the error.
func newApp(t *testing.T, dir string, edit func(*Config)) (*App, *emutest.SyncBuffer, *emutest.SyncBuffer, error) {
	t.Helper()
	logs, out := &emutest.SyncBuffer{}, &emutest.SyncBuffer{}
	cfg := Config{
		Listen:  "127.0.0.1:0",
		DataDir: dir,
		Logger:  slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stdout:  out,
	}
	if edit != nil {
		edit(&cfg)
	}
	a, err := New(context.Background(), cfg)
	if a != nil {
		t.Cleanup(a.Close)
	}
	return a, logs, out, err
}

func b64key(t *testing.T) string {
	t.Helper()
	k, err := keyring.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(k.Bytes)
}

func TestKeyringFirstStartAndWrongKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, logs, _, err := newApp(t, dir, nil)
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	id := a.Keyring.PrimaryID()
	a.Close()
	path := filepath.Join(dir, "keyring")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no keyring file after the first start: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("keyring file mode %v; want 0600", fi.Mode().Perm())
	}
	if !strings.Contains(logs.String(), "back it up") || !strings.Contains(logs.String(), path) {
		t.Errorf("the first start does not log where the keyring is and that it must be backed up:\n%s", logs)
	}

	// A second start with the same file works and does not log creation.
	a2, logs2, _, err := newApp(t, dir, nil)
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	a2.Close()
	if strings.Contains(logs2.String(), "created a new keyring") {
		t.Errorf("the second start created a keyring again")
	}

	tests := []struct {
		name    string
		prepare func(t *testing.T)
		key     string
		want    []string
	}{
		{name: "wrong CARDFLOW_KEY", key: b64key(t), want: []string{"wrong key", id, "not in the keyring from CARDFLOW_KEY", "use the keyring that holds key " + id, "no plaintext fallback"}},
		{name: "keyring file missing", prepare: func(t *testing.T) {
			if err := os.Rename(path, path+".bak"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Rename(path+".bak", path) })
		}, want: []string{"no keyring", id, path, "restore"}},
		{name: "malformed CARDFLOW_KEY", key: "not base64!", want: []string{"CARDFLOW_KEY", "base64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prepare != nil {
				tt.prepare(t)
			}
			_, _, _, err := newApp(t, dir, func(c *Config) { c.Key = keyring.Secret(tt.key) })
			if err == nil {
				t.Fatalf("the server started; want it to refuse")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if _, err := os.Stat(path + ".tmp"); err == nil {
				t.Errorf("a refused start left files behind")
			}
		})
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the keyring file is gone after refused starts: %v", err)
	}
	// keys rotate with a wrong key says the same, in words that fit a
	// command as well as a start.
	if _, err := RotateKeys(t.Context(), Config{DataDir: dir, Key: keyring.Secret(b64key(t))}, keyring.Secret(b64key(t))); err == nil ||
		!strings.Contains(err.Error(), "use the keyring that holds key "+id) || strings.Contains(err.Error(), "start with") {
		t.Errorf("keys rotate with a wrong key: %v; want it refused, saying to use the keyring that holds key %s", err, id)
	}
}

func TestAPITokenFirstStart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, _, out, err := newApp(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	line := out.String()
	_, tok, ok := strings.Cut(strings.TrimSpace(line), "): ")
	if !ok || !strings.HasPrefix(tok, "cf_") {
		t.Fatalf("first start printed %q; want the API token", line)
	}
	file, err := os.ReadFile(filepath.Join(dir, "api-token"))
	if err != nil || strings.TrimSpace(string(file)) != tok {
		t.Errorf("api-token file holds %q (%v); want the printed token", file, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "api-token")); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("api-token file mode is not 0600")
	}
	a2, _, out2, err := newApp(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out2.String(), tok) {
		t.Errorf("the second start printed the token again")
	}
	if !isAPIToken(t, a2, tok) || isAPIToken(t, a2, tok+"x") {
		t.Errorf("the stored hash does not match exactly the printed token")
	}
	// The database holds the hash only.
	db, _ := os.ReadFile(filepath.Join(dir, "cardflow.db"))
	wal, _ := os.ReadFile(filepath.Join(dir, "cardflow.db-wal"))
	if strings.Contains(string(db)+string(wal), tok) {
		t.Errorf("the database holds the API token in plaintext")
	}
	// A console signed in with the token, and a person's.
	now := time.Now()
	for _, ss := range []*store.Session{
		{ID: "bootstrap-session", Actor: store.Actor{Type: store.ActorBootstrap}, Role: "admin"},
		{ID: "ada-session", Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Role: "admin"},
	} {
		ss.CSRF, ss.CreatedAt, ss.ExpiresAt, ss.LastSeen = "csrf", now, now.Add(time.Hour), now
		if err := a2.Store.CreateSession(t.Context(), ss); err != nil {
			t.Fatal(err)
		}
	}
	a2.Close()

	// CARDFLOW_API_TOKEN replaces it, and signs out the consoles signed
	// in with the replaced token, not people's.
	a3, _, _, err := newApp(t, dir, func(c *Config) { c.APIToken = "configured-token-0123456789" })
	if err != nil {
		t.Fatal(err)
	}
	if !isAPIToken(t, a3, "configured-token-0123456789") || isAPIToken(t, a3, tok) {
		t.Errorf("the configured token does not replace the generated one")
	}
	if _, err := a3.Store.GetSession(t.Context(), "bootstrap-session"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the console session signed in with the replaced token: %v; want it ended (not found)", err)
	}
	if _, err := a3.Store.GetSession(t.Context(), "ada-session"); err != nil {
		t.Errorf("a person's console session after the API token was replaced: %v; want it kept", err)
	}
	a3.Close()
	// The file with the replaced token is gone: it no longer works.
	if _, err := os.Stat(filepath.Join(dir, "api-token")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the api-token file with the replaced token is still there (%v)", err)
	}

	// A start without CARDFLOW_API_TOKEN keeps the configured token and
	// does not send the operator to a file that does not hold it.
	a4, logs4, _, err := newApp(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !isAPIToken(t, a4, "configured-token-0123456789") {
		t.Errorf("a start without CARDFLOW_API_TOKEN dropped the configured token")
	}
	if l := logs4.String(); strings.Contains(l, "api-token file") || !strings.Contains(l, "CARDFLOW_API_TOKEN") {
		t.Errorf("the start logs %q; want it to say the token is the one set with CARDFLOW_API_TOKEN, not in a file", l)
	}
}

// TestAPITokenRestoredWithoutItsFile: a database restored onto a fresh
// data directory without its api-token file keeps the generated token; the
// start says where it was and how to replace it when it is lost.
func TestAPITokenRestoredWithoutItsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, _, _, err := newApp(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	if err := os.Remove(filepath.Join(dir, "api-token")); err != nil {
		t.Fatal(err)
	}
	_, logs, _, err := newApp(t, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); !strings.Contains(l, "restored from a backup") || !strings.Contains(l, "set CARDFLOW_API_TOKEN to a new token") {
		t.Errorf("the start logs %q; want it to allow for a restored database and say how to replace a lost token", l)
	}
}

func TestKeysRotate(t *testing.T) {
	t.Parallel()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	c := h.connect("Rotated")
	oldID := h.app.Keyring.PrimaryID()
	h.stop()

	rep, err := RotateKeys(context.Background(), Config{DataDir: h.dataDir}, "")
	if err != nil {
		t.Fatalf("rotate: %v", err)
	}
	if rep.NewKeyID == oldID || rep.Connections != 1 || rep.Values < 3 {
		t.Errorf("got report %+v; want a new key and 1 connection with its secret and tokens re-sealed", rep)
	}
	// Every sealed value now carries the new key id.
	st, err := openStore(context.Background(), &Config{DataDir: h.dataDir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	row, err := st.GetConnection(context.Background(), c.ID)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string][]byte{"client secret": row.SealedClientSecret, "refresh token": row.SealedRefreshToken, "access token": row.SealedAccessToken} {
		if id, _ := keyring.KeyIDOf(v); id != rep.NewKeyID {
			t.Errorf("%s sealed with key %q; want %q", name, id, rep.NewKeyID)
		}
	}
	// The server starts with the rotated keyring and the connection works.
	h2 := startServer(t, h.emu, h.dataDir, nil)
	h2.connectionWorks(c.ID, "after rotation")
	// A second rotation re-seals again and keeps every key.
	h2.stop()
	rep2, err := RotateKeys(context.Background(), Config{DataDir: h.dataDir}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep2.KeyIDs) != 3 {
		t.Errorf("after two rotations the keyring has %v; want 3 keys", rep2.KeyIDs)
	}
}

// TestKeysRemove: keys list counts what each key seals, event hook secrets
// included; keys rotate re-seals those too; an older key is removed only
// once nothing is sealed with it (keys reseal re-seals what a server sealed
// with it after the rotation, without adding a key), and the server starts
// and works without it.
func TestKeysRemove(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := startHarness(t, oktaemu.Config{Devices: 1}, nil)
	c := h.connect("Kept")
	oldKeyring := h.app.Keyring
	oldID := oldKeyring.PrimaryID()
	h.stop()

	st, err := openStore(ctx, &Config{DataDir: h.dataDir}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	putHookSecret := func(kr *keyring.Keyring, secret string) {
		t.Helper()
		sealed, err := kr.Seal([]byte(secret), events.SecretAAD(c.ID))
		if err != nil {
			t.Fatal(err)
		}
		if err := st.PutEventHook(ctx, &store.EventSource{ConnectionID: c.ID, HookPath: "p-" + secret, SealedSecret: sealed, UpdatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	putHookSecret(oldKeyring, "first")

	before, err := ListKeys(ctx, Config{DataDir: h.dataDir})
	if err != nil {
		t.Fatal(err)
	}
	// The client secret, the refresh, access and ID tokens, the hook secret and the check value.
	if len(before.Keys) != 1 || before.Keys[0].ID != oldID || !before.Keys[0].Primary || before.Keys[0].Values != 6 {
		t.Errorf("keys before rotation: %+v; want key %s, primary, sealing 6 values", before.Keys, oldID)
	}
	if _, err := RemoveKey(ctx, Config{DataDir: h.dataDir}, oldID); err == nil || !strings.Contains(err.Error(), "is the primary key") {
		t.Errorf("removing the primary key: %v; want a refusal", err)
	}

	rotated := time.Now()
	at := func(d time.Duration) func() time.Time { return func() time.Time { return rotated.Add(d) } }
	rep, err := RotateKeys(ctx, Config{DataDir: h.dataDir, Now: at(0)}, "")
	if err != nil {
		t.Fatal(err)
	}
	if rep.EventHooks != 1 {
		t.Errorf("rotation report %+v; want the event hook secret re-sealed", rep)
	}
	// Until every running server has looked at the database again, one may
	// still seal with the old key: its removal waits.
	_, err = RemoveKey(ctx, Config{DataDir: h.dataDir, Now: at(5 * time.Second)}, oldID)
	if err == nil || !strings.Contains(err.Error(), "moved the database to key "+rep.NewKeyID+" 5s ago") || !strings.Contains(err.Error(), "run keys remove again in 8s") {
		t.Errorf("removing the old key 5 s after the rotation: %v; want a refusal that says to wait 8 s more", err)
	}
	// A server that had not looked yet sealed with the old key.
	putHookSecret(oldKeyring, "second")
	later := Config{DataDir: h.dataDir, Now: at(keyFollowWait)}
	_, err = RemoveKey(ctx, later, oldID)
	if err == nil || !strings.Contains(err.Error(), "still seals 1 stored value (") || !strings.Contains(err.Error(), "keys reseal") {
		t.Fatalf("removing a key still in use: %v; want a refusal that says to re-seal", err)
	}
	// keys reseal re-seals it with the database's current key, adding none.
	resealed, err := ResealKeys(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if resealed.KeyID != rep.NewKeyID || resealed.Values != 1 || resealed.EventHooks != 1 || resealed.Unchanged != 4 {
		t.Errorf("re-seal report %+v; want the hook secret re-sealed with %s, the connection's 4 values unchanged", resealed, rep.NewKeyID)
	}
	after, err := RemoveKey(ctx, later, oldID)
	if err != nil {
		t.Fatalf("removing an unused key: %v", err)
	}
	if after.Removed != oldID || len(after.Keys) != 1 || after.Keys[0].ID != rep.NewKeyID {
		t.Errorf("after removal: %+v; want the new key alone", after)
	}
	kr, err := keyring.LoadFile(filepath.Join(h.dataDir, keyringFile))
	if err != nil {
		t.Fatal(err)
	}
	src, err := st.GetEventSource(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := kr.Open(src.SealedSecret, events.SecretAAD(c.ID)); err != nil || string(got) != "second" {
		t.Errorf("the hook secret with the keyring left: %q, %v", got, err)
	}
	// The server starts without the removed key and the connection works.
	h2 := startServer(t, h.emu, h.dataDir, nil)
	h2.connectionWorks(c.ID, "after removing the old key")
	// With CARDFLOW_KEY the operator edits the key list, not cardflow.
	h2.stop()
	var file struct {
		Primary string `json:"primary"`
		Keys    []struct{ ID, Key string }
	}
	data, err := os.ReadFile(filepath.Join(h.dataDir, keyringFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	var envKeys []string
	for _, k := range file.Keys {
		envKeys = append(envKeys, k.Key)
	}
	_, err = RemoveKey(ctx, Config{DataDir: h.dataDir, Key: keyring.Secret(strings.Join(envKeys, ","))}, oldID)
	if err == nil || !strings.Contains(err.Error(), "the keys come from CARDFLOW_KEY") {
		t.Errorf("RemoveKey with CARDFLOW_KEY set: %v; want a refusal that says to edit CARDFLOW_KEY", err)
	}
}

// connectionWorks checks connection id with its health check (a token
// refresh and a call to the org), naming when in the failure.
func (h *harness) connectionWorks(id, when string) {
	h.t.Helper()
	var test struct {
		OK bool `json:"ok"`
	}
	if code, data := h.call("POST", "/api/v1/connections/"+id+"/test", nil, &test); code != 200 || !test.OK {
		h.t.Errorf("connection test %s: %d %s", when, code, data)
	}
}

// TestKeysCommandsOnADirectoryWithoutDatabase: the keys commands pointed at
// a directory without a database (a mistyped -data-dir) say so and leave
// no empty database behind.
func TestKeysCommandsOnADirectoryWithoutDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	cmds := map[string]func() error{
		"list":   func() error { _, err := ListKeys(ctx, Config{DataDir: dir}); return err },
		"rotate": func() error { _, err := RotateKeys(ctx, Config{DataDir: dir}, ""); return err },
		"remove": func() error { _, err := RemoveKey(ctx, Config{DataDir: dir}, "k1"); return err },
	}
	for name, run := range cmds {
		err := run()
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "cardflow.db")+" does not exist") || !strings.Contains(err.Error(), "-data-dir") {
			t.Errorf("keys %s on a directory without a database: %v; want it to say there is no database there and to check -data-dir", name, err)
		}
		if entries, _ := os.ReadDir(dir); len(entries) > 0 {
			t.Errorf("keys %s left %d file(s) in a directory without a database; want none", name, len(entries))
		}
	}
}

// TestSSOChangeSignsOutItsSessions: a server restarted with other single
// sign-on settings (another provider, app or group-to-role mapping, or
// none) ends the console sessions people opened under the old ones, whose
// roles came from them; the bootstrap admin's stay.
func TestSSOChangeSignsOutItsSessions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Each start reads the provider's discovery document: its issuer is
	// a port of this test's that hangs up on every connection, which
	// fails the read at once, where a name to look up would wait on the
	// machine's DNS. (A port closed again could be taken by another
	// test's server meanwhile, whose answer is another failure.)
	hangUp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hangUp.Close() })
	go func() {
		for {
			c, err := hangUp.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	issuer := "http://" + hangUp.Addr().String()
	sso := func(roles ...string) func(*Config) {
		return func(c *Config) {
			if len(roles) > 0 {
				c.OIDCIssuer, c.OIDCClientID, c.OIDCClientSecret, c.OIDCRoles = issuer, "0oacardflow", "secret", roles
			}
		}
	}
	sessions := func(a *App) {
		t.Helper()
		now := time.Now()
		for _, ss := range []*store.Session{
			{ID: "ada", Actor: store.Actor{Type: store.ActorUser, Login: "ada@example.com"}, Role: "admin"},
			{ID: "bob", Actor: store.Actor{Type: store.ActorUser, Login: "bob@example.com"}, Role: "operator"},
			{ID: "boot", Actor: store.Actor{Type: store.ActorBootstrap}, Role: "admin"},
		} {
			ss.CSRF, ss.CreatedAt, ss.ExpiresAt, ss.LastSeen = "csrf", now, now.Add(time.Hour), now
			if err := a.Store.CreateSession(t.Context(), ss); err != nil && !errors.Is(err, store.ErrConflict) {
				t.Fatal(err)
			}
		}
	}
	left := func(a *App) (ids []string) {
		t.Helper()
		for _, id := range []string{"ada", "bob", "boot"} {
			if _, err := a.Store.GetSession(t.Context(), id); err == nil {
				ids = append(ids, id)
			}
		}
		return ids
	}
	steps := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"first start", sso("admin=cardflow-admins", "operator=cardflow-ops"), []string{"ada", "bob", "boot"}},
		{"same settings", sso("operator=cardflow-ops", "admin=cardflow-admins"), []string{"ada", "bob", "boot"}},
		{"a group no longer admin", sso("operator=cardflow-admins", "operator=cardflow-ops"), []string{"boot"}},
		{"single sign-on off", sso(), []string{"boot"}},
	}
	for _, st := range steps {
		a, logs, _, err := newApp(t, dir, st.edit)
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.name == "first start" {
			sessions(a)
			a.Close()
			if a, logs, _, err = newApp(t, dir, st.edit); err != nil {
				t.Fatal(err)
			}
		}
		if got := left(a); !slices.Equal(got, st.want) {
			t.Errorf("%s: sessions left %v; want %v\n%s", st.name, got, st.want, logs)
		}
		if len(st.want) == 1 && !strings.Contains(logs.String(), "single sign-on settings changed") {
			t.Errorf("%s: the start does not say why people were signed out:\n%s", st.name, logs)
		}
		if a.cfg.OIDCIssuer != "" && !strings.Contains(logs.String(), "discovery document could not be read at start") {
			t.Errorf("%s: the start's discovery did not fail at once at %s:\n%s", st.name, issuer, logs)
		}
		sessions(a)
		a.Close()
	}
}

// isAPIToken reports whether a's API and console take tok for the API token.
func isAPIToken(t *testing.T, a *App, tok string) bool {
	t.Helper()
	ok, err := a.Web.CheckToken(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
