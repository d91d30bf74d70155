package flow

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/inputtext"
	"github.com/cardflow/cardflow/internal/problem"
)

// ParseInputs converts inputs given as text (the CLI's --input k=v) to the
// types the document declares: numbers, booleans (true/false, yes/no, 1/0)
// and lists (a JSON array, or comma-separated strings). Unknown names and
// values that do not convert are reported together as invalid_input.
func ParseInputs(doc *Document, raw map[string]string) (map[string]any, error) {
	out := make(map[string]any, len(raw))
	var probs []string
	for _, name := range slices.Sorted(maps.Keys(raw)) {
		s := raw[name]
		in, ok := doc.Input(name)
		if !ok {
			probs = append(probs, unknownInput(doc, name))
			continue
		}
		v, err := parseInputText(in, s)
		if err != nil {
			probs = append(probs, fmt.Sprintf("input %q: %v", name, err))
			continue
		}
		out[name] = v
	}
	if len(probs) > 0 {
		return nil, inputsProblem(doc, probs)
	}
	return out, nil
}

// parseInputText reads s by inputtext's rule, the one card inputs follow.
func parseInputText(in *InputDef, s string) (any, error) {
	v, err := inputtext.Parse(in.Type, s)
	if err != nil {
		return nil, err
	}
	return normalize(v)
}

// CheckInputs reports the problems resolveInputs finds in inputs (unknown
// names, missing required inputs, wrong types), so that a run can be
// refused before it is queued, as its plan would be.
func (d *Document) CheckInputs(inputs map[string]any) error {
	_, err := d.resolveInputs(inputs)
	return err
}

// resolveInputs checks a run's inputs against the document: unknown names,
// missing required inputs, required strings given empty or as spaces and
// wrong types are invalid_input; absent
// optional inputs take their default. The result holds every declared
// input that has a value.
func (d *Document) resolveInputs(given map[string]any) (map[string]any, error) {
	out := map[string]any{}
	var probs []string
	for _, name := range slices.Sorted(maps.Keys(given)) {
		if _, ok := d.Input(name); !ok {
			probs = append(probs, unknownInput(d, name))
		}
	}
	for _, in := range d.Inputs {
		v, ok := given[in.Name]
		if !ok || v == nil {
			switch {
			case in.HasDefault:
				out[in.Name] = in.Default
			case in.Required:
				probs = append(probs, fmt.Sprintf("input %q is required: give it a %s value", in.Name, in.Type))
			}
			continue
		}
		c, err := coerceInput(in, v)
		if err != nil {
			probs = append(probs, fmt.Sprintf("input %q: %v", in.Name, err))
			continue
		}
		if s, ok := c.(string); ok && in.Required && strings.TrimSpace(s) == "" {
			// As a card refuses a required input given empty: a run
			// would only fail at its first use, or act on "".
			probs = append(probs, fmt.Sprintf("input %q of flow %s is empty: the flow needs it", in.Name, d.Name))
			continue
		}
		out[in.Name] = c
	}
	if len(probs) > 0 {
		return nil, inputsProblem(d, probs)
	}
	return out, nil
}

// coerceInput checks that v has the input's type and returns it in the
// form expressions see (numbers float64, lists []any).
func coerceInput(in *InputDef, v any) (any, error) {
	n, err := normalize(v)
	if err != nil {
		return nil, err
	}
	ok := false
	switch in.Type {
	case TypeString:
		_, ok = n.(string)
	case TypeNumber:
		_, ok = n.(float64)
	case TypeBool:
		_, ok = n.(bool)
	case TypeList:
		_, ok = n.([]any)
	}
	if !ok {
		return nil, fmt.Errorf("got %s; want a %s", kindOf(n), in.Type)
	}
	return n, nil
}

// kindOf names the JSON kind of a normalized value.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "nothing"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a bool"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return reflect.TypeOf(v).String()
}

func unknownInput(doc *Document, name string) string {
	var names []string
	for _, in := range doc.Inputs {
		names = append(names, in.Name)
	}
	if len(names) == 0 {
		return fmt.Sprintf("the flow has no input %q (it takes no inputs)", name)
	}
	return fmt.Sprintf("the flow has no input %q; its inputs are %s%s", name, strings.Join(names, ", "), suggest(name, names...))
}

// InputsField is the details.field of every refusal of a run's inputs,
// which tells it from a refusal of the flow document (details.errors of
// issues with a line and column).
const InputsField = "inputs"

// inputsProblem is the invalid_input problem of a run's inputs, with the
// remedy that lists what the flow takes: "give the inputs the flow
// declares: login (string, required), dryRun (bool)".
func inputsProblem(doc *Document, probs []string) *problem.Error {
	p := problem.New(problem.InvalidInput, "%s", strings.Join(probs, "; ")).WithDetail("errors", probs).WithDetail("field", InputsField)
	if len(doc.Inputs) == 0 {
		return p.WithRemedy("give no inputs: the flow declares none")
	}
	var decl []string
	for _, in := range doc.Inputs {
		d := in.Name + " (" + in.Type
		if in.Required && !in.HasDefault {
			d += ", required"
		}
		decl = append(decl, d+")")
	}
	return p.WithRemedy("give the inputs the flow declares: %s", strings.Join(decl, ", "))
}
