package app

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// listenError is the error of listening on addr (Config.Listen, the
// -listen flag of serve and demo), with what to do about it.
func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return fmt.Errorf("listen on %s: %w: another process (a running cardflow server?) has the port; stop it, or serve on another address with -listen (127.0.0.1:0 picks a free port)", addr, err)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("listen on %s: %w: ports below 1024 need privileges; use a higher port with -listen (e.g. 127.0.0.1:8080) behind the TLS proxy", addr, err)
	}
	if _, _, serr := net.SplitHostPort(addr); serr != nil {
		return &ConfigError{fmt.Errorf("listen on %q: %w; -listen wants HOST:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free port)", addr, err)}
	}
	return fmt.Errorf("listen on %s: %w", addr, err)
}
