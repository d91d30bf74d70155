package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cardflow/cardflow/internal/connection"
	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/store"
)

// DemoConfig configures Demo.
type DemoConfig struct {
	// Listen is the server's address; "" means 127.0.0.1:8080.
	Listen string
	// OrgListen is the emulated org's address; "" means 127.0.0.1:0.
	OrgListen string
	// DataDir keeps the server's data; "" means a new temporary directory,
	// removed when Demo returns.
	DataDir string
	// Devices is the number of devices in the emulated org; 0 means 50.
	Devices int
	// APIToken, when set, is the API token; otherwise a new one is made.
	APIToken keyring.Secret
	// Command is how the printed examples invoke cardflow; "" means
	// "cardflow".
	Command string
	// Logger receives the logs of the server and the org; nil discards.
	Logger *slog.Logger
	// Stdout receives the demo's instructions; nil means os.Stdout.
	Stdout io.Writer
	// NotifyURLs and NotifySecret are the server's notification receivers
	// and the secret that signs what they receive, as Config's.
	NotifyURLs   []string
	NotifySecret keyring.Secret
}

// Demo runs the demo org of oktaemu and a cardflow server that trusts it,
// in one process, prints how to use them, and serves until ctx is
// canceled.
func Demo(ctx context.Context, dc DemoConfig) error {
	if dc.Stdout == nil {
		dc.Stdout = os.Stdout
	}
	if dc.Logger == nil {
		dc.Logger = slog.New(slog.DiscardHandler)
	}
	if dc.OrgListen == "" {
		dc.OrgListen = "127.0.0.1:0"
	}
	if dc.Command == "" {
		dc.Command = "cardflow"
	}
	dataDir, temp := dc.DataDir, false
	if dataDir == "" {
		d, err := os.MkdirTemp("", "cardflow-demo-")
		if err != nil {
			return fmt.Errorf("create a data directory: %w", err)
		}
		dataDir, temp = d, true
		defer os.RemoveAll(d)
	} else if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create the data directory: %w", err)
	}
	token := dc.APIToken
	if token == "" {
		t, err := demoToken(dataDir, temp)
		if err != nil {
			return err
		}
		token = t
	}

	org := oktaemu.New(oktaemu.Config{Devices: dc.Devices, Logger: dc.Logger.With(slog.String("component", "oktaemu"))})
	prevAddr := ""
	if !temp {
		prevAddr = readEmulatorAddr(dataDir, dc.Logger)
	}
	ln, err := listenOrg(dc, prevAddr)
	if err != nil {
		return err
	}
	orgURL := "http://" + ln.Addr().String()
	orgSrv := &http.Server{Handler: org, ReadHeaderTimeout: 10 * time.Second}
	orgErr := make(chan error, 1)
	go func() { orgErr <- orgSrv.Serve(ln) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = orgSrv.Shutdown(sctx)
	}()

	cfg := Config{
		Listen:         dc.Listen,
		DataDir:        dataDir,
		TrustedOrigins: []string{orgURL},
		APIToken:       token,
		Logger:         dc.Logger,
		Stdout:         dc.Stdout,
		// Single sign-on with the org's cardflow app and its groups.
		OIDCIssuer:       orgURL,
		OIDCClientID:     oktaemu.DemoConsoleClientID,
		OIDCClientSecret: keyring.Secret(oktaemu.DemoConsoleClientSecret),
		OIDCRoles:        demoRoles,
		NotifyURLs:       dc.NotifyURLs,
		NotifySecret:     dc.NotifySecret,
	}
	if temp {
		// The data go away with the process; so can the key.
		k, err := keyring.Generate()
		if err != nil {
			return err
		}
		cfg.Key = keyring.Secret(base64.StdEncoding.EncodeToString(k.Bytes))
	}
	a, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	if prevAddr != "" {
		if err := markRestartedOrg(ctx, a.Store, "http://"+prevAddr, orgURL, dc.Logger); err != nil {
			a.Close()
			return err
		}
	}
	// The org's address is remembered only now that this demo serves: a
	// start that failed (the server's port taken, by the demo still
	// running on this directory most often) must not move the org of the
	// next start away from the address its connections name.
	if !temp {
		if err := os.WriteFile(filepath.Join(dataDir, emulatorAddrFile), []byte(ln.Addr().String()+"\n"), 0o600); err != nil {
			a.Close()
			return fmt.Errorf("remember the emulated org's address: %w", err)
		}
	}
	conns, err := a.Store.ListConnections(ctx)
	if err != nil {
		a.Close()
		return fmt.Errorf("list connections: %w", err)
	}
	printDemo(dc, a.URL(), token.Reveal(), orgURL, dataDir, temp, conns)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	serveErr := make(chan error, 1)
	go func() { serveErr <- a.Serve(sctx) }()
	select {
	case err := <-serveErr:
		return err
	case err := <-orgErr:
		// Stop the server too: it is no use without its org, and its
		// goroutine must not outlive Demo.
		stop()
		<-serveErr
		return fmt.Errorf("the emulated org stopped: %w", err)
	}
}

// demoToken returns the demo's API token: the one in the data directory's
// api-token file when a kept directory has one, else a new one, written
// there (0600) so that the next start and the README's remedies find it.
func demoToken(dataDir string, temp bool) (keyring.Secret, error) {
	path := filepath.Join(dataDir, tokenFile)
	if !temp {
		b, err := os.ReadFile(path)
		switch {
		case err == nil && len(strings.TrimSpace(string(b))) >= 16:
			return keyring.Secret(strings.TrimSpace(string(b))), nil
		case err == nil:
			return "", fmt.Errorf("%s holds no API token (at least 16 characters); remove the file to make a new token", path)
		case !errors.Is(err, os.ErrNotExist):
			return "", fmt.Errorf("read the API token: %w", err)
		}
	}
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	token := "cf_demo_" + base64.RawURLEncoding.EncodeToString(b[:])
	if err := writeFile0600(path, []byte(token+"\n")); err != nil {
		return "", fmt.Errorf("write the API token file: %w", err)
	}
	return keyring.Secret(token), nil
}

func printDemo(dc DemoConfig, url, token, orgURL, dataDir string, temp bool, conns []*store.Connection) {
	devices := dc.Devices
	if devices == 0 {
		devices = 50
	}
	w := dc.Stdout
	cmd := dc.Command
	fmt.Fprintf(w, `cardflow demo: an emulated Okta org and the cardflow server, in one process.

cardflow
  Console and API:  %[1]s/
  API token:        %[2]s

The emulated Okta org (trusted by this server)
  Domain:           %[3]s
  Client ID:        %[4]s
  Client secret:    %[5]s
  Devices:          %[6]d
  Accounts (password %[7]s):
    %-24[8]s super administrator, assigned to the app: authorize with this one
    %-24[9]s read-only administrator, assigned
    %-24[10]s no administrator role, assigned
    %-24[11]s super administrator, not assigned to the app

Single sign-on ("Sign in with SSO" in the console, or %[12]s login), same password:
    %-24[8]s cardflow admin     (group %[13]s)
    %-24[9]s cardflow operator  (group %[14]s)
    %-24[10]s cardflow viewer    (group %[15]s)
    %-24[11]s no cardflow role   (in no group: refused)

`, url, token, orgURL, oktaemu.DemoClientID, oktaemu.DemoClientSecret, devices, oktaemu.DemoPassword,
		oktaemu.AdminLogin, oktaemu.ReadOnlyLogin, oktaemu.UserLogin, oktaemu.UnassignedLogin,
		cmd, oktaemu.AdminsGroup, oktaemu.OperatorsGroup, oktaemu.ViewersGroup)
	fmt.Fprintf(w, "Try it from another terminal:\n\n  export CARDFLOW_SERVER=%s CARDFLOW_API_TOKEN=%s\n", url, token)
	nickname := demoNickname
	if len(conns) == 0 {
		fmt.Fprintf(w, "  CARDFLOW_CLIENT_SECRET=%s %s connections create --nickname %q --domain %s --client-id %s\n",
			oktaemu.DemoClientSecret, cmd, nickname, orgURL, oktaemu.DemoClientID)
		fmt.Fprintf(w, "  # open the URL it prints and sign in as %s / %s, then:\n", oktaemu.AdminLogin, oktaemu.DemoPassword)
	} else {
		fmt.Fprintf(w, "  # the connections kept in the data directory:\n")
		for _, c := range conns {
			fmt.Fprintf(w, "  #   %q %s%s\n", c.Nickname, demoStatusText(c.Status), demoConnectionAdvice(c, orgURL, cmd))
		}
		nickname = demoRunConnection(conns)
	}
	fmt.Fprintf(w, "  %s run okta-devices/search-devices --connection %q --input status=ACTIVE --input resultSet=first200\n", cmd, nickname)
	fmt.Fprintf(w, "  # from the cardflow repository's directory, which holds examples/:\n")
	fmt.Fprintf(w, "  %s flows plan examples/offboard-user-devices.yaml --input login=%s\n", cmd, oktaemu.UserLogin)
	fmt.Fprintf(w, "  %s flows run examples/offboard-user-devices.yaml --input login=%s\n", cmd, oktaemu.UserLogin)
	fmt.Fprintf(w, "  # unattended, on Okta events: enable a flow, then make the event that starts it:\n")
	fmt.Fprintf(w, "  %s flows store examples/suspend-devices-left-without-users.yaml --enable\n", cmd)
	fmt.Fprintf(w, "  curl -s -d '{\"user\":\"%s\"}' %s/_emulator/devices   # a new device of one user: note its id\n", oktaemu.UserLogin, orgURL)
	fmt.Fprintf(w, "  curl -s -X DELETE %s/_emulator/devices/ID/users/%s   # its only user removed: the flow suspends it\n", orgURL, oktaemu.UserLogin)
	fmt.Fprintf(w, "  %s events list\n\n", cmd)
	if !slices.ContainsFunc(conns, func(c *store.Connection) bool { return c.Auth == store.AuthService }) {
		printDemoService(w, cmd, orgURL)
	}
	if len(dc.NotifyURLs) > 0 {
		fmt.Fprintf(w, "Notifications go to the receivers of -notify-url and CARDFLOW_NOTIFY_URLS; send each a test message:\n\n  %s notifications test\n\n", cmd)
	}
	if temp {
		fmt.Fprintf(w, "Data: %s (removed on exit). Press Ctrl-C to stop.\n", dataDir)
	} else {
		fmt.Fprintf(w, "Data: %s. Press Ctrl-C to stop.\n", dataDir)
	}
}

// printDemoService shows how to make a service connection to the demo
// org's API Services app; the org's management API stands in for pasting
// the key in the Admin Console.
func printDemoService(w io.Writer, cmd, orgURL string) {
	fmt.Fprintf(w, "A service connection (an API Services app: no sign-in, no 90-day end; app %s, client ID %s;\n"+
		"%s requires DPoP):\n\n", oktaemu.DemoServiceAppID, oktaemu.DemoServiceClientID, oktaemu.DemoDPoPClientID)
	fmt.Fprintf(w, "  %s connections create --auth service --nickname Robot --domain %s --client-id %s\n", cmd, orgURL, oktaemu.DemoServiceClientID)
	fmt.Fprintf(w, "  # add the public key it prints to the app, as Add key in the Admin Console does:\n")
	fmt.Fprintf(w, "  curl -s -H 'Authorization: SSWS %s' -H 'Content-Type: application/json' -d 'JWK' %s/api/v1/apps/%s/credentials/jwks\n",
		oktaemu.DemoAPIToken, orgURL, oktaemu.DemoServiceAppID)
	fmt.Fprintf(w, "  # for flows started by Okta events, grant the app the System Log and event hook scopes, as its Okta API Scopes tab does:\n")
	for _, scope := range []string{"okta.logs.read", "okta.eventHooks.manage"} {
		fmt.Fprintf(w, "  curl -s -H 'Authorization: SSWS %s' -H 'Content-Type: application/json' -d '{\"issuer\":\"%s\",\"scopeId\":\"%s\"}' %s/api/v1/apps/%s/grants\n",
			oktaemu.DemoAPIToken, orgURL, scope, orgURL, oktaemu.DemoServiceAppID)
	}
	fmt.Fprintf(w, "  %s connections test Robot\n", cmd)
	roles := orgURL + "/oauth2/v1/clients/" + oktaemu.DemoServiceClientID + "/roles"
	fmt.Fprintf(w, "  # take the app's SUPER_ADMIN role away, as its Admin Roles tab does: the test then fails, reason code no_admin_role:\n")
	fmt.Fprintf(w, "  curl -s -X DELETE -H 'Authorization: SSWS %s' %s/%s\n", oktaemu.DemoAPIToken, roles, oktaemu.ClientRoleAssignmentID("SUPER_ADMIN"))
	fmt.Fprintf(w, "  %s connections test Robot\n", cmd)
	fmt.Fprintf(w, "  # give the role back, then test again:\n")
	fmt.Fprintf(w, "  curl -s -H 'Authorization: SSWS %s' -H 'Content-Type: application/json' -d '{\"type\":\"SUPER_ADMIN\"}' %s\n", oktaemu.DemoAPIToken, roles)
	fmt.Fprintf(w, "  %s connections test Robot\n\n", cmd)
}

// demoRegrants are the scopes a kept service connection had been granted
// that the demo org does not grant its service apps at its start (those
// of event flows): a restarted org has forgotten them.
func demoRegrants(c *store.Connection) []string {
	var out []string
	for _, s := range []string{"okta.logs.read", "okta.eventHooks.manage"} {
		if slices.Contains(c.GrantedScopes, s) {
			out = append(out, s)
		}
	}
	return out
}

// demoStatusText says a kept connection's status in words: "is active",
// "needs reauthorization", "is in error", "is pending".
func demoStatusText(status string) string {
	switch status {
	case store.StatusNeedsReauthorization:
		return "needs reauthorization"
	case store.StatusError:
		return "is in error"
	}
	return "is " + status
}

// demoRunConnection is the kept connection the banner's card run names:
// an active one, else one that worked before the restart (it needs
// reauthorization: its tokens are gone), else the first. A pending one was
// never signed in to, and one in error may have a wrong client secret.
func demoRunConnection(conns []*store.Connection) string {
	for _, status := range []string{store.StatusActive, store.StatusNeedsReauthorization} {
		for _, c := range conns {
			if c.Status == status {
				return c.Nickname
			}
		}
	}
	return conns[0].Nickname
}

// demoNickname is the nickname the demo's instructions give a new
// connection.
const demoNickname = "Demo org"

// demoConnectionAdvice says what to do with a connection kept from an
// earlier run of the demo: nothing when it is active; reauthorize it when
// it can be; else delete it and create it again against the org as it is.
func demoConnectionAdvice(c *store.Connection, orgURL, cmd string) string {
	switch {
	case c.Auth == store.AuthService && connection.OriginOf(c.Domain) == orgURL:
		// The restarted org has forgotten the keys added to its apps, and
		// the scopes granted to them beyond the demo's own.
		advice := fmt.Sprintf("; add its public key to the app again (%s connections show %q prints it)", cmd, c.Nickname)
		if again := demoRegrants(c); len(again) > 0 {
			app := map[string]string{oktaemu.DemoServiceClientID: oktaemu.DemoServiceAppID, oktaemu.DemoDPoPClientID: oktaemu.DemoDPoPAppID}[c.ClientID]
			if app == "" {
				app = "APP_ID"
			}
			advice += fmt.Sprintf(" and grant it %s again, which the org forgot too (POST %s/api/v1/apps/%s/grants {\"issuer\":\"%s\",\"scopeId\":SCOPE}, as the first start's banner shows)",
				strings.Join(again, " and "), orgURL, app, orgURL)
		}
		return advice + fmt.Sprintf(", then %s connections test %q", cmd, c.Nickname)
	case c.Status == store.StatusActive:
		return ": use it as it is"
	case c.Status == store.StatusPending:
		return fmt.Sprintf(": finish signing in, or start again with %s connections reauthorize %q", cmd, c.Nickname)
	case connection.OriginOf(c.Domain) == orgURL:
		return fmt.Sprintf("; reauthorize it: %s connections reauthorize %q (sign in as %s)", cmd, c.Nickname, oktaemu.AdminLogin)
	default:
		// --force: the connection cannot work again, and the enabled flows
		// that name it by its nickname use the new one once it is created.
		return fmt.Sprintf("; its org is gone: %s connections delete %q --force, then create it again with the same nickname and --domain %s (flows that name it by nickname use the new one)", cmd, c.Nickname, orgURL)
	}
}

// demoRoles give the demo org's groups their cardflow roles.
var demoRoles = []string{"admin=" + oktaemu.AdminsGroup, "operator=" + oktaemu.OperatorsGroup, "viewer=" + oktaemu.ViewersGroup}

// emulatorAddrFile, in a demo's data directory, holds the emulated org's
// listen address, so that a restarted demo serves the org at the same
// origin and its connections' domain stays valid.
const emulatorAddrFile = "emulator-addr"

// Status reason and remedies of the connections of a restarted demo org.
const (
	orgRestartedReason = "this demo's emulated org was restarted; its tokens are gone"
	orgRestartedRemedy = "reauthorize the connection (or delete and recreate it)"
	// Of a service connection, whose key the restarted org has forgotten;
	// %s is its client ID.
	orgRestartedServiceRemedy = "add the connection's public key (JWK; cardflow connections show prints it) to the API Services app %s again, then test the connection"
)

// readEmulatorAddr returns the emulated org's address of the demo's last
// run in dataDir, or "" when there is none.
func readEmulatorAddr(dataDir string, log *slog.Logger) string {
	b, err := os.ReadFile(filepath.Join(dataDir, emulatorAddrFile))
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Warn("cannot read the emulated org's previous address", "error", err)
		}
		return ""
	}
	addr := strings.TrimSpace(string(b))
	if _, _, err := net.SplitHostPort(addr); err != nil {
		log.Warn("ignoring a malformed emulated org address", "file", emulatorAddrFile, "address", addr)
		return ""
	}
	return addr
}

// listenOrg listens for the emulated org: on dc.OrgListen when it names a
// port, else on the previous run's address when it is free, else on a new
// port.
func listenOrg(dc DemoConfig, prevAddr string) (net.Listener, error) {
	if _, port, err := net.SplitHostPort(dc.OrgListen); err == nil && port == "0" && prevAddr != "" {
		ln, err := net.Listen("tcp", prevAddr)
		if err == nil {
			return ln, nil
		}
		dc.Logger.Warn("the emulated org's previous address is taken; using a new port, so connections made against the old one must be created again",
			"previous", "http://"+prevAddr, "error", err)
	}
	ln, err := net.Listen("tcp", dc.OrgListen)
	if err != nil {
		return nil, fmt.Errorf("the emulated org: %w", listenError("-org-listen", dc.OrgListen, err))
	}
	return ln, nil
}

// markRestartedOrg tells the connections of the demo's previous emulated
// org that its state is gone: the emulator keeps no state across restarts,
// so their tokens are unknown to it. At the same origin they need
// reauthorization; at an origin no longer trusted they are in error.
func markRestartedOrg(ctx context.Context, st store.Store, prevOrigin, orgURL string, log *slog.Logger) error {
	conns, err := st.ListConnections(ctx)
	if err != nil {
		return fmt.Errorf("list connections: %w", err)
	}
	sameOrigin := prevOrigin == orgURL
	status, remedy := store.StatusNeedsReauthorization, orgRestartedRemedy
	if !sameOrigin {
		status = store.StatusError
		remedy = "delete the connection and create it again with the domain " + orgURL +
			" (or stop the demo, free " + strings.TrimPrefix(prevOrigin, "http://") + " and start it again, then reauthorize the connection)"
	}
	for _, c := range conns {
		if connection.OriginOf(c.Domain) != prevOrigin || c.StatusReason == orgRestartedReason {
			continue
		}
		if sameOrigin && c.Status != store.StatusActive {
			// A pending authorization works with the new org; other
			// statuses already say what to do.
			continue
		}
		remedy := remedy
		if sameOrigin && c.Auth == store.AuthService {
			// Nobody signs in to a service connection: reauthorize refuses it.
			remedy = fmt.Sprintf(orgRestartedServiceRemedy, c.ClientID)
		}
		err := st.UpdateConnection(ctx, c.ID, func(c *store.Connection) error {
			c.Status, c.StatusReason, c.Remedy, c.StatusReasonCode = status, orgRestartedReason, remedy, store.ReasonOrgRestarted
			c.RefreshStartedAt = time.Time{}
			c.UpdatedAt = time.Now().UTC()
			return nil
		})
		if err != nil {
			return fmt.Errorf("update connection %s: %w", c.ID, err)
		}
		log.Warn("connection of the restarted demo org marked", "connection", c.ID, "nickname", c.Nickname, "status", status)
	}
	return nil
}
