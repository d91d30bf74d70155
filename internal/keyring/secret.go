package keyring

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
)

const redacted = "[redacted]"

// Secret is a string that never shows itself: every way of printing,
// logging or encoding it yields "[redacted]". Reveal returns the value.
// Decoding JSON into a Secret works as for any string.
//
// fmt cannot call methods on unexported struct fields, so keep Secrets in
// exported fields (or out of structs that get printed).
type Secret string

// Reveal returns the secret's value; call it only where the value is used.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]".
func (s Secret) String() string { return redacted }

// GoString returns "[redacted]".
func (s Secret) GoString() string { return redacted }

// Format writes "[redacted]" for every verb (%v, %+v, %#v, %s, %q, %x...).
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON encodes the string "[redacted]".
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]" (for encoders other than JSON).
func (s Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue makes slog record "[redacted]".
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// RedactURL is s as a message may quote it: its password, or for a URL
// that does not parse all that may be user information, replaced by
// "xxxxx", so that refusing a URL given with credentials does not print
// them.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	if i := strings.Index(s, "://"); i >= 0 {
		rest := s[i+3:]
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		if j := strings.LastIndex(rest[:end], "@"); j >= 0 {
			return s[:i+3] + "xxxxx" + rest[j:]
		}
	}
	return s
}
