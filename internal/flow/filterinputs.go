package flow

import "regexp"

// filterOperator is a SCIM comparison operator ending the text before an
// expression of an Okta filter: the expression stands for its value.
var filterOperator = regexp.MustCompile(`(?i)\b(eq|ne|gt|ge|lt|le|sw|co)\s*$`)

// inputRef is an expression that is one flow input alone.
var inputRef = regexp.MustCompile(`^\s*inputs(?:\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*\]|\[\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*\])\s*$`)

// checkFilterInputs refuses a string input of the flow written as the
// value of a comparison in an Okta filter outside double quotes
// (profile.displayName eq ${{ inputs.name }}): Okta compares with text
// only in quotes, so every run would be refused, and the input's value
// would be read as filter text, which a value such as
// x" or status eq "ACTIVE would widen. Between quotes it is escaped
// (template.quoteInFilter); an expression of the flow's own filter text,
// such as strings.quote(inputs.since), stays allowed.
func checkFilterInputs(iss *issues, st *Step, card CardInfo, inputs []*InputDef) {
	if st.input == nil || st.input.kind != valMap {
		return
	}
	for _, info := range card.Inputs {
		v := st.input.fields[info.Name]
		if !info.Filter || v == nil || v.kind != valTemplate || v.tmpl.whole {
			continue
		}
		for i, p := range v.tmpl.parts {
			if p.expr == nil || p.quoted || i == 0 {
				continue
			}
			op := filterOperator.FindStringSubmatch(v.tmpl.parts[i-1].text)
			m := inputRef.FindStringSubmatch(p.expr.src)
			if op == nil || m == nil {
				continue
			}
			name := m[1] + m[2] + m[3]
			for _, in := range inputs {
				if in.Name == name && in.Type == TypeString {
					iss.add(p.expr.pos, st.ID, "input %q of card %s: ${{%s}} after %s is outside double quotes, so its value would be read as filter text: Okta refuses text that is not in quotes, and a value such as x\" or status eq \"ACTIVE would widen the search; write %s \"${{%s}}\" (its value is then escaped)",
						info.Name, card.Ref, p.expr.src, op[1], op[1], p.expr.src)
				}
			}
		}
	}
}
