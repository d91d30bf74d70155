package console

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/store"
)

// listPageSize is how many records a page of a console list shows.
const listPageSize = 50

// pager is the navigation of a paged list: links that work without
// script and keep the list's filters. A list newest first pages with
// "before" (a cursor: the last record shown), an alphabetical one with
// "after".
type pager struct {
	First     string // the first page, "" when this is it
	Next      string // the next page, "" when this is the last
	FirstText string // "Newest" or "First page"
	NextText  string // "Older" or "Next page"
	Label     string // what the list holds, for the navigation's name
}

// newPager returns the navigation of a page of r's list: next is the
// cursor of the page after it ("" when there is none), param the query
// parameter that carries cursors.
func newPager(r *http.Request, label, param, next string, newestFirst bool) pager {
	return newPagerAt(r.URL.Path, r.URL.Query(), label, param, next, newestFirst)
}

// newPagerAt is newPager for the list at path with the query q (a page
// shown in answer to a form post links to the page's own address).
func newPagerAt(path string, q url.Values, label, param, next string, newestFirst bool) pager {
	p := pager{FirstText: "First page", NextText: "Next page", Label: label}
	if newestFirst {
		p.FirstText, p.NextText = "Newest", "Older"
	}
	if q.Get(param) != "" {
		p.First = pageURL(path, q, param, "")
	}
	if next != "" {
		p.Next = pageURL(path, q, param, next)
	}
	return p
}

// pageURL is the list at path with the cursor param set to cursor
// (removed when empty), every other query parameter (the filters) kept.
func pageURL(path string, q url.Values, param, cursor string) string {
	q = maps.Clone(q)
	q.Del(param)
	if cursor != "" {
		q.Set(param, cursor)
	}
	if enc := q.Encode(); enc != "" {
		return path + "?" + enc
	}
	return path
}

// timeCursor is the cursor of a record in a list ordered by a time, then
// an id: the time in Unix nanoseconds, "_", the id.
func timeCursor(t time.Time, id string) string {
	return strconv.FormatInt(t.UnixNano(), 10) + "_" + id
}

// timeCursorText says what a timeCursor looks like, for a notice about
// one that is not: whose is whose id it ends with ("an event's").
func timeCursorText(whose string) string {
	return "a time in Unix nanoseconds, \"_\" and " + whose + " id, such as 1767225600000000000_abc123"
}

// parseTimeCursor reads a timeCursor; ok is false for anything else (the
// list then starts at its first page).
func parseTimeCursor(s string) (t time.Time, id string, ok bool) {
	n, id, found := strings.Cut(s, "_")
	ns, err := strconv.ParseInt(n, 10, 64)
	if !found || err != nil || id == "" {
		return time.Time{}, "", false
	}
	return time.Unix(0, ns).UTC(), id, true
}

// badCursor is the notice of a list asked for with a cursor that is not
// one (a hand-edited or cut address): what the cursor must look like
// (want), and a link to the list's first page, its other filters kept.
// The page answers 400 and lists nothing, as the API refuses such a
// cursor, where it showed the first page as if the cursor were absent.
func badCursor(path string, q url.Values, param, value, list, want, first string) *filterError {
	if r := []rune(value); len(r) > 40 {
		value = string(r[:40]) + "…"
	}
	return &filterError{
		Message: fmt.Sprintf("%s=%q in this address is not a page of %s: %s is %s, as the Older link writes it", param, value, list, param, want),
		Remedy:  "Page with the Older link at the foot of the list, which writes " + param + " for you, rather than by editing the address.",
		Link:    pageURL(path, q, param, ""), LinkText: first,
	}
}

// nameCursor is the cursor of a record in a list by name (ignoring case),
// then id: the id, ":", the name. Ids hold no colon; names may.
func nameCursor(name, id string) string {
	return id + ":" + name
}

// namePage reads the page of a list by name that follows the record the
// cursor after names (nameCursor; anything else, or "", gives the first
// page) through list, and returns it with the cursor of the next page (""
// when none follows). key names a record's name and id.
func namePage[T any](after string, list func(store.NamePage) ([]T, error), key func(T) (name, id string)) ([]T, string, error) {
	p := store.NamePage{Limit: listPageSize}
	if id, name, ok := strings.Cut(after, ":"); ok && id != "" {
		p.After, p.AfterID = name, id
	}
	recs, more, err := store.ReadNamePage(p, list)
	if !more {
		return recs, "", err
	}
	return recs, nameCursor(key(recs[len(recs)-1])), nil
}

// pageBefore is pageAfter for a list newest first (sorted by key from the
// greatest): the page starts after the record whose key is before.
func pageBefore[T any](all []T, key func(T) string, before string) ([]T, string) {
	start := 0
	if before != "" {
		start = len(all)
		for i, v := range all {
			if key(v) < before {
				start = i
				break
			}
		}
	}
	rest := all[start:]
	if len(rest) <= listPageSize {
		return rest, ""
	}
	return rest[:listPageSize], key(rest[listPageSize-1])
}
