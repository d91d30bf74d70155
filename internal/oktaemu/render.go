package oktaemu

import (
	"bytes"
	"encoding/json"
	"net/http"
)

// originMark stands for the request's origin in precomputed JSON; it
// encodes as the six bytes `\u0000`, which no real value produces.
const originMark = "\x00"

var encodedMark = []byte(`\u0000`)

type hints struct {
	Allow []string `json:"allow"`
}

type link struct {
	Href  string `json:"href"`
	Hints *hints `json:"hints,omitempty"`
}

type deviceLinks struct {
	Activate   *link `json:"activate,omitempty"`
	Suspend    *link `json:"suspend,omitempty"`
	Unsuspend  *link `json:"unsuspend,omitempty"`
	Deactivate *link `json:"deactivate,omitempty"`
	Self       *link `json:"self"`
	Users      *link `json:"users"`
}

type displayName struct {
	Value     string `json:"value"`
	Sensitive bool   `json:"sensitive"`
}

type deviceJSON struct {
	ID                  string         `json:"id"`
	Status              string         `json:"status"`
	Created             string         `json:"created"`
	LastUpdated         string         `json:"lastUpdated"`
	Profile             map[string]any `json:"profile"`
	ResourceID          string         `json:"resourceId"`
	ResourceDisplayName displayName    `json:"resourceDisplayName"`
	ResourceType        string         `json:"resourceType"`
	ResourceAlternateID *string        `json:"resourceAlternateId"`
	Links               deviceLinks    `json:"_links"`
}

// template encodes d once, split around the origin, so serving a device
// costs a few copies.
func (d *device) template() [][]byte {
	base := originMark + "/api/v1/devices/" + d.id
	post := func(op string) *link {
		return &link{Href: base + "/lifecycle/" + op, Hints: &hints{Allow: []string{"POST"}}}
	}
	self := []string{"GET", "PUT"}
	if d.status == "DEACTIVATED" {
		self = []string{"DELETE", "GET", "PUT"}
	}
	l := deviceLinks{
		Self:  &link{Href: base, Hints: &hints{Allow: self}},
		Users: &link{Href: base + "/users", Hints: &hints{Allow: []string{"GET"}}},
	}
	switch d.status {
	case "CREATED", "DEACTIVATED":
		l.Activate = post("activate")
	case "ACTIVE":
		l.Suspend = post("suspend")
		l.Deactivate = post("deactivate")
	case "SUSPENDED":
		l.Unsuspend = post("unsuspend")
		l.Deactivate = post("deactivate")
	}
	name, _ := d.profile["displayName"].(string)
	b := encodeJSON(deviceJSON{
		ID: d.id, Status: d.status, Created: formatTime(d.created), LastUpdated: formatTime(d.lastUpdated),
		Profile: d.profile, ResourceID: d.id, ResourceDisplayName: displayName{Value: name},
		ResourceType: "UDDevice", Links: l,
	})
	return bytes.Split(b, encodedMark)
}

// appendDevice appends d's JSON with origin filled in.
func appendDevice(dst []byte, d *device, origin string) []byte {
	for i, seg := range d.tmpl {
		if i > 0 {
			dst = append(dst, origin...)
		}
		dst = append(dst, seg...)
	}
	return dst
}

// encodeJSON encodes v without HTML escaping and without a newline.
func encodeJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("oktaemu: encoding " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeJSON writes a JSON response.
func writeJSON(w http.ResponseWriter, status int, v any) {
	writeRaw(w, status, encodeJSON(v))
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache, no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// defaultRealmID is the realm every emulated user lives in.
const defaultRealmID = "guo1bfiNtSnZYILxO0g4"

type userProfileJSON struct {
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Login     string `json:"login"`
	Email     string `json:"email"`
}

type selfLinks struct {
	Self link `json:"self"`
}

type userJSON struct {
	ID              string          `json:"id"`
	Status          string          `json:"status"`
	Created         string          `json:"created"`
	Activated       string          `json:"activated"`
	StatusChanged   string          `json:"statusChanged"`
	LastLogin       *string         `json:"lastLogin"`
	LastUpdated     string          `json:"lastUpdated"`
	PasswordChanged string          `json:"passwordChanged"`
	Type            map[string]any  `json:"type"`
	Profile         userProfileJSON `json:"profile"`
	RealmID         string          `json:"realmId"`
	Credentials     map[string]any  `json:"credentials"`
	Links           selfLinks       `json:"_links"`
}

type userSummaryJSON struct {
	ID      string          `json:"id"`
	RealmID string          `json:"realmId"`
	Profile userProfileJSON `json:"profile"`
	Links   selfLinks       `json:"_links"`
}

func (u *user) profileJSON() userProfileJSON {
	return userProfileJSON{FirstName: u.firstName, LastName: u.lastName, Login: u.login, Email: u.email}
}

func (u *user) full(origin string) userJSON {
	c := formatTime(u.created)
	return userJSON{
		ID: u.id, Status: "ACTIVE", Created: c, Activated: c, StatusChanged: c, LastUpdated: c, PasswordChanged: c,
		Type:        map[string]any{"id": stableID("oty", "default")},
		Profile:     u.profileJSON(),
		RealmID:     defaultRealmID,
		Credentials: map[string]any{"password": map[string]any{}, "provider": map[string]any{"type": "OKTA", "name": "OKTA"}},
		Links:       selfLinks{Self: link{Href: origin + "/api/v1/users/" + u.id}},
	}
}

func (u *user) summary(origin string) userSummaryJSON {
	return userSummaryJSON{ID: u.id, RealmID: defaultRealmID, Profile: u.profileJSON(),
		Links: selfLinks{Self: link{Href: origin + "/api/v1/users/" + u.id}}}
}

type deviceUserJSON struct {
	Created          string `json:"created"`
	ManagementStatus string `json:"managementStatus"`
	ScreenLockType   string `json:"screenLockType"`
	User             any    `json:"user"`
}

// deviceUsersJSON renders a device's users, in full or as summaries; the
// caller does not hold s.mu.
func deviceUsersJSON(s *state, d *device, origin string, summary bool) []deviceUserJSON {
	out := make([]deviceUserJSON, 0, len(d.users))
	for _, du := range d.users {
		u := s.userByID(du.userID)
		if u == nil {
			continue
		}
		var uj any = u.full(origin)
		if summary {
			uj = u.summary(origin)
		}
		out = append(out, deviceUserJSON{Created: formatTime(du.created), ManagementStatus: du.managementStatus,
			ScreenLockType: du.screenLockType, User: uj})
	}
	return out
}
