package web

import (
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/problem"
)

// callbackPage is what the browser shows after the org redirects back.
type callbackPage struct {
	Title string
	OK    bool
	// Completed: the page of an authorization that succeeded was loaded
	// again; it shows nothing about the connection (see
	// connection.CallbackResult.AlreadyCompleted).
	Completed       bool
	Reauthorization bool
	Nickname        string
	ActingAs        string
	Granted         []string
	Missing         []missingScope
	Message         string
	Remedy          string
	Warnings        []string
	RequestID       string
	Console         bool
	// ConnectionID links the console's page of the connection, where its
	// remedies (Change secret, Reauthorize) are; empty when unknown.
	ConnectionID string
}

type missingScope struct {
	Scope string
	Cards []string // cards that fail with insufficient_scope
	// EventCards are event cards that need the scope only for one delivery
	// (Delivery: "hook" or "poll"); the other delivery may still work.
	EventCards []string
	Delivery   string
}

var callbackTmpl = template.Must(template.New("callback").Funcs(template.FuncMap{"stop": fullStop, "capitalize": capitalize, "cmds": Commands, "cmd": Command, "cmdcss": func() template.CSS { return CommandCSS }}).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · cardflow</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
main{max-width:42rem;margin:3rem auto;background:#fff;border:1px solid #dde1e6;border-radius:8px;padding:1.5rem 2rem}
@media (max-width:46rem){main{margin:1rem;padding:1.25rem}}
h1{margin-top:0;font-size:1.6rem}
.ok{color:#17703a}.fail{color:#b3261e}
.warn{background:#fff6e0;border-left:4px solid #e0a100;padding:.5rem .75rem}
code{background:#eef0f3;padding:0 .25rem;border-radius:3px}
{{cmdcss}}
dt{font-weight:600;margin-top:.5rem}
dd+dd{margin-top:.4rem}
small{color:#5b6472}
</style>
</head>
<body>
<main>
{{if .Completed}}
<h1 class="ok">&#10003; {{.Title}}</h1>
<p>This authorization was completed already: there is nothing more to do here. {{if .Console}}Open the <a href="/">cardflow console</a> to see the connection.{{else}}Run {{cmd "cardflow connections list"}} to see the connection.{{end}}</p>
{{else if .OK}}
<h1 class="ok">&#10003; {{.Title}}</h1>
<p>The connection <strong>{{.Nickname}}</strong> is {{if .Reauthorization}}reauthorized{{else}}connected{{end}}{{if .ActingAs}} and acts as <strong>{{.ActingAs}}</strong>{{end}}.</p>
<dl>
<dt>Granted scopes</dt>
<dd>{{range $i, $s := .Granted}}{{if $i}} {{end}}<code>{{$s}}</code>{{else}}none{{end}}</dd>
{{if .Missing}}
<dt>Missing scopes</dt>
{{range .Missing}}<dd><code>{{.Scope}}</code>{{if .Cards}}: these cards will fail with Insufficient Scope: {{range $i, $c := .Cards}}{{if $i}}, {{end}}{{$c}}{{end}}{{end}}{{if .EventCards}}{{if .Cards}};{{else}}:{{end}} flows cannot start from these event cards with {{.Delivery}} delivery: {{range $i, $c := .EventCards}}{{if $i}}, {{end}}{{$c}}{{end}}{{end}}.</dd>{{end}}
<dd><strong>How to fix it:</strong> grant the scope on the OAuth app's Okta API Scopes tab, then reauthorize the connection.</dd>
{{end}}
</dl>
{{else}}
<h1 class="fail">&#10007; {{.Title}}</h1>
<p>{{if .Nickname}}The connection <strong>{{.Nickname}}</strong> was not {{if .Reauthorization}}reauthorized{{else}}authorized{{end}}: {{cmds (stop .Message)}}{{else}}{{cmds (stop (capitalize .Message))}}{{end}}</p>
{{if .Remedy}}<p><strong>How to fix it:</strong> {{cmds (stop .Remedy)}}</p>{{end}}
{{end}}
{{range .Warnings}}<p class="warn">{{.}}</p>{{end}}
{{if not .Completed}}<p>You can close this window{{if .Console}} or go back to {{if .ConnectionID}}<a href="/connections/{{.ConnectionID}}">the connection's page</a> in the cardflow console{{else}}the <a href="/">cardflow console</a>{{end}}{{end}}.</p>{{end}}
{{if .RequestID}}<p><small>Request id {{.RequestID}}</small></p>{{end}}
</main>
</body>
</html>
`))

// oauthCallback completes an authorization and shows what happened.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	page := callbackPage{Console: s.Console != nil, RequestID: RequestID(ctx)}
	status := http.StatusOK
	res, err := s.Connections.Callback(ctx, r.URL.Query())
	switch {
	case err != nil:
		st, pub := publicError(ctx, err)
		status = st
		page.Title = "Authorization failed"
		page.Message = pub.Message
		if p, ok := problem.As(err); ok && p.Code != problem.Internal {
			page.Message, page.Remedy = p.Message, p.Remedy
		}
		if status >= 500 {
			s.log.ErrorContext(ctx, "oauth callback failed", slog.Any("cause", errCause(err)))
		} else {
			s.log.InfoContext(ctx, "oauth callback refused", slog.String("code", pub.Code), slog.String("message", pub.Message))
		}
	case res.AlreadyCompleted:
		page.Title = "Authorization completed"
		page.Completed = true
	case res.OK:
		page.Title = "Connected"
		page.OK = true
		fillCallback(&page, res)
	default:
		page.Title = "Authorization failed"
		fillCallback(&page, res)
		page.Message, page.Remedy = res.Message, res.Remedy
		status = HTTPStatus(res.Code)
		s.log.InfoContext(ctx, "authorization failed", slog.String("connection", res.ConnectionID), slog.String("code", string(res.Code)), slog.String("message", res.Message))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	w.WriteHeader(status)
	if err := callbackTmpl.Execute(w, page); err != nil {
		s.log.ErrorContext(ctx, "render the callback page", slog.Any("cause", err))
	}
}

func fillCallback(page *callbackPage, res *connection.CallbackResult) {
	page.Nickname = res.Nickname
	page.ConnectionID = res.ConnectionID
	page.Reauthorization = res.Reauthorization
	page.Warnings = res.Warnings
	v := res.Connection
	if v == nil {
		return
	}
	if page.Nickname == "" {
		page.Nickname = v.Nickname
	}
	if page.ConnectionID == "" {
		page.ConnectionID = v.ID
	}
	if v.AuthorizedBy != nil {
		page.ActingAs = v.AuthorizedBy.Login
	}
	page.Granted = v.GrantedScopes
	for _, sc := range v.MissingScopes {
		page.Missing = append(page.Missing, missingScopeOf(sc, v.MissingScopeCards[sc]))
	}
}

// missingScopeOf sorts the cards that need scope sc into those that fail
// without it and event cards that need it only for one delivery.
func missingScopeOf(sc string, refs []string) missingScope {
	m := missingScope{Scope: sc}
	for _, ref := range refs {
		c, ok := card.Lookup(ref)
		delivery := ""
		if ok && c.Scope != sc {
			for d, ds := range c.DeliveryScopes {
				if ds == sc {
					delivery = d
				}
			}
		}
		if delivery == "" {
			m.Cards = append(m.Cards, ref)
			continue
		}
		m.EventCards, m.Delivery = append(m.EventCards, ref), delivery
	}
	slices.Sort(m.Cards)
	slices.Sort(m.EventCards)
	return m
}

// capitalize upper-cases the first letter of a message that starts the
// page's sentence ("this sign-in response is unknown ...").
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if !unicode.IsLower(r) {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// fullStop ends s with a full stop unless it ends a sentence already: the
// messages and remedies shown on the page are clauses ("then reauthorize").
func fullStop(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}
