package main

// cardflow connections list and flows list against a server holding more
// connections and flows than a page of the API.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
)

func TestListsFollowEveryPage(t *testing.T) {
	var dir string
	s := startServerWith(t, oktaemu.Config{Devices: 1}, func(c *app.Config) { dir = c.DataDir })
	// A second handle on the server's database, as another server's.
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "cardflow.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	const n = 205 // three pages of the API's 100
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		c := &store.Connection{ID: fmt.Sprintf("conn_seed%03d", i), Connector: "okta-devices", Nickname: fmt.Sprintf("Seed %03d", i),
			Domain: "seed.okta.com", Status: store.StatusActive, ScopeMode: "default", ClientID: "x", CreatedAt: at, UpdatedAt: at}
		if err := st.CreateConnection(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("seed-flow-%03d", i)
		if _, err := st.PutFlow(t.Context(), &store.Flow{Name: name, Source: []byte("name: " + name + "\n"), CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}

	for _, tt := range []struct {
		args []string
		row  string // the prefix of each row's first column
		list string // the list of the JSON answer
	}{
		{args: []string{"connections", "list"}, row: "Seed ", list: "connections"},
		{args: []string{"flows", "list"}, row: "seed-flow-", list: "flows"},
	} {
		code, out, errOut := runCLI(t, s.vars, tt.args...)
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s%s", strings.Join(tt.args, " "), code, out, errOut)
		}
		var rows []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, tt.row) {
				rows = append(rows, line)
			}
		}
		if len(rows) != n || !strings.HasPrefix(rows[0], tt.row+"000") || !strings.HasPrefix(rows[n-1], fmt.Sprintf("%s%03d", tt.row, n-1)) {
			t.Errorf("%s: %d rows; want %d, %s000 to %s%03d\n%.600s", strings.Join(tt.args, " "), len(rows), n, tt.row, tt.row, n-1, out)
		}

		code, out, errOut = runCLI(t, s.vars, append(tt.args, "--json")...)
		var all map[string]json.RawMessage
		if code != exitOK || json.Unmarshal([]byte(out), &all) != nil {
			t.Fatalf("%s --json: exit %d\n%s%s", strings.Join(tt.args, " "), code, out, errOut)
		}
		var recs []map[string]any
		if err := json.Unmarshal(all[tt.list], &recs); err != nil || len(recs) != n {
			t.Errorf("%s --json: %d %s (%v); want %d", strings.Join(tt.args, " "), len(recs), tt.list, err, n)
		}
		if _, ok := all["next"]; ok {
			t.Errorf("%s --json has next; want every page in one list", strings.Join(tt.args, " "))
		}
	}
}
