package problem

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestHTTPStatus(t *testing.T) {
	tests := []struct {
		code Code
		want int
	}{
		{InvalidInput, http.StatusBadRequest},
		{Unauthenticated, http.StatusUnauthorized},
		{Forbidden, http.StatusForbidden},
		{InsufficientScope, http.StatusForbidden},
		{NotFound, http.StatusNotFound},
		{Conflict, http.StatusConflict},
		{NeedsReauthorization, http.StatusConflict},
		{RateLimited, http.StatusTooManyRequests},
		{UpstreamError, http.StatusBadGateway},
		{Internal, http.StatusInternalServerError},
		{Code("unknown"), http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(string(tt.code), func(t *testing.T) {
			if got := HTTPStatus(tt.code); got != tt.want {
				t.Errorf("got %d; want %d", got, tt.want)
			}
		})
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
