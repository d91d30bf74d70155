package oktaemu

import (
	"encoding/base32"
	"encoding/json"
	"net/http"
	"slices"
	"time"
)

// roleAssignment is a standard admin role assigned to a user or to a
// client app. Values are never changed: an assignment made or taken away
// replaces the holder's slice.
type roleAssignment struct {
	id, typ string
	created time.Time
}

// roleTypes returns the types of ras.
func roleTypes(ras []roleAssignment) []string {
	out := make([]string, 0, len(ras))
	for _, ra := range ras {
		out = append(out, ra.typ)
	}
	return out
}

// ClientRoleAssignmentID is the id of a client app's assignment of the
// standard role type t, the same whenever it is assigned: Okta's examples
// show a standard role assigned to a client under the base32 of its type
// (JBCUYUC7IRCVGS27IFCE2SKO for HELP_DESK_ADMIN).
func ClientRoleAssignmentID(t string) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString([]byte(t))
}

var roleLabels = map[string]string{
	"SUPER_ADMIN":                 "Super Administrator",
	"ORG_ADMIN":                   "Organizational Administrator",
	"READ_ONLY_ADMIN":             "Read Only Administrator",
	"HELP_DESK_ADMIN":             "Help Desk Administrator",
	"MOBILE_ADMIN":                "Mobile Administrator",
	"APP_ADMIN":                   "Application Administrator",
	"USER_ADMIN":                  "Group Administrator",
	"GROUP_MEMBERSHIP_ADMIN":      "Group Membership Administrator",
	"API_ACCESS_MANAGEMENT_ADMIN": "API Access Management Administrator",
	"REPORT_ADMIN":                "Report Administrator",
	"WORKFLOWS_ADMIN":             "Workflows Administrator",
}

type roleJSON struct {
	ID             string `json:"id"`
	Label          string `json:"label"`
	Type           string `json:"type"`
	Status         string `json:"status"`
	Created        string `json:"created"`
	LastUpdated    string `json:"lastUpdated"`
	AssignmentType string `json:"assignmentType"`
	Links          struct {
		Assignee link `json:"assignee"`
	} `json:"_links"`
}

// roleHolder is whoever a role assignment call names: a user or a client
// app, with how its assignments look in answers.
type roleHolder struct {
	user *user // nil for a client app
	app  *app
	// assignmentType is USER or CLIENT; assignee the href of _links.assignee.
	assignmentType, assignee string
}

func (o *Org) roleView(h roleHolder, ra roleAssignment) roleJSON {
	c := formatTime(ra.created)
	rj := roleJSON{ID: ra.id, Label: roleLabels[ra.typ], Type: ra.typ, Status: "ACTIVE", Created: c, LastUpdated: c,
		AssignmentType: h.assignmentType}
	rj.Links.Assignee = link{Href: h.assignee}
	return rj
}

// roleHolder finds the user ({userId}: an id or a login) or the client app
// ({clientId}) the request path names, or answers 404; the caller holds
// s.mu.
func (o *Org) roleHolder(w http.ResponseWriter, r *http.Request, s *state) (roleHolder, bool) {
	if id := r.PathValue("userId"); id != "" {
		u := s.lookupUser(id)
		if u == nil {
			writeNotFound(w, id, "User")
			return roleHolder{}, false
		}
		return roleHolder{user: u, assignmentType: "USER", assignee: origin(r) + "/api/v1/users/" + u.id}, true
	}
	id := r.PathValue("clientId")
	a := s.byClient[id]
	if a == nil {
		writeNotFound(w, id, "AppInstance")
		return roleHolder{}, false
	}
	// As in Okta's examples, a client's assignee link is its roles.
	return roleHolder{app: a, assignmentType: "CLIENT", assignee: origin(r) + "/oauth2/v1/clients/" + a.clientID + "/roles"}, true
}

// assignments returns h's current role assignments; the caller holds s.mu.
func (h roleHolder) assignments(s *state) []roleAssignment {
	if h.user != nil {
		return s.userRoles[h.user.id]
	}
	return h.app.roles
}

// setAssignments stores ras as h's assignments; the caller holds s.mu for
// writing.
func (h roleHolder) setAssignments(s *state, ras []roleAssignment) {
	if h.user != nil {
		s.userRoles[h.user.id] = ras
		return
	}
	h.app.roles = ras
}

// readRoles authorizes a read of the role assignments of the request's
// user or client app and returns the holder and its assignments; false
// when it answered the request already (refused, or no such holder).
func (o *Org) readRoles(w http.ResponseWriter, r *http.Request) (roleHolder, []roleAssignment, bool) {
	if o.authorizeAPI(w, r, "okta.roles.read", accessRead) == nil {
		return roleHolder{}, nil, false
	}
	s := o.st()
	s.mu.RLock()
	defer s.mu.RUnlock()
	h, ok := o.roleHolder(w, r, s)
	if !ok {
		return roleHolder{}, nil, false
	}
	return h, h.assignments(s), true
}

// listRoles answers GET /api/v1/users/{userId}/roles and
// GET /oauth2/v1/clients/{clientId}/roles.
func (o *Org) listRoles(w http.ResponseWriter, r *http.Request) {
	h, ras, ok := o.readRoles(w, r)
	if !ok {
		return
	}
	out := make([]roleJSON, 0, len(ras))
	for _, ra := range ras {
		out = append(out, o.roleView(h, ra))
	}
	writeJSON(w, http.StatusOK, out)
}

// getRole answers GET .../roles/{roleAssignmentId}.
func (o *Org) getRole(w http.ResponseWriter, r *http.Request) {
	h, ras, ok := o.readRoles(w, r)
	if !ok {
		return
	}
	id := r.PathValue("roleAssignmentId")
	i := slices.IndexFunc(ras, func(ra roleAssignment) bool { return ra.id == id })
	if i < 0 {
		writeNotFound(w, id, "Role")
		return
	}
	writeJSON(w, http.StatusOK, o.roleView(h, ras[i]))
}

// assignRole answers POST .../roles {"type": ROLE}: only a super admin
// assigns admin roles; a user answers 201, a client app 200, as Okta's
// document says.
func (o *Org) assignRole(w http.ResponseWriter, r *http.Request) {
	p := o.authorizeAPI(w, r, "okta.roles.manage", accessSuper)
	if p == nil {
		return
	}
	var body struct {
		Type string `json:"type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "E0000003", "The request body was not well-formed.")
		return
	}
	s := o.st()
	s.mu.Lock()
	h, ok := o.roleHolder(w, r, s)
	if !ok {
		s.mu.Unlock()
		return
	}
	status, ra, problem := o.addRole(s, h, body.Type)
	s.mu.Unlock()
	switch status {
	case http.StatusConflict:
		writeError(w, status, "E0000090", "The role specified is already assigned to the user.")
	case http.StatusBadRequest:
		writeError(w, status, "E0000001", "Api validation failed: type", problem)
	default:
		o.recordPrivilege(r, p, h, ra, "grant")
		writeJSON(w, status, o.roleView(h, ra))
	}
}

// addRole assigns role type t to h; the caller holds s.mu for writing. It
// returns the answer's status, the new assignment, and for a 400 the cause.
func (o *Org) addRole(s *state, h roleHolder, t string) (int, roleAssignment, string) {
	if !slices.Contains(knownRoles, t) {
		return http.StatusBadRequest, roleAssignment{}, "type: The role type " + t + " is not a standard admin role."
	}
	if h.app != nil && h.app.kind != "service" {
		return http.StatusBadRequest, roleAssignment{}, "type: Admin roles are assigned only to API Services apps."
	}
	ras := h.assignments(s)
	if slices.ContainsFunc(ras, func(ra roleAssignment) bool { return ra.typ == t }) {
		return http.StatusConflict, roleAssignment{}, ""
	}
	ra := roleAssignment{typ: t, created: o.now()}
	status := http.StatusCreated
	if h.app != nil {
		ra.id, status = ClientRoleAssignmentID(t), http.StatusOK
	} else {
		ra.id = s.newID("ra1")
	}
	h.setAssignments(s, append(slices.Clone(ras), ra))
	return status, ra, ""
}

// unassignRole answers DELETE .../roles/{roleAssignmentId}: only a super
// admin takes roles away, and never the super admin role of the org's
// last user who holds it. Calls with tokens already issued are checked
// against the roles left from then on.
func (o *Org) unassignRole(w http.ResponseWriter, r *http.Request) {
	p := o.authorizeAPI(w, r, "okta.roles.manage", accessSuper)
	if p == nil {
		return
	}
	s := o.st()
	id := r.PathValue("roleAssignmentId")
	s.mu.Lock()
	h, ok := o.roleHolder(w, r, s)
	if !ok {
		s.mu.Unlock()
		return
	}
	ras := h.assignments(s)
	i := slices.IndexFunc(ras, func(ra roleAssignment) bool { return ra.id == id })
	last := i >= 0 && h.user != nil && ras[i].typ == "SUPER_ADMIN" && s.superAdmins() == 1
	var removed roleAssignment
	if i >= 0 && !last {
		removed = ras[i]
		h.setAssignments(s, slices.Delete(slices.Clone(ras), i, i+1))
	}
	s.mu.Unlock()
	switch {
	case i < 0:
		writeNotFound(w, id, "Role")
	case last:
		writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: roleAssignmentId",
			"roleAssignmentId: The org's last super admin keeps the role; assign it to another user first.")
	default:
		o.recordPrivilege(r, p, h, removed, "revoke")
		w.WriteHeader(http.StatusNoContent)
	}
}

// recordPrivilege records in the System Log that p's call granted or
// revoked (change) the assignment ra of h: user.account.privilege.* for
// a user, app.oauth2.client.privilege.* for a client app, with the holder
// and the role as targets and the role's label in debugData's
// privilegeGranted or privilegeRevoked.
func (o *Org) recordPrivilege(r *http.Request, p *principal, h roleHolder, ra roleAssignment, change string) {
	eventType, holder := "user.account.privilege."+change, logTargetJSON{}
	if h.user != nil {
		holder = userTarget(h.user)
	} else {
		eventType, holder = "app.oauth2.client.privilege."+change, clientTarget(h.app)
	}
	key := map[string]string{"grant": "privilegeGranted", "revoke": "privilegeRevoked"}[change]
	o.recordEvent(r, actorOf(p), p.clientID, eventType, "SUCCESS", map[string]any{key: roleLabels[ra.typ]},
		[]logTargetJSON{holder, roleTarget(ra)})
}

// superAdmins counts the users assigned SUPER_ADMIN; the caller holds s.mu.
func (s *state) superAdmins() int {
	n := 0
	for _, ras := range s.userRoles {
		if slices.Contains(roleTypes(ras), "SUPER_ADMIN") {
			n++
		}
	}
	return n
}
