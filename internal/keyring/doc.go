// Package keyring seals secrets at rest with AES-256-GCM.
//
// Every ciphertext starts with a format version byte and the id of the key
// that sealed it, followed by a random 96-bit nonce and the GCM output. The
// GCM additional data binds the value to its header and to a caller-chosen
// string (a connection id and field name), so a ciphertext copied to another
// row or field does not open. A Keyring holds one primary key, used to seal,
// and any number of older keys, kept so that values sealed before a rotation
// still open until they are re-sealed. Its owner may make another of its keys
// the primary (SealWith), or stop it sealing (StopSealing), when the key it
// seals with is no longer the one to use.
//
// The package also defines Secret, a string type that never prints itself.
// It uses the standard library only.
package keyring
