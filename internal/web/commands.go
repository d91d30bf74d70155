package web

import (
	"html/template"
	"regexp"
	"strings"
)

// commandRE finds a cardflow command in a message or remedy: the program,
// its command group and subcommand, then the arguments a command takes
// (flags, [optional] parts, quoted names, PLACEHOLDERS, ids and values with
// _ . / : or digits) up to the first word of prose or punctuation.
var commandRE = regexp.MustCompile(`cardflow (?:audit|connections|connectors|demo|events|flows|login|notifications|people|runs|run|serve|tokens)\b(?: [a-z][a-z-]*\b)?(?: (?:-[^\s;,()]+|\[[^\]]*\]|"[^"]*"|[A-Z][A-Z_]*\b|[^\s;,()]*[_./:0-9][^\s;,()]*|\.\.\.))*`)

// Commands is text as HTML with each cardflow command it names in a
// <code class="cmd"> whose words never break: a line may break only at the
// spaces between them, so "--client-secret-stdin" never reads as a
// single-dash flag split over two lines.
func Commands(text string) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range commandRE.FindAllStringIndex(text, -1) {
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		b.WriteString(string(Command(text[m[0]:m[1]])))
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}

// Command is the command cmd as a <code class="cmd"> whose words are
// spans that do not break (CommandCSS), so it wraps only at its spaces.
func Command(cmd string) template.HTML {
	var b strings.Builder
	b.WriteString(`<code class="cmd">`)
	for i, w := range strings.Fields(cmd) {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("<span>" + template.HTMLEscapeString(w) + "</span>")
	}
	b.WriteString("</code>")
	return template.HTML(b.String())
}

// CommandCSS is the style rule Command's markup needs on a page.
const CommandCSS = `code.cmd span{white-space:nowrap}`
