package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/card"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/events"
	"github.com/cardflow/cardflow/internal/flow"
	"github.com/cardflow/cardflow/internal/flowrun"
	"github.com/cardflow/cardflow/internal/intake"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/okta"
	"github.com/cardflow/cardflow/internal/outage"
	"github.com/cardflow/cardflow/internal/retention"
	"github.com/cardflow/cardflow/internal/schedule"
	"github.com/cardflow/cardflow/internal/sso"
	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/postgres"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/web"
	"github.com/cardflow/cardflow/internal/web/console"
)

// App is a wired cardflow server: New builds it, Serve runs it.
type App struct {
	cfg      Config
	log      *slog.Logger
	listener net.Listener
	url      string
	events   *intake.Intake
	// hooks serves the event hook endpoint (on Web).
	hooks *events.HookHandler
	// expiryOutage logs the failures of checkExpiries.
	expiryOutage *outage.Log
	// keyOutage logs the failures of checkSealingKey.
	keyOutage *outage.Log
	// keyCheck serializes the checks of the sealing key (checkKey).
	keyCheck sync.Mutex
	// runLeases renews this server's card run leases and ends the direct
	// card runs of servers that died.
	runLeases *card.RunLeases

	// Store is the open store; Close closes it.
	Store store.Store
	// Keyring seals and opens secrets at rest.
	Keyring *keyring.Keyring
	// Connections is the connection manager.
	Connections *connection.Manager
	// Executor runs cards.
	Executor *card.Executor
	// Flows stores, validates, plans and runs flows.
	Flows *flowrun.Service
	// Retention purges runs past Config.RetainRuns; nil when runs are
	// kept forever.
	Retention *retention.Purger
	// Scheduler fires the ticks of enabled scheduled flows.
	Scheduler *schedule.Scheduler
	// Outbox enqueues notifications; Notifier delivers them.
	Outbox   *notify.Outbox
	Notifier *notify.Sender
	// Registry holds the server's Prometheus metrics.
	Registry *prometheus.Registry
	// Web is the HTTP server.
	Web *web.Server
	// Console is the web console (mounted on Web).
	Console *console.Console
	// Tokens manages personal API tokens.
	Tokens *access.Tokens
	// People lists who has access and ends a person's access.
	People *access.People
}

// New opens the store, loads and verifies the keyring, sets up the API
// token, wires every part and starts listening (so that URL is known); call
// Serve to serve and Close when done with an App that was never served.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	cfg, err = cfg.withDefaults()
	if err != nil {
		return nil, &ConfigError{err}
	}
	log := slog.New(web.ContextHandler{Handler: cfg.Logger.Handler()})
	// What the configuration alone can refuse (single sign-on's settings,
	// an address that cannot be listened on) is refused before a first
	// start creates the data directory, the keyring and the API token: a
	// mistyped flag must not print a token "shown once" and then stop.
	var ssoProvider *sso.Provider
	if cfg.OIDCIssuer != "" {
		if ssoProvider, err = sso.New(sso.Config{
			Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
			Roles: cfg.oidcRoles, Now: cfg.Now, AllowedHosts: cfg.OIDCAllowedHosts,
		}); err != nil {
			return nil, &ConfigError{err}
		}
		if err := discoverAtStart(ctx, ssoProvider, log); err != nil {
			return nil, &ConfigError{err}
		}
	}
	a := &App{cfg: cfg, log: log}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	if a.listener, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, listenError("-listen", cfg.Listen, err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create the data directory: %w", err)
	}

	if a.Store, err = openStore(ctx, &cfg, log); err != nil {
		return nil, err
	}
	if cfg.wrapStore != nil {
		a.Store = cfg.wrapStore(a.Store)
	}
	if cfg.Failpoint != "" {
		a.Store = &failpointStore{Store: a.Store, point: cfg.Failpoint, log: log}
	}
	if a.Keyring, err = loadKeyring(ctx, &cfg, a.Store, log); err != nil {
		return nil, err
	}
	if err := setupAPIToken(ctx, &cfg, a.Store, cfg.Stdout, log); err != nil {
		return nil, err
	}
	if err := signOutOnSSOChange(ctx, &cfg, a.Store, log); err != nil {
		return nil, err
	}

	a.url = publicURLFor(a.listener.Addr())
	publicURL := cfg.PublicURL
	if publicURL == "" {
		publicURL = a.url
	}

	a.Registry = prometheus.NewRegistry()
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_background_failures_total",
		Help: "Failed attempts of the server's background work, by loop: flow_runs (claiming queued runs), schedule (ticks), events (the event intake: reading flows, hooks, polls, dispatch), card_leases (renewing and ending card runs' leases), retention (purges), expiry_check (connections' expiries, and the background tests of service connections in error), notifications (reading the outbox and delivering its messages: a receiver that refuses counts too), keyring (the check of the sealing key: a server whose keyring lacks the key the database moved to counts at every check until restarted). A database down or full counts at every attempt; the log says it once and then every few minutes.",
	}, []string{"loop"})
	// outageLog logs and counts the failures of one background loop.
	outageLog := func(loop string) *outage.Log {
		return &outage.Log{Logger: log, Now: cfg.Now, Failed: failures.WithLabelValues(loop).Inc}
	}
	if err := a.Registry.Register(failures); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}

	policy := connection.DomainPolicy{ExtraSuffixes: cfg.ExtraDomainSuffixes, TrustedOrigins: cfg.TrustedOrigins}
	httpClient := connection.NewHTTPClient(connection.GuardOptions{TrustedOrigins: cfg.TrustedOrigins})
	tm, err := newTokenMetrics(httpClient.Transport, a.Registry)
	if err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	httpClient.Transport = tm
	if cfg.Failpoint != "" {
		httpClient.Transport = &failpointTransport{next: httpClient.Transport, point: cfg.Failpoint, log: log}
	}
	a.Connections = &connection.Manager{
		Store:      a.Store,
		Keyring:    a.Keyring,
		Connectors: catalog{},
		PublicURL:  publicURL,
		Policy:     policy,
		HTTP:       httpClient,
		Now:        cfg.Now,
		Logger:     log,
		Owner:      cfg.Owner,

		ExpiryWarning:   cfg.ExpiryWarning,
		RefreshLeaseTTL: cfg.RefreshLeaseTTL,
	}
	if err := a.Registry.Register(connectionExpiryCollector{store: a.Store}); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}

	oktaMetrics, cardMetrics := okta.NewMetrics(), card.NewMetrics()
	if err := oktaMetrics.Register(a.Registry); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	if err := cardMetrics.Register(a.Registry); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	a.Executor = &card.Executor{
		Connections: cardConnections{a.Connections},
		Recorder:    card.StoreRecorder{Store: a.Store},
		Budget:      sharedRateBudget(&cfg, a.Store, log),
		Okta:        okta.Client{Metrics: oktaMetrics, Now: cfg.Now},
		Metrics:     cardMetrics,
		Now:         cfg.Now,
		Logger:      log,
		Owner:       cfg.Owner,
		LeaseTTL:    cfg.CardLeaseTTL,
	}
	a.runLeases = &card.RunLeases{Store: a.Store, Owner: cfg.Owner, TTL: cfg.CardLeaseTTL, Now: cfg.Now, Logger: log, Running: a.Executor.Running,
		Outage: outageLog("card_leases")}
	a.Outbox = &notify.Outbox{Store: a.Store, Receivers: cfg.notifyTo, Now: cfg.Now}
	attempts := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_notification_attempts_total", Help: "Attempts at delivering notifications, by outcome (delivered, failed).",
	}, []string{"outcome"})
	schedMetrics := schedule.NewMetrics()
	if err := errors.Join(a.Registry.Register(attempts), schedMetrics.Register(a.Registry)); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	a.Notifier = &notify.Sender{
		Store: a.Store, Secret: []byte(cfg.NotifySecret), Owner: cfg.Owner, Receivers: cfg.notifyTo, HTTP: notifyHTTPClient(cfg),
		MinBackoff: cfg.NotifyMinBackoff, MaxBackoff: cfg.NotifyMaxBackoff, Logger: log, Now: cfg.Now,
		Attempts: func(outcome string) { attempts.WithLabelValues(outcome).Inc() },
		Outage:   outageLog("notifications"), Poll: cfg.notifyPoll,
	}
	if cfg.RetainRuns > 0 || cfg.RetainAudit > 0 {
		m := retention.NewMetrics()
		if err := m.Register(a.Registry); err != nil {
			return nil, err
		}
		a.Retention = &retention.Purger{Store: a.Store, Retain: cfg.RetainRuns, KeepEvents: events.LogRetention,
			RetainAudit: cfg.RetainAudit, Now: cfg.Now, Logger: log, Metrics: m, Outage: outageLog("retention")}
	}
	a.Connections.Notifier = connectionNotifier{notifyAndWake{a.Outbox, a.Notifier}}
	a.Scheduler = &schedule.Scheduler{Store: a.Store, Now: cfg.Now, Poll: cfg.SchedulePoll, Logger: log, Metrics: schedMetrics,
		Outage: outageLog("schedule")}
	a.Flows = flowrun.New(flowrun.Config{
		Store:         a.Store,
		Env:           flowEnv{m: a.Connections, defaultDelivery: defaultDeliveryFor(publicURL)},
		Cards:         flowrun.Cards{Executor: a.Executor, History: a.Store, Items: a.Store, HandBack: a.keyringBehind},
		Owner:         cfg.Owner,
		LeaseTTL:      cfg.FlowLeaseTTL,
		Logger:        log,
		Now:           cfg.Now,
		Outage:        outageLog("flow_runs"),
		Notifier:      notifyAndWake{a.Outbox, a.Notifier},
		RepeatFailure: cfg.NotifyRepeat,
		EventFiring: func(ctx context.Context, doc *flow.Document, t flowrun.PlanTrigger) (*flow.Firing, error) {
			return intake.EventFiring(ctx, a.Store, doc, t, cfg.now())
		},
		OnChange: func() { a.Scheduler.Wake(); a.events.Wake() },
		// The events held for an automatic rerun's flow run after it.
		OnRerunEnded: func() { a.events.WakeDispatch() },
		Unfit:        a.Keyring.SealErr,
	})
	a.Scheduler.Runs = a.Flows
	a.Connections.NeedsReauthorizationNotice = needsReauthNotice(a.Outbox)
	a.Connections.ServiceStatusNotice = serviceStatusNotice(a.Outbox)
	a.Connections.OnNotified = a.Notifier.Wake
	orgs := eventOrgs{m: a.Connections, template: a.Executor.Okta}
	orgs.template.Budget = a.Executor.Budget
	if orgs.template.Budget == nil {
		orgs.template.Budget = okta.NewBudget()
	}
	a.events = intake.New(intake.Config{Store: a.Store, Conns: a.Connections, Orgs: orgs, Keyring: a.Keyring,
		Runs: a.Flows, Started: func(*store.FlowRun) { a.Flows.Wake() }, Rerun: a.Flows.RerunWaiting,
		Outbox: a.Outbox, Notified: a.Notifier.Wake, PublicURL: publicURL, DefaultDelivery: defaultDeliveryFor(publicURL),
		Interval: cfg.EventPollInterval, AlertAfter: cfg.EventPollAlertAfter, Owner: cfg.Owner, Now: cfg.Now,
		Logger: log, Outage: outageLog("events"), Unfit: a.Keyring.SealErr})
	a.expiryOutage = outageLog("expiry_check")
	a.keyOutage = outageLog("keyring")
	a.Connections.BeforeDelete = a.events.Forget
	a.Connections.OnActive = a.events.WakeConnection
	a.Connections.OnTestPassed = a.events.LookAt
	a.Connections.FlowsUsing = a.flowsUsingConnection
	a.Connections.KeyringBehind = a.keyringBehind

	hookRefused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_event_hook_unauthorized_total",
		Help: "Requests to a connection's event hook refused (401) for a wrong or missing secret, by connection id; the log says the first at once and the next ones at most once a minute per hook.",
	}, []string{"connection"})
	if err := a.Registry.Register(hookRefused); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	a.hooks = &events.HookHandler{Store: a.Store, Keyring: a.Keyring, Now: cfg.Now, Logger: log, Stored: func(string) { a.events.WakeDispatch() },
		Unauthorized: func(connID string) { hookRefused.WithLabelValues(connID).Inc() }}

	a.Tokens = &access.Tokens{Store: a.Store, Now: cfg.Now, Logger: log}
	a.People = &access.People{Store: a.Store, Runs: a.Flows, Now: cfg.Now}
	limiter := &access.Limiter{TrustedProxies: cfg.trustedProxies}

	a.Web = &web.Server{
		Tokens:        a.Tokens,
		People:        a.People,
		Limiter:       limiter,
		Connections:   a.Connections,
		Cards:         cardService{a.Executor},
		Flows:         a.Flows,
		History:       a.Store,
		Events:        a.Store,
		EventHolds:    a.events,
		Notifications: notificationTester{a.Notifier},
		Hooks:         a.hooks,
		APIToken:      &access.APIToken{Store: a.Store},
		Metrics:       promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}),
		PublicMetrics: cfg.PublicMetrics,
		Health:        a.health,
		Logger:        log,
		Now:           cfg.Now,
	}
	// The flows list reads from it whether an event flow that names no
	// delivery also gets events by the hook (see flowEnv).
	a.Web.DefaultDelivery = defaultDeliveryFor(publicURL)
	if ssoProvider != nil {
		a.Web.SSO = ssoProvider
	}
	a.Console = &console.Console{
		Notifications:   notificationTester{a.Notifier},
		Connections:     a.Connections,
		Catalog:         cardService{a.Executor},
		Cards:           a.Executor,
		Runs:            a.Store,
		Flows:           a.Store,
		FlowRunner:      a.Flows,
		Events:          a.Store,
		EventHolds:      a.events,
		DefaultDelivery: defaultDeliveryFor(publicURL),
		ConnectionUsers: connectionUsers{a},
		CheckToken:      a.Web.CheckToken,
		Sessions:        a.Store,
		Tokens:          a.Tokens,
		People:          a.People,
		Keyring:         a.Keyring,
		KeyringBehind:   a.sealErrIfBehind,
		Audit:           a.Store,
		Limiter:         limiter,
		PublicURL:       publicURL,
		Logger:          log,
		Now:             cfg.Now,
	}
	if ssoProvider != nil {
		a.Console.SSO = ssoProvider
	}
	a.Web.Console = a.Console.Handler()
	if cfg.rewire != nil {
		cfg.rewire(a)
	}
	return a, nil
}

// health reports whether the server can do its work: its keyring seals
// (see checkSealingKey) and its store answers.
func (a *App) health(ctx context.Context) error {
	if err := a.Keyring.SealErr(); err != nil {
		return err
	}
	_, err := a.Store.ListConnections(ctx)
	return err
}

// URL is the address the server listens on, as http://host:port.
func (a *App) URL() string { return a.url }

// Serve serves until ctx is canceled, or a later cardflow upgrades the
// database (watchSchema: then it returns why), then shuts down gracefully. It
// recovers connections interrupted mid-refresh and resumes flow runs first,
// and prints "cardflow: serving URL" once it accepts requests.
func (a *App) Serve(ctx context.Context) error {
	if err := a.Connections.Recover(ctx); err != nil {
		a.Close()
		return fmt.Errorf("recover connections: %w", err)
	}
	// Requests outlive ctx: at shutdown they get the shutdown's time to be
	// answered, and are canceled only once it is up (cancelRequests), so
	// that a card run still waiting for Okta then is cut off and recorded
	// as such by this server, and its caller answered, rather than left
	// running in the database while the server exits under it.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	var requests sync.WaitGroup
	handler := a.Web.Handler()
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			requests.Add(1)
			defer requests.Done()
			handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	// Requests waiting for a flow run to finish return at shutdown.
	srv.RegisterOnShutdown(a.Flows.Shutdown)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	// The card calls of flow runs in flight at shutdown go on until they
	// end or the shutdown's time is up (stopCalls), and are recorded.
	callsCtx, stopCalls := context.WithCancel(context.WithoutCancel(ctx))
	defer stopCalls()
	var work sync.WaitGroup
	workDone := make(chan struct{})
	work.Go(func() { a.Flows.Work(workCtx, callsCtx) })
	work.Go(func() { a.runLeases.Run(workCtx) })
	work.Go(func() { a.Scheduler.Run(workCtx) })
	work.Go(func() { a.events.Run(workCtx) })
	if a.Retention != nil {
		work.Go(func() { a.Retention.Run(workCtx) })
	}
	if len(a.cfg.notifyTo) > 0 {
		work.Go(func() { a.Notifier.Run(workCtx) })
	}
	work.Go(func() { a.checkExpiries(workCtx) })
	work.Go(func() { a.hooks.LogRefusals(workCtx, a.cfg.hookLogTick) })
	// The first check of the sealing key is done before the server
	// serves, not whenever its watcher first runs: a rotation after that
	// is met by the watcher's next look or by a card that needs the key
	// (keyringBehind), never by a late first look.
	a.checkKey(workCtx)
	work.Go(func() { a.watchSealingKey(workCtx) })
	upgraded := make(chan error, 1)
	work.Go(func() { a.watchSchema(workCtx, upgraded) })
	go func() { work.Wait(); close(workDone) }()
	// The flow workers stop (handing their runs back) before the store
	// closes.
	stop := func() { stopWork(); stopCalls(); <-workDone; a.Close() }

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(a.listener) }()
	fmt.Fprintf(a.cfg.Stdout, "cardflow: serving %s\n", a.url)
	a.log.Info("serving", slog.String("url", a.url), slog.String("data_dir", a.cfg.DataDir))

	var stopped error // why the server stops on its own; nil for ctx
	select {
	case err := <-errc:
		stop()
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	case stopped = <-upgraded:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	defer cancel()
	// Flow runs start no new item from now on; the card calls they have
	// in flight get the shutdown's time to finish, as requests do.
	stopWork()
	defer context.AfterFunc(sctx, stopCalls)()
	a.log.Info("shutting down", slog.Int("card_calls_in_flight", a.Executor.InFlight()),
		slog.Duration("timeout", a.cfg.ShutdownTimeout))
	err := srv.Shutdown(sctx)
	if err != nil {
		// Out of time: cancel the requests still being answered and let
		// them record what they were doing (a card run cut off ends
		// interrupted) and answer, before the store closes.
		cancelRequests()
		a.waitRequests(&requests)
		// A handler that returned has not always sent its answer yet
		// (net/http writes it out after): Shutdown again, for a moment,
		// closes each connection once it is idle, its answer sent,
		// before Close closes the rest.
		grace, cancelGrace := context.WithTimeout(context.WithoutCancel(ctx), answerGrace)
		_ = srv.Shutdown(grace)
		cancelGrace()
		_ = srv.Close()
	}
	<-workDone
	a.Close()
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(stopped, fmt.Errorf("shut down: requests were still in flight when the shutdown's %s were up, and were canceled: %w", a.cfg.ShutdownTimeout, err))
	}
	return stopped
}

// requestsGrace bounds how long the requests canceled at the end of the
// shutdown's time have to record their outcome and answer.
const requestsGrace = 5 * time.Second

// answerGrace bounds how long the answers of those requests, once they
// returned, have to be sent before their connections are closed.
const answerGrace = time.Second

// waitRequests waits for the requests in flight, canceled, to return, at
// most requestsGrace, and logs those that did not.
func (a *App) waitRequests(requests *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { requests.Wait(); close(done) }()
	t := time.NewTimer(requestsGrace)
	defer t.Stop()
	select {
	case <-done:
		a.log.Warn("the shutdown's time is up: the requests still in flight were canceled and answered")
	case <-t.C:
		a.log.Error("the shutdown's time is up: requests still in flight did not return once canceled; their connections are closed",
			slog.Duration("waited", requestsGrace))
	}
}

// Close releases the listener and the store.
func (a *App) Close() {
	if a.listener != nil {
		_ = a.listener.Close()
	}
	if a.Store != nil {
		_ = a.Store.Close()
		a.Store = nil
	}
}

// schemaAheadError says what to do about a database a newer cardflow has
// migrated: nothing migrates it back.
type schemaAheadError struct{ *store.SchemaAheadError }

func (e schemaAheadError) Error() string {
	return fmt.Sprintf("its schema is at version %d, newer than this cardflow knows (%d): a cardflow of a later version has upgraded it, "+
		"and a database is never migrated back; run that version (or a later one), or, to go back to this version, "+
		"restore the backup taken before the upgrade (what changed since is lost)", e.Have, e.Knows)
}

func (e schemaAheadError) Unwrap() error { return e.SchemaAheadError }

// openStore opens the configured store, applying any missing migrations.
func openStore(ctx context.Context, cfg *Config, log *slog.Logger) (store.Store, error) {
	return openStoreWith(ctx, cfg, log, true)
}

// openStoreWith opens the configured store, applying any missing
// migrations when migrate, refusing a database that lacks one otherwise
// (a *store.SchemaBehindError).
func openStoreWith(ctx context.Context, cfg *Config, log *slog.Logger, migrate bool) (store.Store, error) {
	openPG, openSQLite := postgres.OpenCurrent, sqlite.OpenCurrent
	if migrate {
		openPG, openSQLite = postgres.Open, sqlite.Open
	}
	if cfg.DB != "" {
		if err := checkDBURL(cfg.DB); err != nil {
			return nil, err
		}
		if dbURLHasPassword(cfg.DB) {
			log.WarnContext(ctx, "the -db URL holds a password, which every user of this machine can read in the process list",
				"remedy", "give the password in PGPASSWORD or a ~/.pgpass line and take it out of -db")
		}
		st, err := openPG(ctx, cfg.DB)
		if errors.Is(err, postgres.ErrInvalidDSN) {
			// Nothing was dialled: the hint below would mislead.
			return nil, fmt.Errorf("open the PostgreSQL database: %w (check -db)", err)
		}
		if ahead := (*store.SchemaAheadError)(nil); errors.As(err, &ahead) {
			return nil, fmt.Errorf("open the PostgreSQL database: %w", schemaAheadError{ahead})
		}
		behind, priv, refused := (*store.SchemaBehindError)(nil), (*postgres.PrivilegeError)(nil), (*postgres.RefusedError)(nil)
		if errors.As(err, &behind) || errors.As(err, &priv) || errors.As(err, &refused) {
			// The database was reached (and signed in to): the hint below
			// would mislead, and the error says what to do.
			return nil, fmt.Errorf("open the PostgreSQL database: %w", err)
		}
		if err != nil {
			return nil, fmt.Errorf("open the PostgreSQL database: %w (check -db: the server must be running and reachable at that host and port, the database must exist, and the password comes from PGPASSWORD or ~/.pgpass)", err)
		}
		logMigrated(log, st.Migrated(), "the PostgreSQL database")
		log.Debug("opened the PostgreSQL database")
		return st, nil
	}
	path := filepath.Join(cfg.DataDir, "cardflow.db")
	st, err := openSQLite(ctx, path)
	if ahead := (*store.SchemaAheadError)(nil); errors.As(err, &ahead) {
		return nil, fmt.Errorf("open the database %s: %w", path, schemaAheadError{ahead})
	}
	if err != nil {
		return nil, fmt.Errorf("open the database: %w", err)
	}
	logMigrated(log, st.Migrated(), path)
	log.Debug("opened the database", slog.String("path", path))
	return st, nil
}

// logMigrated says what opening the database db applied, if anything: an
// upgrade's schema change is worth a line in the server's log (a new
// database's first schema is not).
func logMigrated(log *slog.Logger, m store.Migration, db string) {
	if len(m.Applied) == 0 || m.From == 0 {
		return
	}
	log.Info("upgraded the database schema", slog.String("database", db), slog.Int64("from", m.From), slog.Int64("to", m.To),
		slog.String("applied", strings.Join(m.Applied, ", ")))
}
