// Command oktaemu serves an emulated Okta org (the demo org or a JSON
// fixture) for demos and tests.
//
//	oktaemu -listen 127.0.0.1:9090 -devices 50 -rate-limit-per-minute 0 [-fixture FILE]
//
// It prints "oktaemu: org http://ADDR ready" once it serves.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
)

// usageError is a mistake on the command line (exit code 2, as cardflow's).
type usageError struct{ error }

func main() {
	err := run(os.Args[1:])
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "oktaemu:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "oktaemu:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("oktaemu", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "Usage: oktaemu [-listen 127.0.0.1:9090] [-devices 50] [-rate-limit-per-minute 0] [-fixture FILE] [-v]\n\n"+
			"Serves an emulated Okta org: the demo org (SSWS token demo-api-token, password\n"+
			"Demo-Passw0rd!) or the org of a JSON fixture. Its /_emulator/ control endpoints move\n"+
			"its clock, inject faults and enroll devices (README.md: \"oktaemu, the emulated org\").\n"+
			"State lives in memory.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", "127.0.0.1:9090", "address to listen on (port 0 picks a free port)")
	devices := fs.Int("devices", 50, "number of generated demo devices")
	rate := fs.Int("rate-limit-per-minute", 0, "requests per minute per API bucket (0 = unlimited)")
	fixture := fs.String("fixture", "", "JSON fixture to load in place of the demo org")
	verbose := fs.Bool("v", false, "log every request")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %v (every option is a flag, such as -listen ADDR)", fs.Args())}
	}
	if *devices < 0 {
		return usageError{errors.New("-devices must not be negative")}
	}
	if *rate < 0 {
		// The org would take it for 0 and limit nothing, without a word.
		return usageError{fmt.Errorf("-rate-limit-per-minute %d: want requests per minute per API bucket, such as 600, or 0 for no limit", *rate)}
	}
	cfg := oktaemu.Config{Devices: *devices, RateLimitPerMinute: *rate}
	if *devices == 0 {
		cfg.Devices = -1
	}
	if *fixture != "" {
		fx, err := oktaemu.LoadFixtureFile(*fixture)
		if err != nil {
			return err
		}
		cfg.Fixture = fx
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w: another process has the port; stop it, or choose another address with -listen (127.0.0.1:0 picks a free port)", err)
		}
		return fmt.Errorf("%w; -listen wants HOST:PORT, e.g. 127.0.0.1:9090", err)
	}
	srv := &http.Server{Handler: oktaemu.New(cfg), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("oktaemu: org http://%s ready\n", ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
