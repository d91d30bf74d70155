package app

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
)

// childEnv names the environment variable that turns the test binary into
// a cardflow server (see startChild): the crash tests kill servers with
// SIGKILL, so they need them in processes of their own.
const childEnv = "CARDFLOW_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(serveChild(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// serveChild serves as `cardflow serve` would, with the flags the crash
// tests use, the test API token and a JSON debug log on stderr, until
// SIGTERM or SIGINT.
func serveChild(args []string) int {
	fs := flag.NewFlagSet("child", flag.ContinueOnError)
	cfg := Config{
		APIToken:  keyring.Secret(testAPIToken),
		Logger:    slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Stdout:    os.Stdout,
		Failpoint: os.Getenv("CARDFLOW_FAILPOINT"),
	}
	var trusted string
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "")
	fs.StringVar(&cfg.DataDir, "data-dir", "", "")
	fs.StringVar(&trusted, "trust-origin", "", "")
	fs.StringVar(&cfg.DB, "db", "", "")
	fs.StringVar(&cfg.PublicURL, "public-url", "", "")
	fs.DurationVar(&cfg.EventPollInterval, "event-poll-interval", 0, "")
	fs.DurationVar(&cfg.FlowLeaseTTL, "flow-lease-ttl", 15*time.Second, "")
	fs.DurationVar(&cfg.CardLeaseTTL, "card-lease-ttl", 15*time.Second, "")
	fs.DurationVar(&cfg.SchedulePoll, "schedule-poll", 0, "")
	fs.Func("clock-file", "", func(path string) error {
		cfg.Now = fileClock(path)
		return nil
	})
	fs.Func("notify-url", "", func(u string) error {
		cfg.NotifyURLs = append(cfg.NotifyURLs, u)
		return nil
	})
	cfg.NotifySecret = keyring.Secret(os.Getenv("CARDFLOW_NOTIFY_SECRET"))
	// A parallel test cannot set the environment: it gives the secret here.
	fs.Func("notify-secret", "", func(s string) error {
		cfg.NotifySecret = keyring.Secret(s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.TrustedOrigins = []string{trusted}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a, err := New(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot start:", err)
		return 1
	}
	if err := a.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// fileClock is a clock that a test moves from outside the process: the
// wall clock plus the duration written in the file at path (none while the
// file is absent; see moveClocks), or the time written after an @, which
// stands still until the file changes (see setClocks). Tests move the
// servers' clocks to a scheduled tick, or past a dead server's lease,
// instead of waiting.
func fileClock(path string) func() time.Time {
	return func() time.Time {
		now := time.Now()
		b, err := os.ReadFile(path)
		if err != nil {
			return now
		}
		text := strings.TrimSpace(string(b))
		if at, ok := strings.CutPrefix(text, "@"); ok {
			t, err := time.Parse(time.RFC3339Nano, at)
			if err != nil {
				panic(fmt.Sprintf("clock file %s: %v", path, err))
			}
			return t
		}
		d, err := time.ParseDuration(text)
		if err != nil {
			panic(fmt.Sprintf("clock file %s: %v", path, err))
		}
		return now.Add(d)
	}
}
