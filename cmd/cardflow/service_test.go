package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/oktaemu"
)

// publicKeys reads a service connection's public keys with `connections
// show --json`, each on one line (nil when absent).
func (s *server) publicKeys(t *testing.T, name string) (current, next json.RawMessage) {
	t.Helper()
	code, out, errOut := runCLI(t, s.vars, "connections", "show", name, "--json")
	if code != exitOK {
		t.Fatalf("connections show: exit %d\n%s%s", code, out, errOut)
	}
	var v struct {
		PublicJWK     json.RawMessage `json:"publicJwk"`
		NextPublicJWK json.RawMessage `json:"nextPublicJwk"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	// As the human output prints them: on one line.
	return json.RawMessage(compactJSON(v.PublicJWK)), json.RawMessage(compactJSON(v.NextPublicJWK))
}

// TestCLIServiceConnection: `connections create --auth service` prints the
// public JWK and the Admin Console steps; once the key is on the app the
// connection tests OK and runs cards as the app; rotate-key prints the new
// key, which show lists until the org accepts it. Mistakes get a message
// that says what to do.
func TestCLIServiceConnection(t *testing.T) {
	s := startServer(t)
	code, out, errOut := runCLI(t, s.vars, "connections", "create", "--auth", "service", "--nickname", "Robot",
		"--domain", s.emu.URL, "--client-id", oktaemu.DemoServiceClientID)
	if code != exitOK {
		t.Fatalf("create --auth service: exit %d\n%s%s", code, out, errOut)
	}
	jwk, _ := s.publicKeys(t, "Robot")
	for _, want := range []string{"Status:           pending", "Public key (JWK) of the connection, to add to the app:", string(jwk),
		"API Services app " + oktaemu.DemoServiceClientID, "Admin Roles", "cardflow connections test Robot"} {
		if !strings.Contains(out, want) {
			t.Errorf("create output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"d":`) {
		t.Errorf("create printed a private key member:\n%s", out)
	}
	if code, out, _ := runCLI(t, s.vars, "connections", "test", "Robot"); code != exitFailure || !strings.Contains(out, "Add key") {
		t.Errorf("test before the key is on the app: exit %d; want a failure that says to add the key\n%s", code, out)
	}

	s.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	if code, out, errOut := runCLI(t, s.vars, "connections", "test", "Robot"); code != exitOK {
		t.Fatalf("test with the key on the app: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "run", "search-devices", "--connection", "Robot", "--input", "resultSet=first"); code != exitOK || !strings.Contains(out, "succeeded") {
		t.Errorf("run as the service app: exit %d\n%s%s", code, out, errOut)
	}
	if _, out, _ := runCLI(t, s.vars, "connections", "list"); !strings.Contains(out, "service app "+oktaemu.DemoServiceClientID) {
		t.Errorf("list does not name the service app:\n%s", out)
	}

	code, out, errOut = runCLI(t, s.vars, "connections", "rotate-key", "Robot", "--key-algorithm", "RS256")
	_, next := s.publicKeys(t, "Robot")
	if code != exitOK || len(next) == 0 || !strings.Contains(out, string(next)) || !strings.Contains(out, "Add key") {
		t.Fatalf("rotate-key: exit %d next key %s\n%s%s", code, next, out, errOut)
	}
	if _, out, _ := runCLI(t, s.vars, "connections", "show", "Robot"); !strings.Contains(out, "New public key:") {
		t.Errorf("show during a rotation does not list the new key:\n%s", out)
	}
	// The test rotate-key says to run tells whether the rotation is done.
	if code, out, errOut := runCLI(t, s.vars, "connections", "test", "Robot"); code != exitOK || !strings.Contains(out, "Key rotation: the org does not accept the new key") {
		t.Errorf("test before the new key is on the app: exit %d\n%s%s; want ok, saying the rotation is not done", code, out, errOut)
	}
	s.emu.AddAppKey(t, oktaemu.DemoServiceAppID, next)
	if code, out, errOut := runCLI(t, s.vars, "connections", "test", "Robot"); code != exitOK || !strings.Contains(out, "Key rotation: the org accepted the new key") || !strings.Contains(out, "Remove the old key") {
		t.Errorf("test with the new key on the app: exit %d\n%s%s; want ok, saying to remove the old key", code, out, errOut)
	}

	badKey := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(badKey, []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	goodKey := filepath.Join(t.TempDir(), "good.pem")
	if err := os.WriteFile(goodKey, []byte(s.emu.GenerateAppKey(t, oktaemu.DemoServiceAppID, "cli-test-kid")), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string
	}{
		{name: "public key given", args: []string{"connections", "create", "--auth", "service", "--nickname", "Bad key", "--domain", s.emu.URL,
			"--client-id", oktaemu.DemoServiceClientID, "--private-key-file", badKey},
			wantCode: exitUsage, wantErr: []string{"not a private key", "PEM", "generate"}},
		{name: "client secret given", args: []string{"connections", "create", "--auth", "service", "--nickname", "Secret", "--domain", s.emu.URL,
			"--client-id", oktaemu.DemoServiceClientID, "--client-secret", "x"},
			wantCode: exitUsage, wantErr: []string{"private key, not a client secret"}},
		{name: "unknown algorithm", args: []string{"connections", "create", "--auth", "service", "--nickname", "Odd", "--domain", s.emu.URL,
			"--client-id", oktaemu.DemoServiceClientID, "--key-algorithm", "HS256"},
			wantCode: exitUsage, wantErr: []string{"ES256 or RS256"}},
		{name: "key options on a user connection", args: []string{"connections", "create", "--nickname", "User", "--domain", s.emu.URL,
			"--client-id", oktaemu.DemoClientID, "--dpop"},
			wantCode: exitUsage, wantErr: []string{"are for --auth service"}},
		{name: "a key ID without a key", args: []string{"connections", "create", "--auth", "service", "--nickname", "No key", "--domain", s.emu.URL,
			"--client-id", oktaemu.DemoServiceClientID, "--key-id", "kid-1"},
			wantCode: exitUsage, wantErr: []string{"--key-id names the key of --private-key-file"}},
		{name: "a key ID with a space", args: []string{"connections", "create", "--auth", "service", "--nickname", "Spaced", "--domain", s.emu.URL,
			"--client-id", oktaemu.DemoServiceClientID, "--private-key-file", goodKey, "--key-id", "kid 1"},
			wantCode: exitUsage, wantErr: []string{"key ID must be up to 200 printable ASCII characters without spaces", "Public keys"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, s.vars, tt.args...)
			if code != tt.wantCode {
				t.Fatalf("exit %d; want %d\n%s%s", code, tt.wantCode, out, errOut)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}
	s.connect(t, "Person")
	if code, _, errOut := runCLI(t, s.vars, "connections", "rotate-key", "Person"); code != exitUsage || !strings.Contains(errOut, "reauthoriz") {
		t.Errorf("rotate-key of a user connection: exit %d stderr %q; want exit 2 (a command that does not apply to that connection) saying to reauthorize instead", code, errOut)
	}
}

// TestCLIListMarksExpiringConnections: a user connection within the expiry
// warning shows the date its refresh token ends in connections list and
// show.
func TestCLIListMarksExpiringConnections(t *testing.T) {
	// A warning longer than Okta's 90 days flags every new connection.
	s := startServerWith(t, oktaemu.Config{Devices: 2}, func(c *app.Config) { c.ExpiryWarning = 91 * 24 * time.Hour })
	s.connect(t, "Prod")
	_, raw, _ := runCLI(t, s.vars, "connections", "show", "Prod", "--json")
	var v struct {
		RefreshTokenExpiresAt *time.Time `json:"refreshTokenExpiresAt"`
	}
	if err := json.Unmarshal([]byte(raw), &v); err != nil || v.RefreshTokenExpiresAt == nil ||
		v.RefreshTokenExpiresAt.Sub(s.emu.Now().Add(90*24*time.Hour)).Abs() > time.Minute {
		t.Fatalf("refreshTokenExpiresAt of a new connection: %v (%v); want 90 days from now\n%s", v.RefreshTokenExpiresAt, err, raw)
	}
	ends := v.RefreshTokenExpiresAt.UTC().Format("2006-01-02")
	if code, out, errOut := runCLI(t, s.vars, "connections", "list"); code != exitOK || !strings.Contains(out, "active (expires "+ends+")") {
		t.Errorf("list: exit %d; want the row marked \"active (expires %s)\"\n%s%s", code, ends, out, errOut)
	}
	if code, out, errOut := runCLI(t, s.vars, "connections", "show", "Prod"); code != exitOK || !strings.Contains(out, "EXPIRES SOON") {
		t.Errorf("show: exit %d; want EXPIRES SOON\n%s%s", code, out, errOut)
	}
}
