package app

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/access"
	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/store"
)

// Config is everything the server needs; cmd/cardflow fills it from flags
// and environment variables.
type Config struct {
	// Listen is the address to serve on; "" means 127.0.0.1:8080, and port 0
	// picks a free port.
	Listen string
	// DataDir holds the SQLite database, the keyring file and the API token
	// file; it is created (0700) if missing. Required.
	DataDir string
	// PublicURL is the server's external base URL (the OAuth redirect URI
	// is PublicURL + "/oauth/callback"); "" means http://<listen address>.
	PublicURL string
	// DB selects the store: "" means SQLite in DataDir/cardflow.db;
	// "postgres://..." means PostgreSQL.
	DB string
	// TrustedOrigins are org origins (such as an emulator's
	// http://127.0.0.1:9090) that may be http:// and loopback.
	TrustedOrigins []string
	// ExtraDomainSuffixes are custom org domains to accept besides Okta's.
	ExtraDomainSuffixes []string
	// APIToken, when set, is the API token (CARDFLOW_API_TOKEN); otherwise
	// one is generated on the first start and printed once.
	APIToken keyring.Secret
	// Key, when set, is the sealing key in base64 (CARDFLOW_KEY; several
	// comma-separated keys, the first sealing); otherwise DataDir/keyring.
	Key keyring.Secret
	// OIDCIssuer turns on single sign-on with an OpenID Connect provider
	// (-oidc-issuer); OIDCClientID and OIDCClientSecret are its web app's
	// (-oidc-client-id, CARDFLOW_OIDC_CLIENT_SECRET), OIDCRoles map its
	// groups to roles, each "ROLE=GROUP" (-oidc-role, repeatable). The
	// app's sign-in redirect URI is PublicURL + "/auth/callback".
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret keyring.Secret
	OIDCRoles        []string
	// OIDCAllowedHosts are hosts besides the issuer's where the provider's
	// discovery document may place the endpoints cardflow uses
	// (-oidc-allow-host, repeatable; sso.ParseAllowedHost): one that
	// places them elsewhere is refused at start.
	OIDCAllowedHosts []string
	// TrustedProxies are the addresses or CIDR networks of reverse proxies
	// in front of the server (-trusted-proxy, repeatable): the sign-in
	// limiter counts their requests against the client address in
	// X-Forwarded-For instead of the proxy's.
	TrustedProxies []string
	// PublicMetrics serves /metrics without the API token.
	PublicMetrics bool
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Stdout receives the lines meant for the operator (the serving
	// address, a first start's API token); nil means os.Stdout.
	Stdout io.Writer
	// Owner names this process in leases shared through the store; ""
	// means host name, process id and a random part.
	Owner string
	// Failpoint, for crash tests only, kills the process (SIGKILL) at a
	// named point: refresh-before-request, refresh-after-response,
	// refresh-after-commit, flow-after-items:N, schedule-after-tick.
	Failpoint string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FlowLeaseTTL is how long a server's claim on a flow run lasts without
	// renewal (a crashed server's runs are resumed after it); 0 means 15 s.
	FlowLeaseTTL time.Duration
	// CardLeaseTTL is how long a server's lease on the card runs it
	// executes lasts without renewal: a direct card run whose server died
	// ends interrupted after it (card.RunLeases); 0 means 15 s.
	CardLeaseTTL time.Duration
	// RefreshLeaseTTL is how long a connection's token refresh lease lasts
	// without renewal (connection.Manager.RefreshLeaseTTL); 0 means 6 s.
	RefreshLeaseTTL time.Duration
	// ShutdownTimeout bounds the graceful shutdown; 0 means 10 s.
	ShutdownTimeout time.Duration
	// NotifyURLs receive notifications (-notify-url,
	// CARDFLOW_NOTIFY_URLS); a URL given twice receives once. NotifySecret
	// (CARDFLOW_NOTIFY_SECRET) signs them and is required with them. A
	// receiver's URL is a credential (an incoming webhook's path is its
	// key): the server shows one only as notify.Receiver does.
	NotifyURLs   []string
	NotifySecret keyring.Secret
	// NotifyMinBackoff and NotifyMaxBackoff bound the wait between attempts
	// at a notification; zero means 1 s and 5 min.
	NotifyMinBackoff, NotifyMaxBackoff time.Duration
	// NotifyRepeat is how often a flow that keeps failing with the same
	// error is notified again (-notify-repeat); zero means 24 h.
	NotifyRepeat time.Duration
	// SchedulePoll bounds how long the scheduler waits between two looks
	// at the store; zero means 30 s.
	SchedulePoll time.Duration
	// RetainRuns is how long flow runs and card runs are kept after they
	// end (-retain-runs); a purge on every server removes older ones. Zero
	// means 30 days; negative keeps them forever.
	RetainRuns time.Duration
	// RetainAudit is how long audit events are kept (-retain-audit); the
	// same purge removes older ones. Zero or negative keeps them forever.
	RetainAudit time.Duration
	// EventPollInterval is how often the System Logs of connections with
	// poll delivery are read (and the event hooks reconciled); zero means
	// 30 s.
	EventPollInterval time.Duration
	// EventPollAlertAfter is how long a connection's System Log polls
	// fail before events.poll_failing is sent; zero means 15 minutes.
	EventPollAlertAfter time.Duration

	// rewire, when set (by benchmarks in this package), changes the
	// wiring of the App before it serves: to measure an alternative path
	// side by side with the real one.
	rewire func(*App)
	// wrapStore, when set (by tests in this package), wraps the opened
	// store before anything uses it: to make it fail as a database that
	// went down does.
	wrapStore func(store.Store) store.Store
	// notifyPoll, when set (by tests in this package), is how often the
	// notification sender reads the outbox when idle (2 s otherwise).
	notifyPoll time.Duration
	// schemaCheckEvery, when set (by tests in this package), is how often
	// a running server reads the schema version (watchSchema).
	schemaCheckEvery time.Duration
	// keyCheckEvery, when set (by tests in this package), is how often the
	// server reads the keyring check value (10 s otherwise).
	keyCheckEvery time.Duration
	// hookLogTick, when set (by tests in this package), is how often the
	// server looks for the summaries of event hook requests refused for
	// their secret that are due (5 s otherwise).
	hookLogTick time.Duration
	// ExpiryWarning is how long before a user connection's refresh token
	// expires (Okta: 90 days after the sign-in) it is reported as expiring
	// soon and a connection.expiring notification goes out; 0 means 336h.
	ExpiryWarning time.Duration
	// ExpiryCheckInterval is how often the server looks for expiring and
	// expired connections; 0 means one minute.
	ExpiryCheckInterval time.Duration

	oidcRoles      access.GroupRoles // parsed OIDCRoles
	trustedProxies []netip.Prefix    // parsed TrustedProxies
	notifyTo       []notify.Receiver // parsed NotifyURLs
}

// withDefaults checks c and fills in its defaults.
// ConfigError is a Config that New refuses as it is, before it starts
// anything: a wrong flag or environment variable, which the operator fixes
// on the command line.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// minNotifySecret is the shortest CARDFLOW_NOTIFY_SECRET accepted.
const minNotifySecret = 16

func (c Config) withDefaults() (Config, error) {
	if c.DataDir == "" {
		return c, errors.New("the data directory is required (-data-dir)")
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Owner == "" {
		// With a random part: two containers given one host name both run
		// as process 1, and servers of one name would take each other's
		// leases as their own (two refreshes of one token at once).
		host, _ := os.Hostname()
		c.Owner = fmt.Sprintf("%s:%d:%s", host, os.Getpid(), rand.Text()[:8])
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.RetainRuns == 0 {
		c.RetainRuns = DefaultRetainRuns
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err == nil && u.User != nil {
			// Browsers, Okta's redirect and the event hook would be given
			// the password, and the API and the log would show it.
			return c, fmt.Errorf("public URL %s must not hold a user name or password: give it as http(s)://host[:port]", u.Redacted())
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			return c, fmt.Errorf("public URL %q must be http(s)://host[:port] (no path)", keyring.RedactURL(c.PublicURL))
		}
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
	}
	for _, suffix := range c.ExtraDomainSuffixes {
		// An entry accepts that domain and every one under it: a single
		// label (a top-level domain such as com) would let connections
		// send client secrets to any host under it.
		switch d := strings.Trim(strings.ToLower(strings.TrimSpace(suffix)), "."); {
		case d == "":
			return c, fmt.Errorf("-allow-domain-suffix %q names no domain: give the org's custom domain, such as login.example.com", suffix)
		case !strings.Contains(d, "."):
			return c, fmt.Errorf("-allow-domain-suffix %q would accept every domain under %s: give the org's custom domain, such as login.example.com", suffix, d)
		}
	}
	for i, o := range c.TrustedOrigins {
		n, err := connection.ParseTrustedOrigin(o)
		if err != nil {
			return c, err
		}
		c.TrustedOrigins[i] = n
	}
	var err error
	if c.notifyTo, err = notify.ParseReceivers(c.NotifyURLs); err != nil {
		return c, fmt.Errorf("-notify-url or CARDFLOW_NOTIFY_URLS: %w", err)
	}
	if len(c.notifyTo) > 0 && len(c.NotifySecret) == 0 {
		return c, errors.New("-notify-url (or CARDFLOW_NOTIFY_URLS) needs CARDFLOW_NOTIFY_SECRET: set it to a long random secret that receivers use to check the X-Cardflow-Signature of each notification")
	}
	if n := len(c.NotifySecret); n > 0 && n < minNotifySecret {
		// Anyone who can reach a receiver could guess a short one and sign
		// notifications of their own ("connection recovered").
		return c, fmt.Errorf("CARDFLOW_NOTIFY_SECRET is %d characters: a secret that signs notifications needs at least %d, or it can be guessed; set a long random one (openssl rand -hex 32) here and at each receiver", n, minNotifySecret)
	}
	if len(c.OIDCRoles) > 0 && c.OIDCIssuer == "" {
		return c, errors.New("-oidc-role needs -oidc-issuer (and -oidc-client-id)")
	}
	if len(c.OIDCAllowedHosts) > 0 && c.OIDCIssuer == "" {
		return c, errors.New("-oidc-allow-host needs -oidc-issuer (and -oidc-client-id and -oidc-role)")
	}
	if c.OIDCClientID != "" && c.OIDCIssuer == "" {
		return c, errors.New("-oidc-client-id needs -oidc-issuer (the single sign-on provider's issuer URL, e.g. https://example.okta.com) and -oidc-role")
	}
	c.oidcRoles = access.GroupRoles{}
	for _, v := range c.OIDCRoles {
		role, group, err := access.ParseGroupRole(v)
		if err != nil {
			return c, err
		}
		c.oidcRoles[role] = append(c.oidcRoles[role], group)
	}
	c.trustedProxies = nil
	for _, v := range c.TrustedProxies {
		p, err := access.ParseTrustedProxy(v)
		if err != nil {
			return c, err
		}
		c.trustedProxies = append(c.trustedProxies, p)
	}
	if err := checkDBURL(c.DB); err != nil {
		return c, err
	}
	return c, nil
}

// checkDBURL refuses a -db that is neither empty nor a PostgreSQL URL,
// for serve and for the commands that open the database themselves (keys).
func checkDBURL(db string) error {
	if db != "" && !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		return fmt.Errorf("-db must be empty (SQLite in the data directory) or a postgres:// URL")
	}
	return nil
}

// dbURLHasPassword reports whether the PostgreSQL URL db carries a
// password (postgres://USER:PASSWORD@HOST/...), or a password parameter.
func dbURLHasPassword(db string) bool {
	u, err := url.Parse(db)
	if err != nil {
		return false
	}
	_, set := u.User.Password()
	return set || u.Query().Has("password")
}

// DefaultRetainRuns is how long runs are kept unless configured: 30 days,
// as Okta Workflows keeps execution history for production orgs.
const DefaultRetainRuns = 30 * 24 * time.Hour

// publicURLFor returns the public URL for a listener address.
func publicURLFor(addr net.Addr) string {
	a := addr.String()
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsUnspecified() {
		a = net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	return "http://" + a
}
