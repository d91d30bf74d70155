package main

import (
	"flag"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/notify"
)

// TestNotifyURLHelpNamesEveryType: -notify-url's usage names every kind
// of notification a receiver gets, a family's later kinds written as
// "_suffix" after its first ("events.poll_failing, _recovered").
func TestNotifyURLHelpNamesEveryType(t *testing.T) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	(&serverFlags{}).notifyFlag(fs)
	usage := fs.Lookup("notify-url").Usage
	for _, typ := range []string{
		notify.TypeFlowRunFailed, notify.TypeFlowRunRecovered, notify.TypeNeedsReauthorization, notify.TypeConnectionExpiring,
		notify.TypeConnectionFailing, notify.TypeConnectionRecovered, notify.TypePollFailing, notify.TypePollRecovered,
		notify.TypePollRestarted, notify.TypeHookFailing, notify.TypeHookRecovered, notify.TypeHookReregistered,
	} {
		family, kind, _ := strings.Cut(typ, ".")
		_, suffix, _ := strings.Cut(kind, "_")
		if !strings.Contains(usage, typ) && !(strings.Contains(usage, family+".") && strings.Contains(usage, "_"+suffix)) {
			t.Errorf("-notify-url usage does not name %s:\n%s", typ, usage)
		}
	}
}
