package app

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// TestSecretsNeverLeak connects, runs cards, refreshes, reauthorizes,
// refuses a wrong secret and fails an authorization, creates service connections (a generated key, a
// PEM key on the DPoP app, a key rotation), then looks for the client
// secret, every token and every private key (its PEM, its JWK and its
// private exponent) in every API response, the whole log (debug level),
// the metrics and the raw bytes of the database files.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
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
	// A wrong secret, refused by the org before anything is stored.
	call("POST", "/api/v1/connections", map[string]any{"connector": "okta-devices", "nickname": "Refused", "domain": h.emu.URL,
		"clientId": oktaemu.DemoClientID, "clientSecret": "wrong-canary-secret-5521"})
	// A failed authorization: the app's secret rotated at the org before
	// the sign-in.
	wrong, authURL := h.create("Wrong", oktaemu.DemoClientSecret, nil)
	rotated := h.emu.RotateClientSecret(t, oktaemu.DemoAppID)
	_, page := h.signIn(authURL, oktaemu.AdminLogin)
	responses.WriteString(page)
	// The wrong secret given to it, refused; then the new one, a
	// reauthorization, a card.
	call("PATCH", "/api/v1/connections/"+wrong.ID, map[string]any{"clientSecret": "wrong-canary-secret-5521"})
	var updated struct {
		Connection connJSON `json:"connection"`
	}
	if code, data := h.call("PATCH", "/api/v1/connections/"+wrong.ID, map[string]any{"clientSecret": rotated}, &updated); code != 200 {
		t.Fatalf("PATCH connection: %d %s", code, data)
	} else {
		responses.Write(data)
	}
	if updated.Connection.Status != "needs_reauthorization" {
		t.Errorf("after PATCH: status %q; want needs_reauthorization", updated.Connection.Status)
	}
	var reauth struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	h.call("POST", "/api/v1/connections/"+wrong.ID+"/reauthorize", map[string]any{}, &reauth)
	_, page = h.signIn(reauth.AuthorizeURL, oktaemu.AdminLogin)
	responses.WriteString(page)
	if got := h.connection(wrong.ID); got.Status != "active" {
		t.Fatalf("after the update and reauthorization: status %q; want active", got.Status)
	}
	call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": wrong.ID, "input": map[string]any{"resultSet": "first"}})

	// Service connections: a generated key (added to the app), a PEM key
	// given by the admin on the app that requires DPoP, a rotation.
	svc, jwk := h.createService(map[string]any{"nickname": "Canary robot", "clientId": oktaemu.DemoServiceClientID})
	responses.Write(jwk)
	h.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
	call("POST", "/api/v1/connections/"+svc.ID+"/test", nil)
	call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": svc.ID, "input": map[string]any{}})
	call("POST", "/api/v1/connections/"+svc.ID+"/rotate-key", map[string]any{"keyAlgorithm": "RS256"})
	givenKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	givenPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(givenKey)}))
	dpopSvc, dpopJWK := h.createService(map[string]any{"nickname": "Canary DPoP", "clientId": oktaemu.DemoDPoPClientID, "privateKey": givenPEM})
	h.emu.AddAppKey(t, oktaemu.DemoDPoPAppID, dpopJWK)
	call("POST", "/api/v1/connections/"+dpopSvc.ID+"/test", nil)
	call("POST", "/api/v1/runs", map[string]any{"card": "okta-devices/search-devices", "connection": dpopSvc.ID, "input": map[string]any{}})
	call("GET", "/api/v1/connections/"+dpopSvc.ID, nil)
	call("GET", "/api/v1/audit", nil)
	call("GET", "/api/v1/runs", nil)
	responses.WriteString(h.metrics())

	// The secrets: the client secrets, and the tokens as sealed now.
	row, err := h.app.Store.GetConnection(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"client secret": oktaemu.DemoClientSecret, "wrong client secret": "wrong-canary-secret-5521", "rotated client secret": rotated,
		"given PEM key": strings.TrimSpace(strings.Split(givenPEM, "\n")[1]), "given key's d": b64(givenKey.D.Bytes())}
	for _, id := range []string{svc.ID, dpopSvc.ID} {
		srow, err := h.app.Store.GetConnection(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		at, err := h.app.Keyring.Open(srow.SealedAccessToken, id+"/access_token")
		if err != nil || len(at) < 8 {
			t.Fatalf("the service connection %s has no access token to look for (%v)", id, err)
		}
		secrets[id+" access token"] = string(at)
		for field, ct := range map[string][]byte{"private_key": srow.SealedPrivateKey, "next_private_key": srow.SealedNextPrivateKey, "dpop_key": srow.SealedDPoPKey} {
			if len(ct) == 0 {
				continue
			}
			pt, err := h.app.Keyring.Open(ct, id+"/"+field)
			if err != nil {
				t.Fatalf("open %s: %v", field, err)
			}
			var k struct {
				D string `json:"d"`
			}
			if err := json.Unmarshal(pt, &k); err != nil || len(k.D) < 16 {
				t.Fatalf("%s of %s is not a private JWK", field, id)
			}
			secrets[id+" "+field+" d"] = k.D
			secrets[id+" "+field] = string(pt)
		}
	}
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

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
