package flowrun

import (
	"fmt"
	"maps"
	"strings"

	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
)

// coerceInputs converts string values given for number, bool and list
// inputs (as a command line sends them) to the declared types and checks
// that every required input is there and no unknown one is.
func coerceInputs(doc *flow.Document, inputs map[string]any) (map[string]any, error) {
	out := map[string]any{}
	text := map[string]string{}
	for k, v := range inputs {
		def, ok := doc.Input(k)
		if s, isStr := v.(string); ok && isStr && def.Type != flow.TypeString {
			text[k] = s
			continue
		}
		if !ok {
			text[k] = fmt.Sprint(v) // reported as unknown by ParseInputs
			continue
		}
		out[k] = v
	}
	if len(text) > 0 {
		conv, err := flow.ParseInputs(doc, text)
		if err != nil {
			return nil, err
		}
		maps.Copy(out, conv)
	}
	var missing []string
	for _, def := range doc.Inputs {
		if _, ok := out[def.Name]; !ok && def.Required && !def.HasDefault {
			missing = append(missing, def.Name)
		}
	}
	if len(missing) > 0 {
		what, them := "inputs "+strings.Join(missing, ", "), "them"
		if len(missing) == 1 {
			what, them = "input "+missing[0], "it"
		}
		return nil, problem.New(problem.InvalidInput, "missing required %s of flow %s", what, doc.Name).
			WithRemedy("give %s as --input name=value (or in \"inputs\")", them).WithDetail("missing", missing).WithDetail("field", flow.InputsField)
	}
	return out, nil
}
