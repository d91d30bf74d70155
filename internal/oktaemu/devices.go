package oktaemu

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"sync"
)

const maxLimit = 200

// bufPool recycles response buffers of device lists.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

func (o *Org) listDevices(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.devices.read", accessRead) == nil {
		return
	}
	q := r.URL.Query()
	limit := maxLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: limit", "limit: The limit must be an integer between 1 and 200.")
			return
		}
		limit = min(n, maxLimit)
	}
	var filter filterExpr
	if v := q.Get("search"); v != "" {
		f, err := parseFilter(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, "E0000031", "Invalid search criteria.")
			return
		}
		filter = f
	}
	expand := q.Get("expand")
	after := q.Get("after")

	s := o.st()
	page := make([]*device, 0, min(limit, 64))
	more := false
	s.mu.RLock()
	i := 0
	if after != "" {
		i = sort.SearchStrings(s.order, after)
		if i < len(s.order) && s.order[i] == after {
			i++
		}
	}
	for ; i < len(s.order); i++ {
		d := s.devices[s.order[i]]
		if filter != nil && !filter.match(d.attr) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, d)
	}
	s.mu.RUnlock()

	org := origin(r)
	h := w.Header()
	addLink(h, org+r.URL.Path+encodeQuery(q), "self")
	if more {
		// q is this request's own parse of the query: the next link may
		// change it once the self link is written.
		q.Set("after", page[len(page)-1].id)
		q.Set("limit", strconv.Itoa(limit))
		addLink(h, org+r.URL.Path+encodeQuery(q), "next")
	}

	bp := bufPool.Get().(*[]byte)
	b := append((*bp)[:0], '[')
	for n, d := range page {
		if n > 0 {
			b = append(b, ',')
		}
		b = appendDevice(b, d, org)
		if expand == "user" || expand == "userSummary" {
			b = b[:len(b)-1]
			b = append(b, `,"_embedded":{"users":`...)
			b = append(b, encodeJSON(deviceUsersJSON(s, d, org, expand == "userSummary"))...)
			b = append(b, "}}"...)
		}
	}
	b = append(b, ']')
	writeRaw(w, http.StatusOK, b)
	*bp = b
	bufPool.Put(bp)
}

func encodeQuery(v url.Values) string {
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// device returns the device named by the request path, or answers 404.
func (o *Org) device(w http.ResponseWriter, r *http.Request) (*state, *device) {
	id := r.PathValue("deviceId")
	s := o.st()
	s.mu.RLock()
	d := s.devices[id]
	s.mu.RUnlock()
	if d == nil {
		writeNotFound(w, id, "GenericUDObject")
	}
	return s, d
}

func (o *Org) getDevice(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.devices.read", accessRead) == nil {
		return
	}
	if _, d := o.device(w, r); d != nil {
		bp := bufPool.Get().(*[]byte)
		b := appendDevice((*bp)[:0], d, origin(r))
		writeRaw(w, http.StatusOK, b)
		*bp = b
		bufPool.Put(bp)
	}
}

func (o *Org) deviceUsers(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.devices.read", accessRead) == nil {
		return
	}
	if s, d := o.device(w, r); d != nil {
		writeJSON(w, http.StatusOK, deviceUsersJSON(s, d, origin(r), false))
	}
}

func (o *Org) deleteDevice(w http.ResponseWriter, r *http.Request) {
	p := o.authorizeAPI(w, r, "okta.devices.manage", accessManage)
	if p == nil {
		return
	}
	id := r.PathValue("deviceId")
	s := o.st()
	s.mu.Lock()
	d := s.devices[id]
	if d != nil && d.status == "DEACTIVATED" {
		delete(s.devices, id)
		if i, ok := slices.BinarySearch(s.order, id); ok {
			s.order = slices.Delete(s.order, i, i+1)
		}
	}
	s.mu.Unlock()
	switch {
	case d == nil:
		writeNotFound(w, id, "GenericUDObject")
	case d.status != "DEACTIVATED":
		writeError(w, http.StatusBadRequest, "E0000001",
			"Api validation failed: The device is "+d.status+"; only a DEACTIVATED device can be deleted. Deactivate it first.",
			"status: The device must be DEACTIVATED to be deleted; it is "+d.status+".")
	default:
		o.recordCall(r, p, "device.lifecycle.delete", deviceTarget(d))
		w.WriteHeader(http.StatusNoContent)
	}
}

// transitions: for each lifecycle operation, the target status and the
// statuses it may start from.
var transitions = map[string]struct {
	to   string
	from []string
}{
	"activate":   {"ACTIVE", []string{"CREATED", "DEACTIVATED"}},
	"deactivate": {"DEACTIVATED", []string{"ACTIVE", "SUSPENDED"}},
	"suspend":    {"SUSPENDED", []string{"ACTIVE"}},
	"unsuspend":  {"ACTIVE", []string{"SUSPENDED"}},
}

func (o *Org) lifecycle(op string) http.HandlerFunc {
	tr := transitions[op]
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Content-Length") == "" {
			lengthRequired(w)
			return
		}
		p := o.authorizeAPI(w, r, "okta.devices.manage", accessManage)
		if p == nil {
			return
		}
		id := r.PathValue("deviceId")
		s := o.st()
		now := o.now()
		s.mu.Lock()
		d := s.devices[id]
		allowed := d != nil && slices.Contains(tr.from, d.status)
		var changed *device
		if allowed {
			users := d.users
			if tr.to == "DEACTIVATED" {
				users = nil
			}
			changed = d.with(tr.to, now, users)
			s.devices[id] = changed
		}
		s.mu.Unlock()
		switch {
		case d == nil:
			writeNotFound(w, id, "GenericUDObject")
		case allowed:
			o.recordCall(r, p, "device.lifecycle."+op, deviceTarget(changed))
			w.WriteHeader(http.StatusNoContent)
		case d.status == tr.to:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeError(w, http.StatusBadRequest, "E0000001",
				"Api validation failed: The device is "+d.status+"; "+op+" is allowed only from "+joinOr(tr.from)+".",
				"status: Cannot "+op+" a device whose status is "+d.status+".")
		}
	}
}

func joinOr(xs []string) string {
	switch len(xs) {
	case 1:
		return xs[0]
	case 2:
		return xs[0] + " or " + xs[1]
	}
	return ""
}

// lengthRequired answers a POST without Content-Length the way Okta's edge
// does.
func lengthRequired(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusLengthRequired)
	_, _ = w.Write([]byte("<html>\r\n<head><title>411 Length Required</title></head>\r\n<body>\r\n<center><h1>411 Length Required</h1></center>\r\n</body>\r\n</html>\r\n"))
}

// userDevices lists the devices a user is linked to.
func (o *Org) userDevices(w http.ResponseWriter, r *http.Request) {
	if o.authorizeAPI(w, r, "okta.users.read", accessRead) == nil {
		return
	}
	id := r.PathValue("userId")
	s := o.st()
	u := s.findUser(id)
	if u == nil {
		writeNotFound(w, id, "User")
		return
	}
	type link struct {
		d  *device
		du deviceUser
	}
	var found []link
	s.mu.RLock()
	for _, did := range s.order {
		d := s.devices[did]
		for _, du := range d.users {
			if du.userID == u.id {
				found = append(found, link{d, du})
			}
		}
	}
	s.mu.RUnlock()
	org := origin(r)
	b := []byte{'['}
	for i, l := range found {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"created":"`+formatTime(l.du.created)+`","deviceUserId":"`+stableID("dul", l.d.id+"/"+u.id)+`","device":`...)
		b = appendDevice(b, l.d, org)
		b = append(b, '}')
	}
	b = append(b, ']')
	writeRaw(w, http.StatusOK, b)
}
