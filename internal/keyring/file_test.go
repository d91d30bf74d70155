package keyring

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteLoadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keyring")
	k1, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	k, err := mustNew(t, k1).Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.WriteFile(path); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %v; want 0600", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries; want only the keyring (no temp files)", len(entries))
	}

	loaded, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile: %v", err)
	}
	if loaded.PrimaryID() != k.PrimaryID() {
		t.Errorf("PrimaryID = %q; want %q", loaded.PrimaryID(), k.PrimaryID())
	}
	if diff := cmp.Diff(k.IDs(), loaded.IDs()); diff != "" {
		t.Errorf("IDs mismatch (-want +got):\n%s", diff)
	}
	ct, _ := k.Seal([]byte("v"), "c/f")
	if pt, err := loaded.Open(ct, "c/f"); err != nil || string(pt) != "v" {
		t.Errorf("loaded keyring Open = %q, %v; want v", pt, err)
	}

	// Overwriting keeps the mode and replaces the content.
	k2, _ := loaded.Rotate()
	if err := k2.WriteFile(path); err != nil {
		t.Fatalf("second WriteFile: %v", err)
	}
	again, err := LoadFile(path)
	if err != nil || again.PrimaryID() != k2.PrimaryID() {
		t.Fatalf("LoadFile after rewrite = %v, %v; want primary %q", again, err, k2.PrimaryID())
	}
}

func TestLoadFileErrors(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(make([]byte, KeySize))
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{name: "not json", content: "secret-ish garbage", wantErr: "not a keyring file"},
		{name: "no primary", content: `{"primary":"k9","keys":[{"id":"k1","key":"` + key + `"}]}`, wantErr: `primary key "k9"`},
		{name: "bad base64", content: `{"primary":"k1","keys":[{"id":"k1","key":"%%%"}]}`, wantErr: "not valid base64"},
		{name: "short key", content: `{"primary":"k1","keys":[{"id":"k1","key":"AAAA"}]}`, wantErr: "3 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keyring")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadFile(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("LoadFile error = %v; want it to contain %q", err, tt.wantErr)
			}
			if tt.name != "short key" && !strings.Contains(err.Error(), "restore the file from its backup") {
				t.Errorf("LoadFile error = %v; want it to say to restore the file from its backup", err)
			}
			if strings.Contains(err.Error(), "secret-ish") {
				t.Errorf("error repeats file content: %q", err)
			}
		})
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Errorf("LoadFile(missing) = nil error; want one")
	}
}

func TestFromBase64(t *testing.T) {
	raw := make([]byte, KeySize)
	for i := range raw {
		raw[i] = byte(250 + i) // wraps: exercises '+' '/' vs '-' '_'
	}
	tests := []struct {
		name    string
		in      string
		wantErr string
	}{
		{name: "std", in: base64.StdEncoding.EncodeToString(raw)},
		{name: "std with newline", in: base64.StdEncoding.EncodeToString(raw) + "\n"},
		{name: "raw std", in: base64.RawStdEncoding.EncodeToString(raw)},
		{name: "url", in: base64.URLEncoding.EncodeToString(raw)},
		{name: "raw url", in: base64.RawURLEncoding.EncodeToString(raw)},
		{name: "empty", in: "  ", wantErr: "key is empty; want 32 bytes encoded in base64 (e.g. from `openssl rand -base64 32`)"},
		{name: "not base64", in: "not*base64*at*all", wantErr: "not valid base64"},
		{name: "too short", in: base64.StdEncoding.EncodeToString(raw[:16]), wantErr: "key decodes to 16 bytes; want 32 bytes encoded in base64 (e.g. from `openssl rand -base64 32`)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := FromBase64(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v; want it to contain %q", err, tt.wantErr)
				}
				if strings.TrimSpace(tt.in) != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.in)) {
					t.Errorf("error repeats the input: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FromBase64: %v", err)
			}
			if diff := cmp.Diff(raw, key.Bytes); diff != "" {
				t.Errorf("bytes mismatch (-want +got):\n%s", diff)
			}
			if want := DeriveID(raw); key.ID != want || len(want) != 9 {
				t.Errorf("ID = %q; want %q (k + 8 hex)", key.ID, want)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	a, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate()
	if a.ID == b.ID || string(a.Bytes) == string(b.Bytes) {
		t.Errorf("two generated keys are equal: %q, %q", a.ID, b.ID)
	}
	if len(a.Bytes) != KeySize || a.ID != DeriveID(a.Bytes) {
		t.Errorf("Generate = %d bytes, id %q; want %d bytes and the derived id", len(a.Bytes), a.ID, KeySize)
	}
}

// A server loads its keyring file once; `cardflow keys rotate` then adds a
// new primary to the file and re-seals every value with it. The running
// server must still open those values.
func TestLoadedKeyringLearnsKeysAddedToItsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring")
	first, err := mustNew(t, mustGenerate(t)).Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if err := first.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	running, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sealedBefore, _ := running.Seal([]byte("before"), "c/f")

	rotated, err := first.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if err := rotated.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	resealed, _ := rotated.Seal([]byte("after"), "c/f")

	tests := []struct {
		name string
		ct   []byte
		want string
	}{
		{"sealed with the new primary", resealed, "after"},
		{"sealed with the key loaded at start", sealedBefore, "before"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pt, err := running.Open(tt.ct, "c/f")
			if err != nil || string(pt) != tt.want {
				t.Errorf("Open = %q, %v; want %q", pt, err, tt.want)
			}
		})
	}
	if got := running.PrimaryID(); got != first.PrimaryID() {
		t.Errorf("PrimaryID after learning = %q; want the loaded primary %q (it still seals)", got, first.PrimaryID())
	}

	// A key in neither the keyring nor its file is still unknown, and a
	// tampered value still fails as tampered.
	stranger, _ := mustNew(t, mustGenerate(t)).Seal([]byte("x"), "c/f")
	if _, err := running.Open(stranger, "c/f"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open of a value sealed with a stranger key: %v; want ErrUnknownKey", err)
	}
	bad := append([]byte(nil), resealed...)
	bad[len(bad)-1] ^= 1
	if _, err := running.Open(bad, "c/f"); !errors.Is(err, ErrIntegrity) {
		t.Errorf("Open of a tampered value: %v; want ErrIntegrity", err)
	}

	// A keyring built in memory has no file to learn from.
	mem := mustNew(t, mustGenerate(t))
	if _, err := mem.Open(resealed, "c/f"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("in-memory keyring Open: %v; want ErrUnknownKey", err)
	}
}

func mustGenerate(t *testing.T) Key {
	t.Helper()
	k, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWithout(t *testing.T) {
	k1, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	old := mustNew(t, k1)
	sealedOld, err := old.Seal([]byte("s"), "aad")
	if err != nil {
		t.Fatal(err)
	}
	k, err := old.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Without(k.PrimaryID()); err == nil || !strings.Contains(err.Error(), "is the primary key") {
		t.Errorf("Without(primary) error = %v; want a refusal", err)
	}
	if _, err := k.Without("nope"); err == nil || !strings.Contains(err.Error(), "there is no key nope") {
		t.Errorf("Without(unknown) error = %v; want a refusal", err)
	}
	w, err := k.Without(k1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{k.PrimaryID()}, w.IDs()); diff != "" {
		t.Errorf("ids after Without (-want +got):\n%s", diff)
	}
	if _, err := w.Open(sealedOld, "aad"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("Open of a value sealed with the removed key: %v; want ErrUnknownKey", err)
	}
	sealedNew, err := k.Seal([]byte("t"), "aad")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.Open(sealedNew, "aad"); err != nil || string(got) != "t" {
		t.Errorf("Open with the primary after Without = %q, %v", got, err)
	}
}

// TestSealWithAndStopSealing: a keyring told to seal with another of its
// keys (one learnt from its file too) seals with it, lists it first and
// writes it as the primary; told to stop, it refuses to seal, still opens,
// and seals again once told which key to use.
func TestSealWithAndStopSealing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keyring")
	first := mustNew(t, mustGenerate(t))
	if err := first.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	running, err := LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := running.Seal([]byte("before"), "c/f")
	rotated, err := first.Rotate()
	if err != nil {
		t.Fatal(err)
	}
	if err := rotated.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if err := running.SealWith("k-none"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("SealWith a key the keyring lacks: %v; want ErrUnknownKey", err)
	}
	if err := running.SealWith(rotated.PrimaryID()); err != nil {
		t.Fatalf("SealWith the key added to the file: %v", err)
	}
	ct, err := running.Seal([]byte("after"), "c/f")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KeyIDOf(ct); id != rotated.PrimaryID() || running.PrimaryID() != id {
		t.Errorf("sealed with %s, PrimaryID %s; want %s", id, running.PrimaryID(), rotated.PrimaryID())
	}
	if diff := cmp.Diff(rotated.IDs(), running.IDs()); diff != "" {
		t.Errorf("IDs after SealWith (-want +got):\n%s", diff)
	}
	if !running.NeedsReseal(before) || running.NeedsReseal(ct) {
		t.Errorf("NeedsReseal: of the old key's value %v, of the new key's %v; want true, false", running.NeedsReseal(before), running.NeedsReseal(ct))
	}
	copyPath := filepath.Join(t.TempDir(), "keyring")
	if err := running.WriteFile(copyPath); err != nil {
		t.Fatal(err)
	}
	if again, err := LoadFile(copyPath); err != nil || again.PrimaryID() != rotated.PrimaryID() {
		t.Errorf("the keyring written after SealWith: %v, primary %v; want primary %s", err, again, rotated.PrimaryID())
	}

	if running.SealErr() != nil {
		t.Errorf("SealErr before StopSealing: %v", running.SealErr())
	}
	running.StopSealing("k-next", "restart with the current keyring")
	if _, err := running.Seal([]byte("x"), "c/f"); !errors.Is(err, ErrSealingStopped) || !strings.Contains(err.Error(), "restart with the current keyring") {
		t.Errorf("Seal after StopSealing: %v; want ErrSealingStopped saying why", err)
	} else if id := MissingKey(fmt.Errorf("refresh: %w", err)); id != "k-next" {
		t.Errorf("MissingKey of the error of Seal after StopSealing = %q; want k-next, the key it would seal with", id)
	}
	if err := running.SealErr(); !errors.Is(err, ErrSealingStopped) {
		t.Errorf("SealErr after StopSealing: %v; want ErrSealingStopped", err)
	}
	if pt, err := running.Open(before, "c/f"); err != nil || string(pt) != "before" {
		t.Errorf("Open after StopSealing = %q, %v; want before", pt, err)
	}
	if err := running.SealWith(first.PrimaryID()); err != nil {
		t.Fatal(err)
	}
	if ct, err := running.Seal([]byte("x"), "c/f"); err != nil || running.SealErr() != nil {
		t.Errorf("Seal after SealWith: %v, SealErr %v; want it to seal", err, running.SealErr())
	} else if id, _ := KeyIDOf(ct); id != first.PrimaryID() {
		t.Errorf("sealed with %s; want %s", id, first.PrimaryID())
	}
}
