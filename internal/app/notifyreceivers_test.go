package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestNotifyURLRefusedWithoutQuotingIt: a -notify-url that is not an
// http(s) URL stops the start with an error that names it by its
// fingerprint, not by the URL (an incoming webhook's path is its key, and
// start errors end up in service logs).
func TestNotifyURLRefusedWithoutQuotingIt(t *testing.T) {
	for _, u := range []string{"hooks.slack.com/services/T0/B0/path-s3cret", "ftp://hooks.example.com/path-s3cret", "https://hooks.example.com/%zz-s3cret"} {
		_, err := Config{DataDir: t.TempDir(), NotifyURLs: []string{"https://ok.example.com/x", u}, NotifySecret: "a-long-random-secret"}.withDefaults()
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "-notify-url or CARDFLOW_NOTIFY_URLS") ||
			!strings.Contains(err.Error(), "receiver "+sha256Hex(u)[:8]) || !strings.Contains(err.Error(), "printf %s 'URL' | sha256sum | cut -c1-8") {
			t.Errorf("withDefaults with -notify-url %s: %v; want an error naming it by its fingerprint only, and how to tell which URL that is", u, err)
		}
	}
}

// TestShortNotifySecretRefused: a CARDFLOW_NOTIFY_SECRET too short to
// resist guessing stops the start, saying how long it is (never what it
// is) and how to make a long one; 16 characters are accepted.
func TestShortNotifySecretRefused(t *testing.T) {
	for _, secret := range []string{"Zq9", "s3cret-15-chars"} {
		_, err := Config{DataDir: t.TempDir(), NotifyURLs: []string{"https://ok.example.com/x"}, NotifySecret: keyring.Secret(secret)}.withDefaults()
		if err == nil || strings.Contains(err.Error(), secret) || !strings.Contains(err.Error(), fmt.Sprintf("CARDFLOW_NOTIFY_SECRET is %d characters", len(secret))) ||
			!strings.Contains(err.Error(), "openssl rand -hex 32") {
			t.Errorf("withDefaults with a secret of %d characters: %v; want it refused, saying its length and how to make a long one", len(secret), err)
		}
	}
	if _, err := (Config{DataDir: t.TempDir(), NotifyURLs: []string{"https://ok.example.com/x"}, NotifySecret: "s3cret-16-chars!"}).withDefaults(); err != nil {
		t.Errorf("withDefaults with a secret of 16 characters: %v; want it accepted", err)
	}
}

// TestNotifyReceiverURLStaysSecret: a receiver given as an incoming
// webhook URL, its key in the path and query, is shown at start and on a
// failed delivery as scheme://host/… and its fingerprint; the key is in
// no log line, metric or database file.
func TestNotifyReceiverURLStaysSecret(t *testing.T) {
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
	}))
	t.Cleanup(rcv.Close)
	u := rcv.URL + "/services/T0/B0/path-s3cret?token=tok-s3cret"
	dir := t.TempDir()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	h := startServer(t, emu, dir, func(c *Config) {
		c.NotifyURLs, c.NotifySecret = []string{u, u}, "a-long-random-notification-secret"
	})
	shown := rcv.URL + "/… (receiver " + sha256Hex(u)[:8] + ")"
	h.connect("Prod")
	if code, data := h.postYAML("/api/v1/flows", failingFlow, nil); code != http.StatusCreated {
		t.Fatalf("store: %d %s", code, data)
	}
	if code, data := h.call("POST", "/api/v1/flows/read-missing/runs?wait=true", map[string]any{}, nil); code != http.StatusOK {
		t.Fatalf("run: %d %s", code, data)
	}
	waitFor(t, "a failed delivery", func() bool { return strings.Contains(h.logs.String(), "notification not delivered") })
	if list, err := h.app.Store.ListNotifications(t.Context(), 0); err != nil || len(list) != 1 || list[0].Receiver != sha256Hex(u) {
		t.Errorf("outbox %+v, %v; want one row for the receiver given twice, named by its digest", list, err)
	}
	logs := h.logs.String()
	for _, want := range []string{`"msg":"notification receiver","receiver":"` + shown + `"`, `"receiver":"` + shown + `"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
	_, metrics := h.call("GET", "/metrics", nil, nil)
	if !strings.Contains(string(metrics), `cardflow_notification_attempts_total{outcome="failed"}`) {
		t.Errorf("metrics lack the failed attempt:\n%s", metrics)
	}
	for what, s := range map[string]string{"log": logs, "metrics": string(metrics)} {
		if strings.Contains(s, "s3cret") || strings.Contains(s, "/services") {
			t.Errorf("the %s shows the receiver's URL", what)
		}
	}
	for _, f := range []string{"cardflow.db", "cardflow.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "/services") {
			t.Errorf("%s holds the receiver's URL", f)
		}
	}
}
