package events

import (
	"testing"
	"time"
)

// TestRefusalsLogAtMostOnceAPeriod: per hook, the first refusal is a line
// at once; the next ones within the period none; the first after it a
// summary counting itself; flush summarises a period's refusals that no
// request followed, and forgets a hook quiet for a whole period, whose
// next refusal is a first line again. Hooks do not share their periods.
func TestRefusalsLogAtMostOnceAPeriod(t *testing.T) {
	var rs refusals
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	const every = time.Minute
	refuse := func(conn string, s int) (refusalLine, bool) { return rs.refuse(conn, at(s), every) }

	if l, ok := refuse("a", 0); !ok || l != (refusalLine{ConnID: "a", First: true, N: 1, Since: at(0)}) {
		t.Errorf("first refusal: %+v %v; want a first line", l, ok)
	}
	for s := 1; s < 60; s++ {
		if l, ok := refuse("a", s); ok {
			t.Fatalf("refusal at %ds: line %+v; want none within the minute", s, l)
		}
	}
	if l, ok := refuse("b", 30); !ok || !l.First {
		t.Errorf("another hook's first refusal: %+v %v; want a first line", l, ok)
	}
	if l, ok := refuse("a", 60); !ok || l != (refusalLine{ConnID: "a", N: 60, Since: at(0)}) {
		t.Errorf("refusal after the minute: %+v %v; want the summary of 60 since 0s", l, ok)
	}
	refuse("a", 70)
	refuse("a", 80)
	if due := rs.flush(at(119), every); len(due) != 0 {
		t.Errorf("flush before a period ended: %+v; want nothing (b had no refusal after its first)", due)
	}
	due := rs.flush(at(120), every)
	if len(due) != 1 || due[0] != (refusalLine{ConnID: "a", N: 2, Since: at(60)}) {
		t.Errorf("flush after a's period: %+v; want a's 2 since 60s", due)
	}
	if _, ok := rs.by["b"]; ok {
		t.Error("b, quiet for a period, is still kept")
	}
	if due := rs.flush(at(180), every); len(due) != 0 || len(rs.by) != 0 {
		t.Errorf("flush after a quiet period: %+v, %d kept; want nothing due, nothing kept", due, len(rs.by))
	}
	if l, ok := refuse("a", 181); !ok || !l.First {
		t.Errorf("refusal after a quiet period: %+v %v; want a first line", l, ok)
	}
	// Without a flush in between, a refusal a period after a first line
	// that nothing followed is a first line too.
	if l, ok := refuse("a", 300); !ok || !l.First || l.N != 1 {
		t.Errorf("refusal a period after a lone one: %+v %v; want a first line", l, ok)
	}
}
