package sso

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/cardflow/cardflow/internal/problem"
)

// An origin is a scheme, a host and a port, the unit the provider's
// endpoints are allowed by: key compares (the host in lower case, the
// default port written out), name is as the operator writes it (the
// default port left out), which -oidc-allow-host takes back.
type origin struct{ key, name string }

// originOf returns the origin of an absolute http(s) URL.
func originOf(u *url.URL) (origin, bool) {
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Hostname())
	if (scheme != "https" && scheme != "http") || host == "" {
		return origin{}, false
	}
	port := u.Port()
	if port == "" {
		port = "443"
		if scheme == "http" {
			port = "80"
		}
	}
	name := scheme + "://" + strings.ToLower(u.Host)
	if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
		name = scheme + "://" + strings.ToLower(hostOnly(u))
	}
	return origin{key: scheme + "://" + net.JoinHostPort(host, port), name: name}, true
}

// hostOnly is u's host without its port, bracketed if IPv6.
func hostOnly(u *url.URL) string {
	if h := u.Hostname(); strings.Contains(h, ":") {
		return "[" + h + "]"
	}
	return u.Hostname()
}

// ParseAllowedHost parses an -oidc-allow-host value: an origin,
// https://HOST[:PORT] or http://HOST[:PORT], or a bare HOST[:PORT], which
// means https. It returns the origin as cardflow names it.
func ParseAllowedHost(v string) (string, error) {
	o, err := parseAllowedHost(v)
	return o.name, err
}

func parseAllowedHost(v string) (origin, error) {
	bad := func() (origin, error) {
		return origin{}, fmt.Errorf("-oidc-allow-host %q must name one host of the single sign-on provider, as https://HOST[:PORT] (or HOST[:PORT], which means https), e.g. https://keys.example.com", v)
	}
	s := strings.TrimSpace(v)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(u.Host, "*") {
		return bad()
	}
	o, ok := originOf(u)
	if !ok {
		return bad()
	}
	return o, nil
}

// endpointsUsed are the discovery document's endpoints cardflow uses: the
// server itself calls the token endpoint (the code exchange, with the
// client secret and the PKCE verifier) and the keys (ID token
// verification); the authorization endpoint is where the console's Sign in
// with SSO and cardflow login send people's browsers.
//
// The authorization endpoint is held to the same rule although the server
// never calls it: there people type their password, and cardflow's sign-in
// page (and the authorization endpoint GET /api/v1/auth/config answers
// cardflow login) would send them to whatever host the document names.
// One rule for every endpoint also keeps -oidc-allow-host the one list of
// the hosts sign-in involves.
//
// cardflow calls no other endpoint of the document (userinfo, revocation,
// introspection, end of session): one it comes to use is added here.
var endpointsUsed = []struct {
	name string
	url  func(*oidc.Provider) (string, error)
}{
	{"authorization_endpoint", func(op *oidc.Provider) (string, error) { return op.Endpoint().AuthURL, nil }},
	{"token_endpoint", func(op *oidc.Provider) (string, error) { return op.Endpoint().TokenURL, nil }},
	{"jwks_uri", func(op *oidc.Provider) (string, error) {
		var c struct {
			JWKSURI string `json:"jwks_uri"`
		}
		err := op.Claims(&c)
		return c.JWKSURI, err
	}},
}

// EndpointHostError is a discovery document that places endpoints cardflow
// uses on hosts other than the issuer's and those of -oidc-allow-host:
// cardflow refuses it, since the server would send the client secret, the
// code and its PKCE verifier there and take its signing keys from there.
type EndpointHostError struct {
	// Discovery is the document's URL; Issuer the issuer's origin.
	Discovery, Issuer string
	// Endpoints are those refused, in the document's terms.
	Endpoints []RefusedEndpoint
	// Allowed are the origins of -oidc-allow-host.
	Allowed []string
}

// RefusedEndpoint is one endpoint of an EndpointHostError: its name in the
// discovery document (token_endpoint, jwks_uri, authorization_endpoint),
// its URL, and the origin of its host ("" for a URL of no http(s) host).
type RefusedEndpoint struct {
	Name, URL, Host string
}

func (e *EndpointHostError) Error() string {
	return e.message() + "; " + e.remedy()
}

func (e *EndpointHostError) message() string {
	var places []string
	for _, ep := range e.Endpoints {
		if ep.Host == "" {
			places = append(places, fmt.Sprintf("its %s at %q, which is no http(s) URL", ep.Name, ep.URL))
		} else {
			places = append(places, fmt.Sprintf("its %s on the host %s", ep.Name, ep.Host))
		}
	}
	allowed := "only on the issuer's host"
	if len(e.Allowed) > 0 {
		allowed = "only on the issuer's host and those of -oidc-allow-host (" + strings.Join(e.Allowed, ", ") + ")"
	}
	return fmt.Sprintf("the single sign-on provider's discovery document %s places %s, not on the issuer's host %s: cardflow uses a provider %s",
		e.Discovery, strings.Join(places, " and "), e.Issuer, allowed)
}

func (e *EndpointHostError) remedy() string {
	var flags []string
	seen := map[string]bool{}
	for _, ep := range e.Endpoints {
		if ep.Host != "" && !seen[ep.Host] {
			seen[ep.Host] = true
			flags = append(flags, "-oidc-allow-host "+ep.Host)
		}
	}
	if len(flags) == 0 {
		return "check -oidc-issuer and the provider's configuration"
	}
	that := "that host"
	if len(flags) > 1 {
		that = "those hosts"
	}
	return fmt.Sprintf("if the provider's own documentation names %s as its own (some providers serve their keys or tokens from another host), start the server with %s; otherwise check -oidc-issuer and the provider's configuration, since the document may not be the provider's",
		that, strings.Join(flags, " "))
}

// Problem is the error as a problem, for a sign-in that discovery refused.
func (e *EndpointHostError) Problem() *problem.Error {
	return problem.New(problem.UpstreamError, "%s", e.message()).WithRemedy("%s", e.remedy()).Wrap(e)
}

// checkEndpoints refuses a discovery document that places an endpoint
// cardflow uses on another host than the issuer's and the allowed ones.
func (p *Provider) checkEndpoints(op *oidc.Provider) error {
	iu, _ := url.Parse(p.cfg.Issuer) // parsed by New
	issuer, _ := originOf(iu)
	e := &EndpointHostError{
		Discovery: strings.TrimSuffix(p.cfg.Issuer, "/") + "/.well-known/openid-configuration",
		Issuer:    issuer.name,
	}
	allowed := map[string]bool{issuer.key: true}
	for _, a := range p.allowed {
		allowed[a.key] = true
		e.Allowed = append(e.Allowed, a.name)
	}
	for _, ep := range endpointsUsed {
		raw, err := ep.url(op)
		if err != nil {
			return fmt.Errorf("read the discovery document's %s: %w", ep.name, err)
		}
		u, err := url.Parse(raw)
		var o origin
		ok := err == nil && u.IsAbs()
		if ok {
			o, ok = originOf(u)
		}
		switch {
		case !ok:
			e.Endpoints = append(e.Endpoints, RefusedEndpoint{Name: ep.name, URL: raw})
		case !allowed[o.key]:
			e.Endpoints = append(e.Endpoints, RefusedEndpoint{Name: ep.name, URL: raw, Host: o.name})
		}
	}
	if len(e.Endpoints) > 0 {
		return e
	}
	return nil
}
