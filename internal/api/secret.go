package api

import (
	"fmt"
	"log/slog"
)

// Secret is a secret a request body carries to the server (a client
// secret, a private key). It encodes to JSON as its value, since the
// request is where it must go, and decodes as any string; every other way
// of printing it (fmt, %#v, slog) shows "[redacted]". The server turns it
// into a keyring.Secret at once.
type Secret string

const redacted = "[redacted]"

// String redacts.
func (s Secret) String() string { return redacted }

// GoString redacts.
func (s Secret) GoString() string { return redacted }

// Format redacts, whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue redacts.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }
