package flow

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cardflow/cardflow/internal/counttext"
)

// The YAML parser reports a key indented unlike its neighbours at the line
// before it ("mapping value is not allowed in this context": the key reads
// as more of that line's value) or as "value is not allowed in this
// context", and a value holding ": " the same way: true, but no help to a
// person who pressed the space bar once too often. indentHint and
// colonHint find those mistakes in the text and say where and what to do.

// srcLine is one line of a document for the hints: its number, the column
// of its key (after any "- " that opens a list item) and its text.
type srcLine struct {
	n    int
	col  int // 1-based column of the first character of its key
	text string
}

// key is the line's key ("input:"), or "" when it has none.
func (l srcLine) key() string {
	t := l.text[l.col-1:]
	if strings.HasPrefix(t, "#") || strings.HasPrefix(t, "-") {
		return ""
	}
	k, _, ok := strings.Cut(t, ":")
	if !ok || k == "" || strings.ContainsAny(k, " \"'{[") && !isPlainKey(k) {
		return ""
	}
	return k + ":"
}

// isPlainKey reports whether k may be a key with spaces in it ("run as"):
// letters, digits, spaces, '-', '_' and '.' only.
func isPlainKey(k string) bool {
	return strings.IndexFunc(k, func(r rune) bool {
		return !(r == ' ' || r == '-' || r == '_' || r == '.' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) < 0
}

// contentLine returns line n of src as a srcLine, and false for a line
// that is blank, a comment alone, or not in src.
func contentLine(src []byte, n int) (srcLine, bool) {
	text := lineOf(src, n)
	if n < 1 || strings.TrimSpace(text) == "" || strings.HasPrefix(strings.TrimSpace(text), "#") {
		return srcLine{}, false
	}
	col := 1
	for {
		rest := text[col-1:]
		switch {
		case strings.HasPrefix(rest, " "):
			col++
		case strings.HasPrefix(rest, "- "):
			col += 2
		default:
			return srcLine{n: n, col: col, text: text}, true
		}
	}
}

// lineCount is the number of lines of src.
func lineCount(src []byte) int { return strings.Count(string(src), "\n") + 1 }

// indentHint explains a syntax error at line n caused by a key indented
// unlike the line above it: the position of that key and what to do.
// ok is false when the lines there are indented consistently.
func indentHint(src []byte, n int, mappingValue bool) (pos Pos, hint string, ok bool) {
	var bad, above srcLine
	if mappingValue {
		// The key that reads as a value is on a line below n.
		var found bool
		if above, found = contentLine(src, n); !found {
			return Pos{}, "", false
		}
		for i := n + 1; i <= lineCount(src); i++ {
			if l, found := contentLine(src, i); found {
				bad = l
				break
			}
		}
		if bad.n == 0 || bad.col <= above.col || strings.HasSuffix(strings.TrimSpace(above.text), ":") {
			return Pos{}, "", false
		}
	} else {
		var found bool
		if bad, found = contentLine(src, n); !found {
			return Pos{}, "", false
		}
		for i := n - 1; i >= 1; i-- {
			if l, found := contentLine(src, i); found {
				above = l
				break
			}
		}
		// A key further in than the line above is a value of its own
		// mapping; only one further out than its neighbours is misplaced.
		if above.n == 0 || bad.col >= above.col {
			return Pos{}, "", false
		}
	}
	if bad.key() == "" || above.key() == "" {
		return Pos{}, "", false
	}
	return Pos{Line: bad.n, Column: bad.col},
		fmt.Sprintf("%s is indented %s, where %s on line %d is indented %d: indent the keys of one mapping by the same number of spaces",
			quoteKey(bad.key()), counttext.Format(bad.col-1, "space"), quoteKey(above.key()), above.n, above.col-1), true
}

// colonHint explains "mapping value is not allowed" of a value holding
// ": " on line n, which YAML reads as a key of its own.
func colonHint(src []byte, n int) (string, bool) {
	l, ok := contentLine(src, n)
	if !ok || l.key() == "" {
		return "", false
	}
	value := strings.TrimSpace(l.text[l.col-1+len(l.key()):])
	if value == "" || strings.HasPrefix(value, `"`) || strings.HasPrefix(value, "'") || !strings.Contains(value+" ", ": ") {
		return "", false
	}
	how := "put the whole value in quotes"
	if strings.Contains(value, `"`) {
		how = "put the whole value in single quotes ('...'), as it holds double quotes"
	}
	return fmt.Sprintf(`the value of %s holds ": ", which YAML reads as another key: %s`, quoteKey(l.key()), how), true
}

func quoteKey(k string) string { return `"` + k + `"` }

// indicatorHint explains a syntax error on line n whose value starts with
// a character YAML reserves (cron: */5 * * * *, where * starts an alias;
// @daily): such a value must be quoted.
func indicatorHint(src []byte, n int) (string, bool) {
	l, ok := contentLine(src, n)
	if !ok || l.key() == "" {
		return "", false
	}
	value := strings.TrimSpace(l.text[l.col-1+len(l.key()):])
	if value == "" || !strings.ContainsRune("*@`", rune(value[0])) {
		return "", false
	}
	quoted := strconv.Quote(value)
	if strings.Contains(value, `"`) {
		quoted = "'" + strings.ReplaceAll(value, "'", "''") + "'"
	}
	what := fmt.Sprintf("YAML reserves %c at the start of a value", value[0])
	if value[0] == '*' {
		what = "a value starting with * reads to YAML as an alias"
	}
	return fmt.Sprintf("%s: put it in quotes, %s %s", what, l.key(), quoted), true
}
