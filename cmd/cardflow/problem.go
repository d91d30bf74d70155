package main

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Error is the server's message, then the remedy on its own line, then the
// details that the message does not already say, one per line.
func (e *apiError) Error() string {
	msg := e.Body.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	if e.issuesSaid != "" {
		msg = e.issuesSaid
	}
	remedy, _ := e.Body.Details["remedy"].(string)
	if remedy != "" {
		msg = strings.TrimSuffix(msg, "; "+remedy)
	}
	var b strings.Builder
	if e.Body.Code != "" {
		b.WriteString(e.Body.Code + ": ")
	}
	b.WriteString(msg)
	if remedy != "" {
		b.WriteString("\nRemedy: " + remedy)
	}
	details := e.Body.Details
	if _, ok := details["errors"]; ok && (e.Body.Code == "needs_reauthorization" || e.Body.Code == "connection_pending") {
		// A flow refused for connections that are not active lists them
		// step by step in details.errors; its message says each once, with
		// its steps, and the remedy the fix.
		details = maps.Clone(details)
		delete(details, "errors")
	}
	if _, ok := details["errors"]; ok && e.issuesSaid != "" {
		details = maps.Clone(details)
		delete(details, "errors")
	}
	if _, ok := details["warnings"]; ok && e.warningsSaid {
		details = maps.Clone(details)
		delete(details, "warnings")
	}
	for _, line := range detailLines(details, msg, remedy) {
		b.WriteString("\n" + line)
	}
	return b.String()
}

// detailLines formats an error's details (all but the remedy) for people:
// first scalars as "key: value" and lists of scalars joined with ", ",
// then lists of objects one per line (a flow document's issues as "line L,
// column C: step "x": message", others as "key: value" pairs) and nested
// objects. What the message, the remedy or an earlier line already says,
// a long value the message or the remedy quotes, and empty strings, are
// left out.
func detailLines(details map[string]any, msg, remedy string) []string {
	keys := make([]string, 0, len(details))
	for k := range details {
		if k != "remedy" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []string
	said := func(s string) bool {
		return strings.Contains(msg, s) || (remedy != "" && strings.Contains(remedy, s)) || slices.Contains(out, s)
	}
	for _, k := range keys {
		v := details[k]
		if list, ok := v.([]any); ok {
			// A list's sentences that the message already says are
			// left out ("errors" holding the one error of the
			// message); names ("missing": since) are kept, as a short
			// one may be in the message by chance.
			v = slices.DeleteFunc(slices.Clone(list), func(e any) bool {
				s, ok := e.(string)
				return ok && strings.Contains(s, " ") && said(s)
			})
			if len(v.([]any)) == 0 {
				continue
			}
		}
		// A long value the message or the remedy quotes already (a
		// search filter Okta refused, the card a remedy suggests) is not
		// printed again: it can be kilobytes.
		if s, ok := scalarText(v); ok && s != "" && !said(k+": "+s) && !(len(s) >= quotedLen && quoted(s, msg, remedy)) {
			out = append(out, k+": "+s)
		}
	}
	for _, k := range keys {
		var items []string
		switch v := details[k].(type) {
		case []any:
			if _, ok := scalarText(v); ok {
				continue
			}
			for _, item := range v {
				if s := itemText(item, said); s != "" && !said(s) {
					items = append(items, s)
				}
			}
		case map[string]any:
			items = detailLines(v, msg, remedy)
		}
		if len(items) > 0 {
			out = append(out, k+":")
			for _, s := range items {
				out = append(out, "  "+s)
			}
		}
	}
	return out
}

// quotedLen is the length from which a detail's value that the message
// contains is taken as quoted there, not named by chance (an id, a word).
const quotedLen = 24

// quoted reports whether s is in one of texts, as it is or quoted.
func quoted(s string, texts ...string) bool {
	for _, t := range texts {
		if t != "" && (strings.Contains(t, s) || strings.Contains(t, strconv.Quote(s))) {
			return true
		}
	}
	return false
}

// itemText is one element of a detail list on one line; the pairs of an
// object that said reports as already said are left out.
func itemText(item any, said func(string) bool) string {
	m, ok := item.(map[string]any)
	if !ok {
		s, _ := scalarText(item)
		return s
	}
	if msg, ok := m["message"].(string); ok {
		return issueLine(m, msg)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		s, ok := scalarText(m[k])
		if !ok {
			if sub, isMap := m[k].(map[string]any); isMap {
				s = "{" + strings.Join(detailLines(sub, "", ""), "; ") + "}"
			} else {
				s = "[...]"
			}
		}
		if pair := k + ": " + s; s != "" && !said(pair) && !(k == "remedy" && said(s)) {
			parts = append(parts, pair)
		}
	}
	return strings.Join(parts, ", ")
}

// issueLine formats an issue of a flow document: "line L, column C: step
// "x": message".
func issueLine(m map[string]any, msg string) string {
	var b strings.Builder
	if line, ok := m["line"].(float64); ok && line > 0 {
		fmt.Fprintf(&b, "line %d", int(line))
		if col, ok := m["column"].(float64); ok && col > 0 {
			fmt.Fprintf(&b, ", column %d", int(col))
		}
		b.WriteString(": ")
	}
	if step, ok := m["step"].(string); ok && step != "" {
		fmt.Fprintf(&b, "step %q: ", step)
	}
	b.WriteString(msg)
	return b.String()
}

// scalarText formats a JSON scalar (null as "-") or a list of scalars
// (joined with ", "); ok is false for objects and lists holding them.
func scalarText(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "-", true
	case string:
		return x, true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(x), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			s, ok := scalarText(e)
			if !ok {
				return "", false
			}
			if _, isList := e.([]any); isList {
				s = "[" + s + "]"
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ", "), true
	}
	return "", false
}
