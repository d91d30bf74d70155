package card

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Filters are the Workflows-style filters of search-devices. Empty strings
// and nil booleans do not filter.
type Filters struct {
	Status                string
	Platform              string
	Manufacturer          string
	Model                 string
	OSVersion             string
	Registered            *bool
	SecureHardwarePresent *bool
	DiskEncryptionType    string
	// Search is a raw SCIM filter, combined with the others by "and".
	Search string
}

// FilterError reports a filter value BuildFilter refuses; Field is the
// search-devices input it came from.
type FilterError struct {
	Field  string
	Reason string
}

func (e *FilterError) Error() string { return e.Field + ": " + e.Reason }

// BuildFilter returns the SCIM filter for f: one `attr eq value` clause per
// filter, joined by "and", and the raw Search (in parentheses when other
// clauses come with it). String values are written as escaped string
// literals, so no value can end its literal early or inject an operator.
// A value that is not valid UTF-8 or is too long is an error.
func BuildFilter(f Filters) (string, error) {
	var clauses []string
	str := func(field, attr, value string) error {
		if value == "" {
			return nil
		}
		lit, reason := scimString(value)
		if reason != "" {
			return &FilterError{Field: field, Reason: reason}
		}
		clauses = append(clauses, attr+" eq "+lit)
		return nil
	}
	for _, sf := range []struct{ field, attr, value string }{
		{"status", "status", f.Status},
		{"platform", "profile.platform", f.Platform},
		{"manufacturer", "profile.manufacturer", f.Manufacturer},
		{"model", "profile.model", f.Model},
		{"osVersion", "profile.osVersion", f.OSVersion},
	} {
		if err := str(sf.field, sf.attr, sf.value); err != nil {
			return "", err
		}
	}
	for _, bf := range []struct {
		attr  string
		value *bool
	}{
		{"profile.registered", f.Registered},
		{"profile.secureHardwarePresent", f.SecureHardwarePresent},
	} {
		if bf.value != nil {
			clauses = append(clauses, fmt.Sprintf("%s eq %t", bf.attr, *bf.value))
		}
	}
	if err := str("diskEncryptionType", "profile.diskEncryptionType", f.DiskEncryptionType); err != nil {
		return "", err
	}
	if raw := strings.TrimSpace(f.Search); raw != "" {
		if len(clauses) > 0 {
			raw = "(" + raw + ")"
		}
		clauses = append(clauses, raw)
	}
	return strings.Join(clauses, " and "), nil
}

// maxFilterValue bounds one filter value (Okta's longest profile fields are
// a few hundred characters).
const maxFilterValue = 1024

// scimString writes s as a SCIM filter string literal (RFC 7644 §3.4.2.2:
// a JSON string): quote and backslash escaped, control characters as
// \u00XX, everything else as is. A value it refuses comes back with the
// reason instead.
func scimString(s string) (lit, reason string) {
	if !utf8.ValidString(s) {
		return "", "the value is not valid UTF-8"
	}
	if len(s) > maxFilterValue {
		return "", fmt.Sprintf("the value is longer than %d bytes", maxFilterValue)
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String(), ""
}
