package app

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for terminating sessions

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

const readEveryDeviceFlow = `name: read-every-device
steps:
  - id: find
    card: okta-devices/search-devices
    connection: Prod
    input:
      search: 'status eq "ACTIVE" or status eq "SUSPENDED"'
      resultSet: all
  - id: read
    card: okta-devices/read-device
    connection: Prod
    for_each: ${{ steps.find.output.devices }}
    input:
      deviceId: ${{ item.id }}
`

// TestPGFlowRunSurvivesDroppedConnections: PostgreSQL ends every session
// of the servers (a restart, a failover, an administrator terminating
// them) while a flow run is between two items. The write that meets the
// dropped connection does not fail the run: the run is resumed and
// succeeds with every item, and none of its card runs is left running.
func TestPGFlowRunSurvivesDroppedConnections(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 40})
	a, b, dsn := pgServers(t, emu, func(c *Config) { c.FlowLeaseTTL = 2 * time.Second })
	a.connect("Prod")
	var stored struct {
		Flow struct{ ID string } `json:"flow"`
	}
	if code, data := a.postYAML("/api/v1/flows", readEveryDeviceFlow, &stored); code != 201 {
		t.Fatalf("store flow: %d %s", code, data)
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	admin.SetMaxOpenConns(1)
	t.Cleanup(func() { admin.Close() })

	terminate := func(ctx context.Context) {
		var ended int
		if err := admin.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&ended); err != nil || ended == 0 {
			t.Fatalf("terminating the servers' sessions: %d ended, %v", ended, err)
		}
	}
	// Three times, the servers' sessions end while an item's read is at
	// the org, right after the run's last write.
	var run flowRun
	for round := range 3 {
		hold := emu.Hold(t, "GET", "/api/v1/devices/{deviceId}", 2)
		if round == 0 {
			if code, data := a.call("POST", "/api/v1/flows/"+stored.Flow.ID+"/runs", map[string]any{}, &run); code != 202 {
				t.Fatalf("start run: %d %s", code, data)
			}
		}
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		if err := hold.Await(ctx, 1); err != nil {
			var status, why string
			_ = admin.QueryRowContext(t.Context(), `SELECT status, error FROM flow_runs WHERE id = $1`, run.ID).Scan(&status, &why)
			t.Fatalf("round %d: no item of the run reached the org again (%v): the run is %s %q; want it resumed", round, err, status, why)
		}
		terminate(ctx)
		hold.Release()
		cancel()
	}
	ctx := t.Context()

	// Read from a store of the test's own, opened after the sessions
	// ended: an API call may meet a terminated session of its server too.
	st := openPG(t, dsn)
	var status string
	waitFor(t, "the flow run to end", func() bool {
		fr, err := st.GetFlowRun(ctx, run.ID)
		if err != nil {
			t.Fatalf("GetFlowRun: %v", err)
		}
		status = fr.Status
		return status == "succeeded" || status == "failed"
	})
	steps, err := st.ListFlowSteps(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	if status != "succeeded" || len(steps) != 2 || steps[1].Failed != 0 || steps[1].Succeeded != steps[1].Items || steps[1].Items < 6 {
		t.Errorf("the run after its servers' sessions were terminated is %s with steps %+v; want succeeded with every item", status, steps)
	}
	var running int
	if err := admin.QueryRowContext(ctx, `SELECT count(*) FROM runs WHERE flow_run_id = $1 AND status = 'running'`, run.ID).Scan(&running); err != nil {
		t.Fatal(err)
	}
	if running != 0 {
		t.Errorf("%d card runs of the ended flow run are still running; want none", running)
	}
	if !strings.Contains(a.logs.String()+b.logs.String(), "57P01") {
		t.Errorf("no server met a terminated session; the test did not test anything\n%s\n%s", a.logs, b.logs)
	}
}
