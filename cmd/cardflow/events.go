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
		t := newTable(w, "PUBLISHED", "EVENT TYPE", "DEVICE", "USER", "UUID", "RECEIVED VIA", "FLOW RUNS")
		for _, ev := range out.Events {
			runs := "-"
			if len(ev.FlowRuns) > 0 {
				runs = strings.Join(ev.FlowRuns, " ")
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
