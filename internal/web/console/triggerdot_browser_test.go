package console_test

import (
	"fmt"
	"net/http"
	"testing"
)

// TestBrowserTriggerStateKeepsItsDot: on a flow's page at phone widths
// the trigger's state reads as one piece, its dot beside Enabled, where a
// line could end after the dot and leave Enabled alone on the next
// ("(Europe/Berlin) · ●" / "Enabled · next run").
func TestBrowserTriggerStateKeepsItsDot(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	id := e.storeFlow(t, nightlyFlow)
	if code, out := e.api(t, http.MethodPost, "/api/v1/flows/"+id+"/enable", "application/json", ""); code != http.StatusOK {
		t.Fatalf("enable the flow: %d %s", code, out)
	}
	b := newTab(t, e)
	b.signIn()
	b.setWidth(narrowWidth)
	b.open("/flows/" + id)
	b.wantText("Enabled")
	var apart []int64
	for w := int64(narrowWidth); w <= 430; w += 5 {
		b.setWidth(w)
		if eval[bool](b, "compare the dot's line with Enabled's", `(() => {
  const p = document.querySelector('[aria-labelledby="trigger-title"] p');
  const d = p.querySelector('.dot').getBoundingClientRect(), s = p.querySelector('strong').getBoundingClientRect();
  return d.top >= s.top - 2 && d.bottom <= s.bottom + 2;
})()`) {
			continue
		}
		apart = append(apart, w)
		b.screenshot(fmt.Sprintf("trigger-dot-%d", w))
	}
	if len(apart) > 0 {
		t.Errorf("at %v px the trigger's dot ends a line and Enabled starts the next; want them on one line", apart)
	}
}
