package connection

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// bodyTransport answers every request with one canned token response.
type bodyTransport struct {
	status int
	body   []byte
}

func (b bodyTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: b.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(bytes.NewReader(b.body))}, nil
}

// typedBodyTransport answers every request with one canned 200 response
// of a content type.
type typedBodyTransport struct{ contentType, body string }

func (b typedBodyTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {b.contentType}},
		Body: io.NopCloser(strings.NewReader(b.body))}, nil
}

// exchangeBody runs golang.org/x/oauth2's code exchange against a canned
// response and parses the result as cardflow does.
func exchangeBody(status int, body []byte, now time.Time) (*tokenSet, error) {
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: bodyTransport{status, body}})
	cfg := &oauth2.Config{ClientID: "c", ClientSecret: "s", Endpoint: oauth2.Endpoint{TokenURL: "https://example.okta.com/oauth2/v1/token", AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := cfg.Exchange(ctx, "code")
	if err != nil {
		return nil, err
	}
	return parseTokenResponse(tok, now, []string{"openid", "okta.devices.read"})
}

func TestParseTokenResponse(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name    string
		body    string
		want    *tokenSet
		wantErr string
	}{
		{name: "okta answer",
			body: `{"token_type":"Bearer","expires_in":3600,"access_token":"at1","scope":"openid okta.devices.read offline_access","refresh_token":"rt1","id_token":"a.b.c"}`,
			want: &tokenSet{Access: "at1", Refresh: "rt1", IDToken: "a.b.c", Expiry: now.Add(time.Hour), Scopes: []string{"openid", "okta.devices.read", "offline_access"}, ScopeGiven: true}},
		{name: "no scope means as requested", body: `{"token_type":"bearer","expires_in":60,"access_token":"at"}`,
			want: &tokenSet{Access: "at", Expiry: now.Add(time.Minute), Scopes: []string{"openid", "okta.devices.read"}}},
		{name: "no expiry is short", body: `{"access_token":"at","scope":"openid"}`,
			want: &tokenSet{Access: "at", Expiry: now.Add(defaultTokenLifetime), Scopes: []string{"openid"}, ScopeGiven: true}},
		{name: "huge expiry is capped", body: `{"access_token":"at","expires_in":99999999999,"scope":""}`,
			want: &tokenSet{Access: "at", Expiry: now.Add(maxTokenLifetime), Scopes: []string{}, ScopeGiven: true}},
		{name: "duplicate scopes", body: `{"access_token":"at","expires_in":10,"scope":"a  b a\tb"}`,
			want: &tokenSet{Access: "at", Expiry: now.Add(10 * time.Second), Scopes: []string{"a", "b"}, ScopeGiven: true}},
		{name: "dpop", body: `{"token_type":"DPoP","access_token":"at"}`, wantErr: "only Bearer"},
		{name: "scope not a string", body: `{"access_token":"at","scope":["openid"]}`, wantErr: "scope that is not a string"},
		{name: "id token not a string", body: `{"access_token":"at","id_token":7}`, wantErr: "id_token that is not a string"},
		{name: "token with a space", body: `{"access_token":"a t"}`, wantErr: "characters a token cannot have"},
		{name: "no access token", body: `{"token_type":"Bearer"}`, wantErr: "missing access_token"},
		{name: "error in a 200", body: `{"error":"invalid_grant"}`, wantErr: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := exchangeBody(http.StatusOK, []byte(tt.body), now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("token set (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzTokenResponse feeds arbitrary token endpoint bodies through
// golang.org/x/oauth2 and parseTokenResponse: whatever is accepted must be
// usable, and no error may repeat the access token.
func FuzzTokenResponse(f *testing.F) {
	for _, s := range []string{
		`{"token_type":"Bearer","expires_in":3600,"access_token":"eyJraWQiOiJ4In0.e30.sig","scope":"openid offline_access okta.devices.read","refresh_token":"rt-rt-rt-rt","id_token":"a.b.c"}`,
		`{"access_token":"tok-tok-tok","expires_in":"3600"}`,
		`{"access_token":"tok-tok-tok","expires_in":-5,"scope":null}`,
		`{"access_token":"tok\u0000tok-tok"}`,
		`{"access_token":"tok-tok-tok","token_type":"mac"}`,
		`{"error":"invalid_grant","error_description":"The refresh token is invalid or expired."}`,
		``, `[]`, `null`,
	} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body string) {
		ts, err := exchangeBody(http.StatusOK, []byte(body), now)
		if err != nil {
			var raw struct {
				AccessToken string `json:"access_token"`
			}
			_ = json.Unmarshal([]byte(body), &raw)
			var re *oauth2.RetrieveError
			if len(raw.AccessToken) >= 4 && !errors.As(err, &re) && strings.Contains(err.Error(), raw.AccessToken) {
				t.Fatalf("error %q repeats the access token", err)
			}
			return
		}
		if ts.Access == "" || !printableToken(ts.Access) || !printableToken(ts.Refresh) || !printableToken(ts.IDToken) {
			t.Fatalf("accepted an unusable token set from %q", body)
		}
		if !ts.Expiry.After(now) || ts.Expiry.After(now.Add(maxTokenLifetime)) {
			t.Fatalf("expiry %v out of range for %q", ts.Expiry, body)
		}
		for i, s := range ts.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n") || slices.Contains(ts.Scopes[:i], s) {
				t.Fatalf("scopes %q not clean for %q", ts.Scopes, body)
			}
		}
	})
}

// TestParseClientCredentialsExpiry: a token from client credentials (a
// service connection's) is kept for as long as the answer's expires_in
// says, as one from a code exchange is, though golang.org/x/oauth2's
// clientcredentials package returns it without ExpiresIn: an hour-long
// Okta token was taken for the five minutes assumed when an answer gives
// no expiry, and asked for again every four minutes.
func TestParseClientCredentialsExpiry(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name, contentType, body string
		want                    time.Duration
	}{
		{"okta answer", "application/json", `{"token_type":"Bearer","expires_in":3600,"access_token":"at","scope":"okta.devices.read"}`, time.Hour},
		{"a string", "application/json", `{"token_type":"Bearer","expires_in":"600","access_token":"at"}`, 10 * time.Minute},
		{"form-encoded", "application/x-www-form-urlencoded", `token_type=Bearer&expires_in=120&access_token=at`, 2 * time.Minute},
		{"no expiry is short", "application/json", `{"token_type":"Bearer","access_token":"at"}`, defaultTokenLifetime},
		{"a negative expiry is short", "application/json", `{"token_type":"Bearer","expires_in":-5,"access_token":"at"}`, defaultTokenLifetime},
		{"huge expiry is capped", "application/json", `{"token_type":"Bearer","expires_in":99999999999,"access_token":"at"}`, maxTokenLifetime},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := &http.Client{Transport: typedBodyTransport{tt.contentType, tt.body}}
			cfg := clientcredentials.Config{ClientID: "c", ClientSecret: "s", TokenURL: "https://example.okta.com/oauth2/v1/token", AuthStyle: oauth2.AuthStyleInParams}
			tok, err := cfg.Token(context.WithValue(context.Background(), oauth2.HTTPClient, hc))
			if err != nil {
				t.Fatal(err)
			}
			ts, err := parseTokenResponse(tok, now, []string{"okta.devices.read"})
			if err != nil {
				t.Fatal(err)
			}
			if got := ts.Expiry.Sub(now); got != tt.want {
				t.Errorf("the token lasts %s; want %s", got, tt.want)
			}
		})
	}
}
