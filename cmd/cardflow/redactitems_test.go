package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store/sqlite"
)

// canary is the header value the flow sends; the flow's source does not
// hold it (it joins two strings), so that wherever it is found, a record
// of the call kept it.
const canary = "canary-secret"

// headerFlow calls the org with a header carrying a credential: once
// through the card, and once with a header the card refuses, which fails
// the item before any card run.
const headerFlow = `name: keyed-call
steps:
  - id: call
    card: okta-devices/custom-api-action
    connection: Demo org
    input:
      method: GET
      relativeUrl: /api/v1/devices?limit=1
      headers:
        X-Api-Key: ${{ "canary-" + "secret" }}
  - id: refused
    card: okta-devices/custom-api-action
    connection: Demo org
    input:
      method: GET
      relativeUrl: /api/v1/devices?limit=1
      headers:
        X-Api-Key: ${{ "canary-" + "secret" }}
        Host: elsewhere.example
`

// TestFlowItemsRedactHeaders runs a Custom API Action with a secret header
// in a flow: the flow's items keep the header's name with the value
// "(redacted)", as the card run does, in the store, the API and the CLI;
// the secret is nowhere in the data directory.
func TestFlowItemsRedactHeaders(t *testing.T) {
	var dir string
	s := startServerWith(t, oktaemu.Config{Devices: 2}, func(c *app.Config) { dir = c.DataDir })
	s.connect(t, "Demo org")
	file := filepath.Join(t.TempDir(), "keyed.yaml")
	writeFile(t, file, headerFlow)
	code, out, errOut := runCLI(t, s.vars, "flows", "run", file, "--json")
	var run struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(out), &run); err != nil || run.ID == "" {
		t.Fatalf("flows run: exit %d %v\n%s%s", code, err, out, errOut)
	}
	if run.Status != "failed" {
		t.Errorf("flows run status %q; want failed (the refused header)", run.Status)
	}

	shown := map[string]string{}
	for _, path := range []string{"/api/v1/flow-runs/" + run.ID, "/api/v1/flow-runs/" + run.ID + "/items?step=call", "/api/v1/flow-runs/" + run.ID + "/items?step=refused"} {
		status, body := s.api(t, "GET", path, "")
		if status != 200 {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		shown["GET "+path] = body
	}
	for _, args := range [][]string{{"flows", "show-run", run.ID, "--items"}, {"flows", "show-run", run.ID, "--items", "--json"}, {"flows", "runs", "keyed-call"}, {"runs", "list", "--json"}} {
		code, out, errOut := runCLI(t, s.vars, args...)
		if code != exitOK {
			t.Errorf("%s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		shown[strings.Join(args, " ")] = out + errOut
	}
	for where, text := range shown {
		if strings.Contains(text, canary) {
			t.Errorf("%s shows the header's value:\n%s", where, text)
		}
	}
	for _, step := range []string{"call", "refused"} {
		body := shown["GET /api/v1/flow-runs/"+run.ID+"/items?step="+step]
		var page struct {
			Items []struct {
				Input struct {
					Headers map[string]any `json:"headers"`
				} `json:"input"`
			} `json:"items"`
		}
		if err := json.Unmarshal([]byte(body), &page); err != nil || len(page.Items) != 1 || page.Items[0].Input.Headers["X-Api-Key"] != "(redacted)" {
			t.Errorf("the item of step %s: %v; want its input's header X-Api-Key as (redacted):\n%s", step, err, body)
		}
	}

	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, step := range []string{"call", "refused"} {
		items, err := st.ListFlowItems(t.Context(), run.ID, step)
		if err != nil || len(items) != 1 {
			t.Fatalf("stored items of step %s: %v, %d; want one", step, err, len(items))
		}
		if strings.Contains(string(items[0].Input), canary) || strings.Contains(string(items[0].Output), canary) {
			t.Errorf("the stored item of step %s keeps the header's value: input %s", step, items[0].Input)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("files of the data directory: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // a directory
		}
		if strings.Contains(string(b), canary) {
			t.Errorf("%s holds the header's value", filepath.Base(f))
		}
	}
}
