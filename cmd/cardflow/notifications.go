package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/api"
)

func cmdNotificationsTest(ctx context.Context, e *env, args []string) error {
	_, o := newClientFlagSet(e, "notifications test", "notifications test [--json]")
	c, err := o.parseNoArgs(args)
	if err != nil {
		return err
	}
	var out api.NotificationTest
	if err := c.do(ctx, "POST", "/api/v1/notifications/test", nil, &out); err != nil {
		return err
	}
	refused := 0
	var remedies []string
	for _, r := range out.Receivers {
		if !r.Delivered {
			refused++
			if r.Remedy != "" && !slices.Contains(remedies, r.Remedy) {
				remedies = append(remedies, r.Remedy)
			}
		}
	}
	if o.json {
		if err := printJSON(e.stdout, out); err != nil {
			return err
		}
	} else {
		t := newTable(e.stdout, "RECEIVER", "BODY", "RESULT", "WAITING")
		for _, r := range out.Receivers {
			result := "took the test message"
			switch {
			case r.Unreached:
				result = "not reached: " + r.Error
			case !r.Delivered:
				result = "refused: " + r.Error
			}
			waiting := "-"
			if r.Waiting > 0 && r.WaitingSince != nil {
				waiting = fmt.Sprintf("%d since %s", r.Waiting, when(*r.WaitingSince))
			}
			t.row(r.Receiver, r.Body, result, waiting)
		}
		t.flush()
	}
	if refused == 0 {
		return nil
	}
	msg := fmt.Sprintf("%d of %d notification receivers did not take the test message", refused, len(out.Receivers))
	remedy := "fix each refused receiver's -notify-url (a chat webhook's URL as its service gave it, or BODY=URL to name the body it takes) and restart the server, then test again"
	if len(remedies) > 0 {
		remedy = "for each receiver that did not take it, " + strings.Join(remedies, "; or ") + "; then test again"
	}
	if !o.json {
		fmt.Fprintf(e.stderr, "cardflow: %s\nRemedy: %s\n", msg, remedy)
	}
	return reported(codeFailed, msg, remedy)
}
