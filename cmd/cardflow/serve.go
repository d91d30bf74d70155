package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/keyring"
)

// serverFlags are the flags of serve and demo that shape the server.
type serverFlags struct {
	listen, dataDir, publicURL, db string
	logFormat, logLevel            string
	trusted, suffixes, notifyURLs  stringList
	publicMetrics                  bool
	flowLease                      time.Duration
	eventPoll                      time.Duration
}

func (f *serverFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, usagef("-log-level %q: want debug, info, warn or error", f.logLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, usagef("-log-format %q: want text or json", f.logFormat)
}

func cmdServe(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "serve", "serve [-listen 127.0.0.1:8080] [-data-dir DIR] [-public-url URL] [-trust-origin ORIGIN ...] [-allow-domain-suffix SUFFIX ...] [-db postgres://...]\n\n"+
		"Environment: CARDFLOW_API_TOKEN (the API token; generated on first start when unset),\n"+
		"CARDFLOW_KEY (base64 sealing key; DIR/keyring is created when unset),\n"+
		"CARDFLOW_NOTIFY_SECRET (signs notifications to -notify-url: X-Cardflow-Signature: sha256=<hex HMAC>).")
	var f serverFlags
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to serve on (port 0 picks a free port)")
	fs.StringVar(&f.dataDir, "data-dir", "cardflow-data", "directory for the database, the keyring and the API token file")
	fs.StringVar(&f.publicURL, "public-url", "", "external base URL of this server (the OAuth redirect URI is URL/oauth/callback); default http://LISTEN")
	fs.StringVar(&f.db, "db", "", "PostgreSQL URL (postgres://...); default SQLite in the data directory")
	fs.Var(&f.trusted, "trust-origin", "org origin to trust even if http:// or loopback, e.g. http://127.0.0.1:9090 (repeatable)")
	fs.Var(&f.suffixes, "allow-domain-suffix", "custom org domain to accept besides Okta's (repeatable)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.BoolVar(&f.publicMetrics, "public-metrics", false, "serve /metrics without the API token")
	fs.Var(&f.notifyURLs, "notify-url", "URL that receives notifications (flow_run.failed, connection.needs_reauthorization, connection.expiring) as signed JSON POSTs; needs CARDFLOW_NOTIFY_SECRET (repeatable)")
	fs.DurationVar(&f.flowLease, "flow-lease-ttl", 15*time.Second, "how long a server's claim on a flow run lasts unrenewed; a crashed server's runs resume after it")
	fs.DurationVar(&f.eventPoll, "event-poll-interval", 30*time.Second, "how often the System Log of a connection with poll delivery is read (one server polls each connection)")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	log, err := f.logger(e.stderr)
	if err != nil {
		return err
	}
	cfg := app.Config{
		Listen:              f.listen,
		DataDir:             f.dataDir,
		PublicURL:           f.publicURL,
		DB:                  f.db,
		TrustedOrigins:      f.trusted,
		ExtraDomainSuffixes: f.suffixes,
		APIToken:            keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_API_TOKEN"))),
		Key:                 keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_KEY"))),
		PublicMetrics:       f.publicMetrics,
		FlowLeaseTTL:        f.flowLease,
		EventPollInterval:   f.eventPoll,
		NotifyURLs:          f.notifyURLs,
		NotifySecret:        keyring.Secret(e.getenv("CARDFLOW_NOTIFY_SECRET")),
		Logger:              log,
		Stdout:              e.stdout,
		Failpoint:           e.getenv("CARDFLOW_FAILPOINT"),
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		return fmt.Errorf("cannot start: %w", err)
	}
	return a.Serve(ctx)
}

func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", "demo [-listen 127.0.0.1:8080] [-data-dir DIR] [-devices 50]\n\n"+
		"Starts an emulated Okta org (the demo org) and the cardflow server in one process,\n"+
		"with the org's origin trusted, and prints everything needed to try it.")
	var f serverFlags
	var devices int
	var orgListen string
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the cardflow server (port 0 picks a free port)")
	fs.StringVar(&orgListen, "org-listen", "127.0.0.1:0", "address of the emulated org")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory; default a new temporary directory, removed on exit")
	fs.IntVar(&devices, "devices", 50, "number of devices in the emulated org")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	log, err := f.logger(e.stderr)
	if err != nil {
		return err
	}
	return app.Demo(ctx, app.DemoConfig{
		Listen:    f.listen,
		OrgListen: orgListen,
		DataDir:   f.dataDir,
		Devices:   devices,
		Logger:    log,
		Stdout:    e.stdout,
		APIToken:  keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_API_TOKEN"))),
		Command:   e.self,
	})
}

func cmdKeysRotate(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "keys rotate", "keys rotate [-data-dir DIR] [-db postgres://...]\n\n"+
		"Adds a new primary key and re-seals every stored secret with it; older keys stay in\n"+
		"the keyring so that servers still running with them keep working.\n"+
		"With CARDFLOW_KEY set, the new key comes from CARDFLOW_NEW_KEY (base64, 32 bytes).\n"+
		"With several servers the safe order is: restart every server with\n"+
		"CARDFLOW_KEY=OLD,NEW; then run CARDFLOW_KEY=OLD CARDFLOW_NEW_KEY=NEW cardflow keys rotate;\n"+
		"then restart every server with CARDFLOW_KEY=NEW,OLD.")
	var dataDir, db string
	fs.StringVar(&dataDir, "data-dir", "cardflow-data", "the server's data directory")
	fs.StringVar(&db, "db", "", "PostgreSQL URL (postgres://...); default SQLite in the data directory")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	rep, err := app.RotateKeys(ctx, app.Config{
		DataDir: dataDir,
		DB:      db,
		Key:     keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_KEY"))),
		Logger:  slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Stdout:  e.stdout,
	}, keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_NEW_KEY"))))
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	fmt.Fprintf(e.stdout, "Rotated to key %s: re-sealed %d value(s) in %d connection(s); %d already used the new key.\n",
		rep.NewKeyID, rep.Values, rep.Connections, rep.Unchanged)
	fmt.Fprint(e.stdout, rotateAdvice(rep, db != ""))
	return nil
}

// rotateAdvice says what to do after a rotation; it follows the README's
// "Rotating the key with several servers": restart with OLD,NEW, rotate,
// restart with NEW,OLD.
func rotateAdvice(rep *app.RotateReport, sharedDB bool) string {
	var b strings.Builder
	if rep.KeyringFile != "" {
		fmt.Fprintf(&b, "The keyring %s now holds keys %s (the first seals). Back it up again.\n", rep.KeyringFile, strings.Join(rep.KeyIDs, ", "))
		if sharedDB {
			b.WriteString("Other servers on this database cannot open the re-sealed values until they have this keyring:\n" +
				"copy it into each server's data directory and restart them. With several servers, prefer\n" +
				"CARDFLOW_KEY, so that every server can hold the new key before the rotation.\n")
		}
		return b.String()
	}
	b.WriteString("Now restart every server with CARDFLOW_KEY=NEW,OLD (CARDFLOW_NEW_KEY's value, a comma, the old\n" +
		"key): the new key seals from then on, and the old one still opens what a server on the old\n" +
		"primary key may have sealed meanwhile.\n" +
		"With several servers the safe order is: restart every server with CARDFLOW_KEY=OLD,NEW; rotate;\n" +
		"restart every server with CARDFLOW_KEY=NEW,OLD. A server that was not restarted with\n" +
		"CARDFLOW_KEY=OLD,NEW before this rotation cannot open the re-sealed values: restart it now.\n")
	return b.String()
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
