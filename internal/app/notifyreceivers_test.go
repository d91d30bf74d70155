package app

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
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
		if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "-notify-url") ||
			!strings.Contains(err.Error(), "receiver "+sha256Hex(u)[:8]) {
			t.Errorf("withDefaults with -notify-url %s: %v; want an error naming it by its fingerprint only", u, err)
		}
	}
}
