package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// TestSecretTravelsButNeverPrints: a request's secret reaches the JSON body
// the server reads, and no other way of printing the request shows it.
func TestSecretTravelsButNeverPrints(t *testing.T) {
	const canary = "canary-secret-4Rt9"
	req := CreateConnectionRequest{Nickname: "Prod", ClientSecret: canary, PrivateKey: canary}
	body, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var back CreateConnectionRequest
	if err := json.Unmarshal(body, &back); err != nil {
		t.Fatal(err)
	}
	if back.ClientSecret != canary || back.PrivateKey != canary {
		t.Errorf("decoded %q and %q from %s; want the secret both times", string(back.ClientSecret), string(back.PrivateKey), body)
	}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("request", "req", req, "secret", req.ClientSecret)
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("request", "secret", req.ClientSecret)
	for _, s := range []string{
		fmt.Sprintf("%v %+v %#v %s %q", req, req, req, req.ClientSecret, req.ClientSecret),
		fmt.Sprint(req.PrivateKey), req.ClientSecret.String(), logged.String(),
	} {
		if strings.Contains(s, canary) {
			t.Errorf("%q shows the secret", s)
		}
	}
}
