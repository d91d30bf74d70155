package web

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
)

// The kinds of FlowProblem.
const (
	// FlowProblemStatus: the connection is not active (it needs
	// reauthorization, is pending, or in error); cards cannot run with it.
	FlowProblemStatus = "status"
	// FlowProblemGone: no connection has the id or nickname the flow names.
	FlowProblemGone = "gone"
	// FlowProblemPolls: the System Log polls of the event trigger's
	// connection fail while the trigger reads them.
	FlowProblemPolls = "polls"
	// FlowProblemHook: the event hook of the event trigger's connection
	// does not work (in error, or deactivated at Okta) while the trigger
	// reads it, and the polls, if the trigger reads them, work.
	FlowProblemHook = "hook"
)

// The Problem of a FlowProblemPolls: the trigger gets no events, or gets
// them only by the event hook; of a FlowProblemHook: the trigger gets no
// events, or gets them only by the System Log polls.
const (
	PollsFailing         = "System Log polls failing"
	PollsFailingHookOnly = "System Log polls fail; events arrive only by the event hook"
	HookFailing          = "event hook not working"
	HookFailingPollsOnly = "event hook not working; events arrive only by the System Log polls"
	// PollsAndHookFailing: a hook+poll trigger whose polls fail and whose
	// event hook does not work either (Kind FlowProblemPolls; Reason and
	// Remedy say both).
	PollsAndHookFailing = "System Log polls failing and event hook not working"
)

// FlowProblem is a connection a flow uses that stops it (its runs fail,
// or its trigger gets no events) or, when Stops is false, makes it work
// less well. The API's flows list, the console's flows list and a flow's
// console page all say what FlowProblems finds, each in its own words.
type FlowProblem struct {
	// Connection is the connection as the flow names it; View is it, nil
	// when no connection has that id or nickname (Kind FlowProblemGone).
	Connection string
	View       *connection.View
	Kind       string // FlowProblemStatus, FlowProblemGone or FlowProblemPolls
	// Problem says it in a few words: the connection's status
	// ("needs reauthorization", "pending", "error"), "no such
	// connection", PollsFailing, PollsFailingHookOnly, HookFailing or
	// HookFailingPollsOnly.
	Problem string
	// Stops is false only for PollsFailingHookOnly and
	// HookFailingPollsOnly: the trigger reads both the event hook and the
	// System Log, and one of them works.
	Stops bool
	// Reason and Remedy say why and the fix, as the API words them.
	Reason, Remedy string
	// Delivery is, for FlowProblemPolls and FlowProblemHook, the
	// trigger's delivery (hook, poll or hook+poll); HookStatus its
	// connection's event hook status then.
	Delivery, HookStatus string
	// Trigger is true when the flow's event trigger uses the connection;
	// Steps are the ids of the steps that run cards with it.
	Trigger bool
	Steps   []string
}

// FlowProblems finds the connections that stop flows. It reads each
// connection and event source once, keeping what it read for the next
// flows: use one per request, from one goroutine.
type FlowProblems struct {
	Connections interface {
		Get(ctx context.Context, idOrNickname string) (*connection.View, error)
	}
	// Events reads the connections' event sources; nil checks no polls.
	Events interface {
		GetEventSource(ctx context.Context, connectionID string) (*store.EventSource, error)
	}
	// DefaultDelivery is the delivery of an event trigger that names none
	// (the server's: hook+poll or poll); empty means poll.
	DefaultDelivery string

	conns map[string]connRead
	srcs  map[string]*store.EventSource
}

type connRead struct {
	v   *connection.View
	err error // a problem.NotFound, or nil
}

// Find returns what stops doc (its event trigger's connection first, then
// its steps' in order), one FlowProblem a connection name. enabled says
// that the flow's trigger is on: only then do the System Log polls its
// event trigger reads matter. A nil Connections finds nothing.
func (f *FlowProblems) Find(ctx context.Context, doc *flow.Document, enabled bool) ([]FlowProblem, error) {
	if f.Connections == nil || doc == nil {
		return nil, nil
	}
	var out []FlowProblem
	index := map[string]int{} // name -> position in out
	add := func(p FlowProblem, step string) {
		i, ok := index[p.Connection]
		if !ok {
			out = append(out, p)
			i = len(out) - 1
			index[p.Connection] = i
		}
		if step == "" {
			out[i].Trigger = true
		} else {
			out[i].Steps = append(out[i].Steps, step)
		}
	}
	if doc.Trigger != nil && doc.Trigger.Event != nil {
		ev := doc.Trigger.Event
		p, broken, err := f.connectionProblem(ctx, ev.Connection)
		if err != nil {
			return nil, err
		}
		if !broken && enabled {
			if p, broken, err = f.eventProblem(ctx, p, ev.Delivery); err != nil {
				return nil, err
			}
		}
		if broken {
			add(p, "")
		}
	}
	for _, st := range doc.Steps {
		p, broken, err := f.connectionProblem(ctx, st.Connection)
		if err != nil {
			return nil, err
		}
		if broken {
			add(p, st.ID)
		}
	}
	return out, nil
}

// connectionProblem reads the connection name; broken says it cannot run
// cards. p names the connection (and its View) either way.
func (f *FlowProblems) connectionProblem(ctx context.Context, name string) (p FlowProblem, broken bool, err error) {
	if f.conns == nil {
		f.conns = map[string]connRead{}
	}
	r, ok := f.conns[name]
	if !ok {
		r.v, r.err = f.Connections.Get(ctx, name)
		if r.err != nil && problem.CodeOf(r.err) != problem.NotFound {
			return FlowProblem{}, false, r.err
		}
		f.conns[name] = r
	}
	p = FlowProblem{Connection: name, View: r.v, Stops: true}
	switch {
	case r.err != nil:
		p.Kind, p.Problem, p.Reason = FlowProblemGone, "no such connection", "no connection has this id or nickname"
		p.Remedy = "create a connection named " + strconv.Quote(name) + ", or store a version of the flow that names one that exists"
		return p, true, nil
	case r.v.Status != store.StatusActive:
		p.Kind, p.Problem, p.Reason, p.Remedy = FlowProblemStatus, strings.ReplaceAll(r.v.Status, "_", " "), r.v.StatusReason, r.v.Remedy
		return p, true, nil
	}
	return p, false, nil
}

// eventProblem is p (an active connection) with the problem of the ways
// a trigger of delivery gets its events from it (its System Log polls,
// its event hook), when one it reads fails. With hook+poll delivery the
// events still arrive while either works: the flow is not stopped.
func (f *FlowProblems) eventProblem(ctx context.Context, p FlowProblem, delivery string) (FlowProblem, bool, error) {
	delivery = flow.DeliveryOf(delivery, f.DefaultDelivery)
	if f.Events == nil {
		return p, false, nil
	}
	if f.srcs == nil {
		f.srcs = map[string]*store.EventSource{}
	}
	src, ok := f.srcs[p.View.ID]
	if !ok {
		var err error
		src, err = f.Events.GetEventSource(ctx, p.View.ID)
		if errors.Is(err, store.ErrNotFound) {
			src, err = nil, nil
		}
		if err != nil {
			return p, false, err
		}
		f.srcs[p.View.ID] = src
	}
	if src == nil {
		return p, false, nil
	}
	p.Delivery, p.HookStatus = delivery, src.HookStatus
	pollsFail := delivery != flow.DeliveryHook && !src.Poll.FailingSince.IsZero()
	// A hook being registered (pending), or not yet, is not counted as
	// failing: the intake registers it at its next round.
	hookFails := delivery != flow.DeliveryPoll && (src.HookStatus == store.HookError || src.HookStatus == store.HookDeactivated)
	switch {
	case pollsFail && hookFails:
		p.Kind, p.Problem = FlowProblemPolls, PollsAndHookFailing
		p.Reason = "System Log polls: " + src.Poll.Error + "; event hook: " + src.HookReason
		p.Remedy = src.Poll.Remedy
		if src.HookRemedy != "" && src.HookRemedy != src.Poll.Remedy {
			p.Remedy = strings.TrimSuffix(p.Remedy, ".") + "; for the event hook: " + src.HookRemedy
		}
	case pollsFail:
		p.Kind, p.Problem, p.Reason, p.Remedy = FlowProblemPolls, PollsFailing, src.Poll.Error, src.Poll.Remedy
		if delivery == flow.DeliveryHookPoll && src.HookStatus == store.HookActive {
			p.Problem, p.Stops = PollsFailingHookOnly, false
		}
	case hookFails:
		p.Kind, p.Problem, p.Reason, p.Remedy = FlowProblemHook, HookFailing, src.HookReason, src.HookRemedy
		if delivery == flow.DeliveryHookPoll {
			p.Problem, p.Stops = HookFailingPollsOnly, false
		}
	default:
		return p, false, nil
	}
	return p, true, nil
}
