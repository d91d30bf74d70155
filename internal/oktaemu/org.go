package oktaemu

import (
	"context"
	"crypto/rsa"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures an emulated org. The zero value is the demo org with 50
// devices, no rate limits, the system clock and no logging.
type Config struct {
	// Devices is the number of generated demo devices: 0 means 50 (the
	// command's default), a negative number means none. Ignored when
	// Fixture is set (a fixture says how many devices it generates).
	Devices int
	// RateLimitPerMinute is the per-bucket request limit of /api/v1 calls
	// in each 60 s window of the emulator clock; 0 means unlimited.
	RateLimitPerMinute int
	// Fixture replaces the demo org when not nil. Build one with
	// LoadFixture or LoadFixtureFile, which validate it; New panics on a
	// fixture that does not validate.
	Fixture *Fixture
	// Now is the base clock; nil means time.Now. POST /_emulator/clock
	// moves the emulator clock forward from it.
	Now func() time.Time
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// ServiceAppJWKS is a JWK Set (JSON) with the public keys of the
	// service app whose client ID is DemoServiceClientID, for
	// client_credentials with private_key_jwt. It replaces the keys the
	// fixture gives that app.
	ServiceAppJWKS []byte
	// SigningKey signs ID tokens; nil means a 2048-bit key generated when
	// first needed.
	SigningKey *rsa.PrivateKey
	// HookTimeout bounds each event hook request (verification and
	// delivery); 0 means DefaultHookTimeout (3 s, as Okta).
	HookTimeout time.Duration
	// HookClient makes event hook requests; nil means a client that never
	// follows redirects.
	HookClient *http.Client
}

// Org is an emulated Okta org. It is an http.Handler serving the org
// authorization server, the management API and the /_emulator/ control
// endpoints. Its issuer and origin are "http://" + the request's Host, so it
// works on any address. An Org is safe for concurrent use.
type Org struct {
	cfg     Config
	log     *slog.Logger
	mux     *http.ServeMux
	offset  atomic.Int64 // emulator clock offset from cfg.Now, in nanoseconds
	state   atomic.Pointer[state]
	limiter *rateLimiter
	faults  faultTable
	stats   statTable
	holdMu  sync.Mutex
	holds   []*Hold
	deliver *deliverer

	lastOrigin  atomic.Value // string: the origin the org was last called on
	hookTimeout atomic.Int64 // nanoseconds; 0: DefaultHookTimeout

	keyOnce sync.Once
	key     *signingKey
}

// New returns an org built from cfg. It panics if cfg.Fixture or
// cfg.ServiceAppJWKS does not validate (LoadFixture reports the same
// problems as errors).
func New(cfg Config) *Org {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	o := &Org{cfg: cfg, log: cfg.Logger, deliver: newDeliverer()}
	o.hookTimeout.Store(int64(cfg.HookTimeout))
	if o.log == nil {
		o.log = slog.New(slog.DiscardHandler)
	}
	o.limiter = newRateLimiter(cfg.RateLimitPerMinute)
	st, err := o.buildState()
	if err != nil {
		panic("oktaemu: " + err.Error())
	}
	o.state.Store(st)
	o.mux = http.NewServeMux()
	o.routes()
	return o
}

// buildState builds the starting state from the configuration.
func (o *Org) buildState() (*state, error) {
	fx := o.cfg.Fixture
	if fx == nil {
		n := o.cfg.Devices
		if n == 0 {
			n = 50
		}
		fx = DemoFixture(max(n, 0))
	}
	return newState(fx, o.cfg.ServiceAppJWKS, o.cfg.Now())
}

// now is the emulator clock: the base clock plus the offset moved by
// POST /_emulator/clock.
func (o *Org) now() time.Time {
	return o.cfg.Now().Add(time.Duration(o.offset.Load()))
}

// Now returns the emulator clock (the configured clock plus every advance).
func (o *Org) Now() time.Time { return o.now() }

// AdvanceClock moves the emulator clock forward by d. Delayed event hook
// deliveries that become due are sent.
func (o *Org) AdvanceClock(d time.Duration) {
	o.offset.Add(int64(d))
	o.deliver.advance(o)
}

// SetHookTimeout replaces Config.HookTimeout for the event hook requests
// that start from now on; 0 means DefaultHookTimeout. Reset leaves it.
func (o *Org) SetHookTimeout(d time.Duration) { o.hookTimeout.Store(int64(d)) }

// Reset restores the starting state: data, tokens, clock offset, faults,
// statistics and rate-limit windows.
func (o *Org) Reset() {
	st, err := o.buildState()
	if err != nil {
		// The same configuration built successfully in New.
		panic("oktaemu: " + err.Error())
	}
	o.offset.Store(0)
	o.state.Store(st)
	o.faults.clear()
	o.stats.clear()
	o.limiter.clear()
	o.deliver.reset()
}

// ServeHTTP serves the org.
func (o *Org) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := newRequestID()
	w.Header().Set("X-Okta-Request-Id", id)
	if org := origin(r); o.lastOrigin.Load() != org {
		o.lastOrigin.Store(org)
	}
	o.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey{}, id)))
}

// requestIDKey is the context key of a request's X-Okta-Request-Id.
type requestIDKey struct{}

// requestID is the X-Okta-Request-Id of r's response.
func requestID(r *http.Request) string {
	id, _ := r.Context().Value(requestIDKey{}).(string)
	return id
}

// st returns the current state (replaced as a whole by Reset).
func (o *Org) st() *state { return o.state.Load() }

// origin is the org's origin and issuer as the caller addresses it.
func origin(r *http.Request) string { return "http://" + r.Host }

// bucket names a rate-limit bucket; "" means not rate limited.
type bucket string

const (
	bucketNone    bucket = ""
	bucketDevices bucket = "devices"
	bucketUsers   bucket = "users"
	bucketApps    bucket = "apps"
	bucketLogs    bucket = "logs"
	bucketHooks   bucket = "eventHooks"
)

// handle registers h for pattern behind the request pipeline: statistics,
// injected faults, rate limits and request logging.
func (o *Org) handle(pattern string, b bucket, h http.HandlerFunc) {
	o.mux.Handle(pattern, o.wrap(b, h))
}

func (o *Org) wrap(b bucket, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		pattern := patternPath(r)
		if !o.wait(r, pattern) {
			return
		}
		key := r.Method + " " + pattern
		o.stats.add(key)
		// The org's clock tells the time of its answers, as its rate-limit
		// headers do.
		if strings.HasPrefix(r.URL.Path, "/api/") || strings.HasPrefix(r.URL.Path, "/oauth2/") {
			w.Header().Set("Date", o.now().UTC().Format(http.TimeFormat))
		}
		serve := func(w http.ResponseWriter) {
			if b == bucketNone || o.limiter.allow(w, b, o.now()) {
				h(w, r)
			} else {
				writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.")
			}
		}
		if f, ok := o.faults.take(r.Method, pattern, r.URL.Path); ok {
			o.serveFault(w, r, f, serve)
		} else {
			serve(w)
		}
		if o.log.Enabled(r.Context(), slog.LevelDebug) {
			o.log.LogAttrs(r.Context(), slog.LevelDebug, "request",
				slog.String("request_id", w.Header().Get("X-Okta-Request-Id")),
				slog.String("route", key), slog.Duration("elapsed", time.Since(start)))
		}
	})
}

// patternPath is the path part of the route pattern that matched r, or the
// request path when no pattern did.
func patternPath(r *http.Request) string {
	p := r.Pattern
	if i := strings.IndexByte(p, ' '); i >= 0 {
		p = p[i+1:]
	}
	if p == "" || strings.HasSuffix(p, "/") {
		return r.URL.Path
	}
	return p
}

func (o *Org) routes() {
	// Org authorization server.
	o.handle("GET /.well-known/openid-configuration", bucketNone, o.discovery)
	o.handle("GET /.well-known/oauth-authorization-server", bucketNone, o.discovery)
	o.handle("GET /oauth2/v1/authorize", bucketNone, o.authorize)
	o.handle("POST /oauth2/v1/authorize", bucketNone, o.authorize)
	o.handle("POST /login/signin", bucketNone, o.signIn)
	o.handle("POST /oauth2/v1/token", bucketNone, o.token)
	o.handle("GET /oauth2/v1/keys", bucketNone, o.keys)
	o.handle("GET /oauth2/v1/userinfo", bucketNone, o.userinfo)
	o.handle("POST /oauth2/v1/userinfo", bucketNone, o.userinfo)
	o.handle("POST /oauth2/v1/introspect", bucketNone, o.introspect)
	o.handle("POST /oauth2/v1/revoke", bucketNone, o.revoke)

	// Devices API.
	o.handle("GET /api/v1/devices", bucketDevices, o.listDevices)
	o.handle("GET /api/v1/devices/{deviceId}", bucketDevices, o.getDevice)
	o.handle("DELETE /api/v1/devices/{deviceId}", bucketDevices, o.deleteDevice)
	o.handle("GET /api/v1/devices/{deviceId}/users", bucketDevices, o.deviceUsers)
	for _, op := range []string{"activate", "deactivate", "suspend", "unsuspend"} {
		o.handle("POST /api/v1/devices/{deviceId}/lifecycle/"+op, bucketDevices, o.lifecycle(op))
	}

	// Users, roles, apps, app users, grants.
	o.handle("GET /api/v1/users/{userId}", bucketUsers, o.getUser)
	o.handle("GET /api/v1/users/{userId}/roles", bucketUsers, o.listRoles)
	o.handle("POST /api/v1/users/{userId}/roles", bucketUsers, o.assignRole)
	o.handle("GET /api/v1/users/{userId}/roles/{roleAssignmentId}", bucketUsers, o.getRole)
	o.handle("DELETE /api/v1/users/{userId}/roles/{roleAssignmentId}", bucketUsers, o.unassignRole)
	o.handle("GET /oauth2/v1/clients/{clientId}/roles", bucketUsers, o.listRoles)
	o.handle("POST /oauth2/v1/clients/{clientId}/roles", bucketUsers, o.assignRole)
	o.handle("GET /oauth2/v1/clients/{clientId}/roles/{roleAssignmentId}", bucketUsers, o.getRole)
	o.handle("DELETE /oauth2/v1/clients/{clientId}/roles/{roleAssignmentId}", bucketUsers, o.unassignRole)
	o.handle("GET /api/v1/users/{userId}/devices", bucketUsers, o.userDevices)
	o.handle("GET /api/v1/apps/{appId}", bucketApps, o.getApp)
	o.handle("GET /api/v1/apps/{appId}/users", bucketApps, o.listAppUsers)
	o.handle("POST /api/v1/apps/{appId}/users", bucketApps, o.assignAppUser)
	o.handle("GET /api/v1/apps/{appId}/grants", bucketApps, o.listGrants)
	o.handle("POST /api/v1/apps/{appId}/grants", bucketApps, o.createGrant)
	o.handle("GET /api/v1/apps/{appId}/grants/{grantId}", bucketApps, o.getGrant)
	o.handle("DELETE /api/v1/apps/{appId}/grants/{grantId}", bucketApps, o.deleteGrant)
	o.handle("POST /api/v1/apps/{appId}/lifecycle/activate", bucketApps, o.appLifecycle(true))
	o.handle("POST /api/v1/apps/{appId}/lifecycle/deactivate", bucketApps, o.appLifecycle(false))
	o.handle("GET /api/v1/apps/{appId}/credentials/secrets", bucketApps, o.listClientSecrets)
	o.handle("POST /api/v1/apps/{appId}/credentials/secrets", bucketApps, o.createClientSecret)
	o.handle("GET /api/v1/apps/{appId}/credentials/secrets/{secretId}", bucketApps, o.getClientSecret)
	o.handle("DELETE /api/v1/apps/{appId}/credentials/secrets/{secretId}", bucketApps, o.deleteClientSecret)
	o.handle("POST /api/v1/apps/{appId}/credentials/secrets/{secretId}/lifecycle/activate", bucketApps, o.clientSecretLifecycle(true))
	o.handle("POST /api/v1/apps/{appId}/credentials/secrets/{secretId}/lifecycle/deactivate", bucketApps, o.clientSecretLifecycle(false))
	o.handle("GET /api/v1/apps/{appId}/credentials/jwks", bucketApps, o.listAppKeys)
	o.handle("POST /api/v1/apps/{appId}/credentials/jwks", bucketApps, o.addAppKey)
	o.handle("GET /api/v1/apps/{appId}/credentials/jwks/{keyId}", bucketApps, o.getAppKey)
	o.handle("DELETE /api/v1/apps/{appId}/credentials/jwks/{keyId}", bucketApps, o.deleteAppKey)
	o.handle("POST /api/v1/apps/{appId}/credentials/jwks/{keyId}/lifecycle/activate", bucketApps, o.appKeyLifecycle(true))
	o.handle("POST /api/v1/apps/{appId}/credentials/jwks/{keyId}/lifecycle/deactivate", bucketApps, o.appKeyLifecycle(false))

	// System Log and event hooks.
	o.handle("GET /api/v1/logs", bucketLogs, o.listLogs)
	o.handle("GET /api/v1/eventHooks", bucketHooks, o.listEventHooks)
	o.handle("POST /api/v1/eventHooks", bucketHooks, o.createEventHook)
	o.handle("GET /api/v1/eventHooks/{eventHookId}", bucketHooks, o.getEventHook)
	o.handle("PUT /api/v1/eventHooks/{eventHookId}", bucketHooks, o.replaceEventHook)
	o.handle("DELETE /api/v1/eventHooks/{eventHookId}", bucketHooks, o.deleteEventHook)
	o.handle("POST /api/v1/eventHooks/{eventHookId}/lifecycle/activate", bucketHooks, o.hookLifecycle(true))
	o.handle("POST /api/v1/eventHooks/{eventHookId}/lifecycle/deactivate", bucketHooks, o.hookLifecycle(false))
	o.handle("POST /api/v1/eventHooks/{eventHookId}/lifecycle/verify", bucketHooks, o.verifyEventHook)
	o.handle("/api/", bucketApps, o.notFound)

	// Control endpoints: not counted, faulted or rate limited.
	o.mux.HandleFunc("POST /_emulator/clock", o.ctlClock)
	o.mux.HandleFunc("POST /_emulator/faults", o.ctlFaults)
	o.mux.HandleFunc("DELETE /_emulator/faults", o.ctlClearFaults)
	o.mux.HandleFunc("GET /_emulator/stats", o.ctlStats)
	o.mux.HandleFunc("POST /_emulator/reset", o.ctlReset)
	o.mux.HandleFunc("POST /_emulator/devices", o.ctlEnroll)
	o.mux.HandleFunc("POST /_emulator/devices/{deviceId}/users", o.ctlAddDeviceUser)
	o.mux.HandleFunc("DELETE /_emulator/devices/{deviceId}/users/{user}", o.ctlRemoveDeviceUser)
	o.mux.HandleFunc("POST /_emulator/groups/{group}/users", o.ctlAddGroupMember)
	o.mux.HandleFunc("DELETE /_emulator/groups/{group}/users/{user}", o.ctlRemoveGroupMember)
	o.mux.HandleFunc("POST /_emulator/users/{user}/claims", o.ctlUserClaims)
}

// notFound answers any /api/ route the org does not implement.
func (o *Org) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path+" (Endpoint)")
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newRequestID returns an id shaped like Okta's X-Okta-Request-Id values.
func newRequestID() string {
	var b [27]byte
	const alphabet = base62 + "-_"
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b[:])
}
