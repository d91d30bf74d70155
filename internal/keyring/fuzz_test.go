package keyring

import (
	"bytes"
	"errors"
	"testing"
)

// fuzzKeyring is fixed so that the seed corpus in testdata/fuzz/FuzzOpen
// holds ciphertexts it can open.
func fuzzKeyring(t testing.TB) *Keyring {
	k, err := New(Key{ID: "kfuzz", Bytes: bytes.Repeat([]byte{0x42}, KeySize)},
		Key{ID: "kold", Bytes: bytes.Repeat([]byte{0x17}, KeySize)})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func FuzzOpen(f *testing.F) {
	k := fuzzKeyring(f)
	for _, s := range []struct {
		pt  string
		aad string
	}{{"refresh-token", "conn1/refresh_token"}, {"", ""}, {"x", "c/f"}} {
		ct, err := k.Seal([]byte(s.pt), s.aad)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(ct, s.aad)
	}
	f.Add([]byte{}, "c/f")
	f.Add([]byte{1, 255}, "c/f")
	f.Fuzz(func(t *testing.T, ct []byte, aad string) {
		if _, err := k.Open(ct, aad); err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrIntegrity) && !errors.Is(err, ErrUnknownKey) {
				t.Fatalf("Open error %v wraps none of the sentinels", err)
			}
			if errors.Is(err, ErrMalformed) && !k.NeedsReseal(ct) {
				t.Fatalf("NeedsReseal = false for a malformed value")
			}
		} else if id, err := k.KeyID(ct); err != nil || (id != "kfuzz" && id != "kold") {
			t.Fatalf("opened a value whose KeyID = %q, %v", id, err)
		}
		// Whatever the input, it seals and opens back as itself.
		sealed, err := k.Seal(ct, aad)
		if err != nil {
			t.Fatal(err)
		}
		back, err := k.Open(sealed, aad)
		if err != nil || !bytes.Equal(back, ct) {
			t.Fatalf("round trip = %x, %v; want %x", back, err, ct)
		}
	})
}
