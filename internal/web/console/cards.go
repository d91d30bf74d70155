package console

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/inputtext"
	"github.com/cardflow/cardflow/internal/problem"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/web"
)

func (c *Console) cardRoutes(mux *web.Mux) {
	if c.Cards == nil || c.Catalog == nil {
		return
	}
	mux.Handle("GET /cards", c.auth(c.listCards))
	mux.Handle("GET /cards/{connector}/{card}", c.auth(c.cardForm))
	mux.Handle("POST /cards/{connector}/{card}", c.auth(c.runCard))
}

type cardsData struct {
	Connectors []card.Connector
	Connection string // preselected connection id, from ?connection=
}

func (c *Console) listCards(w http.ResponseWriter, r *http.Request, s *reqState) {
	c.render(w, r, s, http.StatusOK, "cards", "Cards", cardsData{Connectors: c.Catalog.Connectors(), Connection: r.URL.Query().Get("connection")})
}

// inputField is one input of a run form with the value entered so far.
type inputField struct {
	card.Input
	ID    string // the HTML id and form name
	Kind  string // "text", "number", "choice", "tristate", "checkbox" or "json"
	Value string
	Error string
}

// fieldFor chooses how the form shows an input.
func fieldFor(in card.Input) inputField {
	f := inputField{Input: in, ID: "in." + in.Name, Value: defaultText(in.Default)}
	switch {
	case in.Type == "string" && len(in.Enum) > 0:
		f.Kind = "choice"
	case in.Type == "string":
		f.Kind = "text"
	case in.Type == "number":
		f.Kind = "number"
	case in.Type == "bool" && in.Default != nil:
		f.Kind = "checkbox"
	case in.Type == "bool":
		f.Kind = "tristate"
	default:
		f.Kind = "json"
	}
	return f
}

// defaultText shows a default value in a form field.
func defaultText(v any) string {
	switch d := v.(type) {
	case nil:
		return ""
	case string:
		return d
	case bool:
		return strconv.FormatBool(d)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// connOption is one choice of the run form's Connection list.
type connOption struct {
	ID       string
	Nickname string
	Status   string
	Selected bool
	// Lacks is the card's scope when the connection, active, was not
	// granted it: the run would fail with Insufficient Scope.
	Lacks string
}

// runForm is the page that runs a card.
type runForm struct {
	Connector   card.Connector
	Card        card.Card
	Connections []connOption
	Fields      []inputField
	ConnError   string
	Error       *shownError
	Result      *card.Result // shown when the run was not recorded
	OutputJSON  string
	// Confirm, when set, asks before the card runs: it cannot be undone.
	Confirm *runConfirm
}

// runConfirm is the question a run form asks before running a card whose
// effect cannot be undone.
type runConfirm struct {
	Connection string // the chosen connection's nickname
	Why        string // what cannot be undone
	// Device is the device the card acts on, read through the connection
	// for the question; nil for a card whose input names no device.
	Device *confirmDevice
}

// irreversibleCards are the cards whose effect cannot be undone, with
// why: the console asks before it runs them, as Okta's Admin Console asks
// before it deletes or deactivates a device.
var irreversibleCards = map[string]string{
	"okta-devices/delete-device":     "Okta deletes the device for good; it cannot be restored.",
	"okta-devices/deactivate-device": "Deactivating removes the device's users; activating it again does not bring them back.",
}

// nearestCard is the card that runs whose reference is nearest ref, when
// ref looks like a misspelling of it; "" otherwise.
func (c *Console) nearestCard(ref string) string {
	if c.Catalog == nil {
		return ""
	}
	return web.NearestRunCard(c.Catalog.Connectors(), ref)
}

func (c *Console) lookupCard(w http.ResponseWriter, r *http.Request, s *reqState) (card.Connector, card.Card, bool) {
	k, ok := c.connector(r.PathValue("connector"))
	if ok {
		if cd, ok := findCard(k, r.PathValue("card")); ok {
			return k, cd, true
		}
	}
	ref := r.PathValue("connector") + "/" + r.PathValue("card")
	d := messageData{Message: "There is no card " + ref + ".", Remedy: "Pick the card on the Cards page.", Link: "/cards", LinkText: "Go to cards"}
	if near := c.nearestCard(ref); near != "" {
		d.Remedy, d.Link, d.LinkText = "Did you mean "+near+"? Its page is linked below.", "/cards/"+near, "Go to "+near
	}
	c.notFoundAt(w, r, s, d)
	return card.Connector{}, card.Card{}, false
}

func (c *Console) cardForm(w http.ResponseWriter, r *http.Request, s *reqState) {
	k, cd, ok := c.lookupCard(w, r, s)
	if !ok {
		return
	}
	q := r.URL.Query()
	f, err := c.newRunForm(r, k, cd, q.Get("connection"), nil)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	// An input given in the address (a run's "Edit and run again") fills
	// its field; the others keep their defaults.
	for i := range f.Fields {
		if q.Has(f.Fields[i].ID) {
			f.Fields[i].Value = q.Get(f.Fields[i].ID)
		}
	}
	c.render(w, r, s, http.StatusOK, "run", cd.Name, f)
}

// maxAgainURL bounds the address of a run's "Edit and run again": an
// input larger than that (a long request body) is not carried over.
const maxAgainURL = 8000

// againURL is the address of the card's form filled with run's connection
// and input, to change and run again; "" when the input does not fit in an
// address or is not an object.
func againURL(run *store.Run) string {
	var in map[string]any
	if json.Unmarshal(run.Input, &in) != nil {
		return ""
	}
	q := url.Values{}
	if run.ConnectionID != "" {
		q.Set("connection", run.ConnectionID)
	}
	for name, v := range in {
		q.Set("in."+name, defaultText(v))
	}
	u := "/cards/" + run.Card + "?" + q.Encode()
	if len(u) > maxAgainURL {
		return ""
	}
	return u
}

// newRunForm builds a run form; values nil means each input's default.
func (c *Console) newRunForm(r *http.Request, k card.Connector, cd card.Card, selected string, values url.Values) (runForm, error) {
	f := runForm{Connector: k, Card: cd}
	vs, err := c.Connections.List(r.Context())
	if err != nil {
		return f, err
	}
	for _, v := range vs {
		if v.Connector != k.ID {
			continue
		}
		o := connOption{ID: v.ID, Nickname: v.Nickname, Status: v.Status,
			Selected: v.ID == selected || strings.EqualFold(v.Nickname, selected)}
		if v.Status == store.StatusActive && cd.Scope != "" && !card.ScopeGranted(cd.Scope, v.GrantedScopes) {
			o.Lacks = cd.Scope
		}
		f.Connections = append(f.Connections, o)
	}
	for _, in := range cd.Inputs {
		fld := fieldFor(in)
		if values != nil {
			fld.Value = values.Get(fld.ID)
		}
		f.Fields = append(f.Fields, fld)
	}
	return f, nil
}

func (c *Console) runCard(w http.ResponseWriter, r *http.Request, s *reqState) {
	ctx := r.Context()
	k, cd, ok := c.lookupCard(w, r, s)
	if !ok {
		return
	}
	conn := r.PostForm.Get("connection")
	f, err := c.newRunForm(r, k, cd, conn, r.PostForm)
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	input, bad := readInputs(f.Fields, r.PostForm)
	if conn == "" {
		f.ConnError = "Choose the connection to run the card with."
		bad = true
	}
	if bad {
		c.render(w, r, s, http.StatusBadRequest, "run", cd.Name, f)
		return
	}
	for i := range f.Fields {
		f.Fields[i].Error = ""
	}
	if why, ok := irreversibleCards[cardRef(k, cd)]; ok && r.PostForm.Get("confirmed") != "yes" {
		f.Confirm = &runConfirm{Connection: conn, Why: why}
		for _, o := range f.Connections {
			if o.Selected {
				f.Confirm.Connection = o.Nickname
			}
		}
		// Which device it is, as Okta has it now: a recorded read-device
		// run. The question is asked whether or not the read works.
		if id, _ := input["deviceId"].(string); id != "" {
			f.Confirm.Device = c.readConfirmDevice(ctx, conn, id, s.actor())
			c.predict(ctx, f.Confirm.Device, cardRef(k, cd), conn, input, s.actor())
		}
		c.render(w, r, s, http.StatusOK, "run", cd.Name+"?", f)
		return
	}
	res, err := c.Cards.Run(ctx, card.Request{Card: cardRef(k, cd), Connection: conn, Input: input, Actor: s.actor()})
	if err != nil && problem.CodeOf(err) == problem.NotFound && c.connectionGone(ctx, conn) {
		// Deleted since the form was opened: the form's list no longer
		// offers it, so say so at the list rather than the server's
		// "no connection has the id ..." and its command-line remedy.
		f.Confirm = nil
		f.ConnError = "The connection you chose no longer exists: it was deleted after this page was opened. Choose another connection."
		c.render(w, r, s, http.StatusNotFound, "run", cd.Name, f)
		return
	}
	if err != nil {
		status, e := c.publicError(ctx, err)
		f.Error = &e
		c.render(w, r, s, status, "run", cd.Name, f)
		return
	}
	if res.RunID != "" && c.Runs != nil {
		http.Redirect(w, r, "/runs/"+url.PathEscape(res.RunID), http.StatusSeeOther)
		return
	}
	f.Result = res
	f.OutputJSON = prettyJSON(res.Output)
	status := http.StatusOK
	if res.Error != nil {
		st, e := c.publicError(ctx, res.Error)
		status, f.Error = st, &e
	}
	c.render(w, r, s, status, "run", cd.Name, f)
}

// connectionGone reports whether no connection has the id or nickname
// conn (any more).
func (c *Console) connectionGone(ctx context.Context, conn string) bool {
	if c.Connections == nil {
		return false
	}
	_, err := c.Connections.Get(ctx, conn)
	return problem.CodeOf(err) == problem.NotFound
}

// readInputs converts the form's values to the card's typed input; bad is
// true when some field has an error (set on the field). Empty fields are
// left out, so that the card applies its defaults.
func readInputs(fields []inputField, form url.Values) (map[string]any, bool) {
	input := map[string]any{}
	bad := false
	for i := range fields {
		fld := &fields[i]
		raw := form.Get(fld.ID)
		if fld.Kind != "json" {
			raw = strings.TrimSpace(raw)
		}
		fld.Value = raw
		if fld.Kind == "checkbox" {
			input[fld.Name] = raw == "true"
			continue
		}
		if strings.TrimSpace(raw) == "" {
			if fld.Required {
				fld.Error = fld.Name + " is required."
				bad = true
			}
			continue
		}
		switch {
		case fld.Kind == "number" || fld.Kind == "tristate" || fld.Type == card.TypeList || fld.Type == card.TypeObject:
			v, err := inputtext.Parse(fld.Type, raw)
			if err != nil {
				fld.Error = fld.Name + ": " + err.Error() + "."
				bad = true
				continue
			}
			input[fld.Name] = v
		case fld.Kind == "json":
			var v any
			if err := json.Unmarshal([]byte(raw), &v); err != nil {
				fld.Error = fld.Name + " must be JSON (" + err.Error() + ")."
				bad = true
				continue
			}
			input[fld.Name] = v
		case fld.Kind == "choice":
			if !slices.Contains(fld.Enum, raw) {
				fld.Error = fld.Name + " must be one of " + strings.Join(fld.Enum, ", ") + "."
				bad = true
				continue
			}
			input[fld.Name] = raw
		default:
			input[fld.Name] = raw
		}
	}
	return input, bad
}

// cardRef is the card's reference, "connector/card".
func cardRef(k card.Connector, cd card.Card) string {
	if cd.Ref != "" {
		return cd.Ref
	}
	return k.ID + "/" + cd.ID
}
