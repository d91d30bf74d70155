package flow

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/cardflow/cardflow/internal/problem"
)

// allocBound is the most Parse may allocate for a document of n bytes.
// The YAML parser's needs grow with the document; a nesting bomb's grew
// with its square (15 GB for 200 KB).
func allocBound(n int) uint64 { return 32<<20 + 64*uint64(n) }

// allocated returns the bytes allocated while f ran.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// stepWith is a valid flow whose one step's input search is value.
func stepWith(value string) string {
	return "name: f\nsteps:\n  - id: a\n    card: okta-devices/search-devices\n    connection: c\n    input:\n      search: " + value + "\n"
}

func TestParseRefusesNestingBombs(t *testing.T) {
	const n = 100_000
	var indented strings.Builder
	indented.WriteString("name: f\n")
	for i := 0; indented.Len() < 200_000; i++ {
		indented.WriteString(strings.Repeat(" ", i+1) + "k:\n")
	}
	var zeroIndented strings.Builder
	zeroIndented.WriteString("name: f\nsteps:\n")
	for i := 0; i < 2*maxNesting; i++ {
		zeroIndented.WriteString(strings.Repeat(" ", 2*i) + "- k:\n")
	}
	tests := []struct {
		name string
		src  string
	}{
		{"brackets", stepWith(strings.Repeat("[", n) + strings.Repeat("]", n))},
		{"unclosed brackets", stepWith(strings.Repeat("[", n))},
		{"braces", stepWith(strings.Repeat("{a: ", n) + "1" + strings.Repeat("}", n))},
		{"flow document", strings.Repeat("{name: ", n)},
		{"brackets over lines", stepWith(strings.Repeat("[\n", n))},
		{"after a quoted key", "name: f\n'steps': " + strings.Repeat("[", n)},
		{"after an anchor", "name: f\nsteps: &a " + strings.Repeat("[", n)},
		{"after a tag", "name: f\nsteps: !!seq " + strings.Repeat("[", n)},
		{"after a document marker", "--- " + strings.Repeat("[", n)},
		{"after a flow key", "[a]: " + strings.Repeat("[", n)},
		{"sequence entries", strings.Repeat("- ", n) + "x\n"},
		{"complex keys", strings.Repeat("? ", n) + "x\n"},
		{"indentation", indented.String()},
		{"zero-indented sequences", zeroIndented.String()},
		{"after a block scalar", "name: |\n  text\n" + strings.Repeat("[", n)},
		{"after a closed quote in a flow", stepWith("['a''b', \"c\\\"d\", " + strings.Repeat("[", n))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if got, limit := allocated(func() { _, err = Parse([]byte(tc.src)) }), allocBound(len(tc.src)); got > limit {
				t.Errorf("Parse allocated %d bytes; want at most %d", got, limit)
			}
			p, ok := problem.As(err)
			if !ok || p.Code != problem.InvalidInput {
				t.Fatalf("Parse error = %v; want invalid_input", err)
			}
			if !strings.Contains(err.Error(), "nests more than 64 levels") {
				t.Errorf("Parse error = %v; want the nesting limit", err)
			}
			list, _ := p.Details["errors"].([]Issue)
			if len(list) != 1 || list[0].Line < 1 || list[0].Column < 1 {
				t.Errorf("issues = %+v; want one with a position", list)
			}
		})
	}
}

func TestNestingScanAcceptsRealDocuments(t *testing.T) {
	docs := map[string]string{
		"brackets in quotes":         stepWith(`'` + strings.Repeat("[", 200) + `'`),
		"brackets in double quotes":  stepWith(`"` + strings.Repeat(`\"[`, 200) + `"`),
		"brackets in a plain scalar": stepWith(`a` + strings.Repeat("[", 200)),
		"brackets in an expression":  stepWith(`${{ ` + strings.Repeat("[", 30) + strings.Repeat("]", 30) + ` }}`),
		"brackets in a block scalar": "name: f\ndescription: |\n  " + strings.Repeat("[", 200) + "\n  more\nsteps: []\n",
		"brackets in a comment":      "name: f # " + strings.Repeat("[", 200) + "\n",
		"brackets in a flow comment": "a: [1, # " + strings.Repeat("[", 200) + "\n  2]\n",
		"quoted brackets in a flow":  "a: ['" + strings.Repeat("[", 200) + "', \"]]\"]\n",
		"many siblings":              strings.Repeat("- [[[1]]]\n", 5000),
		"deep but allowed":           stepWith(strings.Repeat("[", maxNesting-6) + strings.Repeat("]", maxNesting-6)),
	}
	for name, src := range docs {
		if pos, deep := checkNesting([]byte(src)); deep {
			t.Errorf("%s: refused at %v; want accepted", name, pos)
		}
	}
	files, _ := filepath.Glob("../../examples/*.yaml")
	seeds, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	for _, f := range append(files, seeds...) {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if pos, deep := checkNesting(src); deep {
			t.Errorf("%s: refused at %v; want accepted", f, pos)
		}
	}
	if len(files) == 0 {
		t.Fatal("no example flows found")
	}
}

// collectionDepth is how deep the parser nested mappings and sequences.
func collectionDepth(n ast.Node) int {
	deepest := func(nodes ...ast.Node) int {
		d := 0
		for _, c := range nodes {
			d = max(d, collectionDepth(c))
		}
		return d
	}
	switch x := n.(type) {
	case *ast.DocumentNode:
		return collectionDepth(x.Body)
	case *ast.MappingNode:
		d := 0
		for _, v := range x.Values {
			d = max(d, deepest(v.Key, v.Value))
		}
		return d + 1
	case *ast.MappingValueNode:
		return deepest(x.Key, x.Value) + 1
	case *ast.SequenceNode:
		return deepest(x.Values...) + 1
	case *ast.AnchorNode:
		return collectionDepth(x.Value)
	case *ast.TagNode:
		return collectionDepth(x.Value)
	case *ast.MappingKeyNode:
		return collectionDepth(x.Value)
	}
	return 0
}

// checkNestingBound fails when the parser nests a document that
// checkNesting accepted deeper than maxNesting.
func checkNestingBound(t *testing.T, src []byte) {
	t.Helper()
	if _, deep := checkNesting(src); deep {
		return
	}
	file, err := parseYAML(src)
	if err != nil {
		return
	}
	for _, d := range file.Docs {
		if got := collectionDepth(d); got > maxNesting {
			t.Fatalf("checkNesting accepted a document the parser nests %d levels deep", got)
		}
	}
}

func TestNestingScanNeverUnderestimates(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("[", maxNesting+1) + strings.Repeat("]", maxNesting+1),
		"a:\n" + strings.Repeat("- ", maxNesting) + "x\n",
		"a: {b: [c, {d: [" + strings.Repeat("[", maxNesting) + "]}]}\n",
	} {
		checkNestingBound(t, []byte(src))
	}
}

// TestNestingScanLoneCarriageReturn: the YAML parser takes a carriage
// return not followed by a line feed (old Mac line ends, or one stray in a
// pasted value) as a line break. The scan looped for ever on one that
// ended a plain scalar, holding a server's processor for each request.
func TestNestingScanLoneCarriageReturn(t *testing.T) {
	var indented strings.Builder
	indented.WriteString("name: f\r")
	for i := range maxNesting + 1 {
		indented.WriteString(strings.Repeat(" ", i+1) + "k:\r")
	}
	tests := []struct {
		name string
		src  string
		deep bool
	}{
		{"after a plain scalar", "name: f\rsteps: []\r", false},
		{"inside a plain scalar", "name: a\rb\n", false},
		{"before an indented key", "a:\r  b: c\n", false},
		{"in a flow", "a: [1,\r 2]\r", false},
		{"in a quoted scalar", "a: 'x\ry'\rb: c\r", false},
		{"after a block scalar header", "a: |\r  x\rb: c\r", false},
		{"nesting on such lines", indented.String(), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			type result struct {
				pos  Pos
				deep bool
			}
			done := make(chan result, 1)
			go func() {
				p, deep := checkNesting([]byte(tc.src))
				done <- result{p, deep}
			}()
			select {
			case r := <-done:
				if r.deep != tc.deep {
					t.Errorf("checkNesting = %v, %v; want deep %v", r.pos, r.deep, tc.deep)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("checkNesting did not return within 10s")
			}
			checkNestingBound(t, []byte(tc.src))
		})
	}
}
