package api

// Actor is who did something: Type "user" (a person, Login),
// "token" (a personal API token, TokenName, owned by Login; no Login for
// the bootstrap admin's tokens), "bootstrap" (the bootstrap admin) or
// "server" (cardflow on its own, asked by no one). A response says null
// where nobody is known.
type Actor struct {
	Type      string `json:"type"`
	Login     string `json:"login,omitempty"`
	TokenName string `json:"tokenName,omitempty"`
}
