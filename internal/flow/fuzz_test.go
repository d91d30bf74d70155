package flow

import (
	"context"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/problem"
)

// FuzzParse checks that no document makes Parse, Validate or Plan panic
// or allocate more than allocBound, that every rejection is an
// invalid_input problem with positions, and that the nesting limit holds
// for what the YAML parser builds. Seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(suspendFlow))
	f.Fuzz(func(t *testing.T, src []byte) {
		checkNestingBound(t, src)
		var doc *Document
		var err error
		if got, limit := allocated(func() { doc, err = Parse(src) }), allocBound(len(src)); got > limit {
			t.Fatalf("Parse allocated %d bytes for %d; want at most %d", got, len(src), limit)
		}
		if err != nil {
			p, ok := problem.As(err)
			if !ok || p.Code != problem.InvalidInput {
				t.Fatalf("Parse error %v (%T) is not an invalid_input problem", err, err)
			}
			if list, ok := p.Details["errors"].([]Issue); ok {
				for _, i := range list {
					if i.Line < 1 || i.Column < 0 {
						t.Fatalf("issue %+v has no position", i)
					}
				}
			}
			return
		}
		if doc.Name == "" || len(doc.Steps) == 0 {
			t.Fatalf("Parse accepted a document without name or steps: %+v", doc)
		}
		if doc.Validate(context.Background(), demoEnv()) != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		var calls []Call
		_, _ = (&Runner{Cards: &captureCards{calls: &calls}}).Plan(ctx, doc, nil)
	})
}
