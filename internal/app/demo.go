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
	"time"

	"github.com/cardflow/cardflow/internal/keyring"
	"github.com/cardflow/cardflow/internal/oktaemu"
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
	}
	token := dc.APIToken
	if token == "" {
		var b [24]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		token = keyring.Secret("cf_demo_" + base64.RawURLEncoding.EncodeToString(b[:]))
	}

	org := oktaemu.New(oktaemu.Config{Devices: dc.Devices, Logger: dc.Logger.With(slog.String("component", "oktaemu"))})
	ln, err := net.Listen("tcp", dc.OrgListen)
	if err != nil {
		return fmt.Errorf("listen for the emulated org on %s: %w", dc.OrgListen, err)
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
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "listen" {
			return fmt.Errorf("%w (another server may be using it; try -listen 127.0.0.1:0)", err)
		}
		return err
	}
	printDemo(dc, a.URL(), token.Reveal(), orgURL, dataDir, temp)

	serveErr := make(chan error, 1)
	go func() { serveErr <- a.Serve(ctx) }()
	select {
	case err := <-serveErr:
		return err
	case err := <-orgErr:
		return fmt.Errorf("the emulated org stopped: %w", err)
	}
}

func printDemo(dc DemoConfig, url, token, orgURL, dataDir string, temp bool) {
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

Try it from another terminal:

  export CARDFLOW_SERVER=%[1]s CARDFLOW_API_TOKEN=%[2]s
  CARDFLOW_CLIENT_SECRET=%[5]s %[12]s connections create --nickname "Demo org" --domain %[3]s --client-id %[4]s
  # open the URL it prints and sign in as %[8]s / %[7]s, then:
  %[12]s run okta-devices/search-devices --connection "Demo org" --input status=ACTIVE --input resultSet=first200
  %[12]s flows plan examples/offboard-user-devices.yaml --input login=%[10]s
  %[12]s flows run examples/offboard-user-devices.yaml --input login=%[10]s

`, url, token, orgURL, oktaemu.DemoClientID, oktaemu.DemoClientSecret, devices, oktaemu.DemoPassword,
		oktaemu.AdminLogin, oktaemu.ReadOnlyLogin, oktaemu.UserLogin, oktaemu.UnassignedLogin, cmd)
	if temp {
		fmt.Fprintf(w, "Data: %s (removed on exit). Press Ctrl-C to stop.\n", dataDir)
	} else {
		fmt.Fprintf(w, "Data: %s. Press Ctrl-C to stop.\n", dataDir)
	}
}
