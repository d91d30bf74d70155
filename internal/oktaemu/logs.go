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

// listLogs serves GET /api/v1/logs: a polling request reads the log as a
// feed in persistence order, any other a bounded window of it in
// publication order.
func (o *Org) listLogs(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.logs.read", accessRead) == nil {
		return
	}
	lq, ok := parseLogQuery(w, r.URL.Query(), o.now())
	if !ok {
		return
	}
	events := o.st().log.snapshot()
	var page []*logEvent
	var next *logCursor
	if lq.polling {
		page, next = lq.pollPage(events)
	} else {
		lq.since, lq.until = lq.window()
		page, next = lq.boundedPage(events)
	}
	writeLogPage(w, r, lq, page, next)
}

// logQuery is a System Log request with its parameters checked.
type logQuery struct {
	q   url.Values // the request's query, for its self and next links
	now time.Time

	limit              int
	order              string    // ASCENDING or DESCENDING
	since, until       time.Time // as given; for a bounded request, its window
	hasSince, hasUntil bool
	after              string    // the after parameter as given
	cur                logCursor // after, decoded
	filter             filterExpr
	keywords           []string // of q, lower case

	// polling is whether the request reads the log as an endless feed in
	// persistence order rather than a bounded window in publication order.
	polling bool
}

// parseLogQuery checks the parameters of a System Log request one after
// another and answers 400 for the first it refuses.
func parseLogQuery(w http.ResponseWriter, q url.Values, now time.Time) (*logQuery, bool) {
	bad := func(param, cause string) {
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+param, param+": "+cause)
	}
	lq := &logQuery{q: q, now: now, limit: defaultLogLimit}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxLogLimit {
			bad("limit", "The limit must be an integer between 0 and 1000.")
			return nil, false
		}
		lq.limit = n
	}
	lq.order = q.Get("sortOrder")
	switch lq.order {
	case "", "ASCENDING":
		lq.order = "ASCENDING"
	case "DESCENDING":
	default:
		bad("sortOrder", "sortOrder must be ASCENDING or DESCENDING.")
		return nil, false
	}
	lq.hasSince, lq.hasUntil = q.Has("since"), q.Has("until")
	if lq.hasSince {
		t, ok := parseLogTime(q.Get("since"))
		if !ok {
			bad("since", "since must be an ISO 8601 timestamp such as 2024-08-13T15:58:20.353Z.")
			return nil, false
		}
		if now.Sub(t) > maxSinceAge {
			writeError(w, http.StatusBadRequest, "E0000053", "The since parameter is over 180 days prior to the current day.")
			return nil, false
		}
		lq.since = t
	}
	if lq.hasUntil {
		t, ok := parseLogTime(q.Get("until"))
		if !ok {
			bad("until", "until must be an ISO 8601 timestamp such as 2024-08-13T15:58:20.353Z.")
			return nil, false
		}
		lq.until = t
	}
	lq.after = q.Get("after")
	if lq.after != "" && lq.hasSince {
		bad("after", "after and since cannot be used together.")
		return nil, false
	}
	if lq.after != "" {
		var ok bool
		if lq.cur, ok = decodeLogCursor(lq.after); !ok {
			bad("after", "The after cursor is not valid; follow the next link of a previous response.")
			return nil, false
		}
		// A polling cursor is a since in disguise: one from further back
		// than a since may reach is refused as such a since is.
		if pos := cmp.Or(lq.cur.at, lq.cur.since); lq.cur.polling && now.Sub(time.Unix(0, pos)) > maxSinceAge {
			bad("after", "The after cursor is more than 180 days old; start again with since.")
			return nil, false
		}
	}
	if v := q.Get("filter"); v != "" {
		f, err := parseLogFilter(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "E0000053", "Invalid filter: "+err.Error())
			return nil, false
		}
		lq.filter = f
	}
	if v := q.Get("q"); v != "" {
		lq.keywords = strings.Fields(strings.ToLower(v))
		if len(lq.keywords) > 10 || slices.ContainsFunc(lq.keywords, func(k string) bool { return len(k) > 40 }) {
			bad("q", "Freeform search cannot contain items longer than 40 characters or more than 10 keywords.")
			return nil, false
		}
	}
	lq.polling = !lq.hasUntil && lq.order == "ASCENDING" && (lq.after == "" || lq.cur.polling)
	return lq, true
}

// parseLogFilter parses a System Log filter, refusing attributes the
// emulator does not index.
func parseLogFilter(v string) (filterExpr, error) {
	f, err := parseFilterWith(v, func(attr string) bool { return logAttrs[attr] }, true, nil)
	if err == nil {
		err = checkLogAttrs(f)
	}
	return f, err
}

// match reports whether e is within the log's retention and matches the
// request's filter and every keyword of its q.
func (lq *logQuery) match(e *logEvent) bool {
	if e.published.Before(lq.now.Add(-logRetention)) {
		return false
	}
	if lq.filter != nil && !lq.filter.match(e.attr) {
		return false
	}
	for _, k := range lq.keywords {
		if !bytes.Contains(bytes.ToLower(e.body), []byte(k)) {
			return false
		}
	}
	return true
}

// pollPage reads a polling request's page: persistence order, an endless
// feed that always has a next link. since bounds the persistence time,
// which here is the publication time.
func (lq *logQuery) pollPage(events []*logEvent) ([]*logEvent, *logCursor) {
	cur := lq.cur
	if lq.after == "" {
		cur = logCursor{polling: true, since: lq.now.Add(-7 * 24 * time.Hour).UnixNano()}
		if lq.hasSince {
			cur.since = lq.since.UnixNano()
		}
	}
	var page []*logEvent
	for _, e := range events[min(int(cur.seq), len(events)):] {
		if len(page) == lq.limit {
			break
		}
		if e.published.UnixNano() < cur.since {
			continue
		}
		if lq.match(e) {
			page = append(page, e)
		}
	}
	n := cur
	if len(page) > 0 {
		n.seq = page[len(page)-1].seq
	} else if lq.limit > 0 {
		// Nothing new: move past what was scanned, keeping since.
		n.seq = int64(len(events))
	}
	if n.seq != cur.seq || lq.after == "" {
		// Stamped when its position moves: the next link of a
		// request that read nothing new is the one it was asked with.
		n.at = lq.now.UnixNano()
	}
	return page, &n
}

// window returns the publication times a bounded request reads, since
// inclusive and until exclusive: those asked for, else since from the
// cursor, and a week up to now by default.
func (lq *logQuery) window() (since, until time.Time) {
	since, until = lq.since, lq.until
	if !lq.hasUntil {
		// until is exclusive; by default it includes events of now.
		until = lq.now.Add(time.Millisecond)
	}
	switch {
	case lq.after != "":
		since = time.Unix(0, lq.cur.since)
	case !lq.hasSince:
		since = until.Add(-7 * 24 * time.Hour)
	}
	return since, until
}

// boundedPage reads a bounded request's page: the matching events of its
// window in publication order (then persistence order), after its cursor.
// The next link is there only while events remain.
func (lq *logQuery) boundedPage(events []*logEvent) ([]*logEvent, *logCursor) {
	sel := make([]*logEvent, 0)
	for _, e := range events {
		if e.published.Before(lq.since) || !e.published.Before(lq.until) || !lq.match(e) {
			continue
		}
		sel = append(sel, e)
	}
	slices.SortFunc(sel, comparePublished)
	if lq.order == "DESCENDING" {
		slices.Reverse(sel)
	}
	start := 0
	if lq.after != "" {
		start = len(sel)
		key := &logEvent{published: time.Unix(0, lq.cur.at), seq: lq.cur.seq}
		for i, e := range sel {
			c := comparePublished(e, key)
			if lq.order == "DESCENDING" {
				c = -c
			}
			if c > 0 {
				start = i
				break
			}
		}
	}
	end := min(start+lq.limit, len(sel))
	page := sel[start:end]
	if end < len(sel) && len(page) > 0 {
		last := page[len(page)-1]
		return page, &logCursor{seq: last.seq, at: last.published.UnixNano(), since: lq.since.UnixNano()}
	}
	return page, nil
}

// comparePublished orders events by publication time, then persistence
// order.
func comparePublished(a, b *logEvent) int {
	if c := a.published.Compare(b.published); c != 0 {
		return c
	}
	return int(a.seq - b.seq)
}

// writeLogPage answers with the page, its self link and, when next is not
// nil, a next link that carries the request's filter and q.
func writeLogPage(w http.ResponseWriter, r *http.Request, lq *logQuery, page []*logEvent, next *logCursor) {
	org := origin(r)
	h := w.Header()
	addLink(h, org+r.URL.Path+encodeQuery(lq.q), "self")
	if next != nil {
		nq := url.Values{}
		for _, k := range []string{"filter", "q"} {
			if lq.q.Has(k) {
				nq.Set(k, lq.q.Get(k))
			}
		}
		if !lq.polling {
			nq.Set("sortOrder", lq.order)
			nq.Set("until", lq.until.UTC().Format(time.RFC3339Nano))
		}
		nq.Set("limit", strconv.Itoa(lq.limit))
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
