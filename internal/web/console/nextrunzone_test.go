package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestNextRunInTheFlowsZone: an enabled cron flow's next run is given on
// the clocks of its timezone too, on its page and in the Flows list
// (2026-12-08 03:00:00 UTC = 2026-12-08 04:00 Europe/Berlin), as cardflow
// flows store and enable give it, where the console gave UTC alone and
// left it to the reader to work out whether daylight saving had moved
// the run the cron fields speak of.
func TestNextRunInTheFlowsZone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	// 04:00: a time every day has in Berlin (02:00 is skipped once a year).
	id := e.storeFlow(t, strings.Replace(nightlyFlow, `cron: "0 2 * * *"`, `cron: "0 4 * * *"`, 1))
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, out)
	}
	f, err := e.store.GetFlow(t.Context(), id)
	if err != nil || f.NextRunAt.IsZero() {
		t.Fatalf("the enabled flow: %v, next run %v; want a next run", err, f.NextRunAt)
	}
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	utc := f.NextRunAt.UTC().Format("2006-01-02 15:04:05 UTC")
	zone := f.NextRunAt.In(berlin).Format("2006-01-02") + " 04:00 Europe/Berlin"
	c, _, _ := signInHTTP(t, e.url, "/flows")
	if _, page := get(t, c, e.url+"/flows/"+id); !strings.Contains(page, `<span id="next-run">`+utc+" = "+zone+"</span>") {
		t.Errorf("the flow page lacks the next run %s = %s; page:\n%s", utc, zone, page)
	}
	if _, page := get(t, c, e.url+"/flows"); !strings.Contains(page, `<span class="when">`+utc+`</span><div class="help">`+zone+`</div>`) {
		t.Errorf("the Flows list lacks the next run %s with %s under it; page:\n%s", utc, zone, page)
	}
}
