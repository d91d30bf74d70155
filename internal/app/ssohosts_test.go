package app

// The single sign-on provider's discovery document is read at start: one
// that places the token endpoint, the keys or the authorization endpoint
// on another host than the issuer's (and those of -oidc-allow-host)
// stops the start, before anything is sent there and before a first start
// makes its data directory; with that host allowed, the server starts and
// people sign in; a provider that cannot be reached at start does not
// stop it.

import (
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

func TestSSODiscoveryOnAnotherHostStopsTheStart(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	split := emu.SplitIssuer(t, "token_endpoint", "jwks_uri")
	issuer, other := split.Issuer, split.Other
	dataDir := filepath.Join(t.TempDir(), "data")
	cfg := Config{Listen: "127.0.0.1:0", DataDir: dataDir, APIToken: keyring.Secret(testAPIToken), Stdout: &emutest.SyncBuffer{}}
	ssoConfig(&cfg, issuer)
	a, err := New(t.Context(), cfg)
	if err == nil {
		a.Close()
		t.Fatal("the server started with a discovery document placing its token endpoint and keys on another host")
	}
	var ce *ConfigError
	for _, want := range []string{
		"the single sign-on provider's discovery document " + issuer + "/.well-known/openid-configuration places its token_endpoint on the host " + other +
			" and its jwks_uri on the host " + other + ", not on the issuer's host " + issuer,
		"start the server with -oidc-allow-host " + other + ";",
	} {
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) {
			t.Errorf("New: %v; want a configuration error saying %q", err, want)
		}
	}
	if n := len(split.Requests()); n != 0 {
		t.Errorf("the other host was asked %d times; want never", n)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the refused start made its data directory (%v)", err)
	}
}

func TestSSOAllowedHostStartsAndSignsIn(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	split := emu.SplitIssuer(t, "token_endpoint", "jwks_uri")
	issuer, other := split.Issuer, split.Other
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		ssoConfig(c, issuer)
		c.OIDCAllowedHosts = []string{other}
	})
	b := ssoBrowser(t, h, oktaemu.AdminLogin)
	if !b.signedIn(h.url + "/connections") {
		t.Error("the admin is not signed in after signing in through the allowed host")
	}
	if n := len(split.Requests()); n < 2 {
		t.Errorf("the allowed host was asked %d times; want the code exchange and the keys", n)
	}
}

func TestSSOProviderUnreachableAtStart(t *testing.T) {
	t.Parallel()
	// A port that was listened on and is closed: the provider refuses
	// connections. The server starts and says so in its log.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	emu := emutest.Start(t, oktaemu.Config{Devices: 1})
	h := startServer(t, emu, t.TempDir(), func(c *Config) { ssoConfig(c, gone.URL) })
	want := `"msg":"the single sign-on provider's discovery document could not be read at start; sign-ins read it again","issuer":"` + gone.URL + `"`
	if !strings.Contains(h.logs.String(), want) {
		t.Errorf("log lacks %s\n%s", want, h.logs)
	}
}
