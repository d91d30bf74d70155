package emutest

import (
	"bytes"
	"net/http"
	"sync"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// AdminAuthorization is the Authorization header of the demo super admin's
// API token.
const AdminAuthorization = "SSWS " + oktaemu.DemoAPIToken

// ClientAs returns a client of the org that sends authorization (e.g.
// AdminAuthorization, or "Bearer " + an access token) on every request, as
// a connection's transport adds its access token.
func (s *Server) ClientAs(authorization string) *http.Client {
	return &http.Client{Transport: &authTransport{authorization: authorization, base: s.Client.Transport}}
}

type authTransport struct {
	authorization string
	base          http.RoundTripper
}

func (a *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", a.authorization)
	return a.base.RoundTrip(r)
}

// SyncBuffer is a bytes.Buffer safe for concurrent writers, for collecting
// the logs and output of servers under test. The zero value is empty.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
