package problem

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestPublic(t *testing.T) {
	cause := errors.New("dial tcp 10.0.0.7:5432: connection refused")
	tests := []struct {
		name string
		err  error
		want *Error
	}{
		{"problem", fmt.Errorf("run: %w", New(NotFound, "device guo1 was not found").WithRemedy("check the id").WithDetail("field", "deviceId").Wrap(cause)),
			&Error{Code: NotFound, Message: "device guo1 was not found", Remedy: "check the id", Details: map[string]any{"field": "deviceId"}}},
		{"internal problem", New(Internal, "store the run: %v", cause).Wrap(cause), &Error{Code: Internal, Message: InternalMessage}},
		{"plain error", fmt.Errorf("save item: %w", cause), &Error{Code: Internal, Message: InternalMessage}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Public(tt.err)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v; want %#v", got, tt.want)
			}
			if errors.Is(got, cause) || strings.Contains(got.Error(), "10.0.0.7") {
				t.Errorf("the public error %q carries the internal cause", got.Error())
			}
		})
	}
	// The copy's details are its own.
	p := New(InvalidInput, "bad").WithDetail("field", "x")
	Public(p).Details["field"] = "changed"
	if p.Details["field"] != "x" {
		t.Errorf("changing the public copy changed the original's details")
	}
}

func TestErrorChain(t *testing.T) {
	cause := errors.New("secret-free cause")
	err := fmt.Errorf("wrapped: %w", New(NotFound, "device %s was not found", "guo1").WithRemedy("check the id").Wrap(cause))
	if got, want := CodeOf(err), NotFound; got != want {
		t.Errorf("got code %q; want %q", got, want)
	}
	if !errors.Is(err, cause) {
		t.Error("got no cause in the chain; want it")
	}
	if got, want := err.Error(), "wrapped: device guo1 was not found; check the id"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if got := CodeOf(errors.New("plain")); got != Internal {
		t.Errorf("got code %q for a plain error; want %q", got, Internal)
	}
}

// TestReauthorizeAdding: the command keeps the Okta API scopes asked for
// before (not OpenID Connect's, which every sign-in asks for), adds the
// missing one once, and quotes the nickname.
func TestReauthorizeAdding(t *testing.T) {
	got := ReauthorizeAdding("Demo org", []string{"openid", "offline_access", "okta.devices.read", "okta.logs.read"}, "okta.devices.manage")
	want := `cardflow connections reauthorize "Demo org" --scope okta.devices.read,okta.logs.read,okta.devices.manage`
	if got != want {
		t.Errorf("ReauthorizeAdding = %s; want %s", got, want)
	}
	if got := ReauthorizeAdding("RO", []string{"okta.devices.manage"}, "okta.devices.manage"); got != `cardflow connections reauthorize "RO" --scope okta.devices.manage` {
		t.Errorf("ReauthorizeAdding of a scope asked for already = %s", got)
	}
}

// TestErrorJoinsMessageAndRemedy: a message that ends its sentence, as
// Okta's summaries do, gives up its full stop to the semicolon before the
// remedy, where a flow item's error read "Invalid search criteria.; check
// the search expression".
func TestErrorJoinsMessageAndRemedy(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  *Error
		want string
	}{
		{"no remedy", &Error{Message: "Invalid search criteria."}, "Invalid search criteria."},
		{"message without a full stop", &Error{Message: "no such device", Remedy: "check the id"}, "no such device; check the id"},
		{"message with a full stop", &Error{Message: `Okta rejected the search filter "x": Invalid search criteria.`, Remedy: "check the search expression"},
			`Okta rejected the search filter "x": Invalid search criteria; check the search expression`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q; want %q", got, tc.want)
			}
		})
	}
}
