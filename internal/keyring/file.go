package keyring

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
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
		return Key{}, fmt.Errorf("keyring: key is empty; want %d bytes encoded in base64 (e.g. from `openssl rand -base64 32`)", KeySize)
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
		return Key{}, fmt.Errorf("keyring: key decodes to %d bytes; want %d bytes encoded in base64 (e.g. from `openssl rand -base64 32`)", len(b), KeySize)
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
		return New(nk, k.allKeys()...)
	}
}

// Without returns a keyring with every key of k but id, which must be an
// older key: the primary cannot be removed.
func (k *Keyring) Without(id string) (*Keyring, error) {
	primaryID := k.PrimaryID()
	if id == primaryID {
		return nil, fmt.Errorf("keyring: key %s is the primary key, which seals every new value; rotate to a new key first", id)
	}
	var primary Key
	var older []Key
	found := false
	for _, key := range k.allKeys() {
		switch key.ID {
		case id:
			found = true
		case primaryID:
			primary = key
		default:
			older = append(older, key)
		}
	}
	if !found {
		return nil, fmt.Errorf("keyring: there is no key %s (the keyring has %s)", id, strings.Join(k.IDs(), ", "))
	}
	return New(primary, older...)
}

// LoadFile reads a keyring file written by WriteFile: JSON of the form
// {"primary":"id","keys":[{"id":"id","key":"base64"}]}. The keyring
// remembers the file: when asked to open a value sealed with a key it lacks,
// it reads the file again if the file has changed and learns the keys added
// since (as `keys rotate` adds them while servers run). It keeps sealing
// with the primary it loaded.
func LoadFile(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	primary, older, err := readFile(path)
	if err != nil {
		return nil, err
	}
	k, err := New(primary, older...)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	k.file = &fileSource{path: path, stamp: stampOf(st)}
	return k, nil
}

// restoreKeyring is the fix of a keyring file that cannot be read: the
// stored secrets and tokens can only be opened with its keys.
const restoreKeyring = "restore the file from its backup (it is not in the database's backups) and start again; without its keys the stored client secrets and tokens cannot be read"

// readFile parses a keyring file into its primary and older keys.
func readFile(path string) (Key, []Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Key{}, nil, fmt.Errorf("keyring: read %s: %w", path, err)
	}
	var f fileFormat
	if err := json.Unmarshal(data, &f); err != nil {
		// The decoder's error could quote the file's bytes; give the
		// position-free gist only.
		return Key{}, nil, fmt.Errorf("keyring: %s is not a keyring file (invalid JSON): %s", path, restoreKeyring)
	}
	var primary *Key
	var older []Key
	for i, fk := range f.Keys {
		b, err := base64.StdEncoding.DecodeString(fk.Key)
		if err != nil {
			return Key{}, nil, fmt.Errorf("keyring: %s: key %d (%q) is not valid base64: %s", path, i, fk.ID, restoreKeyring)
		}
		key := Key{ID: fk.ID, Bytes: b}
		if fk.ID == f.Primary && primary == nil {
			primary = &key
			continue
		}
		older = append(older, key)
	}
	if primary == nil {
		return Key{}, nil, fmt.Errorf("keyring: %s: primary key %q is not among its keys: %s", path, f.Primary, restoreKeyring)
	}
	return *primary, older, nil
}

// fileSource is the file a keyring was loaded from and the keys learnt
// from it since.
type fileSource struct {
	path string
	mu   sync.Mutex
	// stamp identifies the version of the file last read.
	stamp fileStamp
	// learnt maps the ids of keys found in the file after loading to
	// their AEADs; replaced, never modified, under mu.
	learnt atomic.Pointer[map[string]cipher.AEAD]
	keys   []Key // the learnt keys, in the order found
}

// fileStamp tells versions of a file apart: WriteFile replaces the file
// (a new inode), and any edit changes its time or size.
type fileStamp struct{ fi os.FileInfo }

func stampOf(fi os.FileInfo) fileStamp { return fileStamp{fi} }

func (s fileStamp) same(fi os.FileInfo) bool {
	return s.fi != nil && os.SameFile(s.fi, fi) && s.fi.ModTime().Equal(fi.ModTime()) && s.fi.Size() == fi.Size()
}

// learn returns the AEAD of key id if the keyring's file holds it, reading
// the file again only when it has changed since it was last read.
func (k *Keyring) learn(id string) (cipher.AEAD, bool) {
	if k.file == nil {
		return nil, false
	}
	fs := k.file
	if m := fs.learnt.Load(); m != nil {
		if a, ok := (*m)[id]; ok {
			return a, true
		}
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if m := fs.learnt.Load(); m != nil {
		if a, ok := (*m)[id]; ok {
			return a, true
		}
	}
	st, err := os.Stat(fs.path)
	if err != nil || fs.stamp.same(st) {
		return nil, false
	}
	primary, older, err := readFile(fs.path)
	if err != nil {
		return nil, false
	}
	fs.stamp = stampOf(st)
	next := map[string]cipher.AEAD{}
	if m := fs.learnt.Load(); m != nil {
		maps.Copy(next, *m)
	}
	for _, key := range append([]Key{primary}, older...) {
		if _, have := k.aeads[key.ID]; have {
			continue
		}
		if _, have := next[key.ID]; have {
			continue
		}
		if validID(key.ID) != nil || len(key.Bytes) != KeySize {
			continue
		}
		aead, err := newAEAD(key.Bytes)
		if err != nil {
			continue
		}
		next[key.ID] = aead
		fs.keys = append(fs.keys, Key{ID: key.ID, Bytes: append([]byte(nil), key.Bytes...)})
	}
	fs.learnt.Store(&next)
	a, ok := next[id]
	return a, ok
}

// allKeys returns the keyring's keys, the primary first, then the older
// keys, then any learnt from its file.
func (k *Keyring) allKeys() []Key {
	keys := slices.Clip(k.keys)
	if k.file != nil {
		k.file.mu.Lock()
		keys = append(keys, k.file.keys...)
		k.file.mu.Unlock()
	}
	if primary := k.PrimaryID(); keys[0].ID != primary {
		// SealWith made another key the primary.
		i := slices.IndexFunc(keys, func(key Key) bool { return key.ID == primary })
		keys = slices.Concat(keys[i:i+1], keys[:i], keys[i+1:])
	}
	return keys
}

// WriteFile stores the keyring at path with mode 0600, atomically: the file
// is either the old one or the complete new one, even after a crash.
func (k *Keyring) WriteFile(path string) (err error) {
	f := fileFormat{Primary: k.PrimaryID()}
	for _, key := range k.allKeys() {
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
