package console

import (
	"net/http"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
)

// serviceForm is the form of a new service connection (an Okta API
// Services app with private_key_jwt).
type serviceForm struct {
	Connector    string
	Nickname     string
	Domain       string
	ClientID     string
	KeyAlgorithm string
	DPoP         bool
	HadKey       bool
	Error        *shownError
}

// serviceKeyPage shows a service connection's public JWK and the steps in
// the Okta Admin Console.
type serviceKeyPage struct {
	V        *connection.View
	ClientID string
	JWK      string
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
		PrivateKey: keyring.Secret(pf.Get("privateKey")), KeyAlgorithm: pf.Get("keyAlgorithm"), DPoP: pf.Get("dpop") != "",
	}
	v, jwk, err := c.Connections.CreateService(r.Context(), in, c.caller())
	if err == nil {
		c.render(w, r, s, http.StatusCreated, "servicekey", v.Nickname+": public key", serviceKeyPage{V: v, ClientID: in.ClientID, JWK: string(jwk)})
		return
	}
	status, e := c.publicError(r.Context(), err)
	f := serviceForm{Connector: in.Connector, Nickname: in.Nickname, Domain: in.Domain, ClientID: in.ClientID,
		KeyAlgorithm: in.KeyAlgorithm, DPoP: in.DPoP, HadKey: in.PrivateKey.Reveal() != "", Error: &e}
	c.render(w, r, s, status, "newservice", "New service connection", f)
}
