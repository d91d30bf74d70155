package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
)

// KeySize is the length in bytes of every key (AES-256).
const KeySize = 32

const (
	formatV1  = 1
	nonceSize = 12
	maxIDLen  = 64
)

// Errors returned (wrapped) by Open and KeyID; test with errors.Is.
var (
	// ErrUnknownKey means the value was sealed with a key the keyring lacks.
	ErrUnknownKey = errors.New("keyring: unknown key id")
	// ErrIntegrity means authentication failed: the value was tampered
	// with, moved to another row or field, or the key is wrong.
	ErrIntegrity = errors.New("keyring: tampered, moved or wrong key")
	// ErrMalformed means the bytes are not a keyring ciphertext at all.
	ErrMalformed = errors.New("keyring: malformed ciphertext")
	// ErrSealingStopped means Seal refuses to seal: StopSealing was called
	// (the key the keyring sealed with is no longer the one to use, and
	// the keyring lacks the one that is).
	ErrSealingStopped = errors.New("keyring: sealing stopped")
)

// Key is one AES-256 key and its id. The id is stored in every ciphertext
// the key seals; it is public, the bytes are not.
type Key struct {
	ID    string
	Bytes []byte
}

// String returns the key id only.
func (k Key) String() string {
	return "keyring.Key{ID: " + fmt.Sprintf("%q", k.ID) + ", Bytes: [redacted]}"
}

// GoString returns the key id only.
func (k Key) GoString() string { return k.String() }

// Format prints the key id only, whatever the verb.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON encodes the key id only; key files use their own encoding.
func (k Key) MarshalJSON() ([]byte, error) {
	return fmt.Appendf(nil, `{"id":%q,"key":"[redacted]"}`, k.ID), nil
}

// Keyring seals with its primary key and opens with any of its keys. It is
// safe for concurrent use. It changes only by learning keys later added to
// the file it was loaded from (see LoadFile), and when told to seal with
// another of its keys (SealWith) or to stop sealing (StopSealing).
type Keyring struct {
	keys  []Key // the first primary, then the older keys in the order given
	aeads map[string]cipher.AEAD
	file  *fileSource // set by LoadFile
	// seal is the key Seal uses, or why it refuses to seal.
	seal atomic.Pointer[sealState]
}

// sealState is the key a keyring seals with, and, when err is set, why it
// refuses to seal.
type sealState struct {
	id   string
	aead cipher.AEAD
	err  error
}

// New returns a keyring that seals with primary and also opens values sealed
// with any of older. Key ids must be unique, 1–64 characters of
// [A-Za-z0-9._-], and every key must be KeySize bytes.
func New(primary Key, older ...Key) (*Keyring, error) {
	all := append([]Key{primary}, older...)
	k := &Keyring{aeads: make(map[string]cipher.AEAD, len(all))}
	for _, key := range all {
		if err := validID(key.ID); err != nil {
			return nil, err
		}
		if len(key.Bytes) != KeySize {
			return nil, fmt.Errorf("keyring: key %q is %d bytes; want %d", key.ID, len(key.Bytes), KeySize)
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("keyring: key id %q appears twice", key.ID)
		}
		aead, err := newAEAD(key.Bytes)
		if err != nil {
			return nil, fmt.Errorf("keyring: key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
		k.keys = append(k.keys, Key{ID: key.ID, Bytes: append([]byte(nil), key.Bytes...)})
	}
	k.seal.Store(&sealState{id: primary.ID, aead: k.aeads[primary.ID]})
	return k, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func validID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("keyring: key id %q must be 1 to %d characters", id, maxIDLen)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-'
		if !ok {
			return fmt.Errorf("keyring: key id %q may only hold letters, digits, '.', '_' and '-'", id)
		}
	}
	return nil
}

// PrimaryID returns the id of the key that Seal uses (or used before
// StopSealing).
func (k *Keyring) PrimaryID() string { return k.seal.Load().id }

// SealWith makes key id, which the keyring holds (or finds in its file),
// the primary key, and ends a StopSealing. It is for a server whose
// database says which key seals: a running server follows a rotation to
// a key it has.
func (k *Keyring) SealWith(id string) error {
	aead, ok := k.aeads[id]
	if !ok {
		aead, ok = k.learn(id)
	}
	if !ok {
		return &keyError{kind: ErrUnknownKey, key: id, msg: fmt.Sprintf("keyring: there is no key %q (the keyring has %s)", id, strings.Join(quoteAll(k.IDs()), ", "))}
	}
	k.seal.Store(&sealState{id: id, aead: aead})
	return nil
}

// StopSealing makes Seal fail with an error that wraps ErrSealingStopped
// and says why, until SealWith is called; Open still works. want is the
// id of the key the keyring lacks and would have to seal with (MissingKey
// names it).
func (k *Keyring) StopSealing(want, why string) {
	cur := k.seal.Load()
	k.seal.Store(&sealState{id: cur.id, aead: cur.aead, err: &keyError{kind: ErrSealingStopped, msg: why, key: want}})
}

// MissingKey returns the id of the key an error of the keyring lacks: the
// key that sealed a value that would not open (ErrUnknownKey), or the one
// to seal with of a keyring that stopped sealing (ErrSealingStopped); ""
// for any other error.
func MissingKey(err error) string {
	var ke *keyError
	if errors.As(err, &ke) && (ke.kind == ErrUnknownKey || ke.kind == ErrSealingStopped) {
		return ke.key
	}
	return ""
}

// SealErr returns the error Seal returns while sealing is stopped, or nil.
func (k *Keyring) SealErr() error { return k.seal.Load().err }

// IDs returns the ids of every key, the primary first.
func (k *Keyring) IDs() []string {
	keys := k.allKeys()
	ids := make([]string, len(keys))
	for i, key := range keys {
		ids[i] = key.ID
	}
	return ids
}

// Seal encrypts plaintext with the primary key, bound to aad (by
// convention connectionID + "/" + field). Open must be given the same aad.
func (k *Keyring) Seal(plaintext []byte, aad string) ([]byte, error) {
	st := k.seal.Load()
	if st.err != nil {
		return nil, st.err
	}
	aead := st.aead
	hdr := header(st.id)
	out := make([]byte, len(hdr), len(hdr)+nonceSize+len(plaintext)+aead.Overhead())
	copy(out, hdr)
	nonce := out[len(hdr) : len(hdr)+nonceSize]
	out = out[:len(hdr)+nonceSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("keyring: nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, additionalData(hdr, aad)), nil
}

// Open decrypts a value sealed by Seal with any key of the keyring and the
// same aad. Errors wrap ErrUnknownKey, ErrIntegrity or ErrMalformed, name
// the key id and aad, and never contain plaintext.
func (k *Keyring) Open(ct []byte, aad string) ([]byte, error) {
	aead, id, hdrLen, err := k.aeadFor(ct, aad)
	if err != nil {
		return nil, err
	}
	rest := ct[hdrLen:]
	if len(rest) < nonceSize+aead.Overhead() {
		return nil, &keyError{kind: ErrMalformed, msg: fmt.Sprintf("keyring: value for %q is truncated", aad)}
	}
	pt, err := aead.Open(nil, rest[:nonceSize], rest[nonceSize:], additionalData(ct[:hdrLen], aad))
	if err != nil {
		return nil, &keyError{kind: ErrIntegrity, msg: fmt.Sprintf(
			"keyring: cannot open value for %q with key %q: tampered, moved or wrong key", aad, id)}
	}
	return pt, nil
}

// CanOpen reports, without decrypting it, whether ct was sealed with a
// key of the keyring: nil, or the error Open gives for a key it lacks
// (ErrUnknownKey) or a header it cannot read (ErrMalformed).
func (k *Keyring) CanOpen(ct []byte, aad string) error {
	_, _, _, err := k.aeadFor(ct, aad)
	return err
}

// aeadFor returns the AEAD of the key that sealed ct, its id and the
// length of ct's header.
func (k *Keyring) aeadFor(ct []byte, aad string) (cipher.AEAD, string, int, error) {
	id, hdrLen, err := parseHeader(ct)
	if err != nil {
		return nil, "", 0, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		aead, ok = k.learn(id)
	}
	if !ok {
		return nil, id, 0, &keyError{kind: ErrUnknownKey, key: id, msg: fmt.Sprintf(
			"keyring: value for %q was sealed with key %q, which this keyring does not have (it has %s): the keyring is wrong or missing a key",
			aad, id, strings.Join(quoteAll(k.IDs()), ", "))}
	}
	return aead, id, hdrLen, nil
}

// KeyID returns the id of the key that sealed ct (see KeyIDOf).
func (k *Keyring) KeyID(ct []byte) (string, error) { return KeyIDOf(ct) }

// KeyIDOf returns the id of the key that sealed ct, read from its header,
// without needing any key; the error wraps ErrMalformed.
func KeyIDOf(ct []byte) (string, error) {
	id, _, err := parseHeader(ct)
	return id, err
}

// NeedsReseal reports whether ct should be opened and sealed again: it was
// sealed with a key other than the primary, or it is not readable at all.
func (k *Keyring) NeedsReseal(ct []byte) bool {
	st := k.seal.Load()
	id, n, err := parseHeader(ct)
	return err != nil || id != st.id || len(ct)-n < nonceSize+st.aead.Overhead()
}

type keyError struct {
	kind error
	msg  string
	key  string // the key it lacks (MissingKey)
}

func (e *keyError) Error() string { return e.msg }
func (e *keyError) Unwrap() error { return e.kind }

func header(id string) []byte {
	return append([]byte{formatV1, byte(len(id))}, id...)
}

func parseHeader(ct []byte) (id string, n int, err error) {
	if len(ct) < 2 {
		return "", 0, &keyError{kind: ErrMalformed, msg: "keyring: ciphertext is too short"}
	}
	if ct[0] != formatV1 {
		return "", 0, &keyError{kind: ErrMalformed, msg: fmt.Sprintf("keyring: unknown ciphertext format version %d", ct[0])}
	}
	l := int(ct[1])
	if l == 0 || l > maxIDLen || len(ct) < 2+l {
		return "", 0, &keyError{kind: ErrMalformed, msg: "keyring: ciphertext has a bad key id"}
	}
	id = string(ct[2 : 2+l])
	if validID(id) != nil {
		return "", 0, &keyError{kind: ErrMalformed, msg: "keyring: ciphertext has a bad key id"}
	}
	return id, 2 + l, nil
}

// additionalData authenticates the header too, so the key id cannot be
// swapped without detection.
func additionalData(hdr []byte, aad string) []byte {
	ad := make([]byte, 0, len(hdr)+len(aad))
	ad = append(ad, hdr...)
	return append(ad, aad...)
}

func quoteAll(ss []string) []string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return q
}
