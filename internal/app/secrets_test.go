package app

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestSecretsNeverLeak connects, runs cards, refreshes, reauthorizes and
// fails an authorization, then looks for the client secret and every
// token in every API response, the whole log (debug level) and the raw
// bytes of the database files.
func TestSecretsNeverLeak(t *testing.T) {
	h := startHarness(t, oktaemu.Config{Devices: 5}, nil)
	var responses strings.Builder
	call := func(method, path string, body any) {
		_, data := h.call(method, path, body, nil)
		responses.Write(data)
	}
	c := h.connect("Canary")
	call("GET", "/api/v1/connections", nil)
	call("GET", "/api/v1/connections/"+c.ID, nil)
	call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": c.ID, "input": map[string]any{"resultSet": "first"}})
	call("POST", "/api/v1/connections/"+c.ID+"/test", nil)
	// A failed authorization with a wrong secret.
	_, authURL := h.create("Wrong", "wrong-canary-secret-5521", nil)
	_, page := h.signIn(authURL, oktaemu.AdminLogin)
	responses.WriteString(page)
	call("GET", "/api/v1/audit", nil)
	call("GET", "/api/v1/runs", nil)

	// The secrets: the client secrets, and the tokens as sealed now.
	row, err := h.app.Store.GetConnection(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"client secret": oktaemu.DemoClientSecret, "wrong client secret": "wrong-canary-secret-5521"}
	for name, ct := range map[string][]byte{"refresh token": row.SealedRefreshToken, "access token": row.SealedAccessToken, "id token": row.SealedIDToken} {
		field := strings.ReplaceAll(strings.TrimSuffix(name, " token"), " ", "_") + "_token"
		pt, err := h.app.Keyring.Open(ct, c.ID+"/"+field)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		if len(pt) < 8 {
			t.Fatalf("%s is implausibly short", name)
		}
		secrets[name] = string(pt)
	}
	h.stop()

	var db strings.Builder
	files, _ := filepath.Glob(filepath.Join(h.dataDir, "cardflow.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		db.Write(b)
	}
	places := map[string]string{"API responses": responses.String(), "logs": h.logs.String(), "database files": db.String(), "stdout": h.stdout.String()}
	for what, text := range places {
		for name, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the %s appear in the %s", name, what)
			}
		}
	}
	if !strings.Contains(h.logs.String(), `"level":"DEBUG"`) {
		t.Errorf("the log has no debug lines; the check would be weaker than intended")
	}
}
