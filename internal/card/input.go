package card

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/inputtext"
	"github.com/cardflow/cardflow/internal/problem"
)

// CheckInput validates in against the card's inputs and returns a normalised
// copy: defaults applied, enum values in their canonical spelling, booleans
// and numbers given as strings (as the CLI sends them) converted. A problem
// names the first field in error (code invalid_input, detail "field").
func (c Card) CheckInput(in map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(c.Inputs))
	for _, k := range slices.Sorted(maps.Keys(in)) {
		if !slices.ContainsFunc(c.Inputs, func(i Input) bool { return i.Name == k }) {
			names := make([]string, len(c.Inputs))
			for i, inp := range c.Inputs {
				names[i] = inp.Name
			}
			return nil, invalidField(k, "card %s has no input %q", c.Ref, k).
				WithRemedy("remove it or fix its spelling; the card's inputs are %s", strings.Join(names, ", "))
		}
	}
	for _, spec := range c.Inputs {
		v, present := in[spec.Name]
		if !present || v == nil || v == "" || spec.Type == TypeString && blank(v) {
			if spec.Required {
				return nil, requiredInput(c, spec, present && v != nil)
			}
			if spec.Default != nil {
				out[spec.Name] = spec.Default
			}
			continue
		}
		nv, err := convert(spec, v)
		if err != nil {
			return nil, invalidField(spec.Name, "input %q of card %s %s", spec.Name, c.Ref, err.Error()).
				WithRemedy("give %s %s", spec.Name, valueKind(spec))
		}
		out[spec.Name] = nv
	}
	if c.check != nil {
		if err := c.check(out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// blank reports whether v is text of spaces only, which a string input
// reads as empty (its value is trimmed).
func blank(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

// requiredInput is the problem of a required input that is absent or, when
// given, empty: refused before the card's run is recorded or Okta is
// called.
func requiredInput(c Card, spec Input, given bool) *problem.Error {
	remedy := spec.Remedy
	if remedy == "" {
		remedy = "give " + spec.Name + " " + valueKind(spec)
	}
	if given {
		return invalidField(spec.Name, "input %q of card %s is empty: the card needs it", spec.Name, c.Ref).
			WithRemedy("%s", remedy)
	}
	return invalidField(spec.Name, "card %s needs input %q: %s", c.Ref, spec.Name, spec.Description).
		WithRemedy("%s", remedy)
}

func invalidField(field, format string, args ...any) *problem.Error {
	return problem.New(problem.InvalidInput, format, args...).WithDetail("field", field)
}

// valueKind says what value an input takes, for a remedy: "one of first,
// first200, all", "true or false", "a number".
func valueKind(spec Input) string {
	switch {
	case len(spec.Enum) > 0:
		return "one of " + strings.Join(spec.Enum, ", ")
	case spec.Type == TypeBool:
		return "true or false"
	case spec.Type == TypeNumber:
		return "a number"
	case spec.Type == TypeList:
		return "a list"
	case spec.Type == TypeObject:
		return "an object"
	case spec.Type == TypeString:
		return "a string"
	}
	return "a value"
}

// convert checks one value against its input spec. Text given for a
// number, bool, list or object input (as the CLI and the console send it)
// is read by inputtext's one rule.
func convert(spec Input, v any) (any, error) {
	if s, ok := v.(string); ok && spec.Type != TypeString {
		t, err := inputtext.Parse(spec.Type, s)
		if err != nil {
			return nil, fmt.Errorf("must be a %s: %v", spec.Type, err)
		}
		v = t
	}
	switch spec.Type {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("must be a string, not %s", kind(v))
		}
		s = strings.TrimSpace(s)
		if len(spec.Enum) > 0 {
			for _, e := range spec.Enum {
				if strings.EqualFold(e, s) {
					return e, nil
				}
			}
			return nil, fmt.Errorf("must be one of %s, not %q", strings.Join(spec.Enum, ", "), s)
		}
		return s, nil
	case TypeBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("must be true or false, not %s", kind(v))
	case TypeNumber:
		switch n := v.(type) {
		case float64:
			return n, nil
		case int:
			return float64(n), nil
		case int64:
			return float64(n), nil
		case json.Number:
			if f, err := n.Float64(); err == nil {
				return f, nil
			}
		}
		return nil, fmt.Errorf("must be a number, not %s", kind(v))
	case TypeList:
		switch l := v.(type) {
		case []any:
			return l, nil
		case []string:
			out := make([]any, len(l))
			for i, s := range l {
				out[i] = s
			}
			return out, nil
		}
		return nil, fmt.Errorf("must be a list, not %s", kind(v))
	case TypeObject:
		switch m := v.(type) {
		case map[string]any:
			return m, nil
		case map[string]string:
			out := make(map[string]any, len(m))
			for k, s := range m {
				out[k] = s
			}
			return out, nil
		}
		return nil, fmt.Errorf("must be an object, not %s", kind(v))
	}
	return v, nil
}

// kind names the JSON type of v.
func kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case float64, int, int64, json.Number:
		return "a number"
	case []any, []string:
		return "a list"
	case map[string]any, map[string]string:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
