package flow

import (
	"strings"

	celast "cel.dev/cel-go/common/ast"
)

// EventRead is a place where a step reads the Okta event that starts the
// flow's runs (trigger.event or trigger.eventUuid), which a run started by
// hand does not have.
type EventRead struct {
	Step string
	Pos  Pos
	Expr string // the expression as written
}

// EventReads lists where the steps of an event flow read its event, in
// document order; none for another flow. An expression that tests for the
// event with has() (has(trigger.event.device)) is written for runs without
// one and is not listed.
func (d *Document) EventReads() []EventRead {
	if d.Trigger == nil || d.Trigger.Event == nil {
		return nil
	}
	var out []EventRead
	for _, st := range d.Steps {
		visit := func(e *expression) {
			if r, ok := e.eventRead(); ok {
				r.Step = st.ID
				out = append(out, r)
			}
		}
		st.forEach.walkExprs(visit)
		st.cond.walkExprs(visit)
		st.input.walkExprs(visit)
	}
	return out
}

// eventRead returns the first place e reads trigger.event or
// trigger.eventUuid, unless e tests for them with has().
func (e *expression) eventRead() (EventRead, bool) {
	if e.ast == nil {
		return EventRead{}, false
	}
	var at int64
	guarded := false
	celast.PostOrderVisit(e.ast.NativeRep().Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		if x.Kind() != celast.SelectKind {
			return
		}
		sel := x.AsSelect()
		path, ok := triggerPath(sel.Operand())
		if !ok {
			return
		}
		path = append(path, sel.FieldName())
		if path[0] != "event" && path[0] != "eventUuid" {
			return
		}
		if sel.IsTestOnly() {
			guarded = true
		} else if at == 0 && len(path) == 1 {
			at = x.ID()
		}
	}))
	if guarded || at == 0 {
		return EventRead{}, false
	}
	pos := e.pos
	if loc := e.ast.NativeRep().SourceInfo().GetStartLocation(at); loc.Line() > 0 {
		pos = e.posAt(loc.Line(), loc.Column())
	}
	return EventRead{Pos: pos, Expr: strings.TrimSpace(e.src)}, true
}
