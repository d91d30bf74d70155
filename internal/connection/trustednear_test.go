package connection

import (
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/problem"
)

// TestDomainNearATrustedOriginNamesIt: the host and port of a trusted
// origin (the demo's emulated org) given with another scheme or with a
// path is refused naming that origin to give, where it was told to remove
// the port ("Okta orgs use the standard https port") or to use https://,
// which led away from the org meant.
func TestDomainNearATrustedOriginNamesIt(t *testing.T) {
	pol := DomainPolicy{TrustedOrigins: []string{"http://127.0.0.1:9090"}}
	for _, in := range []string{"https://127.0.0.1:9090", "http://127.0.0.1:9090/oauth2/default", "HTTPS://127.0.0.1:9090/", "127.0.0.1:9090/x?y"} {
		_, err := ParseDomain(in, pol)
		p, ok := problem.As(err)
		if !ok || p.Code != problem.InvalidInput || !strings.Contains(p.Message, "is not the trusted origin http://127.0.0.1:9090") ||
			!strings.HasPrefix(p.Remedy, "did you mean http://127.0.0.1:9090?") || p.Details["suggestion"] != "http://127.0.0.1:9090" {
			t.Errorf("ParseDomain(%q) = %v (%+v); want it to name the trusted origin http://127.0.0.1:9090", in, err, p)
		}
	}
	// Another port is not that origin: the usual refusal.
	if _, err := ParseDomain("https://127.0.0.1:9091", pol); err == nil || strings.Contains(err.Error(), "trusted origin") {
		t.Errorf("ParseDomain(another port) = %v; want the usual refusal", err)
	}
	if got, err := ParseDomain("http://127.0.0.1:9090/", pol); err != nil || got != "http://127.0.0.1:9090" {
		t.Errorf("ParseDomain(the origin) = %q, %v; want it", got, err)
	}
}
