package emutest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Split serves the emulated org as a single sign-on issuer whose discovery
// document places some endpoints on another host: Issuer is the front
// origin, Other the other one; both pass requests on to the org as asked
// of the front (the org names its issuer, and signs ID tokens, by the
// host asked). Make one with SplitIssuer.
type Split struct {
	Issuer, Other string

	mu    sync.Mutex
	moved []string // the document's endpoints placed on Other
	asked []string // "METHOD /path" of the requests Other received
}

// SplitIssuer serves s's org as a Split whose discovery document places
// the endpoints named in moved (token_endpoint, jwks_uri, ...) on Other.
// Both servers close when the test ends.
func (s *Server) SplitIssuer(t testing.TB, moved ...string) *Split {
	t.Helper()
	target, err := url.Parse(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	sp := &Split{moved: moved}
	var frontHost string
	proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Host = frontHost
	}}
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			proxy.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		proxy.ServeHTTP(rec, r)
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		sp.mu.Lock()
		for _, name := range sp.moved {
			if v, ok := doc[name].(string); ok {
				doc[name] = strings.Replace(v, sp.Issuer, sp.Other, 1)
			}
		}
		sp.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(front.Close)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sp.mu.Lock()
		sp.asked = append(sp.asked, r.Method+" "+r.URL.Path)
		sp.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(other.Close)
	frontHost = strings.TrimPrefix(front.URL, "http://")
	sp.Issuer, sp.Other = front.URL, other.URL
	return sp
}

// Move places the named endpoints on Other from the next discovery on;
// none puts them all back on the issuer's host.
func (sp *Split) Move(names ...string) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	sp.moved = names
}

// Requests returns what Other was asked, as "METHOD /path".
func (sp *Split) Requests() []string {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return slices.Clone(sp.asked)
}
