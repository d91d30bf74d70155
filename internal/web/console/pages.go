package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cardflow/cardflow/internal/flow"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/timetext"
	"github.com/cardflow/cardflow/internal/web"
)

//go:embed templates/*.html
var templateFS embed.FS

// pageSet holds one parsed template per page, each joined with the layout.
type pageSet struct {
	pages map[string]*template.Template
}

// page is what the layout renders around a page's content.
type page struct {
	Title     string
	Section   string // the navigation entry to highlight
	SignedIn  bool
	CSRF      string
	Flashes   []flash
	HasCards  bool
	HasRuns   bool
	HasFlows  bool
	HasEvents bool
	HasTokens bool
	HasPeople bool
	HasAudit  bool
	Who       string // who is signed in
	Role      access.Role
	RequestID string
	// Errors is the error summary of a form sent back with errors.
	Errors []summaryItem
	Data   any
}

// Can reports whether the signed-in person's role may use the route with
// the given pattern (the role table): pages hide what a role may not do.
func (p page) Can(pattern string) bool {
	need, ok := web.RoleFor(pattern)
	return ok && p.Role.Allows(need)
}

// actorName names an actor on a page.
func actorName(a store.Actor) string {
	if s := a.String(); s != "" {
		return s
	}
	return "—"
}

var funcs = template.FuncMap{
	"when":         when,
	"ago":          ago,
	"prettyJSON":   prettyJSON,
	"join":         strings.Join,
	"contains":     slices.Contains[[]string],
	"connStatus":   connStatus,
	"humanize":     humanize,
	"add":          func(a, b int) int { return a + b },
	"count":        counttext.Format,
	"runTrigger":   runTrigger,
	"actor":        actorName,
	"cmd":          web.Command,
	"keyField":     keyField,
	"copyTarget":   func(id, label string) copyTarget { return copyTarget{ID: id, Label: label} },
	"field":        newFormField,
	"sentence":     sentence,
	"remedy":       remedy,
	"capital":      capital,
	"irreversible": irreversibleSteps,
	// pathSegment escapes a name that is not ours (a person's login: the
	// identity provider's, which may hold '/', '#' or '?') as one segment
	// of a link's path; html/template would leave those as they are.
	"pathSegment": url.PathEscape,
	"login":       breakableLogin,
	"issuer":      breakableIssuer,
	"breakable":   breakableText,
	"action":      breakableAction,
	"flowRunTable": func(rows []flowRunRow, oneFlow bool) flowRunTable {
		return flowRunTable{Rows: rows, OneFlow: oneFlow}
	},
	"flowWarnings": func(ws []flow.Warning, flowID string, version int, current bool) flowWarnings {
		return flowWarnings{Warnings: ws, FlowID: flowID, Version: version, Current: current}
	},
	"sourceLines": sourceLines,
}

// flowWarnings is the notice of a flow document's warnings: of the flow's
// current version (Current), or of an earlier one; each warning links to
// its line in the version's document.
type flowWarnings struct {
	Warnings []flow.Warning
	FlowID   string
	Version  int
	Current  bool
}

// sourceLines are a document's lines, without their line ends, for a page
// that shows each with an anchor (#L7); a last line end starts no line.
func sourceLines(src []byte) []string {
	return strings.Split(strings.TrimSuffix(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n"), "\n")
}

// flowRunTable is a table of flow runs: OneFlow, on a flow's own page,
// leaves out the Flow column, which would repeat the page's heading.
type flowRunTable struct {
	Rows    []flowRunRow
	OneFlow bool
}

// breakableLogin is a person's login as HTML that a narrow cell wraps
// before its "@" (readonly / @example.com) rather than at any letter.
func breakableLogin(login string) template.HTML {
	local, domain, ok := strings.Cut(login, "@")
	if !ok || local == "" {
		return template.HTML(template.HTMLEscapeString(login))
	}
	return template.HTML(template.HTMLEscapeString(local) + "<wbr>@" + template.HTMLEscapeString(domain))
}

// breakableAction is an audit event's action as HTML that a narrow column
// wraps after its "." when it is longer than person.signout
// (connection. / authorize) and nowhere else: the Audit page's Action
// column is then as wide as its actions need, up to a short one's width,
// and leaves the rest to Outcome.
func breakableAction(action string) template.HTML {
	s := template.HTMLEscapeString(action)
	if len(action) <= len("person.signout") {
		return template.HTML(s)
	}
	return template.HTML(strings.ReplaceAll(s, ".", ".<wbr>"))
}

// breakableIssuer is an identity provider's issuer as the People page
// shows it (issuerName: old-idp.example.com/oauth2/default) as HTML that
// a narrow cell wraps only after a "." or a "/" (breakable), not at the
// hyphen of a host name.
func breakableIssuer(issuer string) template.HTML {
	return breakable(issuerName(issuer), "./")
}

// tokenBreaks are the characters after which breakableText lets a long
// token wrap: an email address after its "@" and its dots, a path after
// its "/", a name after its "-" or "_".
const tokenBreaks = "@./-_"

// breakableText is text such as a flow run's error as HTML that a narrow
// cell wraps between its words, and inside a token only after one of
// tokenBreaks (breakable): "admin@" / "example.com", where the cell broke
// it at whatever letter reached its edge ("admin@example.c" / "om").
func breakableText(text string) template.HTML {
	return breakable(text, tokenBreaks)
}

// breakable is text as HTML that a narrow cell wraps at its white space
// (kept as it is, for a cell whose white-space keeps line breaks) and
// inside a word only after a run of the characters in after: each word
// that has such a place is a span of parts, each part up to one a span
// that does not break (console.css: span.parts > span), unless it alone
// is wider than the cell, with <wbr> between them. A run of them at a
// word's start or end is no place to break ("--failed-only" keeps its
// "--", "(x.)" its "."), nor is a hyphen before a digit (2026-12-06,
// -5). A word without such a place is only escaped.
func breakable(text, after string) template.HTML {
	var b strings.Builder
	for text != "" {
		i := strings.IndexFunc(text, unicode.IsSpace)
		if i == 0 {
			j := strings.IndexFunc(text, func(r rune) bool { return !unicode.IsSpace(r) })
			if j < 0 {
				j = len(text)
			}
			b.WriteString(text[:j])
			text = text[j:]
			continue
		}
		if i < 0 {
			i = len(text)
		}
		breakableWord(&b, text[:i], after)
		text = text[i:]
	}
	return template.HTML(b.String())
}

// breakableWord writes word as breakable does.
func breakableWord(b *strings.Builder, word, after string) {
	var parts []string
	start := 0
	for i := 0; i < len(word); i++ {
		if !strings.ContainsRune(after, rune(word[i])) {
			continue
		}
		// The end of this run of them: a place to break when letters come
		// before the run and after it.
		j := i
		for j+1 < len(word) && strings.ContainsRune(after, rune(word[j+1])) {
			j++
		}
		if i > start && j+1 < len(word) && !(word[j] == '-' && word[j+1] >= '0' && word[j+1] <= '9') {
			parts = append(parts, word[start:j+1])
			start = j + 1
		}
		i = j
	}
	if len(parts) == 0 {
		if utf8.RuneCountInString(word) > longToken {
			b.WriteString(`<span class="long">` + template.HTMLEscapeString(word) + "</span>")
			return
		}
		b.WriteString(template.HTMLEscapeString(word))
		return
	}
	parts = append(parts, word[start:])
	b.WriteString(`<span class="parts">`)
	for k, part := range parts {
		if k > 0 {
			b.WriteString("<wbr>")
		}
		if utf8.RuneCountInString(part) > longToken {
			b.WriteString(`<span class="long">` + template.HTMLEscapeString(part) + "</span>")
			continue
		}
		b.WriteString("<span>" + template.HTMLEscapeString(part) + "</span>")
	}
	b.WriteString("</span>")
}

// longToken is the length (in characters) beyond which breakable marks a
// word or part without a place to break as long (class "long"): an id,
// which may break anywhere, where a shorter one is kept whole. A table
// that sizes its columns to their content (the Audit page's) makes a
// column as wide as its longest token, but not as wide as a long one.
const longToken = 24

// sentence joins the non-empty parts with "; " (a message and its remedy)
// and shows them as a sentence: a leading article capitalized (see
// capital), a full stop at the end unless one is there. The API's messages
// and remedies are clauses ("the flow ... is taken", "check the id").
func sentence(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	// A part that ends its sentence gives up its full stop to the
	// semicolon before the next.
	for i := range len(kept) - 1 {
		kept[i] = strings.TrimSuffix(kept[i], ".")
	}
	s := capital(strings.Join(kept, "; "))
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// remedy writes the parts of a remedy as sentence does, after "How to
// fix it:". A remedy starts with what to do (check, reauthorize, give),
// which starts its sentence with a capital as the console's own remedies
// do; a first word that is a name typed as written (cardflow, deviceId,
// okta-devices/read-device, -notify-url) keeps its case.
func remedy(parts ...string) string {
	s := sentence(parts...)
	word, _, _ := strings.Cut(s, " ")
	word = strings.TrimRight(word, ",;:")
	if word == "" || word == "cardflow" || strings.IndexFunc(word, func(r rune) bool { return r < 'a' || r > 'z' }) >= 0 {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// sentenceStarts are the first words capital upper-cases. Only these: a
// message may start with a name the reader types as written (deviceId,
// okta-devices/read-device, limit), which must keep its case.
var sentenceStarts = []string{"the", "a", "an", "no", "this", "that", "these", "those", "unknown", "each", "every",
	// The things the server's messages are about, named in prose (card
	// "Suspend Device" needs scope ..., client ID is required ...).
	"card", "client", "connection", "device", "flow", "nickname"}

// capital upper-cases the first letter of s when s starts with one of
// sentenceStarts.
func capital(s string) string {
	word, _, _ := strings.Cut(s, " ")
	if !slices.Contains(sentenceStarts, word) {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// formField is the data of the "field" template: one labelled input of a
// form with its help and, when the form came back with one, its error.
type formField struct {
	ID, Label, Type, Value, Placeholder, Autocomplete, Help string
	MaxLength                                               int
	NoSpellcheck                                            bool
	Err                                                     shownError
}

// newFormField builds a formField named id (its name, and the key of its
// error in errs) from options "type=password", "placeholder=…",
// "maxlength=100", "autocomplete=…" and "nospellcheck". The defaults are
// a text input with autocomplete off. An unknown option is a template
// bug: it fails the page.
func newFormField(id, label, value, help string, errs map[string]shownError, opts ...string) (formField, error) {
	f := formField{ID: id, Label: label, Value: value, Help: help, Type: "text", Autocomplete: "off", Err: errs[id]}
	for _, o := range opts {
		k, v, _ := strings.Cut(o, "=")
		switch k {
		case "type":
			f.Type = v
		case "placeholder":
			f.Placeholder = v
		case "autocomplete":
			f.Autocomplete = v
		case "maxlength":
			n, err := strconv.Atoi(v)
			if err != nil {
				return f, fmt.Errorf("field %s: maxlength %q", id, v)
			}
			f.MaxLength = n
		case "nospellcheck":
			f.NoSpellcheck = true
		default:
			return f, fmt.Errorf("field %s: unknown option %q", id, o)
		}
	}
	return f, nil
}

// copyTarget is the data of the "copybutton" template: the id of the
// read-only field whose value the button copies, and the field's label,
// which the button's accessible name repeats.
type copyTarget struct {
	ID, Label string
}

// publicKeyField is the data of the "publickey" template: a read-only
// field with a public JWK.
type publicKeyField struct {
	ID, Label, JWK string
}

// keyField builds a publicKeyField; jwk is a string or JSON bytes.
func keyField(id, label string, jwk any) publicKeyField {
	f := publicKeyField{ID: id, Label: label}
	switch v := jwk.(type) {
	case string:
		f.JWK = v
	case json.RawMessage:
		f.JWK = string(v)
	case []byte:
		f.JWK = string(v)
	}
	return f
}

func mustParsePages() *pageSet {
	layout := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html"))
	entries, err := templateFS.ReadDir("templates")
	if err != nil {
		panic(err)
	}
	ps := &pageSet{pages: map[string]*template.Template{}}
	for _, e := range entries {
		name := strings.TrimSuffix(e.Name(), ".html")
		if name == "layout" || strings.HasPrefix(name, "_") || e.IsDir() {
			continue
		}
		t := template.Must(layout.Clone())
		template.Must(t.ParseFS(templateFS, "templates/"+e.Name()))
		ps.pages[name] = t
	}
	return ps
}

// render writes a full page. s is nil on pages shown without a session.
func (c *Console) render(w http.ResponseWriter, r *http.Request, s *reqState, status int, name, title string, data any) {
	t := c.pages.pages[name]
	if t == nil {
		panic("console: no template " + name)
	}
	p := page{Title: title, Section: section(r.URL.Path), Data: data, RequestID: web.RequestID(r.Context()),
		HasCards: c.Cards != nil && c.Catalog != nil, HasRuns: c.Runs != nil, HasFlows: c.Flows != nil, HasEvents: c.Events != nil,
		HasTokens: c.Tokens != nil, HasPeople: c.People != nil, HasAudit: c.Audit != nil}
	if f, ok := data.(failedForm); ok {
		p.Errors = f.errorSummary()
		if len(p.Errors) > 0 {
			p.Title = "Error: " + p.Title
		}
	}
	if s != nil {
		p.SignedIn = true
		p.CSRF = s.csrf
		p.Role = s.principal.Role
		p.Who = s.principal.Name
		if p.Who == "" {
			p.Who = actorName(s.principal.Actor)
		}
		p.Flashes = c.takeFlashes(r.Context(), s.session)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		c.log.ErrorContext(r.Context(), "console: render page", slog.String("page", name), slog.Any("cause", err))
		http.Error(w, "internal error rendering the page; request id "+p.RequestID, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// section names the navigation entry a path belongs to.
func section(path string) string {
	for _, s := range []string{"connections", "cards", "runs", "flows", "events", "tokens", "people", "audit"} {
		if path == "/"+s || strings.HasPrefix(path, "/"+s+"/") {
			return s
		}
	}
	if strings.HasPrefix(path, "/flow-runs/") {
		return "flows"
	}
	return ""
}

// messageData is the content of a plain message page.
type messageData struct {
	Heading  string
	Message  string
	Remedy   string
	Link     string
	LinkText string
}

// forbidden answers 403 with a page that says why and how to go on.
func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, why string) {
	c.render(w, r, nil, http.StatusForbidden, "message", "Forbidden", messageData{
		Heading:  "Request refused",
		Message:  why,
		Remedy:   "Open the console again and repeat the action from its own pages.",
		Link:     "/connections",
		LinkText: "Go to the console",
	})
}

// notFound answers 404.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request, s *reqState, why string) {
	c.notFoundAt(w, r, s, messageData{Message: why, Link: "/connections", LinkText: "Back to connections"})
}

// notFoundAt answers 404 with d's message, remedy and link: the page to
// pick again from.
func (c *Console) notFoundAt(w http.ResponseWriter, r *http.Request, s *reqState, d messageData) {
	d.Heading = "Not found"
	c.render(w, r, s, http.StatusNotFound, "message", "Not found", d)
}

// fail shows err as a page of its own. When the page's own object (the
// connection, flow or run its address names) no longer exists, the page
// says so in the console's terms (gonePage).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, s *reqState, err error) {
	status, e := c.publicError(r.Context(), err)
	heading := "Something went wrong"
	d := messageData{Message: e.Message, Remedy: e.Remedy, Link: "/connections", LinkText: "Back to connections"}
	if status == http.StatusNotFound {
		heading = "Not found"
		if g, ok := c.gonePage(r); ok {
			d = g
		}
	}
	d.Heading = heading
	c.render(w, r, s, status, "message", heading, d)
}

// gonePage is the message of a page (or form) about one connection, flow,
// card run or flow run that does not exist (any more): what is gone, why
// that happens, and a link to the list to pick another. ok is false when
// the address names no such object, or the object exists (the error was
// about something else).
func (c *Console) gonePage(r *http.Request) (d messageData, ok bool) {
	id := r.PathValue("id")
	if id == "" {
		return d, false
	}
	ctx := r.Context()
	missing := func(err error) bool {
		return problem.CodeOf(err) == problem.NotFound || errors.Is(err, store.ErrNotFound)
	}
	switch path := r.URL.Path; {
	case strings.HasPrefix(path, "/connections/") && c.Connections != nil:
		if _, err := c.Connections.Get(ctx, id); !missing(err) {
			return d, false
		}
		return messageData{Message: fmt.Sprintf("There is no connection %q: it was deleted, or the address is wrong.", id),
			Remedy: "Pick the connection again on the Connections page.", Link: "/connections", LinkText: "Go to connections"}, true
	case strings.HasPrefix(path, "/flows/") && c.Flows != nil:
		if _, err := c.Flows.GetFlow(ctx, id); !missing(err) {
			return d, false
		}
		return messageData{Message: fmt.Sprintf("There is no flow %q: it was deleted, or the address is wrong.", id),
			Remedy: "Pick the flow again on the Flows page.", Link: "/flows", LinkText: "Go to flows"}, true
	case strings.HasPrefix(path, "/flow-runs/") && c.Flows != nil:
		if _, err := c.Flows.GetFlowRun(ctx, id); !missing(err) {
			return d, false
		}
		return messageData{Message: fmt.Sprintf("There is no flow run %q: runs are removed a set time after they end (the server's -retain-runs), or the address is wrong.", id),
			Remedy: "Pick the run again from its flow's page.", Link: "/flows", LinkText: "Go to flows"}, true
	case strings.HasPrefix(path, "/runs/") && c.Runs != nil:
		if _, err := c.Runs.GetRun(ctx, id); !missing(err) {
			return d, false
		}
		return messageData{Message: fmt.Sprintf("There is no card run %q: runs are removed a set time after they end (the server's -retain-runs), or the address is wrong.", id),
			Remedy: "Pick the run again on the Runs page.", Link: "/runs", LinkText: "Go to runs"}, true
	}
	return d, false
}

// timeOf is the time a template passes as a time.Time or a *time.Time;
// the zero time for nil or anything else.
func timeOf(t any) time.Time {
	switch v := t.(type) {
	case time.Time:
		return v
	case *time.Time:
		if v != nil {
			return *v
		}
	}
	return time.Time{}
}

// when formats a time for people, in UTC; the zero time is "never".
func when(t any) string {
	tt := timeOf(t)
	if tt.IsZero() {
		return "never"
	}
	return timetext.Format(tt)
}

// ago formats the time since t roughly ("3 min ago") as a <time> element
// whose datetime and title (shown on hover) carry the exact time, so that
// every list that says "3 min ago" also tells when.
func ago(now time.Time, t any) template.HTML {
	tt := timeOf(t)
	if tt.IsZero() {
		return "never"
	}
	// Every part is digits, letters and punctuation of fixed formats:
	// nothing to escape.
	return template.HTML(`<time datetime="` + tt.UTC().Format(time.RFC3339) + `" title="` + when(tt) + `">` + roughlyAgo(now, tt) + `</time>`)
}

// roughlyAgo is the time from t to now in words ("3 min ago").
func roughlyAgo(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d days ago", int(d/(24*time.Hour)))
	}
}

// maxShownJSON bounds the JSON a page shows (a search of every device can
// return megabytes); the API has the whole document.
const maxShownJSON = 256 << 10

// prettyJSON indents a JSON document (raw bytes or any value) for a <pre>,
// cut at maxShownJSON bytes.
func prettyJSON(v any) string {
	var out string
	switch b := v.(type) {
	case json.RawMessage:
		if len(b) == 0 {
			return ""
		}
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") != nil {
			out = string(b)
		} else {
			out = buf.String()
		}
	case nil:
		return ""
	default:
		raw, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Sprint(v)
		}
		out = string(raw)
	}
	if len(out) > maxShownJSON {
		cut := strings.LastIndexByte(out[:maxShownJSON], '\n')
		if cut < 0 {
			cut = maxShownJSON
		}
		out = out[:cut] + fmt.Sprintf("\n… (%d more bytes; the API returns the whole document)", len(out)-cut)
	}
	return out
}

// humanize turns a status code like "needs_reauthorization" into words.
func humanize(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
