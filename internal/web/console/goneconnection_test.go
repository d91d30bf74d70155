package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/store"
)

// TestRunCardWithDeletedConnection: Run on a card form whose chosen
// connection was deleted after the form was opened says so at the
// connection list and keeps the input, rather than the server's "no
// connection has the id" and its advice to list the connections.
func TestRunCardWithDeletedConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	temp := e.connect(t, "Temp", nil)
	c, _, _ := signInHTTP(t, e.url, "/cards")
	_, page := get(t, c, e.url+"/cards/okta-devices/read-device")
	csrf := csrfOf(t, page)
	if _, err := e.manager.DeleteWithResult(context.Background(), temp.ID, store.Actor{Type: store.ActorUser, Login: "test"}); err != nil {
		t.Fatalf("delete Temp: %v", err)
	}
	for _, form := range []url.Values{
		{"csrf": {csrf}, "connection": {temp.ID}, "in.deviceId": {"guoKEPT"}},
		// A card that asks first, confirmed on a page opened before the deletion.
		{"csrf": {csrf}, "connection": {temp.ID}, "in.deviceId": {"guoKEPT"}, "confirmed": {"yes"}},
	} {
		path := "/cards/okta-devices/read-device"
		if form.Has("confirmed") {
			path = "/cards/okta-devices/delete-device"
		}
		resp, body := post(t, c, e.url+path, form, nil)
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: status %d; want 404", path, resp.StatusCode)
		}
		for _, w := range []string{"The connection you chose no longer exists", `id="connection-error"`, `value="guoKEPT"`} {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the form lacks %s:\n%s", path, w, body)
			}
		}
		if strings.Contains(body, "list the connections") || strings.Contains(body, temp.ID) {
			t.Errorf("%s: the form gives the API's advice or offers the deleted connection:\n%s", path, body)
		}
	}
}

// TestPlanFlowWithDeletedConnection: Plan and Run of a flow whose step
// names a connection deleted since say to create it with the console's New
// Connection, not with the command line's cardflow connections create.
func TestPlanFlowWithDeletedConnection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	temp := e.connect(t, "Temp", nil)
	flowID := e.storeFlow(t, `name: read-one
inputs:
  deviceId: {type: string, required: true}
steps:
  - id: device
    card: okta-devices/read-device
    connection: Temp
    input: {deviceId: "${{ inputs.deviceId }}"}
`)
	if _, err := e.manager.DeleteWithResult(context.Background(), temp.ID, store.Actor{Type: store.ActorUser, Login: "test"}); err != nil {
		t.Fatalf("delete Temp: %v", err)
	}
	c, _, csrf := signInHTTP(t, e.url, "/flows")
	for _, action := range []string{"plan", "runs"} {
		_, body := post(t, c, e.url+"/flows/"+flowID+"/"+action, url.Values{"csrf": {csrf}, "in.deviceId": {"guo1"}}, nil)
		if !strings.Contains(body, `there is no okta-devices connection &#34;Temp&#34;; create it (New Connection on the Connections page)`) || strings.Contains(body, "cardflow connections") {
			t.Errorf("%s: the page does not name New Connection, or names the command line:\n%s", action, body)
		}
	}
}
