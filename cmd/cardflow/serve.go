package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/app"
	"github.com/cardflow/cardflow/internal/counttext"
	"github.com/cardflow/cardflow/internal/keyring"
)

// serverFlags are the flags of serve and demo that shape the server.
type serverFlags struct {
	listen, dataDir, publicURL, db string
	logFormat, logLevel            string
	trusted, suffixes, notifyURLs  stringList
	trustedProxies                 stringList
	publicMetrics                  bool
	flowLease                      time.Duration
	cardLease                      time.Duration
	eventPoll                      time.Duration
	eventPollAlert                 time.Duration
	retain                         retainFlag
	retainAudit                    auditRetainFlag
	expiryWarning                  time.Duration
	notifyRepeat                   time.Duration
	oidcIssuer, oidcClientID       string
	oidcRoles, oidcAllowHosts      stringList
}

// retainFlag is -retain-runs: days ("30d"), a Go duration ("720h"), or
// "forever". The zero value is the default, 30 days.
type retainFlag struct{ d time.Duration }

func (f *retainFlag) String() string {
	switch {
	case f == nil || f.d == 0:
		return "30d"
	case f.d < 0:
		return "forever"
	case f.d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(f.d/(24*time.Hour)), 10) + "d"
	}
	return f.d.String()
}

func (f *retainFlag) Set(v string) error {
	if v == "forever" {
		f.d = -1
		return nil
	}
	d, err := time.ParseDuration(v)
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, perr := strconv.Atoi(days)
		d, err = time.Duration(n)*24*time.Hour, perr
	}
	if err != nil || d < time.Hour {
		return fmt.Errorf("want a number of days such as 30d, a duration of at least 1h such as 720h, or forever")
	}
	f.d = d
	return nil
}

// auditRetainFlag is -retain-audit: as retainFlag, but its zero value,
// the default, keeps everything.
type auditRetainFlag struct{ retainFlag }

func (f *auditRetainFlag) String() string {
	if f == nil || f.d == 0 {
		return "forever"
	}
	return f.retainFlag.String()
}

// checkDurations refuses a duration flag out of its range: the server
// would take a zero or negative one for its default without a word, and a
// warning of 90 days or more would flag every connection as expiring.
func (f *serverFlags) checkDurations() error {
	for _, d := range []struct {
		name     string
		v        time.Duration
		min, max time.Duration
		example  string
	}{
		{"flow-lease-ttl", f.flowLease, time.Second, 0, "15s"},
		{"card-lease-ttl", f.cardLease, time.Second, 0, "15s"},
		{"event-poll-interval", f.eventPoll, time.Second, 0, "30s"},
		{"event-poll-alert-after", f.eventPollAlert, time.Second, 0, "15m"},
		{"expiry-warning", f.expiryWarning, time.Minute, 90*24*time.Hour - time.Minute, "336h"},
		{"notify-repeat", f.notifyRepeat, time.Minute, 0, "24h"},
	} {
		switch {
		case d.v < d.min:
			return usagef("-%s %v: want a duration of at least %v, such as %s", d.name, d.v, d.min, d.example)
		case d.max > 0 && d.v > d.max:
			return usagef("-%s %v: want less than 2160h (Okta's 90 days), such as %s", d.name, d.v, d.example)
		}
	}
	return nil
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
		notifyEnvHelp+",\n"+
		"CARDFLOW_OIDC_CLIENT_SECRET (the single sign-on app's client secret, with -oidc-issuer).")
	var f serverFlags
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to serve on (port 0 picks a free port)")
	fs.StringVar(&f.dataDir, "data-dir", "cardflow-data", "directory for the database, the keyring and the API token file")
	fs.StringVar(&f.publicURL, "public-url", "", "external base URL of this server (the OAuth redirect URI is URL/oauth/callback); default http://LISTEN")
	fs.StringVar(&f.db, "db", "", "PostgreSQL URL (postgres://...); default SQLite in the data directory")
	fs.Var(&f.trusted, "trust-origin", "org origin to trust even if http:// or loopback, e.g. http://127.0.0.1:9090 (repeatable)")
	fs.Var(&f.suffixes, "allow-domain-suffix", "custom org domain to accept besides Okta's (repeatable)")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.Var(&f.trustedProxies, "trusted-proxy", "address or CIDR network of a reverse proxy in front of the server, whose X-Forwarded-For names the client for the sign-in limiter (repeatable)")
	fs.BoolVar(&f.publicMetrics, "public-metrics", false, "serve /metrics without the API token")
	f.notifyFlag(fs)
	fs.DurationVar(&f.flowLease, "flow-lease-ttl", 15*time.Second, "how long a server's claim on a flow run lasts unrenewed; a crashed server's runs resume after it")
	fs.DurationVar(&f.cardLease, "card-lease-ttl", 15*time.Second, "how long a server's lease on the card runs it executes lasts unrenewed; a card run started with POST /api/v1/runs whose server died ends interrupted after it")
	fs.DurationVar(&f.eventPoll, "event-poll-interval", 30*time.Second, "how often the System Log of a connection with poll delivery is read (one server polls each connection)")
	fs.DurationVar(&f.notifyRepeat, "notify-repeat", 24*time.Hour, "how often a flow whose runs keep failing with the same error is notified again (flow_run.failed): its first such failure is, then one per period while it lasts; flow_run.recovered follows its next successful run")
	fs.DurationVar(&f.eventPollAlert, "event-poll-alert-after", 15*time.Minute, "how long a connection's System Log polls fail before events.poll_failing is sent to the -notify-url receivers")
	fs.Var(&f.retain, "retain-runs", "how long flow runs and card runs are kept after they end (30d, 720h, or forever; default 30d); older ones are purged every hour")
	fs.Var(&f.retainAudit, "retain-audit", "how long audit events are kept (365d, 8760h, or forever; default forever); older ones are purged every hour")
	fs.DurationVar(&f.expiryWarning, "expiry-warning", 336*time.Hour, "how long before a user connection's refresh token expires (Okta: 90 days after the sign-in) it is flagged as expiring soon and notified")
	fs.StringVar(&f.oidcIssuer, "oidc-issuer", "", "single sign-on: the OpenID Connect issuer (e.g. https://example.okta.com); its app's redirect URI is PUBLIC-URL/auth/callback")
	fs.StringVar(&f.oidcClientID, "oidc-client-id", "", "single sign-on: the OIDC web app's client ID (secret in CARDFLOW_OIDC_CLIENT_SECRET)")
	fs.Var(&f.oidcRoles, "oidc-role", "single sign-on: ROLE=GROUP gives the group's members the role viewer, operator or admin (repeatable)")
	fs.Var(&f.oidcAllowHosts, "oidc-allow-host", "single sign-on: a host besides the issuer's where the provider's discovery document may place its token endpoint, keys or authorization endpoint, as https://HOST[:PORT] (repeatable); a document that places one elsewhere is refused at start")
	if err := parseServeArgs(fs, args); err != nil {
		return err
	}
	if err := f.checkDurations(); err != nil {
		return err
	}
	log, err := f.logger(e.stderr)
	if err != nil {
		return err
	}
	cfg := app.Config{
		RetainRuns:          f.retain.d,
		RetainAudit:         f.retainAudit.d,
		Listen:              f.listen,
		DataDir:             f.dataDir,
		PublicURL:           f.publicURL,
		DB:                  f.db,
		TrustedOrigins:      f.trusted,
		ExtraDomainSuffixes: f.suffixes,
		APIToken:            keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_API_TOKEN"))),
		Key:                 keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_KEY"))),
		PublicMetrics:       f.publicMetrics,
		TrustedProxies:      f.trustedProxies,
		FlowLeaseTTL:        f.flowLease,
		CardLeaseTTL:        f.cardLease,
		EventPollInterval:   f.eventPoll,
		EventPollAlertAfter: f.eventPollAlert,
		NotifyURLs:          f.notifyReceivers(e),
		NotifySecret:        notifySecret(e),
		ExpiryWarning:       f.expiryWarning,
		NotifyRepeat:        f.notifyRepeat,
		OIDCIssuer:          f.oidcIssuer,
		OIDCClientID:        f.oidcClientID,
		OIDCClientSecret:    keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_OIDC_CLIENT_SECRET"))),
		OIDCRoles:           f.oidcRoles,
		OIDCAllowedHosts:    f.oidcAllowHosts,
		Logger:              log,
		Stdout:              e.stdout,
		Failpoint:           e.getenv("CARDFLOW_FAILPOINT"),
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		return startError(err)
	}
	return a.Serve(ctx)
}

// startError is the error of a server that could not start: a
// configuration it refuses is a wrong command line (exit 2), as a flag the
// parser refuses.
func startError(err error) error {
	if ce := (*app.ConfigError)(nil); errors.As(err, &ce) {
		return usagef("cannot start: %v", ce)
	}
	return fmt.Errorf("cannot start: %w", err)
}

// notifyEnvHelp is what serve's and demo's usage say of the environment
// variables of notifications.
const notifyEnvHelp = "CARDFLOW_NOTIFY_SECRET (signs notifications to -notify-url: X-Cardflow-Signature: sha256=<hex HMAC>),\n" +
	"CARDFLOW_NOTIFY_URLS (notification receivers, whitespace-separated, besides -notify-url; a webhook\n" +
	"URL whose path or query is its key stays out of the process list there)"

// notifyFlag defines -notify-url, the same for serve and demo.
func (f *serverFlags) notifyFlag(fs *flag.FlagSet) {
	fs.Var(&f.notifyURLs, "notify-url", "URL that receives notifications (flow_run.failed and _recovered, connection.needs_reauthorization, connection.expiring, connection.failing and _recovered, events.poll_failing, _recovered and _restarted, events.hook_failing, _recovered and _reregistered) as signed JSON POSTs, or as a chat post to a Slack, Google Chat or Teams webhook (by its host; BODY=URL names it: cardflow, slack, googlechat or teams); needs CARDFLOW_NOTIFY_SECRET (repeatable; CARDFLOW_NOTIFY_URLS keeps a secret URL out of ps; the server logs each receiver at start as scheme://host/… and a fingerprint)")
}

// notifyReceivers is the receivers of -notify-url, then those of
// CARDFLOW_NOTIFY_URLS.
func (f *serverFlags) notifyReceivers(e *env) []string {
	return append(slices.Clone(f.notifyURLs), strings.Fields(e.getenv("CARDFLOW_NOTIFY_URLS"))...)
}

// notifySecret is CARDFLOW_NOTIFY_SECRET, which signs notifications.
func notifySecret(e *env) keyring.Secret {
	return keyring.Secret(e.getenv("CARDFLOW_NOTIFY_SECRET"))
}

// parseServeArgs is parseNoArgs for serve, whose stray argument is often
// a second receiver URL after one -notify-url: it is not quoted, as its
// path may be a webhook's key.
func parseServeArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseFlags(fs, args)
	if err != nil || len(pos) == 0 {
		return err
	}
	if u, err := url.Parse(pos[0]); err == nil && u.Scheme != "" && u.Host != "" {
		return usagef("unexpected argument %s://%s/…: give each notification receiver its own -notify-url, or list them in CARDFLOW_NOTIFY_URLS", u.Scheme, u.Host)
	}
	return usagef("unexpected argument %q", pos[0])
}

func cmdDemo(ctx context.Context, e *env, args []string) error {
	fs := newFlagSet(e, "demo", "demo [-listen 127.0.0.1:8080] [-data-dir DIR] [-devices 50] [-notify-url URL ...]\n\n"+
		"Starts an emulated Okta org (the demo org) and the cardflow server in one process,\n"+
		"with the org's origin trusted, and prints everything needed to try it.\n\n"+
		"Environment: "+notifyEnvHelp+".")
	var f serverFlags
	var devices int
	var orgListen string
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address of the cardflow server (port 0 picks a free port)")
	fs.StringVar(&orgListen, "org-listen", "127.0.0.1:0", "address of the emulated org")
	fs.StringVar(&f.dataDir, "data-dir", "", "data directory; default a new temporary directory, removed on exit")
	fs.IntVar(&devices, "devices", 50, "number of devices in the emulated org")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	f.notifyFlag(fs)
	if err := parseServeArgs(fs, args); err != nil {
		return err
	}
	if devices < 0 {
		return usagef("-devices %d: want a number of devices, 0 or more, such as 50", devices)
	}
	log, err := f.logger(e.stderr)
	if err != nil {
		return err
	}
	err = app.Demo(ctx, app.DemoConfig{
		Listen:       f.listen,
		OrgListen:    orgListen,
		DataDir:      f.dataDir,
		Devices:      devices,
		Logger:       log,
		Stdout:       e.stdout,
		APIToken:     keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_API_TOKEN"))),
		Command:      e.self,
		NotifyURLs:   f.notifyReceivers(e),
		NotifySecret: notifySecret(e),
	})
	if ce := (*app.ConfigError)(nil); errors.As(err, &ce) {
		return startError(err)
	}
	return err
}

func cmdKeysRotate(ctx context.Context, e *env, args []string) error {
	fs, cfg := keysFlags(e, "keys rotate", "keys rotate [-data-dir DIR] [-db postgres://...]\n\n"+
		"Adds a new primary key and re-seals every stored secret with it; older keys stay in\n"+
		"the keyring so that values sealed with them keep opening. Within 10 s every running\n"+
		"server whose keyring has the new key seals with it; one that lacks it stops sealing\n"+
		"and fails /healthz until restarted with it in CARDFLOW_KEY, or until its keyring file\n"+
		"gains it (the rotated file copied over its own is read again within 10 s, no restart).\n"+
		"With CARDFLOW_KEY set, the new key comes from CARDFLOW_NEW_KEY (base64, 32 bytes).\n"+
		"With several servers the safe order is: restart every server with\n"+
		"CARDFLOW_KEY=OLD,NEW; then run CARDFLOW_KEY=OLD CARDFLOW_NEW_KEY=NEW cardflow keys rotate;\n"+
		"then restart every server with CARDFLOW_KEY=NEW,OLD.")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	rep, err := app.RotateKeys(ctx, *cfg, keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_NEW_KEY"))))
	if err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	fmt.Fprint(e.stdout, rotatedText(rep))
	fmt.Fprint(e.stdout, rotateAdvice(rep, cfg.DB != ""))
	return nil
}

// keysFlags are the flags of the keys commands, which open the server's
// database and keyring directly.
func keysFlags(e *env, name, usage string) (*flag.FlagSet, *app.Config) {
	fs := newFlagSet(e, name, usage)
	cfg := &app.Config{
		Key:    keyring.Secret(strings.TrimSpace(e.getenv("CARDFLOW_KEY"))),
		Logger: slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Stdout: e.stdout,
		Now:    e.now,
	}
	fs.StringVar(&cfg.DataDir, "data-dir", "cardflow-data", "the server's data directory")
	fs.StringVar(&cfg.DB, "db", "", "PostgreSQL URL (postgres://...); default SQLite in the data directory")
	return fs, cfg
}

func cmdKeysList(ctx context.Context, e *env, args []string) error {
	fs, cfg := keysFlags(e, "keys list", "keys list [-data-dir DIR] [-db postgres://...]\n\n"+
		"Lists the keyring's keys, the primary (sealing) key first, with the number of stored\n"+
		"values each one seals: the connections' secrets and tokens, the event hook secrets and\n"+
		"the keyring check value. A key that seals nothing can be removed (keys remove).")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	rep, err := app.ListKeys(ctx, *cfg)
	if err != nil {
		return fmt.Errorf("keys list: %w", err)
	}
	printKeys(e.stdout, rep)
	return nil
}

func cmdKeysReseal(ctx context.Context, e *env, args []string) error {
	fs, cfg := keysFlags(e, "keys reseal", "keys reseal [-data-dir DIR] [-db postgres://...]\n\n"+
		"Re-seals with the database's current key (the one keys rotate last moved it to) every\n"+
		"stored secret an older key still seals: a server may seal a refreshed token with the old\n"+
		"key in the seconds before it sees a rotation, and keys remove refuses a key that still\n"+
		"seals anything. It adds no key, and is safe while servers run.")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	rep, err := app.ResealKeys(ctx, *cfg)
	if err != nil {
		return fmt.Errorf("keys reseal: %w", err)
	}
	fmt.Fprint(e.stdout, resealedText(rep))
	return nil
}

// rotatedText is what keys rotate did.
func rotatedText(rep *app.RotateReport) string {
	return fmt.Sprintf("Rotated to key %s: re-sealed %s in %s; %d already used the new key.\n",
		rep.NewKeyID, counttext.Format(rep.Values, "value"), counttext.Format(rep.Connections, "connection"), rep.Unchanged)
}

// resealedText is what keys reseal did.
func resealedText(rep *app.ResealReport) string {
	return fmt.Sprintf("Re-sealed %s in %s with key %s; %d already used it.\n",
		counttext.Format(rep.Values, "value"), counttext.Format(rep.Connections, "connection"), rep.KeyID, rep.Unchanged)
}

func cmdKeysRemove(ctx context.Context, e *env, args []string) error {
	fs, cfg := keysFlags(e, "keys remove", "keys remove KEY_ID [-data-dir DIR] [-db postgres://...]\n\n"+
		"Removes an older key from the data directory's keyring file once no stored value is\n"+
		"sealed with it. It refuses to run until 12 s after keys rotate, when every running\n"+
		"server has moved to the new key (or stopped sealing, lacking it). The primary key, a\n"+
		"key still in use (keys reseal re-seals it) and keys given in CARDFLOW_KEY are refused.\n"+
		"Authorizations started before the rotation and not finished yet must be started again.\n"+
		"This cannot be undone: it asks first on a terminal (--yes: without asking).")
	var yes bool
	fs.BoolVar(&yes, "yes", false, yesFlag)
	id, err := oneArg(fs, args, "key id (see cardflow keys list)")
	if err != nil {
		return err
	}
	again := e.self + " keys remove " + shellArg(id)
	if cfg.DataDir != "cardflow-data" {
		again += " -data-dir " + shellArg(cfg.DataDir)
	}
	if cfg.DB != "" {
		again += " -db DB_URL"
	}
	// With CARDFLOW_KEY nothing is removed: RemoveKey says so.
	if err := needsAnswer(e, yes || cfg.Key != "", "keys remove", "remove key "+id, again+" --yes"); err != nil {
		return err
	}
	if !yes && cfg.Key == "" {
		keys, err := app.ListKeys(ctx, *cfg)
		if err != nil {
			return fmt.Errorf("keys remove: %w", err)
		}
		// A key RemoveKey refuses (unknown, the primary, in use) is
		// refused without a question.
		if slices.ContainsFunc(keys.Keys, func(k app.KeyUse) bool { return k.ID == id && !k.Primary && k.Values == 0 }) {
			if err := confirm(e, fmt.Sprintf("Remove key %s from %s?", id, keys.Source), []string{
				"It seals nothing now; this cannot be undone.",
				"A backup of the database made while the key sealed its secrets cannot be opened without it: keep a copy of the keyring with such backups.",
			}, "remove it", fmt.Sprintf("key %s was not removed", id)); err != nil {
				return err
			}
		}
	}
	rep, err := app.RemoveKey(ctx, *cfg, id)
	if err != nil {
		return fmt.Errorf("keys remove: %w", err)
	}
	fmt.Fprintf(e.stdout, "Removed key %s from %s. Back the keyring up again.\n", rep.Removed, rep.Source)
	printKeys(e.stdout, rep)
	return nil
}

func cmdBackup(ctx context.Context, e *env, args []string) error {
	fs, cfg := keysFlags(e, "backup", "backup FILE [-data-dir DIR]\n\n"+
		"Writes a consistent copy of the data directory's database (cardflow.db) to FILE, a new\n"+
		"file, while the server goes on running, and checks the copy. The copy holds the stored\n"+
		"secrets and tokens sealed: it is of use only with the keyring (DATA_DIR/keyring or\n"+
		"CARDFLOW_KEY), which it does not contain; keep the two apart. To restore, stop the\n"+
		"server, remove cardflow.db, cardflow.db-wal and cardflow.db-shm from the data directory,\n"+
		"copy FILE there as cardflow.db and start the server with the same keyring.\n"+
		"With PostgreSQL (-db), use pg_dump instead.")
	to, err := oneArg(fs, args, "backup file name")
	if err != nil {
		return err
	}
	rep, err := app.Backup(ctx, *cfg, to)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(e.stdout, "Backed up %s to %s: %s, %s, %s, schema version %d; SQLite's check passed.\n",
		rep.From, rep.To, byteSize(rep.Bytes), counttext.Format(rep.Connections, "connection"), counttext.Format(rep.Flows, "flow"), rep.SchemaVersion)
	key := "the key in CARDFLOW_KEY"
	if rep.Keyring != "" {
		key = "the keyring " + rep.Keyring
	}
	fmt.Fprintf(e.stdout, "Its secrets are sealed with %s, which it does not contain: keep a copy of that too, apart from the backup.\n", key)
	return nil
}

// byteSize is n bytes in the largest unit that keeps it at 1 or more.
func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// printKeys prints a keys report as a table.
func printKeys(w io.Writer, rep *app.KeysReport) {
	fmt.Fprintf(w, "Keyring: %s\n", rep.Source)
	tw := newTable(w, "KEY", "ROLE", "SEALS")
	for _, k := range rep.Keys {
		role := "older (opens only)"
		if k.Primary {
			role = "primary (seals)"
		}
		tw.row(k.ID, role, counttext.Format(k.Values, "value"))
	}
	tw.flush()
}

// rotateAdvice says what to do after a rotation; it follows the README's
// "Rotating the key with several servers": restart with OLD,NEW, rotate,
// restart with NEW,OLD.
func rotateAdvice(rep *app.RotateReport, sharedDB bool) string {
	var b strings.Builder
	if rep.KeyringFile != "" {
		fmt.Fprintf(&b, "The keyring %s now holds keys %s (the first seals). Back it up again.\n", rep.KeyringFile, strings.Join(rep.KeyIDs, ", "))
		// A server reads its keyring file again when it meets a key it
		// lacks (keyring.LoadFile), as its check of the sealing key does
		// every 10 s: a file that gains the key needs no restart.
		if !sharedDB {
			b.WriteString("A server running on this data directory reads the file again and seals with the new key\n" +
				"within 10 s; no restart is needed.\n")
			return b.String()
		}
		b.WriteString("A server running on this data directory reads the file again and seals with the new key\n" +
			"within 10 s. Other servers on this database cannot open the re-sealed values until they have\n" +
			"this keyring: within 10 s they stop sealing and fail /healthz. Copy it over each one's keyring\n" +
			"file (keyring in its data directory, mode 0600): within 10 s the server reads it again, seals\n" +
			"with the new key and is healthy again; no restart is needed. With several servers, prefer\n" +
			"CARDFLOW_KEY, so that every server can hold the new key before the rotation.\n")
		return b.String()
	}
	b.WriteString("Running servers whose CARDFLOW_KEY holds the new key seal with it within 10 s.\n" +
		"Now restart every server with CARDFLOW_KEY=NEW,OLD (CARDFLOW_NEW_KEY's value, a comma, the old\n" +
		"key): the old one still opens what a server may have sealed with it before it saw the rotation.\n" +
		"With several servers the safe order is: restart every server with CARDFLOW_KEY=OLD,NEW; rotate;\n" +
		"restart every server with CARDFLOW_KEY=NEW,OLD. A server that was not restarted with\n" +
		"CARDFLOW_KEY=OLD,NEW before this rotation cannot open the re-sealed values and has stopped\n" +
		"sealing (its /healthz fails): restart it now.\n")
	return b.String()
}
