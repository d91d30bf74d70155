package console_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestDeviceNamesNextToIDs plans and runs a flow over a device whose
// display name holds HTML: the plan, the flow run's items and the card
// run's page show it escaped next to the id, known from the search
// output (the run's page reads it from the record after the run).
func TestDeviceNamesNextToIDs(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	body, _ := json.Marshal(map[string]string{"user": oktaemu.UserLogin, "platform": "ANDROID", "displayName": `<b>Uma</b> "phone"`})
	resp, err := http.Post(e.emu.URL+"/_emulator/devices", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var dev struct {
		ID string `json:"id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dev); err != nil || dev.ID == "" {
		t.Fatalf("enroll a device: %d %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	const flowDoc = `name: suspend-androids
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      search: 'status eq "ACTIVE" and profile.platform eq "ANDROID"'
      resultSet: all
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    for_each: ${{ steps.find.output.devices }}
    input:
      deviceId: ${{ item.id }}
`
	code, out := e.api(t, "POST", "/api/v1/flows", "application/yaml", flowDoc)
	var created struct {
		Flow struct {
			ID string `json:"id"`
		} `json:"flow"`
	}
	if err := json.Unmarshal([]byte(out), &created); code != http.StatusCreated && code != http.StatusOK || err != nil || created.Flow.ID == "" {
		t.Fatalf("store the flow: %d %v\n%s", code, err, out)
	}
	stored := created.Flow
	label := `&lt;b&gt;Uma&lt;/b&gt; &#34;phone&#34; (<code>` + dev.ID + `</code>)`

	c, _, csrf := signInHTTP(t, e.url, "/connections")
	resp, page := post(t, c, e.url+"/flows/"+stored.ID+"/plan", url.Values{"csrf": {csrf}}, map[string]string{"Origin": e.url})
	if resp.StatusCode != http.StatusOK || !strings.Contains(page, label) {
		t.Errorf("the plan: status %d; want the change naming %s\n%s", resp.StatusCode, label, page)
	}
	if strings.Contains(page, "<b>Uma</b>") {
		t.Errorf("the plan shows the device name as HTML")
	}

	code, out = e.api(t, "POST", "/api/v1/flows/"+stored.ID+"/runs?wait=true", "application/json", `{}`)
	var run struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.Status != "succeeded" {
		t.Fatalf("run the flow: %d %v\n%s", code, err, out)
	}
	_, page = get(t, c, e.url+"/flow-runs/"+run.ID)
	if !strings.Contains(page, label) {
		t.Errorf("the flow run's items lack %s\n%s", label, page)
	}
	m := regexp.MustCompile(`<td role="cell" data-label="Device">` + regexp.QuoteMeta(label) + `</td>[\s\S]*?href="/runs/([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no card run link on the item of %s", dev.ID)
	}
	// The suspend step counts the devices it changed, every one it
	// suspended; the search step says nothing of changes.
	if c := regexp.MustCompile(`(\d+) items?: (\d+) succeeded \((\d+) changed (its|their) devices?\)`).FindStringSubmatch(page); c == nil || c[2] != c[3] ||
		strings.Count(page, " changed ") != 1 {
		t.Errorf("the flow run's steps: want the suspend step alone to count its changes, all of its succeeded items\n%s", page)
	}
	// Each item says what came of it: the search what it found, the
	// suspension the device's new status.
	if !strings.Contains(page, `<td role="cell" data-label="Device">`+label+`</td>
<td role="cell" data-label="Outcome">now SUSPENDED</td>`) || !regexp.MustCompile(`data-label="Outcome">\d+ devices?</td>`).MatchString(page) {
		t.Errorf("the flow run's items lack their outcomes (the search's count, now SUSPENDED)\n%s", page)
	}
	_, page = get(t, c, e.url+"/runs?card=okta-devices/suspend-device")
	if !strings.Contains(page, `<span class="device-name">&lt;b&gt;Uma&lt;/b&gt; &#34;phone&#34;</span>`) {
		t.Errorf("the runs list lacks the device's name\n%s", page)
	}
	if !strings.Contains(page, `<td role="cell" data-label="Outcome">now SUSPENDED</td>`) {
		t.Errorf("the runs list does not say what the suspension did (now SUSPENDED)\n%s", page)
	}
	_, page = get(t, c, e.url+"/runs/"+m[1])
	if !strings.Contains(page, `<dd id="run-device">`+label+`</dd>`) {
		t.Errorf("the card run's page lacks the device %s\n%s", label, page)
	}
}
