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
	var at int64
	guarded := false
	e.visitTriggerSelects(func(x celast.Expr, sel celast.SelectExpr, path []string) {
		if path[0] != "event" && path[0] != "eventUuid" {
			return
		}
		if sel.IsTestOnly() {
			guarded = true
		} else if at == 0 && len(path) == 1 {
			at = x.ID()
		}
	})
	if guarded || at == 0 {
		return EventRead{}, false
	}
	return EventRead{Pos: e.nodePos(at), Expr: strings.TrimSpace(e.src)}, true
}

// visitTriggerSelects calls fn with each selection of a field of trigger
// in e (trigger.event.device), its path from trigger ([event device]) and
// the selection itself, in post-order.
func (e *expression) visitTriggerSelects(fn func(x celast.Expr, sel celast.SelectExpr, path []string)) {
	if e.ast == nil {
		return
	}
	celast.PostOrderVisit(e.ast.NativeRep().Expr(), celast.NewExprVisitor(func(x celast.Expr) {
		if x.Kind() != celast.SelectKind {
			return
		}
		sel := x.AsSelect()
		if path, ok := triggerPath(sel.Operand()); ok {
			fn(x, sel, append(path, sel.FieldName()))
		}
	}))
}

// checkEventUser refuses, in a flow whose event card's events name no user
// (a device lifecycle event), every expression that reads
// trigger.event.user: it is empty in every run, so a filter on it (the
// trigger's if, a step's if) never holds, or always does when negated, and
// an input given from it is always "". Each is reported where it reads the
// user, saying which event cards' events name one.
func (d *Document) checkEventUser(iss *issues, env ValidateEnv) {
	ev := d.Trigger.Event
	card, ok := env.Card(ev.Card)
	if !ok || card.Mode != ModeEvent || !card.NoEventUser {
		return
	}
	which := "only the events of " + strings.Join(card.UserEventCards, ", ") + " name a user"
	if len(card.UserEventCards) == 0 {
		which = "no event card's events name a user"
	}
	report := func(step, where string) func(*expression) {
		return func(e *expression) {
			if pos, ok := e.userRead(); ok {
				iss.add(pos, step, "%s: ${{ %s }} reads trigger.event.user, which is empty (login and id \"\") in every run of this flow: Okta's %s events (card %s) name no user; %s; to act on the device's users, read them in a step (okta-devices/list-device-users) and test them in a later step's if",
					where, strings.TrimSpace(e.src), card.EventType, card.Ref, which)
			}
		}
	}
	ev.cond.walkExprs(report("", "on.event.if"))
	d.Trigger.inputs.walkExprs(report("", "on.inputs"))
	for _, st := range d.Steps {
		st.forEach.walkExprs(report(st.ID, "for_each"))
		st.cond.walkExprs(report(st.ID, "if"))
		st.input.walkExprs(report(st.ID, "input"))
	}
}

// userRead returns where e first reads trigger.event.user, unless it
// tests for it with has().
func (e *expression) userRead() (Pos, bool) {
	var at int64
	guarded := false
	e.visitTriggerSelects(func(_ celast.Expr, sel celast.SelectExpr, path []string) {
		if len(path) != 2 || path[0] != "event" || path[1] != "user" {
			return
		}
		if sel.IsTestOnly() {
			guarded = true
		} else if at == 0 {
			// At trigger, where trigger.event.user begins (the
			// selection's own place is its last dot).
			root := sel.Operand()
			for root.Kind() == celast.SelectKind {
				root = root.AsSelect().Operand()
			}
			at = root.ID()
		}
	})
	if guarded || at == 0 {
		return Pos{}, false
	}
	return e.nodePos(at), true
}
