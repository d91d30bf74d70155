package keyring

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testKey(t *testing.T, id string, fill byte) Key {
	t.Helper()
	return Key{ID: id, Bytes: bytes.Repeat([]byte{fill}, KeySize)}
}

func mustNew(t *testing.T, primary Key, older ...Key) *Keyring {
	t.Helper()
	k, err := New(primary, older...)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return k
}

func TestSealOpenRoundTrip(t *testing.T) {
	k := mustNew(t, testKey(t, "k1", 1))
	tests := []struct {
		name      string
		plaintext []byte
		aad       string
	}{
		{name: "empty", plaintext: []byte{}, aad: "c1/refresh_token"},
		{name: "short", plaintext: []byte("s3cret"), aad: "c1/client_secret"},
		{name: "binary", plaintext: []byte{0, 1, 2, 255, 254}, aad: ""},
		{name: "long", plaintext: bytes.Repeat([]byte("token."), 2000), aad: "c2/access_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, err := k.Seal(tt.plaintext, tt.aad)
			if err != nil {
				t.Fatalf("Seal: %v", err)
			}
			if len(tt.plaintext) >= 4 && bytes.Contains(ct, tt.plaintext) {
				t.Errorf("ciphertext contains the plaintext")
			}
			got, err := k.Open(ct, tt.aad)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if !bytes.Equal(got, tt.plaintext) {
				t.Errorf("Open = %q; want %q", got, tt.plaintext)
			}
			id, err := k.KeyID(ct)
			if err != nil || id != "k1" {
				t.Errorf("KeyID = %q, %v; want k1, nil", id, err)
			}
			if id, err := KeyIDOf(ct); err != nil || id != "k1" {
				t.Errorf("KeyIDOf = %q, %v; want k1, nil", id, err)
			}
		})
	}
}

func TestSealUsesFreshNonces(t *testing.T) {
	k := mustNew(t, testKey(t, "k1", 1))
	a, _ := k.Seal([]byte("same"), "c/f")
	b, _ := k.Seal([]byte("same"), "c/f")
	if bytes.Equal(a, b) {
		t.Errorf("two seals of the same value are identical; want different nonces")
	}
}

func TestOpenRejectsTampering(t *testing.T) {
	k := mustNew(t, testKey(t, "k1", 1))
	ct, err := k.Seal([]byte("refresh-token-value"), "c1/refresh_token")
	if err != nil {
		t.Fatal(err)
	}
	// Every byte after the header: nonce, body and tag.
	for i := 4; i < len(ct); i++ {
		bad := append([]byte(nil), ct...)
		bad[i] ^= 0x01
		_, err := k.Open(bad, "c1/refresh_token")
		if !errors.Is(err, ErrIntegrity) {
			t.Fatalf("flipped byte %d: err = %v; want ErrIntegrity", i, err)
		}
		if !strings.Contains(err.Error(), "tampered, moved or wrong key") {
			t.Errorf("flipped byte %d: error %q does not say what happened", i, err)
		}
		if strings.Contains(err.Error(), "refresh-token-value") {
			t.Errorf("error leaks the plaintext: %q", err)
		}
	}
}

func TestOpenRejectsMovedValue(t *testing.T) {
	k := mustNew(t, testKey(t, "k1", 1))
	ct, err := k.Seal([]byte("secret"), "conn-a/client_secret")
	if err != nil {
		t.Fatal(err)
	}
	for _, aad := range []string{"conn-b/client_secret", "conn-a/refresh_token", "", "conn-a/client_secretx"} {
		if _, err := k.Open(ct, aad); !errors.Is(err, ErrIntegrity) {
			t.Errorf("Open with aad %q: err = %v; want ErrIntegrity", aad, err)
		}
	}
}

func TestOpenWrongKey(t *testing.T) {
	sealer := mustNew(t, testKey(t, "k1", 1))
	ct, _ := sealer.Seal([]byte("secret"), "c/f")

	tests := []struct {
		name    string
		k       *Keyring
		wantErr error
		wantMsg []string
	}{
		{
			name:    "same id, other bytes",
			k:       mustNew(t, testKey(t, "k1", 2)),
			wantErr: ErrIntegrity,
			wantMsg: []string{`"k1"`, "tampered, moved or wrong key", `"c/f"`},
		},
		{
			name:    "key missing",
			k:       mustNew(t, testKey(t, "k2", 1), testKey(t, "k3", 3)),
			wantErr: ErrUnknownKey,
			wantMsg: []string{`"k1"`, `"k2"`, `"k3"`, "wrong or missing a key"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.k.Open(ct, "c/f")
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q; want it to contain %q", err, m)
				}
			}
		})
	}
}

func TestOpenRejectsSwappedKeyID(t *testing.T) {
	// Two keys with identical bytes: only the authenticated header tells
	// them apart, so rewriting the id must fail.
	k := mustNew(t, testKey(t, "k1", 7), testKey(t, "k2", 7))
	ct, _ := k.Seal([]byte("secret"), "c/f")
	bad := append([]byte(nil), ct...)
	bad[3] = '2'
	if _, err := k.Open(bad, "c/f"); !errors.Is(err, ErrIntegrity) {
		t.Errorf("err = %v; want ErrIntegrity", err)
	}
}

func TestOpenMalformed(t *testing.T) {
	k := mustNew(t, testKey(t, "k1", 1))
	ct, _ := k.Seal([]byte("x"), "c/f")
	tests := []struct {
		name string
		ct   []byte
	}{
		{name: "nil", ct: nil},
		{name: "one byte", ct: []byte{1}},
		{name: "bad version", ct: append([]byte{9}, ct[1:]...)},
		{name: "zero id length", ct: []byte{1, 0, 'a'}},
		{name: "id past end", ct: []byte{1, 10, 'k'}},
		{name: "bad id chars", ct: []byte{1, 2, 'k', '/'}},
		{name: "truncated body", ct: ct[:len(ct)-17]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := k.Open(tt.ct, "c/f"); !errors.Is(err, ErrMalformed) {
				t.Errorf("err = %v; want ErrMalformed", err)
			}
			if _, err := KeyIDOf(tt.ct); tt.name != "truncated body" && !errors.Is(err, ErrMalformed) {
				t.Errorf("KeyIDOf err = %v; want ErrMalformed", err)
			}
			if !k.NeedsReseal(tt.ct) {
				t.Errorf("NeedsReseal = false; want true for an unreadable value")
			}
		})
	}
}

func TestNew(t *testing.T) {
	good := testKey(t, "k1", 1)
	tests := []struct {
		name    string
		primary Key
		older   []Key
		wantErr string
	}{
		{name: "ok", primary: good, older: []Key{testKey(t, "k2", 2)}},
		{name: "short key", primary: Key{ID: "k1", Bytes: make([]byte, 16)}, wantErr: "16 bytes"},
		{name: "empty id", primary: Key{Bytes: good.Bytes}, wantErr: "must be 1 to"},
		{name: "bad id", primary: Key{ID: "a b", Bytes: good.Bytes}, wantErr: "may only hold"},
		{name: "long id", primary: Key{ID: strings.Repeat("a", 65), Bytes: good.Bytes}, wantErr: "must be 1 to"},
		{name: "duplicate id", primary: good, older: []Key{testKey(t, "k1", 2)}, wantErr: "appears twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.primary, tt.older...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New error = %v; want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewCopiesKeyBytes(t *testing.T) {
	key := testKey(t, "k1", 1)
	k := mustNew(t, key)
	ct, _ := k.Seal([]byte("v"), "a")
	key.Bytes[0] ^= 0xff
	if _, err := k.Open(ct, "a"); err != nil {
		t.Errorf("Open after the caller changed its key slice: %v", err)
	}
}

func TestRotate(t *testing.T) {
	old := mustNew(t, testKey(t, "k1", 1), testKey(t, "k0", 0))
	before, _ := old.Seal([]byte("sealed before"), "c/f")

	k, err := old.Rotate()
	if err != nil {
		t.Fatalf("Rotate: %v", err)
	}
	if k.PrimaryID() == "k1" || !strings.HasPrefix(k.PrimaryID(), "k") {
		t.Errorf("PrimaryID = %q; want a new derived id", k.PrimaryID())
	}
	if diff := cmp.Diff([]string{k.PrimaryID(), "k1", "k0"}, k.IDs()); diff != "" {
		t.Errorf("IDs mismatch (-want +got):\n%s", diff)
	}
	if !k.NeedsReseal(before) {
		t.Errorf("NeedsReseal(old value) = false; want true")
	}
	pt, err := k.Open(before, "c/f")
	if err != nil || string(pt) != "sealed before" {
		t.Fatalf("Open old value = %q, %v; want it readable", pt, err)
	}
	after, _ := k.Seal(pt, "c/f")
	if k.NeedsReseal(after) {
		t.Errorf("NeedsReseal(resealed) = true; want false")
	}
	if id, _ := k.KeyID(after); id != k.PrimaryID() {
		t.Errorf("KeyID(resealed) = %q; want %q", id, k.PrimaryID())
	}
	if _, err := old.Open(after, "c/f"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("old keyring opening a new value: err = %v; want ErrUnknownKey", err)
	} else if id := MissingKey(err); id != k.PrimaryID() {
		t.Errorf("MissingKey of the old keyring's error = %q; want %q, the key it lacks", id, k.PrimaryID())
	}
	if id := MissingKey(errors.New("other")); id != "" {
		t.Errorf("MissingKey of another error = %q; want none", id)
	}
}

func TestKeyNeverPrintsBytes(t *testing.T) {
	key := Key{ID: "k1", Bytes: []byte(strings.Repeat("Z", KeySize))}
	for _, s := range allRenderings(t, key) {
		if strings.Contains(s, "ZZZZ") || strings.Contains(s, "WlpaW") || strings.Contains(s, "90 90") {
			t.Errorf("key bytes printed: %q", s)
		}
		if !strings.Contains(s, "k1") {
			t.Errorf("rendering %q lacks the key id", s)
		}
	}
}

// TestCanOpen: CanOpen tells a value sealed with a key the keyring lacks
// (Open's ErrUnknownKey) or of a malformed header from one it has the key
// of, without decrypting: a value whose ciphertext was changed still
// passes, and Open alone finds that.
func TestCanOpen(t *testing.T) {
	sealer := mustNew(t, testKey(t, "k1", 1))
	ct, _ := sealer.Seal([]byte("secret"), "c/f")
	if err := sealer.CanOpen(ct, "c/f"); err != nil {
		t.Errorf("CanOpen of its own value: %v", err)
	}
	tampered := bytes.Clone(ct)
	tampered[len(tampered)-1] ^= 1
	if err := sealer.CanOpen(tampered, "c/f"); err != nil {
		t.Errorf("CanOpen of a changed value of its key: %v; want nil (it does not decrypt)", err)
	}
	other := mustNew(t, testKey(t, "k2", 1))
	if err := other.CanOpen(ct, "c/f"); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `"k1"`) {
		t.Errorf("CanOpen without the key: %v; want ErrUnknownKey naming k1", err)
	}
	if err := sealer.CanOpen([]byte("x"), "c/f"); !errors.Is(err, ErrMalformed) {
		t.Errorf("CanOpen of a malformed value: %v; want ErrMalformed", err)
	}
}
