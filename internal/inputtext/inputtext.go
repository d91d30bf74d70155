// Package inputtext is the one rule for inputs given as text: a command
// line's --input name=value, a console form field, or a string in a JSON
// request for an input declared as a number, a boolean, a list or an
// object. Card runs and flow runs read the same text the same way, so a
// value means the same thing whichever client sent it.
package inputtext

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The input types that text converts to; any other type (a string) takes
// the text as it is.
const (
	Number = "number"
	Bool   = "bool"
	List   = "list"
	Object = "object"
)

// Parse converts s to the input type typ:
//
//   - number: a finite decimal or exponent number ("90", "1.5", "1e3"), as float64
//   - bool: true/false, yes/no or 1/0, in any case
//   - list: a JSON array (`[1, "two"]`), or else strings separated by
//     commas ("a, b"); "" is the empty list
//   - object: a JSON object
//
// Surrounding spaces are ignored, except in the string of a type that is
// none of these, which is returned unchanged.
func Parse(typ, s string) (any, error) {
	t := strings.TrimSpace(s)
	switch typ {
	case Number:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("%q is not a number", s)
		}
		return f, nil
	case Bool:
		switch strings.ToLower(t) {
		case "true", "yes", "1":
			return true, nil
		case "false", "no", "0":
			return false, nil
		}
		return nil, fmt.Errorf("%q is not true or false (yes/no and 1/0 work too)", s)
	case List:
		if strings.HasPrefix(t, "[") {
			var l []any
			if err := json.Unmarshal([]byte(t), &l); err != nil {
				return nil, fmt.Errorf("%q is not a JSON array: %v", s, err)
			}
			return l, nil
		}
		if t == "" {
			return []any{}, nil
		}
		parts := strings.Split(t, ",")
		l := make([]any, len(parts))
		for i, p := range parts {
			l[i] = strings.TrimSpace(p)
		}
		return l, nil
	case Object:
		var m map[string]any
		if err := json.Unmarshal([]byte(t), &m); err != nil || m == nil {
			if err == nil {
				err = fmt.Errorf("want {...}")
			}
			return nil, fmt.Errorf("%q is not a JSON object: %v", s, err)
		}
		return m, nil
	}
	return s, nil
}
