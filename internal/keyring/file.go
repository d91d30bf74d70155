package keyring

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// fileFormat is the JSON layout of a keyring file.
type fileFormat struct {
	Primary string    `json:"primary"`
	Keys    []fileKey `json:"keys"`
}

type fileKey struct {
	ID  string `json:"id"`
	Key string `json:"key"` // standard base64
}

// Generate returns a new random key whose id is derived from its bytes.
func Generate() (Key, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return Key{}, fmt.Errorf("keyring: generate key: %w", err)
	}
	return Key{ID: DeriveID(b), Bytes: b}, nil
}

// DeriveID returns the id used for a key that arrives without one: "k"
// followed by 8 hex digits of a SHA-256 hash of the key. It reveals nothing
// useful about the key.
func DeriveID(key []byte) string {
	h := sha256.New()
	h.Write([]byte("cardflow keyring key id\x00"))
	h.Write(key)
	return "k" + hex.EncodeToString(h.Sum(nil))[:8]
}

// FromBase64 decodes a key given as base64 text (such as an environment
// variable); standard and URL alphabets, padded or not, are accepted. The
// id is DeriveID of the bytes. Errors never repeat the input.
func FromBase64(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, fmt.Errorf("keyring: key is empty; want %d bytes encoded in base64", KeySize)
	}
	var b []byte
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err = enc.DecodeString(s); err == nil {
			break
		}
	}
	if err != nil {
		return Key{}, fmt.Errorf("keyring: key is not valid base64; want %d bytes encoded in base64 (e.g. from `openssl rand -base64 32`)", KeySize)
	}
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("keyring: key decodes to %d bytes; want %d", len(b), KeySize)
	}
	return Key{ID: DeriveID(b), Bytes: b}, nil
}

// Rotate returns a keyring whose primary is a new random key and which
// keeps every key of k, so that values sealed before still open.
func (k *Keyring) Rotate() (*Keyring, error) {
	for {
		nk, err := Generate()
		if err != nil {
			return nil, err
		}
		if _, taken := k.aeads[nk.ID]; taken {
			continue // an id collision is harmless but would be rejected
		}
		return New(nk, k.keys...)
	}
}

// LoadFile reads a keyring file written by WriteFile: JSON of the form
// {"primary":"id","keys":[{"id":"id","key":"base64"}]}.
func LoadFile(path string) (*Keyring, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	var f fileFormat
	if err := json.Unmarshal(data, &f); err != nil {
		// The decoder's error could quote the file's bytes; give the
		// position-free gist only.
		return nil, fmt.Errorf("keyring: %s is not a keyring file (invalid JSON)", path)
	}
	var primary *Key
	var older []Key
	for i, fk := range f.Keys {
		b, err := base64.StdEncoding.DecodeString(fk.Key)
		if err != nil {
			return nil, fmt.Errorf("keyring: %s: key %d (%q) is not valid base64", path, i, fk.ID)
		}
		key := Key{ID: fk.ID, Bytes: b}
		if fk.ID == f.Primary && primary == nil {
			primary = &key
			continue
		}
		older = append(older, key)
	}
	if primary == nil {
		return nil, fmt.Errorf("keyring: %s: primary key %q is not among its keys", path, f.Primary)
	}
	k, err := New(*primary, older...)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return k, nil
}

// WriteFile stores the keyring at path with mode 0600, atomically: the file
// is either the old one or the complete new one, even after a crash.
func (k *Keyring) WriteFile(path string) (err error) {
	f := fileFormat{Primary: k.primary}
	for _, key := range k.keys {
		f.Keys = append(f.Keys, fileKey{ID: key.ID, Key: base64.StdEncoding.EncodeToString(key.Bytes)})
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("keyring: encode: %w", err)
	}
	data = append(data, '\n')

	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("keyring: write %s: %w", path, err)
	}
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync() // make the rename durable; not all systems allow it
		_ = d.Close()
	}
	return nil
}
