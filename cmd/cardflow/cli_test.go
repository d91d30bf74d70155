package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/cardflow/cardflow/internal/api"
)

// runCLI runs the command line with environment vars and returns the exit
// code, stdout and stderr.
func runCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	own := map[string]string{"XDG_CONFIG_HOME": t.TempDir()} // never the developer's own sign-in
	for k, v := range vars {
		own[k] = v
	}
	vars = own
	e := &env{
		stdin:  strings.NewReader(""),
		stdout: &out,
		stderr: &errOut,
		getenv: func(k string) string { return vars[k] },
	}
	code := run(context.Background(), args, e)
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		vars     map[string]string
		wantCode int
		wantErr  string
	}{
		{name: "no command", args: nil, wantCode: exitUsage, wantErr: "missing command"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: exitUsage, wantErr: `unknown command "frobnicate"`},
		{name: "unknown subcommand", args: []string{"connections", "explode"}, wantCode: exitUsage, wantErr: `unknown command "connections explode"`},
		{name: "missing token", args: []string{"connections", "list"}, wantCode: exitUsage, wantErr: "no API token: run `cardflow login`"},
		{name: "run without connection", args: []string{"run", "okta-devices/read-device"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: "missing --connection"},
		{name: "connections create without flags", args: []string{"connections", "create"}, wantCode: exitUsage, wantErr: "missing --nickname, --domain, --client-id: e.g. cardflow connections create --nickname Prod"},
		{name: "service connection without a client id", args: []string{"connections", "create", "--auth", "service", "--nickname", "Robot", "--domain", "example.okta.com"}, wantCode: exitUsage, wantErr: "missing --client-id"},
		{name: "flows plan of a file not here", args: []string{"flows", "plan", "examples/none.yaml", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: "no such file or directory (a path relative to the current directory, "},
		{name: "flows plan of an event file not here", args: []string{"flows", "plan", "x.yaml", "--event-file", "testdata/none.json", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage,
			wantErr: "--event-file: open testdata/none.json: no such file or directory"},
		{name: "flows plan of an event file that is a directory", args: []string{"flows", "plan", "x.yaml", "--event-file", ".", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage,
			wantErr: "--event-file: read .: is a directory"},
		{name: "a private key file not here", args: []string{"connections", "create", "--auth", "service", "--nickname", "Robot", "--domain", "example.okta.com", "--client-id", "x", "--private-key-file", "testdata/none.pem", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage,
			wantErr: "--private-key-file: open testdata/none.pem: no such file or directory"},
		{name: "a client secret file not here", args: []string{"connections", "create", "--nickname", "P", "--domain", "example.okta.com", "--client-id", "x", "--client-secret-file", "testdata/none.txt", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage,
			wantErr: "--client-secret-file: open testdata/none.txt: no such file or directory"},
		{name: "flows store of a file not here", args: []string{"flows", "store", "testdata/none.yaml", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage,
			wantErr: "read the flow document: open testdata/none.yaml: no such file or directory"},
		{name: "server URL with the API's path", args: []string{"connections", "list", "--server", "http://127.0.0.1:1/api/v1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: `--server "http://127.0.0.1:1/api/v1" has a path: give the server's address alone, http://127.0.0.1:1`},
		{name: "server URL with a password", args: []string{"connections", "list", "--server", "http://ops:pw-s3cret@127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: "--server has a user name or password in it (http://…@127.0.0.1:1): cardflow signs in with its API token"},
		{name: "server URL with a query", args: []string{"connections", "list", "--server", "http://127.0.0.1:1?x=1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: `--server "http://127.0.0.1:1?x=1" has a query or fragment: give the server's address alone, http://127.0.0.1:1`},
		{name: "server URL without a scheme", args: []string{"connections", "list", "--server", "127.0.0.1:8080"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: "e.g. http://127.0.0.1:8080"},
		{name: "bad flag", args: []string{"runs", "list", "--bogus"}, wantCode: exitUsage, wantErr: "flag provided but not defined: -bogus\n"},
		{name: "misspelt flag", args: []string{"runs", "list", "--conection", "Prod"}, wantCode: exitUsage, wantErr: "cardflow: flag provided but not defined: -conection; did you mean --connection?\n"},
		{name: "misspelt flag with a value", args: []string{"run", "read-device", "-jsn=true"}, wantCode: exitUsage, wantErr: "flag provided but not defined: -jsn; did you mean --json?"},
		{name: "a word for a number", args: []string{"runs", "list", "--limit", "ten"}, wantCode: exitUsage, wantErr: `cardflow: --limit "ten": want a whole number, such as 20` + "\n"},
		{name: "a number too large", args: []string{"audit", "--limit=99999999999999999999"}, wantCode: exitUsage, wantErr: `--limit "99999999999999999999" is out of range: want a whole number`},
		{name: "a duration without its unit", args: []string{"connections", "create", "--timeout", "5"}, wantCode: exitUsage, wantErr: `--timeout "5": want a duration with its unit, such as 30s, 5m or 2h`},
		{name: "a bool flag given a word", args: []string{"runs", "list", "--json=maybe"}, wantCode: exitUsage, wantErr: `--json "maybe": want true or false (or the flag alone for true)`},
		{name: "a flag before the command", args: []string{"--limit=5", "runs", "list"}, wantCode: exitUsage,
			wantErr: `"--limit=5" is not a command: flags go after the command they belong to, e.g. cardflow runs list --limit=5`},
		{name: "a flag before the subcommand", args: []string{"flows", "--no-wait", "run", "x.yaml"}, wantCode: exitUsage,
			wantErr: `"--no-wait" is not a command: flags go after the command they belong to, e.g. cardflow flows run x.yaml --no-wait`},
		{name: "a flag with a value before the command", args: []string{"--server", "http://127.0.0.1:1", "runs", "list"}, wantCode: exitUsage,
			wantErr: `"--server" is not a command: flags go after the command they belong to, e.g. cardflow COMMAND --flag`},
		{name: "no time to wait for the sign-in", args: []string{"connections", "reauthorize", "Prod", "--timeout", "0s", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage,
			wantErr: "--timeout 0s: want how long to wait for the sign-in, such as 5m (or --no-wait not to wait)"},
		{name: "a negative wait for the sign-in", args: []string{"connections", "create", "--nickname", "P", "--domain", "example.okta.com", "--client-id", "x", "--timeout=-5m"}, wantCode: exitUsage,
			wantErr: "--timeout -5m0s: want how long to wait for the sign-in"},
		{name: "no time to wait for the reauthorization of an update", args: []string{"connections", "update", "Prod", "--client-secret-stdin", "--timeout", "0s"}, wantCode: exitUsage,
			wantErr: "--timeout 0s: want how long to wait for the sign-in"},
		{name: "misspelt command", args: []string{"conections", "list"}, wantCode: exitUsage, wantErr: `unknown command "conections"; did you mean connections?`},
		{name: "cards, which connectors lists", args: []string{"cards"}, wantCode: exitUsage, wantErr: `unknown command "cards"; the cards are listed by cardflow connectors, described one by one by cardflow connectors CARD, and run by cardflow run CARD`},
		{name: "misspelt subcommand", args: []string{"flows", "plna", "x.yaml"}, wantCode: exitUsage, wantErr: `unknown command "flows plna"; did you mean plan?`},
		{name: "a subcommand without its group", args: []string{"plan", "x.yaml", "--input", "login=a"}, wantCode: exitUsage, wantErr: `unknown command "plan"; did you mean cardflow flows plan?`},
		{name: "a subcommand near a command", args: []string{"rerun", "fr1"}, wantCode: exitUsage, wantErr: `unknown command "rerun"; did you mean cardflow flows rerun?`},
		{name: "a subcommand of several groups", args: []string{"test", "Prod"}, wantCode: exitUsage, wantErr: `unknown command "test"; did you mean cardflow connections test or cardflow notifications test?`},
		{name: "a flow document run as a card", args: []string{"run", "examples/offboard-user-devices.yaml", "--input", "login=a b"}, wantCode: exitUsage,
			wantErr: `examples/offboard-user-devices.yaml is a flow document, not a card: run a flow with cardflow flows run examples/offboard-user-devices.yaml --input 'login=a b'`},
		{name: "command near two", args: []string{"runz"}, wantCode: exitUsage, wantErr: `unknown command "runz"; did you mean run or runs?`},
		{name: "server unreachable", args: []string{"connections", "list", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitFailure, wantErr: "cannot reach the cardflow server at http://127.0.0.1:1"},
		{name: "a token with a line break in it", args: []string{"connections", "list", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "cf_one\ncf_two"}, wantCode: exitUsage,
			wantErr: "CARDFLOW_API_TOKEN holds a control character (byte 6, 0x0a), which no request can carry; it was not sent"},
		{name: "keys remove without an id", args: []string{"keys", "remove"}, wantCode: exitUsage, wantErr: "missing key id"},
		{name: "an empty argument", args: []string{"people", "revoke", ""}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x", "CARDFLOW_SERVER": "http://127.0.0.1:1"}, wantCode: exitUsage, wantErr: "missing login: the argument is empty"},
		{name: "keys list of a directory never served", args: []string{"keys", "list", "-data-dir", "testdata/none"}, wantCode: exitFailure, wantErr: "keys list: data directory"},
		{name: "keys reseal of a directory never served", args: []string{"keys", "reseal", "-data-dir", "testdata/none"}, wantCode: exitFailure, wantErr: "keys reseal: data directory"},
		{name: "keys reseal with an argument", args: []string{"keys", "reseal", "k123"}, wantCode: exitUsage, wantErr: `unexpected argument "k123"`},
		{name: "backup without a file", args: []string{"backup"}, wantCode: exitUsage, wantErr: "missing backup file name"},
		{name: "backup of a directory never served", args: []string{"backup", "x.db", "-data-dir", "testdata/none"}, wantCode: exitFailure, wantErr: "backup: data directory"},
		{name: "backup of PostgreSQL", args: []string{"backup", "x.db", "-db", "postgres://db.example.com/cardflow"}, wantCode: exitFailure, wantErr: "back it up with pg_dump"},
		{name: "serve with a public URL with a path", args: []string{"serve", "-data-dir", "testdata/never-created", "-public-url", "https://cardflow.example.com/cf"}, wantCode: exitUsage, wantErr: "must be http(s)://host[:port] (no path)"},
		{name: "serve with a public URL with a password", args: []string{"serve", "-data-dir", "testdata/never-created", "-public-url", "https://hook:s3cret@cardflow.example.com"}, wantCode: exitUsage, wantErr: "public URL https://hook:xxxxx@cardflow.example.com must not hold a user name or password"},
		{name: "serve with a public URL with a password that does not parse", args: []string{"serve", "-data-dir", "testdata/never-created", "-public-url", "https://hook:s3cret@cardflow.example.com:bad"}, wantCode: exitUsage, wantErr: `public URL "https://xxxxx@cardflow.example.com:bad" must be http(s)://host[:port]`},
		{name: "serve trusting an origin with a password", args: []string{"serve", "-data-dir", "testdata/never-created", "-trust-origin", "http://emu:s3cret@127.0.0.1:9090"}, wantCode: exitUsage, wantErr: `trusted origin "http://emu:xxxxx@127.0.0.1:9090": want http(s)://host[:port] and nothing else`},
		{name: "serve with a database it cannot use", args: []string{"serve", "-data-dir", "testdata/never-created", "-db", "mysql://db.example.com/cardflow"}, wantCode: exitUsage, wantErr: "-db must be empty"},
		{name: "serve accepting a top-level domain", args: []string{"serve", "-data-dir", "testdata/never-created", "-allow-domain-suffix", ".com"}, wantCode: exitUsage, wantErr: `-allow-domain-suffix ".com" would accept every domain under com: give the org's custom domain`},
		{name: "serve accepting an empty domain", args: []string{"serve", "-data-dir", "testdata/never-created", "-allow-domain-suffix", " "}, wantCode: exitUsage, wantErr: `-allow-domain-suffix " " names no domain`},
		{name: "serve with an address without a port", args: []string{"serve", "-data-dir", "testdata/never-created", "-listen", "nonsense"}, wantCode: exitUsage, wantErr: "-listen wants HOST:PORT"},
		{name: "serve with a zero lease", args: []string{"serve", "-flow-lease-ttl", "0s"}, wantCode: exitUsage, wantErr: "-flow-lease-ttl 0s: want a duration of at least 1s, such as 15s"},
		{name: "serve with a negative poll interval", args: []string{"serve", "-event-poll-interval", "-30s"}, wantCode: exitUsage, wantErr: "-event-poll-interval -30s: want a duration of at least 1s"},
		{name: "serve with a zero card lease", args: []string{"serve", "-card-lease-ttl=0"}, wantCode: exitUsage, wantErr: "-card-lease-ttl 0s"},
		{name: "serve with a zero poll alert", args: []string{"serve", "-event-poll-alert-after", "0"}, wantCode: exitUsage, wantErr: "-event-poll-alert-after 0s"},
		{name: "serve warning before expiry of 90 days", args: []string{"serve", "-expiry-warning", "2160h"}, wantCode: exitUsage, wantErr: "-expiry-warning 2160h0m0s: want less than 2160h (Okta's 90 days)"},
		{name: "serve with no warning before expiry", args: []string{"serve", "-expiry-warning", "0"}, wantCode: exitUsage, wantErr: "-expiry-warning 0s: want a duration of at least 1m0s"},
		{name: "serve repeating failures at once", args: []string{"serve", "-notify-repeat", "1s"}, wantCode: exitUsage, wantErr: "-notify-repeat 1s: want a duration of at least 1m0s, such as 24h"},
		{name: "runs list with limit 0", args: []string{"runs", "list", "--limit", "0", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: "--limit 0: want a number from 1 to 1000"},
		{name: "audit with limit 5000", args: []string{"audit", "--limit", "5000", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: "--limit 5000: want a number from 1 to 1000"},
		{name: "events list with a negative limit", args: []string{"events", "list", "--limit", "-1", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: "--limit -1: want a number from 1 to 1000"},
		{name: "flows runs with limit 0", args: []string{"flows", "runs", "nightly", "--limit", "0", "--server", "http://127.0.0.1:1"}, vars: map[string]string{"CARDFLOW_API_TOKEN": "x"}, wantCode: exitUsage, wantErr: "--limit 0: want a number from 1 to 1000"},
		{name: "demo with a negative number of devices", args: []string{"demo", "-devices", "-1", "-listen", "nonsense"}, wantCode: exitUsage, wantErr: "-devices -1: want a number of devices, 0 or more"},
		{name: "help", args: []string{"help"}, wantCode: exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.vars, tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit code %d; want %d (stderr %q)", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr %q; want it to contain %q", stderr, tt.wantErr)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("stderr %q shows a password", stderr)
			}
		})
	}
}

func TestParseFlagsInterspersed(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantPos  []string
		wantConn string
		wantIn   []string
	}{
		{name: "flags after positional", args: []string{"okta-devices/x", "--connection", "Prod", "--input", "a=1"}, wantPos: []string{"okta-devices/x"}, wantConn: "Prod", wantIn: []string{"a=1"}},
		{name: "flags before", args: []string{"-connection=Prod", "card"}, wantPos: []string{"card"}, wantConn: "Prod"},
		{name: "double dash", args: []string{"--connection", "P", "--", "--input"}, wantPos: []string{"--input"}, wantConn: "P"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("t", flag.ContinueOnError)
			conn := fs.String("connection", "", "")
			var in stringList
			fs.Var(&in, "input", "")
			pos, err := parseFlags(fs, tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPos, pos); diff != "" {
				t.Errorf("positional (-want +got):\n%s", diff)
			}
			if *conn != tt.wantConn || !cmp.Equal([]string(in), tt.wantIn) {
				t.Errorf("got connection %q inputs %v; want %q %v", *conn, in, tt.wantConn, tt.wantIn)
			}
		})
	}
}

func TestParseInputs(t *testing.T) {
	cd := &api.Card{Ref: "okta-devices/x", Inputs: []api.CardInput{
		{Name: "deviceId", Type: "string"}, {Name: "deactivateFirst", Type: "bool"},
		{Name: "limit", Type: "number"}, {Name: "tags", Type: "list"}, {Name: "query", Type: "object"},
	}}
	tests := []struct {
		name    string
		kvs     []string
		want    map[string]any
		wantErr string
	}{
		{name: "text, read by the server", kvs: []string{"deviceId=guo1", "deactivateFirst=true", "limit=20", "tags=a, b", `query={"a":1}`},
			want: map[string]any{"deviceId": "guo1", "deactivateFirst": "true", "limit": "20", "tags": "a, b", "query": `{"a":1}`}},
		{name: "json", kvs: []string{`tags:=["x"]`, `query:={"a":1}`, "limit:=20"},
			want: map[string]any{"tags": []any{"x"}, "query": map[string]any{"a": float64(1)}, "limit": float64(20)}},
		{name: "raw json", kvs: []string{`deviceId:=null`}, want: map[string]any{"deviceId": nil}},
		{name: "value with =", kvs: []string{"deviceId=a=b"}, want: map[string]any{"deviceId": "a=b"}},
		{name: "bad json", kvs: []string{"deactivateFirst:=maybe"}, wantErr: "not valid JSON"},
		{name: "unknown json input", kvs: []string{"colour:=1"}, wantErr: `card okta-devices/x has no input "colour"`},
		{name: "unknown input", kvs: []string{"colour=red"}, wantErr: `card okta-devices/x has no input "colour"; its inputs: deviceId, deactivateFirst, limit, tags, query`},
		{name: "misspelt input", kvs: []string{"deviceID=guo1"}, wantErr: `card okta-devices/x has no input "deviceID"; did you mean deviceId?`},
		{name: "misspelt json input", kvs: []string{"tagz:=[]"}, wantErr: `card okta-devices/x has no input "tagz"; did you mean tags?`},
		{name: "no equals", kvs: []string{"deviceId"}, wantErr: "want name=value"},
		{name: "given twice", kvs: []string{"tags=a", "tags=b"}, wantErr: `--input tags is given twice: give each input once (a list as name=a,b,c or name:='["a","b"]')`},
		{name: "given twice, once as JSON", kvs: []string{"limit=1", "limit:=2"}, wantErr: "--input limit is given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseInputs(cd, tt.kvs)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("inputs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, tty: true, start: time.Now().Add(-2 * time.Second)}
	run := &api.FlowRun{ID: "run1", Status: "running"}
	run.Steps = append(run.Steps, api.FlowRunStep{ID: "suspend", Status: "running", Items: 10, Succeeded: 3, Failed: 1, RateLimitWait: "1.5s"})
	p.update(run)
	p.done()
	got := buf.String()
	for _, want := range []string{"\rrun1: running, 4/10 items done", "items/s", "step suspend 4/10, waiting 1.5s for the rate limit"} {
		if !strings.Contains(got, want) {
			t.Errorf("progress line %q lacks %q", got, want)
		}
	}
	var quiet bytes.Buffer
	q := &progress{w: &quiet, start: time.Now()}
	q.update(run)
	q.done()
	if quiet.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal; want nothing", quiet.String())
	}
}

func TestRetainRunsFlag(t *testing.T) {
	tests := []struct {
		name, in string
		want     time.Duration
		wantErr  bool
	}{
		{name: "days", in: "30d", want: 30 * 24 * time.Hour},
		{name: "duration", in: "36h", want: 36 * time.Hour},
		{name: "forever", in: "forever", want: -1},
		{name: "no unit", in: "30", wantErr: true},
		{name: "too short", in: "30m", wantErr: true},
		{name: "zero days", in: "0d", wantErr: true},
		{name: "negative", in: "-2d", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f retainFlag
			err := f.Set(tt.in)
			if (err != nil) != tt.wantErr || (err == nil && f.d != tt.want) {
				t.Errorf("Set(%q) = %v, %v; want %v (error %v)", tt.in, f.d, err, tt.want, tt.wantErr)
			}
		})
	}
	if got := (&retainFlag{}).String(); got != "30d" {
		t.Errorf("default = %q; want 30d", got)
	}
	var audit auditRetainFlag
	if got := audit.String(); got != "forever" {
		t.Errorf("-retain-audit default = %q; want forever", got)
	}
	if err := audit.Set("365d"); err != nil || audit.d != 365*24*time.Hour || audit.String() != "365d" {
		t.Errorf("-retain-audit 365d = %v, %v (%q); want 365 days", audit.d, err, audit.String())
	}
}

// TestPrintConnectionEventSource: polledAt is when the poll's cursor last
// moved, which a poll that finds nothing new leaves: it is shown as the
// last new events, as the console does, not as the last read of the
// System Log (which a poll every 30 s would then seem to have stopped).
func TestPrintConnectionEventSource(t *testing.T) {
	var c api.ConnectionDetail
	err := json.Unmarshal([]byte(`{"id":"conn_1","nickname":"Prod","status":"active","eventSource":{"hookStatus":"deactivated",
		"reason":"Okta deactivated the event hook","remedy":"activate it in the Admin Console","eventTypes":["device.user.remove"],
		"polledAt":"2026-12-04T10:00:00Z"}}`), &c)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	printConnection(&b, &c, nil)
	for _, want := range []string{"Event hook:       deactivated (device.user.remove)", "Hook reason:      Okta deactivated the event hook",
		"Hook remedy:      activate it in the Admin Console", "System Log:       last new events 2026-12-04"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("connections show lacks %q:\n%s", want, b.String())
		}
	}
}

// TestUsageLinesNameWhatTheFlagsTake: a usage line says what a flag
// takes as the flag's own help does.
func TestUsageLinesNameWhatTheFlagsTake(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"runs", "list", "-h"}, "Usage: cardflow runs list [--connection ID|NICKNAME]"},
		{[]string{"audit", "-h"}, "Usage: cardflow audit [--connection ID|NICKNAME]"},
		{[]string{"tokens", "revoke", "-h"}, "Usage: cardflow tokens revoke TOKEN_ID|TOKEN [--yes] [--json]"},
		{[]string{"people", "revoke", "-h"}, "Usage: cardflow people revoke LOGIN [--self] [--yes] [--json]"},
		{[]string{"connections", "create", "-h"}, "[--json]\n       cardflow connections create --auth service --nickname N"},
	} {
		code, out, errOut := runCLI(t, nil, tc.args...)
		if code != exitOK || !strings.Contains(out+errOut, tc.want) {
			t.Errorf("cardflow %v: exit %d\n%s%s\nwant %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestHelpIsOutput: help asked for is printed on stdout (so that it can be
// paged or searched), whichever way it is asked for, as "cardflow help"
// is; the usage after a wrong flag goes to stderr with the error.
func TestHelpIsOutput(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"run", "-h"}, {"run", "--help"}, {"help", "run"}, {"flows", "plan", "-help"}, {"help", "flows", "plan"}, {"keys", "rotate", "-h"}} {
		code, out, errOut := runCLI(t, nil, args...)
		if code != exitOK || !strings.HasPrefix(out, "Usage: cardflow") || errOut != "" {
			t.Errorf("cardflow %q: exit %d, stdout %q, stderr %q; want 0 and the usage on stdout alone", args, code, out, errOut)
		}
	}
	code, out, errOut := runCLI(t, nil, "run", "--bogus")
	if code != exitUsage || out != "" || !strings.HasPrefix(errOut, "Usage: cardflow run") {
		t.Errorf("cardflow run --bogus: exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", code, out, errOut)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		code, out, errOut := runCLI(t, nil, args...)
		if code != exitOK || !strings.HasPrefix(out, "cardflow ") || !strings.Contains(out, runtime.Version()) {
			t.Errorf("cardflow %v: exit %d, %q %q; want cardflow's version and Go's", args, code, out, errOut)
		}
	}
	built := readBuild(&debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "5a619ae0d9c1aaaaaaaaaaaaaaaaaaaaaaaaaaaa"}, {Key: "vcs.time", Value: "2026-12-06T05:39:49Z"}, {Key: "vcs.modified", Value: "true"},
	}})
	var b strings.Builder
	printVersion(&b, built)
	if want := "cardflow v1.2.3, commit 5a619ae0d9c1 (2026-12-06T05:39:49Z) with uncommitted changes, " + runtime.Version(); !strings.HasPrefix(b.String(), want) {
		t.Errorf("printVersion = %q; want it to start with %q", b.String(), want)
	}
	b.Reset()
	if err := printJSON(&b, built); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil || got["version"] != "v1.2.3" || got["commit"] != "5a619ae0d9c1aaaaaaaaaaaaaaaaaaaaaaaaaaaa" ||
		got["time"] != "2026-12-06T05:39:49Z" || got["modified"] != true || got["go"] != runtime.Version() || got["os"] != runtime.GOOS || got["arch"] != runtime.GOARCH {
		t.Errorf("version as JSON: %s (%v); want every field of the build", b.String(), err)
	}
	// The binary under test prints the same fields.
	code, out, errOut := runCLI(t, nil, "version", "--json")
	if err := json.Unmarshal([]byte(out), &got); code != exitOK || err != nil || got["go"] != runtime.Version() || got["version"] == nil {
		t.Errorf("cardflow version --json: exit %d, %q %q (%v); want the build as JSON", code, out, errOut, err)
	}
}
