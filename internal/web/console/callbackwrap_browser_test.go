package console_test

import (
	"fmt"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// brokenWordsScript lists the words of the cardflow commands in the
// page's "How to fix it" paragraph that the browser laid out over more than
// one line ("--client-secret-stdin" broke as "-" and "-client-secret-stdin").
const brokenWordsScript = `(() => {
  const p = [...document.querySelectorAll('main p')].find(p => p.textContent.includes('How to fix it'));
  if (!p) return ['no How to fix it paragraph'];
  const nodes = [];
  const walk = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
  let text = '';
  for (let n = walk.nextNode(); n; n = walk.nextNode()) { nodes.push([n, text.length]); text += n.data; }
  const at = (i) => { let k = 0; while (k + 1 < nodes.length && nodes[k + 1][1] <= i) k++; return [nodes[k][0], i - nodes[k][1]]; };
  const start = text.indexOf('cardflow connections');
  if (start < 0) return ['no command in: ' + text];
  const end = text.indexOf(';', start);
  const broken = [];
  for (const m of text.slice(start, end).matchAll(/\S+/g)) {
    const r = document.createRange();
    const [sn, so] = at(start + m.index), [en, eo] = at(start + m.index + m[0].length - 1);
    r.setStart(sn, so); r.setEnd(en, eo + 1);
    const tops = new Set([...r.getClientRects()].map(c => Math.round(c.top)));
    if (tops.size > 1) broken.push(m[0]);
  }
  return broken;
})()`

// TestBrowserCallbackCommandsDoNotBreak: the callback page of a connection
// whose client secret the org refused tells how to give it the new one
// with a command; at desktop and phone widths the command wraps only at
// its spaces, never inside a flag, where "--client-secret-stdin" broke
// after its first "-" and read as a single-dash flag.
func TestBrowserCallbackCommandsDoNotBreak(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, authURL, _ := e.createRotated(t, "Rotated secret")
	b := newTab(t, e)
	b.open(authURL)
	b.orgSignIn(oktaemu.AdminLogin)
	for _, w := range []int64{1280, 390} {
		b.setWidth(w)
		if broken := eval[[]string](b, "find the broken words", brokenWordsScript); len(broken) > 0 {
			t.Errorf("at %d px the command breaks inside %q; want breaks only at its spaces", w, broken)
		}
		b.screenshot(fmt.Sprintf("callback-command-%d", w))
	}
}
