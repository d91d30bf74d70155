package main

import (
	"context"
	"io"
	"strings"

	"github.com/cardflow/cardflow/internal/api"
)

func cmdEventsList(ctx context.Context, e *env, args []string) error {
	fs, o := newClientFlagSet(e, "events list", "events list [--connection ID|NICKNAME] [--limit N] [--json]")
	var connection string
	var limit int
	fs.StringVar(&connection, "connection", "", "only events of this connection (id or nickname)")
	fs.IntVar(&limit, "limit", 20, "how many events (1-1000)")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	if err := checkLimit(limit); err != nil {
		return err
	}
	return fetch(ctx, c, o, e.stdout, listPath("/api/v1/events", limit, "connection", connection), func(w io.Writer, out *api.EventList) {
		if len(out.Events) == 0 {
			printNone(w, "Okta events", flagsText("connection", connection))
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
	})
}
