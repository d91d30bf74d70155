package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/cardflow/cardflow/internal/api"
)

func cmdEventsList(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "events list", "events list [--connection ID|NICKNAME] [--waiting] [--limit N] [--json]")
	var connection string
	var limit int
	var waiting bool
	fs.StringVar(&connection, "connection", "", "only events of this connection (id or nickname)")
	fs.BoolVar(&waiting, "waiting", false, "only the events not dispatched yet (each says why it waits)")
	fs.IntVar(&limit, "limit", 20, "how many events (1-1000)")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	if err := checkLimit(limit); err != nil {
		return err
	}
	waitingOnly := ""
	if waiting {
		waitingOnly = "true"
	}
	return fetch(ctx, c, o, e.stdout, listPath("/api/v1/events", limit, "connection", connection, "waiting", waitingOnly), func(w io.Writer, out *api.EventList) {
		if len(out.Events) == 0 {
			what := "Okta events"
			if waiting {
				what = "Okta events waiting to be dispatched"
			}
			printNone(w, what, flagsText("connection", connection))
			return
		}
		t := newTable(w, "PUBLISHED", "EVENT TYPE", "DEVICE", "USER", "UUID", "RECEIVED VIA", "FLOW RUNS")
		for _, ev := range out.Events {
			// An event not dispatched yet says so, beside the runs it
			// started already: FLOW RUNS is not all it will start.
			runs := strings.Join(ev.FlowRuns, " ")
			switch {
			case ev.Waiting != "" && runs != "":
				runs += " (" + ev.Waiting + ")"
			case ev.Waiting != "":
				runs = "- (" + ev.Waiting + ")"
			case runs == "":
				runs = "-"
			}
			device, user := "-", "-"
			if d := ev.Device; d != nil && d.ID != "" {
				device = deviceLabel(d.DisplayName, d.ID)
			}
			if u := ev.User; u != nil && u.Login != "" {
				user = u.Login
			}
			t.row(when(ev.Published), ev.EventType, device, user, ev.UUID, strings.Join(ev.ReceivedVia, "+"), runs)
		}
		t.flush()
		printWaitReasons(w, out.Events)
	})
}

// printWaitReasons says, under the list, why the events not dispatched
// yet wait and what to do, once per reason, naming the events it holds
// back; the next dispatch round, which takes them in seconds, goes
// unsaid.
func printWaitReasons(w io.Writer, evs []api.Event) {
	var reasons []string
	held := map[string][]string{}
	for _, ev := range evs {
		if ev.Waiting == "" || ev.WaitingReason == "" || ev.WaitingCode == "next_round" {
			continue
		}
		if held[ev.WaitingReason] == nil {
			reasons = append(reasons, ev.WaitingReason)
		}
		held[ev.WaitingReason] = append(held[ev.WaitingReason], ev.UUID)
	}
	for _, r := range reasons {
		uuids := held[r]
		what := "Event " + uuids[0] + " is"
		if n := len(uuids); n > 3 {
			what = fmt.Sprintf("%d events (%s and %d more) are", n, strings.Join(uuids[:3], ", "), n-3)
		} else if n > 1 {
			what = fmt.Sprintf("%d events (%s) are", n, strings.Join(uuids, ", "))
		}
		fmt.Fprintf(w, "\n%s not dispatched yet: %s.\n", what, r)
	}
}
