package flow

import (
	"slices"
	"testing"
)

// TestQuoteInFilter marks the expressions of an Okta filter that stand
// between its double quotes, an escaped quote in the text not ending a
// string, and leaves those outside quotes as the flow's own filter text.
func TestQuoteInFilter(t *testing.T) {
	x := &expression{}
	for _, tt := range []struct {
		parts []tplPart
		want  []bool // quoted, of each expression in order
	}{
		{[]tplPart{{text: `profile.platform eq "`}, {expr: x}, {text: `"`}}, []bool{true}},
		{[]tplPart{{text: `lastUpdated lt `}, {expr: x}}, []bool{false}},
		{[]tplPart{{text: `a eq "`}, {expr: x}, {text: `" and b eq "`}, {expr: x}, {text: `" and `}, {expr: x}}, []bool{true, true, false}},
		{[]tplPart{{text: `a eq "x\" `}, {expr: x}, {text: `"`}}, []bool{true}},
		{[]tplPart{{text: `a eq "x\\" `}, {expr: x}}, []bool{false}},
	} {
		tp := &template{parts: tt.parts}
		tp.quoteInFilter()
		var got []bool
		for _, p := range tp.parts {
			if p.expr != nil {
				got = append(got, p.quoted)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%+v: quoted %v; want %v", tt.parts, got, tt.want)
		}
	}
	if got := filterEscaper.Replace(`x" or status eq "ACTIVE \`); got != `x\" or status eq \"ACTIVE \\` {
		t.Errorf("escaped %s", got)
	}
}
