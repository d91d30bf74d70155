package console

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
)

// TestUnreachedText: why a notification receiver could not be reached is
// the network's reason, or the wait that ran out, without the request
// that failed.
func TestUnreachedText(t *testing.T) {
	dial := errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	req := func(cause error) error {
		return &url.Error{Op: "Post", URL: "http://127.0.0.1:9/… (receiver a94bb7e8)", Err: cause}
	}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"refused", fmt.Errorf("post: %w", req(dial)), "dial tcp 127.0.0.1:9: connect: connection refused"},
		{"timed out", fmt.Errorf("no answer within 10s: %w", req(context.DeadlineExceeded)), "no answer within 10s"},
		{"no request", errors.New("no route"), "no route"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := unreachedText(tc.err); got != tc.want {
				t.Errorf("unreachedText = %q; want %q", got, tc.want)
			}
		})
	}
}
