package app

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// listenError is the error of listening on addr (Config.Listen, the
// -listen flag of serve and demo; or demo's -org-listen, flag), with what
// to do about it.
func listenError(flag, addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listen on %s: %w: another process (a running cardflow server?) has the port; stop it, or serve on another address with %s (127.0.0.1:0 picks a free port)", addr, err, flag)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listen on %s: %w: ports below 1024 need privileges; use a higher port with %s (e.g. 127.0.0.1:8080) behind the TLS proxy", addr, err, flag)
	}
	if _, _, serr := net.SplitHostPort(addr); serr != nil {
		return &ConfigError{fmt.Errorf("listen on %q: %w; %s wants HOST:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free port)", addr, err, flag)}
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}
