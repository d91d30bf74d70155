package oktaemu

import (
	"encoding/json"
	"net/http"
	"slices"
)

// Control endpoints that change devices the way people do outside the
// management API (enrolling with Okta Verify, adding or removing an
// account on a device). Each records the System Log events Okta records,
// with the user as actor.

func (o *Org) ctlEnroll(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User         string `json:"user"`
		Platform     string `json:"platform"`
		DisplayName  string `json:"displayName"`
		SerialNumber string `json:"serialNumber"`
		OSVersion    string `json:"osVersion"`
		Manufacturer string `json:"manufacturer"`
		Model        string `json:"model"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		ctlError(w, `body must be {"user": LOGIN, "platform": "MACOS", "displayName": "..."}`)
		return
	}
	if req.Platform == "" {
		req.Platform = "MACOS"
	}
	if !slices.Contains(validPlatforms, req.Platform) {
		ctlError(w, "platform must be one of ANDROID, IOS, MACOS, WINDOWS")
		return
	}
	s := o.st()
	u := s.findUser(req.User)
	if u == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no user " + req.User})
		return
	}
	if req.DisplayName == "" {
		req.DisplayName = u.firstName + "'s " + req.Platform
	}
	profile := map[string]any{"displayName": req.DisplayName, "platform": req.Platform, "registered": true}
	for k, v := range map[string]string{"serialNumber": req.SerialNumber, "osVersion": req.OSVersion, "manufacturer": req.Manufacturer, "model": req.Model} {
		if v != "" {
			profile[k] = v
		}
	}
	now := o.now()
	s.mu.Lock()
	d := &device{id: s.newID("guo"), status: "ACTIVE", created: now, lastUpdated: now, profile: profile,
		users: []deviceUser{{userID: u.id, managementStatus: "NOT_MANAGED", screenLockType: "BIOMETRIC", created: now}}}
	d.tmpl = d.template()
	s.devices[d.id] = d
	i, _ := slices.BinarySearch(s.order, d.id)
	s.order = slices.Insert(s.order, i, d.id)
	s.mu.Unlock()
	o.record(r, userActor(u), "", "device.enrollment.create", deviceTarget(d), userTarget(u))
	o.record(r, userActor(u), "", "device.user.add", deviceTarget(d), userTarget(u))
	writeRaw(w, http.StatusCreated, appendDevice(nil, d, origin(r)))
}

// deviceAndUser resolves the device of the path and a user by login or id,
// answering 404 when either is unknown.
func (o *Org) deviceAndUser(w http.ResponseWriter, r *http.Request, login string) (*state, *device, *user) {
	s := o.st()
	id := r.PathValue("deviceId")
	s.mu.RLock()
	d := s.devices[id]
	u := s.lookupUser(login)
	s.mu.RUnlock()
	switch {
	case d == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no device " + id})
		return nil, nil, nil
	case u == nil:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no user " + login})
		return nil, nil, nil
	}
	return s, d, u
}

func (o *Org) ctlAddDeviceUser(w http.ResponseWriter, r *http.Request) {
	var req struct {
		User string `json:"user"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.User == "" {
		ctlError(w, `body must be {"user": LOGIN}`)
		return
	}
	s, d, u := o.deviceAndUser(w, r, req.User)
	if d == nil {
		return
	}
	now := o.now()
	s.mu.Lock()
	cur := s.devices[d.id]
	linked := cur == nil || slices.ContainsFunc(cur.users, func(du deviceUser) bool { return du.userID == u.id })
	if !linked {
		users := append(slices.Clone(cur.users), deviceUser{userID: u.id, managementStatus: "NOT_MANAGED", screenLockType: "BIOMETRIC", created: now})
		cur = cur.with(cur.status, now, users)
		s.devices[d.id] = cur
	}
	s.mu.Unlock()
	if linked {
		ctlError(w, "the user is already a user of the device (or the device is gone)")
		return
	}
	o.record(r, userActor(u), "", "device.user.add", deviceTarget(cur), userTarget(u))
	w.WriteHeader(http.StatusNoContent)
}

func (o *Org) ctlRemoveDeviceUser(w http.ResponseWriter, r *http.Request) {
	s, d, u := o.deviceAndUser(w, r, r.PathValue("user"))
	if d == nil {
		return
	}
	now := o.now()
	s.mu.Lock()
	cur := s.devices[d.id]
	linked := cur != nil && slices.ContainsFunc(cur.users, func(du deviceUser) bool { return du.userID == u.id })
	if linked {
		users := slices.DeleteFunc(slices.Clone(cur.users), func(du deviceUser) bool { return du.userID == u.id })
		cur = cur.with(cur.status, now, users)
		s.devices[d.id] = cur
	}
	s.mu.Unlock()
	if !linked {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": u.login + " is not a user of device " + d.id})
		return
	}
	o.record(r, userActor(u), "", "device.user.remove", deviceTarget(cur), userTarget(u))
	w.WriteHeader(http.StatusNoContent)
}
