package console_test

import (
	"strings"
	"testing"
)

// TestEmptyFlowsSaysHowToStore: the Flows page of a server without flows
// names the command that stores one, cardflow flows store FILE, where it
// named "cardflow flows", which is no command.
func TestEmptyFlowsSaysHowToStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, _ := signInHTTP(t, e.url, "/flows")
	_, page := get(t, c, e.url+"/flows")
	want := `No flows stored yet. Store a flow document with <code class="cmd"><span>cardflow</span> <span>flows</span> <span>store</span> <span>FILE</span></code>`
	if !strings.Contains(page, want) {
		t.Errorf("the empty Flows page lacks %q", want)
	}
}
