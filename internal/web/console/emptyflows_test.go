package console_test

import (
	"strings"
	"testing"
)

// TestEmptyFlowsSaysHowToStore: the Flows page of a server without flows
// names the command that stores one, cardflow flows store FILE, where it
// named "cardflow flows", which is no command. Its Notifications card,
// on a server without receivers, says that nothing is sent and how to add
// one, without a Send a test notification button, where it said that
// failures "are sent to this server's notification receivers" and only the
// button's answer said there were none.
func TestEmptyFlowsSaysHowToStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, page := get(t, c, e.url+"/flows")
	want := `No flows stored yet. Store a flow document with <code class="cmd"><span>cardflow</span> <span>flows</span> <span>store</span> <span>FILE</span></code>`
	if !strings.Contains(page, want) {
		t.Errorf("the empty Flows page lacks %q", want)
	}
	for _, want := range []string{
		`<p id="no-receivers">This server has no notification receivers: a failed flow run, a connection to reauthorize and an event intake that stops working are not sent anywhere.</p>`,
		`with <code class="cmd"><span>-notify-url</span> <span>URL</span></code>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the Flows page of a server without notification receivers lacks %q", want)
		}
	}
	for _, unwanted := range []string{`action="/notifications/test"`, "are sent to this server's notification receivers"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("the Flows page of a server without notification receivers has %q", unwanted)
		}
	}
}
