package console_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestRunErrorStartsItsSentence: a card run's error on its page starts
// with a capital as the other messages of the console do (Card "Suspend
// Device" ... needs scope okta.devices.manage), where it read card
// "Suspend Device" beside error summaries that began Okta rejected ...
func TestRunErrorStartsItsSentence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Reader", &[]string{"okta.devices.read"})
	_, out := e.api(t, http.MethodPost, "/api/v1/runs", "application/json",
		`{"card":"okta-devices/suspend-device","connection":"Reader","input":{"deviceId":"guo1gNf6HdSNDFDrvOVH"}}`)
	var run struct{ ID string }
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.ID == "" {
		t.Fatalf("run the card: %s", out)
	}
	c, _, _ := signInHTTP(t, e.url, "/runs")
	_, page := get(t, c, e.url+"/runs/"+run.ID)
	if want := `<code>insufficient_scope</code> Card &#34;Suspend Device&#34; (okta-devices/suspend-device) needs scope okta.devices.manage`; !strings.Contains(page, want) {
		t.Errorf("the run's page lacks %s:\n%s", want, page)
	}
}
