package oktaemu

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	maxLogLimit     = 1000
	defaultLogLimit = 100
	logRetention    = 90 * 24 * time.Hour
	maxSinceAge     = 180 * 24 * time.Hour
)

// logCursor is the position the "after" parameter of a next link carries:
// the last event served (its persistence sequence and, for bounded
// requests, its publication time) and the lower time bound of the request.
type logCursor struct {
	polling bool
	seq     int64
	// at is, for bounded requests, the publication of the last event
	// served; for polling requests, when its position last moved (the
	// persistence time up to which the log was read). Unix ns.
	at    int64
	since int64 // Unix ns; 0 = none
}

func (c logCursor) encode() string {
	kind := "b"
	if c.polling {
		kind = "p"
	}
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s:%d:%d:%d", kind, c.seq, c.at, c.since))
}

func decodeLogCursor(s string) (logCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return logCursor{}, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 4 || parts[0] != "p" && parts[0] != "b" {
		return logCursor{}, false
	}
	var n [3]int64
	for i := range n {
		if n[i], err = strconv.ParseInt(parts[i+1], 10, 64); err != nil || n[i] < 0 {
			return logCursor{}, false
		}
	}
	return logCursor{polling: parts[0] == "p", seq: n[0], at: n[1], since: n[2]}, true
}

// logAttrs are the attributes System Log filters may name.
var logAttrs = map[string]bool{"eventType": true, "target.id": true, "uuid": true}

// parseLogTime parses an ISO 8601 timestamp of since or until.
func parseLogTime(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339Nano, v)
	return t, err == nil
}

func (o *Org) listLogs(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.logs.read", accessRead) == nil {
		return
	}
	q := r.URL.Query()
	now := o.now()
	bad := func(param, cause string) {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+param, param+": "+cause)
	}

	limit := defaultLogLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxLogLimit {
			bad("limit", "The limit must be an integer between 0 and 1000.")
			return
		}
		limit = n
	}
	order := q.Get("sortOrder")
	switch order {
	case "", "ASCENDING":
		order = "ASCENDING"
	case "DESCENDING":
	default:
		bad("sortOrder", "sortOrder must be ASCENDING or DESCENDING.")
		return
	}
	var since, until time.Time
	hasSince, hasUntil := q.Has("since"), q.Has("until")
	if hasSince {
		t, ok := parseLogTime(q.Get("since"))
		if !ok {
			bad("since", "since must be an ISO 8601 timestamp such as 2024-08-13T15:58:20.353Z.")
			return
		}
		if now.Sub(t) > maxSinceAge {
			writeError(w, http.StatusBadRequest, "E0000053", "The since parameter is over 180 days prior to the current day.")
			return
		}
		since = t
	}
	if hasUntil {
		t, ok := parseLogTime(q.Get("until"))
		if !ok {
			bad("until", "until must be an ISO 8601 timestamp such as 2024-08-13T15:58:20.353Z.")
			return
		}
		until = t
	}
	after := q.Get("after")
	if after != "" && hasSince {
		bad("after", "after and since cannot be used together.")
		return
	}
	var cur logCursor
	if after != "" {
		var ok bool
		if cur, ok = decodeLogCursor(after); !ok {
			bad("after", "The after cursor is not valid; follow the next link of a previous response.")
			return
		}
		// A polling cursor is a since in disguise: one from further back
		// than a since may reach is refused as such a since is.
		if pos := cmp.Or(cur.at, cur.since); cur.polling && now.Sub(time.Unix(0, pos)) > maxSinceAge {
			bad("after", "The after cursor is more than 180 days old; start again with since.")
			return
		}
	}
	var filter filterExpr
	if v := q.Get("filter"); v != "" {
		f, err := parseFilterWith(v, func(attr string) bool { return logAttrs[attr] }, true, nil)
		if err == nil {
			err = checkLogAttrs(f)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "E0000053", "Invalid filter: "+err.Error())
			return
		}
		filter = f
	}
	var keywords []string
	if v := q.Get("q"); v != "" {
		keywords = strings.Fields(strings.ToLower(v))
		if len(keywords) > 10 || slices.ContainsFunc(keywords, func(k string) bool { return len(k) > 40 }) {
			bad("q", "Freeform search cannot contain items longer than 40 characters or more than 10 keywords.")
			return
		}
	}
	match := func(e *logEvent) bool {
		if e.published.Before(now.Add(-logRetention)) {
			return false
		}
		if filter != nil && !filter.match(e.attr) {
			return false
		}
		for _, k := range keywords {
			if !bytes.Contains(bytes.ToLower(e.body), []byte(k)) {
				return false
			}
		}
		return true
	}

	events := o.st().log.snapshot()
	polling := !hasUntil && order == "ASCENDING" && (after == "" || cur.polling)
	var page []*logEvent
	var next *logCursor
	if polling {
		// Polling: persistence order, an endless feed that always has a
		// next link. since bounds the persistence time, which here is the
		// publication time.
		if after == "" {
			cur = logCursor{polling: true, since: now.Add(-7 * 24 * time.Hour).UnixNano()}
			if hasSince {
				cur.since = since.UnixNano()
			}
		}
		for _, e := range events[min(int(cur.seq), len(events)):] {
			if len(page) == limit {
				break
			}
			if e.published.UnixNano() < cur.since {
				continue
			}
			if match(e) {
				page = append(page, e)
			}
		}
		n := cur
		if len(page) > 0 {
			n.seq = page[len(page)-1].seq
		} else if limit > 0 {
			// Nothing new: move past what was scanned, keeping since.
			n.seq = int64(len(events))
		}
		if n.seq != cur.seq || after == "" {
			// Stamped when its position moves: the next link of a
			// request that read nothing new is the one it was asked with.
			n.at = now.UnixNano()
		}
		next = &n
	} else {
		if !hasUntil {
			// until is exclusive; by default it includes events of now.
			until = now.Add(time.Millisecond)
		}
		switch {
		case after != "":
			since = time.Unix(0, cur.since)
		case !hasSince:
			since = until.Add(-7 * 24 * time.Hour)
		}
		sel := make([]*logEvent, 0)
		for _, e := range events {
			if e.published.Before(since) || !e.published.Before(until) || !match(e) {
				continue
			}
			sel = append(sel, e)
		}
		less := func(a, b *logEvent) int {
			if c := a.published.Compare(b.published); c != 0 {
				return c
			}
			return int(a.seq - b.seq)
		}
		slices.SortFunc(sel, less)
		if order == "DESCENDING" {
			slices.Reverse(sel)
		}
		start := 0
		if after != "" {
			start = len(sel)
			for i, e := range sel {
				key := &logEvent{published: time.Unix(0, cur.at), seq: cur.seq}
				c := less(e, key)
				if order == "DESCENDING" {
					c = -c
				}
				if c > 0 {
					start = i
					break
				}
			}
		}
		end := min(start+limit, len(sel))
		page = sel[start:end]
		if end < len(sel) && len(page) > 0 {
			last := page[len(page)-1]
			next = &logCursor{seq: last.seq, at: last.published.UnixNano(), since: since.UnixNano()}
		}
	}

	org := origin(r)
	h := w.Header()
	addLink(h, org+r.URL.Path+encodeQuery(q), "self")
	if next != nil {
		nq := url.Values{}
		for _, k := range []string{"filter", "q"} {
			if q.Has(k) {
				nq.Set(k, q.Get(k))
			}
		}
		if !polling {
			nq.Set("sortOrder", order)
			nq.Set("until", until.UTC().Format(time.RFC3339Nano))
		}
		nq.Set("limit", strconv.Itoa(limit))
		nq.Set("after", next.encode())
		addLink(h, org+r.URL.Path+encodeQuery(nq), "next")
	}
	b := []byte{'['}
	for i, e := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, e.body...)
	}
	b = append(b, ']')
	writeRaw(w, http.StatusOK, b)
}

// checkLogAttrs refuses filters on attributes the emulator does not index.
func checkLogAttrs(f filterExpr) error {
	switch e := f.(type) {
	case orExpr:
		for _, x := range e {
			if err := checkLogAttrs(x); err != nil {
				return err
			}
		}
	case andExpr:
		for _, x := range e {
			if err := checkLogAttrs(x); err != nil {
				return err
			}
		}
	case notExpr:
		return checkLogAttrs(e.x)
	case presentExpr:
		if !logAttrs[e.attr] {
			return fmt.Errorf("unsupported attribute %q (use eventType, target.id or uuid)", e.attr)
		}
	case cmpExpr:
		if !logAttrs[e.attr] {
			return fmt.Errorf("unsupported attribute %q (use eventType, target.id or uuid)", e.attr)
		}
	}
	return nil
}
