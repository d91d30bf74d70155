package console

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/store"
)

// serviceForm is the form of a new service connection (an Okta API
// Services app with private_key_jwt).
type serviceForm struct {
	Connector    string
	Nickname     string
	Domain       string
	ClientID     string
	KeyID        string
	KeyAlgorithm string
	DPoP         bool
	HadKey       bool // a key was entered but is never sent back
	Errors       map[string]shownError
	General      *shownError
}

// serviceFieldOrder is the order of the service form's fields.
var serviceFieldOrder = []string{"nickname", "domain", "clientId", "privateKey", "keyId", "keyAlgorithm"}

func (f serviceForm) errorSummary() []summaryItem {
	var out []summaryItem
	if f.General != nil {
		out = append(out, formError(f.General))
	}
	for _, name := range serviceFieldOrder {
		if e, ok := f.Errors[name]; ok {
			out = append(out, summaryItem{Field: name, Message: e.Message, Remedy: e.Remedy})
		}
	}
	return out
}

// serviceKeyPage shows a service connection's public JWK and the steps in
// the Okta Admin Console.
type serviceKeyPage struct {
	V   *connection.View
	JWK string
}

// AwaitsKey says whether the connection is not active because the org
// does not accept its key yet (or has not answered), which the page's
// steps fix; another reason (a missing role or scope, say) is shown with
// its own remedy, as on the connection's page.
func (p serviceKeyPage) AwaitsKey() bool {
	switch p.V.StatusReasonCode {
	case "", store.ReasonAwaitingKey, store.ReasonKeyRefused:
		return true
	}
	return false
}

func (c *Console) newServiceConnection(w http.ResponseWriter, r *http.Request, s *reqState) {
	f := serviceForm{Connector: r.URL.Query().Get("connector"), KeyAlgorithm: connection.AlgES256}
	if f.Connector == "" {
		f.Connector = "okta-devices"
	}
	c.render(w, r, s, http.StatusOK, "newservice", "New service connection", f)
}

func (c *Console) createServiceConnection(w http.ResponseWriter, r *http.Request, s *reqState) {
	pf := r.PostForm
	in := connection.ServiceInput{
		Connector: pf.Get("connector"), Nickname: pf.Get("nickname"), Domain: pf.Get("domain"), ClientID: pf.Get("clientId"),
		PrivateKey: keyring.Secret(pf.Get("privateKey")), KeyID: strings.TrimSpace(pf.Get("keyId")), KeyAlgorithm: pf.Get("keyAlgorithm"), DPoP: pf.Get("dpop") != "",
	}
	v, _, err := c.Connections.CreateService(r.Context(), in, s.actor())
	if err == nil {
		// Post/Redirect/Get: reloading the key page must not send the form
		// again (which the taken nickname refuses, losing the page).
		http.Redirect(w, r, "/connections/"+url.PathEscape(v.ID)+"/key", http.StatusSeeOther)
		return
	}
	status, e := c.publicError(r.Context(), err)
	f := serviceForm{Connector: in.Connector, Nickname: in.Nickname, Domain: in.Domain, ClientID: in.ClientID, KeyID: in.KeyID,
		KeyAlgorithm: in.KeyAlgorithm, DPoP: in.DPoP, HadKey: in.PrivateKey.Reveal() != ""}
	if slices.Contains(serviceFieldOrder, e.Field) {
		f.Errors = map[string]shownError{e.Field: e}
	} else {
		f.General = &e
	}
	c.render(w, r, s, status, "newservice", "New service connection", f)
}

// serviceKey shows a service connection's public key with the steps that
// add it to the org's API Services app: the page a new service connection
// leads to.
func (c *Console) serviceKey(w http.ResponseWriter, r *http.Request, s *reqState) {
	v, err := c.Connections.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, s, err)
		return
	}
	if v.Auth != store.AuthService {
		c.render(w, r, s, http.StatusNotFound, "message", "Not found", messageData{Heading: "Not found",
			Message: v.Nickname + " is a user connection: it signs in to the org with its client secret and has no key to add to an app.",
			Link:    "/connections/" + url.PathEscape(v.ID), LinkText: "Go to " + v.Nickname})
		return
	}
	c.render(w, r, s, http.StatusOK, "servicekey", v.Nickname+": public key", serviceKeyPage{V: v, JWK: string(v.PublicJWK)})
}
