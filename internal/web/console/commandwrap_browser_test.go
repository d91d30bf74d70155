package console_test

import (
	"fmt"
	"testing"
)

// brokenCommandWordsScript lists the words of the commands the page shows
// in <code> (those starting "cardflow " or with a flag) that the browser
// laid out over more than one line.
const brokenCommandWordsScript = `(() => {
  const broken = [];
  for (const code of document.querySelectorAll('main code')) {
    const text = code.textContent;
    if (!text.startsWith('cardflow ') && !text.startsWith('--')) continue;
    const nodes = [];
    const walk = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
    let all = '';
    for (let n = walk.nextNode(); n; n = walk.nextNode()) { nodes.push([n, all.length]); all += n.data; }
    const at = (i) => { let k = 0; while (k + 1 < nodes.length && nodes[k + 1][1] <= i) k++; return [nodes[k][0], i - nodes[k][1]]; };
    for (const m of all.matchAll(/\S+/g)) {
      const r = document.createRange();
      const [sn, so] = at(m.index), [en, eo] = at(m.index + m[0].length - 1);
      r.setStart(sn, so); r.setEnd(en, eo + 1);
      if (new Set([...r.getClientRects()].map(c => Math.round(c.top))).size > 1) broken.push(m[0]);
    }
  }
  return broken;
})()`

// TestBrowserConsoleCommandsDoNotBreak: the commands a console page shows
// (here how to plan an event flow, on its page) wrap only at their spaces
// at desktop and phone widths, never inside a word or flag, where the
// flow's name and "--event" broke at a hyphen or anywhere.
func TestBrowserConsoleCommandsDoNotBreak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.connect(t, "Prod", nil)
	id := e.storeFlow(t, `name: suspend-new-devices-on-enroll-at-once
on:
  event: {card: okta-devices/device-enrolled, connection: Prod, delivery: poll}
steps:
  - id: suspend
    card: okta-devices/suspend-device
    connection: Prod
    input: {deviceId: "${{ trigger.event.device.id }}"}
`)
	b := newTab(t, e)
	b.signIn()
	b.open("/flows/" + id)
	for _, w := range []int64{1280, 390} {
		b.setWidth(w)
		if broken := eval[[]string](b, "find the broken words", brokenCommandWordsScript); len(broken) > 0 {
			t.Errorf("at %d px the commands break inside %q; want breaks only at their spaces", w, broken)
		}
		b.screenshot(fmt.Sprintf("flow-command-%d", w))
	}
}
