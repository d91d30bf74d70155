// Command cardflow is the cardflow server and its command-line client.
//
//	cardflow serve -listen 127.0.0.1:8080 -data-dir DIR
//	cardflow demo
//	cardflow connections list
//	cardflow run okta-devices/suspend-device --connection Prod --input deviceId=guo...
//
// Run "cardflow help" for every command.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/cardflow/cardflow/internal/api"
	"github.com/cardflow/cardflow/internal/spelling"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed (server error, failed run)
	exitUsage   = 2 // the command line is wrong
	// exitInterrupted is a command stopped by Ctrl-C or SIGTERM before it
	// finished, as a shell reports a process its SIGINT ended (128 + 2).
	exitInterrupted = 130
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{
		stdin:   os.Stdin,
		stdout:  os.Stdout,
		stderr:  os.Stderr,
		getenv:  os.Getenv,
		self:    selfCommand(os.Args[0]),
		openURL: openBrowser,
		// A secret asked for on a terminal is typed or pasted there.
		readSecret: terminalSecretReader(os.Stdin, os.Stderr),
		stdinTTY:   term.IsTerminal(int(os.Stdin.Fd())),
		stderrTTY:  term.IsTerminal(int(os.Stderr.Fd())),
	})
	stop()
	os.Exit(code)
}

// env is what a command may touch of the outside world; tests fill it in.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	self           string // how to invoke this program in printed examples
	// openURL opens a URL in the user's browser (cardflow login); nil
	// only prints it.
	openURL func(string) error
	// jsonErrors is set by run when the command line asks for JSON: a
	// failure is then reported as JSON (printJSONError), and a wrong
	// command line without the usage text around it.
	jsonErrors bool
	// readSecret reads a secret typed at the terminal that stdin is,
	// after printing prompt, without echoing it; nil when stdin is not a
	// terminal (a pipe, a file), which is read to its end.
	readSecret func(prompt string) (string, error)
	// stdinTTY is set when stdin is a terminal: what is read from it to
	// its end is asked for first.
	stdinTTY bool
	// stderrTTY is set when stderr is a terminal: a followed flow run
	// draws its progress line there.
	stderrTTY bool
	// helpAsked is set when the command line asks for help (-h, -help,
	// --help, "cardflow help COMMAND"): the usage is then the output, on
	// stdout, even with jsonErrors.
	helpAsked bool
	// now is the clock of the keys commands (app.Config.Now: how long
	// ago keys rotate ran, which keys remove waits for); nil means
	// time.Now.
	now func() time.Time
}

// selfCommand is how printed examples should invoke cardflow: "go run
// ./cmd/cardflow" when started by go run, else "cardflow".
func selfCommand(arg0 string) string {
	if strings.Contains(arg0, "go-build") {
		return "go run ./cmd/cardflow"
	}
	return "cardflow"
}

// usageError is a mistake on the command line (exit code 2); err, when
// set, is the error that shows it (a file it names that does not exist).
type usageError struct {
	msg string
	err error
}

func (e *usageError) Error() string { return e.msg }

func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// command is one (sub)command: a name, a one-line summary, and either a
// function or subcommands.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
	subs    []*command
}

var commands = []*command{
	{name: "serve", summary: "run the cardflow server", run: cmdServe},
	{name: "demo", summary: "run an emulated Okta org and the server in one process", run: cmdDemo},
	{name: "connectors", summary: "list connectors, their cards and scopes", run: cmdConnectors},
	{name: "connections", summary: "create, list, show, update, reauthorize, test, delete connections and rotate service keys", subs: []*command{
		{name: "list", summary: "list connections", run: cmdConnectionsList},
		{name: "create", summary: "create a connection and wait for its authorization", run: cmdConnectionsCreate},
		{name: "show", summary: "show one connection", run: cmdConnectionsShow},
		{name: "reauthorize", summary: "reauthorize a connection (same or new scopes)", run: cmdConnectionsReauthorize},
		{name: "update", summary: "change a connection's client secret (and client ID), then reauthorize it", run: cmdConnectionsUpdate},
		{name: "test", summary: "check that a connection works", run: cmdConnectionsTest},
		{name: "delete", summary: "revoke and delete a connection that no enabled flow uses (--force: even if one does)", run: cmdConnectionsDelete},
		{name: "rotate-key", summary: "give a service connection a new key pair and print its public JWK", run: cmdConnectionsRotateKey},
	}},
	{name: "run", summary: "run one card: run CARD --connection X --input k=v ...", run: cmdRun},
	{name: "runs", summary: "card run history", subs: []*command{
		{name: "list", summary: "list recent card runs", run: cmdRunsList},
		{name: "show", summary: "show one card run", run: cmdRunsShow},
	}},
	{name: "flows", summary: "validate, store, plan, run and list flows", subs: []*command{
		{name: "validate", summary: "validate a flow document", run: cmdFlowsValidate},
		{name: "plan", summary: "show what a flow would change, changing nothing", run: cmdFlowsPlan},
		{name: "store", summary: "store a flow document without running it (--enable turns its trigger on)", run: cmdFlowsStore},
		{name: "run", summary: "run a flow and show its progress", run: cmdFlowsRun},
		{name: "list", summary: "list stored flows", run: cmdFlowsList},
		{name: "show", summary: "print the source of a stored flow's latest version (--version N: of another)", run: cmdFlowsShow},
		{name: "versions", summary: "list a stored flow's versions, newest first", run: cmdFlowsVersions},
		{name: "enable", summary: "turn a stored flow's trigger (on:) on, after validating it again", run: cmdFlowsEnable},
		{name: "disable", summary: "turn a stored flow's trigger off", run: cmdFlowsDisable},
		{name: "show-run", summary: "show a flow run's steps (--items: every item, page by page)", run: cmdFlowsShowRun},
		{name: "rerun", summary: "run a finished flow run again (--failed-only: only its failed items)", run: cmdFlowsRerun},
		{name: "runs", summary: "list a stored flow's runs, newest first", run: cmdFlowsRuns},
		{name: "delete", summary: "delete a stored flow (its runs stay readable)", run: cmdFlowsDelete},
		{name: "cancel", summary: "cancel a queued or running flow run (items in flight finish)", run: cmdFlowsCancel},
	}},
	{name: "events", summary: "Okta events received for event-triggered flows", subs: []*command{
		{name: "list", summary: "list recent events, how each arrived and the flow runs it started", run: cmdEventsList},
	}},
	{name: "audit", summary: "show the audit log", run: cmdAudit},
	{name: "login", summary: "sign in with single sign-on and keep a token for the other commands", run: cmdLogin},
	{name: "logout", summary: "revoke and forget the token of cardflow login", run: cmdLogout},
	{name: "whoami", summary: "show who the token acts as, and its role", run: cmdWhoami},
	{name: "tokens", summary: "create, list and revoke personal API tokens", subs: []*command{
		{name: "create", summary: "create a token (shown once)", run: cmdTokensCreate},
		{name: "list", summary: "list your tokens (--all: everyone's)", run: cmdTokensList},
		{name: "revoke", summary: "revoke a token", run: cmdTokensRevoke},
	}},
	{name: "people", summary: "see who has access and end one person's access at once (admins)", subs: []*command{
		{name: "list", summary: "list everyone who holds a console session or a personal API token, and whose enabled flows act as people who hold neither", run: cmdPeopleList},
		{name: "revoke", summary: "end a person's console sessions and revoke their tokens, on every server", run: cmdPeopleRevoke},
	}},
	{name: "notifications", summary: "check the notification receivers (-notify-url) of the server (admins)", subs: []*command{
		{name: "test", summary: "post a test message to every receiver and show how each answered", run: cmdNotificationsTest},
	}},
	{name: "backup", summary: "write a consistent copy of the server's SQLite database while it runs", run: cmdBackup},
	{name: "keys", summary: "manage the sealing keys", subs: []*command{
		{name: "list", summary: "list the keyring's keys and how many stored values each seals", run: cmdKeysList},
		{name: "rotate", summary: "add a new key and re-seal every secret with it", run: cmdKeysRotate},
		{name: "reseal", summary: "re-seal with the current key what an older key still seals", run: cmdKeysReseal},
		{name: "remove", summary: "remove an older key that seals nothing any more", run: cmdKeysRemove},
	}},
	{name: "version", summary: "print what this cardflow binary was built from", run: cmdVersion},
}

// run executes the command line args and returns the exit code.
func run(ctx context.Context, args []string, e *env) int {
	// Everything printed may carry org data: show its control characters
	// instead of letting the terminal obey them.
	e.stdout, e.stderr = &escaper{w: e.stdout}, &escaper{w: e.stderr}
	e.jsonErrors, e.helpAsked = scanArgs(args)
	err := dispatch(ctx, e, commands, nil, args)
	if err == nil {
		err = outputError(e.stdout)
		if err == nil {
			return exitOK
		}
		err = fmt.Errorf("the command ran, but its output could not be written: %w", err)
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ue *usageError
	code := exitFailure
	switch {
	case errors.As(err, &ue):
		code = exitUsage
	case ctx.Err() != nil:
		code = exitInterrupted
	}
	switch {
	case e.jsonErrors:
		printJSONError(e.stderr, newJSONError(ctx, err, code))
	case ue != nil:
		fmt.Fprintf(e.stderr, "cardflow: %s\n", ue.msg)
	case !errors.Is(err, errReported):
		fmt.Fprintf(e.stderr, "cardflow: %s\n", err)
	}
	return code
}

// errReported means the command has already told the user what failed.
var errReported = errors.New("failure reported")

func dispatch(ctx context.Context, e *env, cmds []*command, path []string, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		if len(args) > 1 && args[0] == "help" {
			e.helpAsked = true
			return dispatch(ctx, e, cmds, path, append(args[1:], "-help"))
		}
		printCommands(e.stdout, path, cmds)
		if len(args) == 0 {
			return usagef("missing command")
		}
		return nil
	}
	if path == nil && (args[0] == "-version" || args[0] == "--version") {
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range cmds {
		if c.name != args[0] {
			continue
		}
		if c.subs != nil {
			return dispatch(ctx, e, c.subs, append(path, c.name), args[1:])
		}
		return c.run(ctx, e, args[1:])
	}
	if !e.jsonErrors {
		printCommands(e.stderr, path, cmds)
	}
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	if strings.HasPrefix(args[0], "-") {
		// A flag before the command (cardflow --json connections list):
		// the flags are the command's, after it.
		return usagef("%q is not a command: flags go after the command they belong to, e.g. %s", args[0], flagsAfter(cmds, path, args))
	}
	hint := subcommandHint(cmds, path, args[0])
	if hint == "" && path == nil {
		hint = otherWords[strings.ToLower(args[0])]
	}
	if hint == "" {
		hint = didYouMean(args[0], names, "")
	}
	return usagef("unknown command %q%s", strings.Join(append(path, args[0]), " "), hint)
}

// otherWords are commands people try that cardflow names otherwise, and
// the hint that says how.
var otherWords = map[string]string{
	"cards": "; the cards are listed by cardflow connectors, described one by one by cardflow connectors CARD, and run by cardflow run CARD",
	"card":  "; the cards are listed by cardflow connectors, described one by one by cardflow connectors CARD, and run by cardflow run CARD",
}

// subcommandHint names the commands one level down called word: the
// command line of `cardflow plan FILE`, written without its group, is
// `cardflow flows plan FILE`. "" when there is none.
func subcommandHint(cmds []*command, path []string, word string) string {
	var found []string
	for _, c := range cmds {
		for _, sub := range c.subs {
			if sub.name == word {
				found = append(found, strings.Join(append(append([]string{"cardflow"}, path...), c.name, sub.name), " "))
			}
		}
	}
	if len(found) == 0 {
		return ""
	}
	return "; did you mean " + strings.Join(found, " or ") + "?"
}

// flagsAfter is the command line args (flags first) as it should be: the
// leading flags moved after the command the words that follow them name;
// the usual form when they name none.
func flagsAfter(cmds []*command, path, args []string) string {
	n := 0 // the leading flags
	for n < len(args) && strings.HasPrefix(args[n], "-") {
		n++
	}
	line := append([]string{"cardflow"}, path...)
	rest := args[n:]
	for len(rest) > 0 {
		i := slices.IndexFunc(cmds, func(c *command) bool { return c.name == rest[0] })
		if i < 0 {
			break
		}
		line, rest = append(line, cmds[i].name), rest[1:]
		if cmds[i].subs == nil {
			return strings.Join(append(append(line, rest...), args[:n]...), " ")
		}
		cmds = cmds[i].subs
	}
	return strings.Join(append(line, "COMMAND", "--flag"), " ")
}

// didYouMean is "; did you mean X?" (or "X or Y") when word is probably a
// misspelling of one of known, each shown with prefix ("--" for a flag);
// empty when none is near.
func didYouMean(word string, known []string, prefix string) string {
	near := spelling.Closest(word, known)
	if len(near) == 0 {
		return ""
	}
	for i, n := range near {
		near[i] = prefix + n
	}
	return "; did you mean " + strings.Join(near, " or ") + "?"
}

func printCommands(w io.Writer, path []string, cmds []*command) {
	prefix := strings.Join(append([]string{"cardflow"}, path...), " ")
	fmt.Fprintf(w, "Usage: %s COMMAND [flags]\n\nCommands:\n", prefix)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun \"%s COMMAND -help\" for a command's flags.\n", prefix)
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("run CARD --connection X"), and returns the positional ones.
// "--" ends the flags.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			msg := err.Error()
			if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
				var names []string
				fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
				msg += didYouMean(strings.TrimPrefix(name, "-"), names, "--")
			} else if m := badFlagValue.FindStringSubmatch(msg); m != nil {
				msg = flagValueError(fs, m[1], m[2], m[3])
			}
			return nil, &usageError{msg: msg}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// badFlagValue is the flag package's error for a value that its flag's
// type cannot take: the value, the flag and "parse error" or "value out
// of range", which say nothing of what the flag wants.
var badFlagValue = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-(\S+): (parse error|value out of range)$`)

// flagValueError says what flag name (of fs) wants instead of value (as
// quoted by the flag package), by the flag's type.
func flagValueError(fs *flag.FlagSet, value, name, reason string) string {
	want := "another value"
	if f := fs.Lookup(name); f != nil {
		if g, ok := f.Value.(flag.Getter); ok {
			switch g.Get().(type) {
			case int, int64, uint, uint64:
				want = "a whole number, such as " + orDefault(f.DefValue, "10")
			case float64:
				want = "a number, such as 1.5"
			case bool:
				want = "true or false (or the flag alone for true)"
			case time.Duration:
				want = "a duration with its unit, such as 30s, 5m or 2h"
			}
		}
	}
	if reason == "value out of range" {
		return fmt.Sprintf("--%s %s is out of range: want %s", name, value, want)
	}
	return fmt.Sprintf("--%s %s: want %s", name, value, want)
}

// orDefault is s, or def when s is empty or "0".
func orDefault(s, def string) string {
	if s == "" || s == "0" {
		return def
	}
	return s
}

// parseNoArgs parses flags and refuses positional arguments.
func parseNoArgs(fs *flag.FlagSet, args []string) error {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		if line, ok := usageLines.Load(fs.Name()); ok {
			return usagef("unexpected argument %q: the command takes none; usage: cardflow %s", pos[0], line)
		}
		return usagef("unexpected argument %q", pos[0])
	}
	return nil
}

// oneArg parses flags and returns the single positional argument.
func oneArg(fs *flag.FlagSet, args []string, what string) (string, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	switch {
	case len(pos) == 1 && strings.TrimSpace(pos[0]) == "":
		// An unset shell variable ("$LOGIN"): a path with an empty
		// segment would answer a puzzling "no API endpoint".
		return "", usagef("missing %s: the argument is empty", what)
	case len(pos) == 1:
		return pos[0], nil
	case len(pos) == 0:
		if line, ok := usageLines.Load(fs.Name()); ok {
			// What to write, as the usage says it.
			return "", usagef("missing %s; usage: cardflow %s", what, line)
		}
		return "", usagef("missing %s", what)
	default:
		return "", extraArg(pos, what)
	}
}

// extraArg refuses the arguments pos after the one a command takes (what
// it is): a name with spaces written without quotes (Demo org) is told
// to have them.
func extraArg(pos []string, what string) error {
	if slices.ContainsFunc(pos, func(p string) bool { return strings.ContainsAny(p, "./\\") }) {
		return usagef("unexpected argument %q (only one %s)", pos[1], what) // a path or a login is not a name's word
	}
	return usagef("unexpected argument %q (only one %s): a name with spaces goes in quotes, %s", pos[1], what, shellArg(strings.Join(pos, " ")))
}

// newFlagSet returns a flag set that reports errors instead of exiting and
// prints its usage to e.stderr.
func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	line, _, _ := strings.Cut(usage, "\n")
	usageLines.Store(name, line)
	// The flag package's own report of a wrong flag is left out: the
	// error returned says it once, after the usage.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		// Help asked for is the output, as "cardflow help" is; the usage
		// after a wrong flag goes with the error.
		w := e.stderr
		switch {
		case e.helpAsked:
			w = e.stdout
		case e.jsonErrors:
			return // a wrong flag: the JSON error alone
		}
		fmt.Fprintf(w, "Usage: cardflow %s\n\nFlags:\n", usage)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// usageLines holds each command's usage line ("flows validate FILE
// [--json]"), by the command's name, for the refusal of a missing
// argument.
var usageLines sync.Map

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// inputRefused is err as a usage error (exit 2), the server's message
// kept, when it is the server's refusal of what the command line gave: a
// 400 invalid_input that fromCommandLine accepts. The server reads the
// values of --input by their declared types and finds a missing or blank
// required one; that is as much a wrong command line as an unknown input
// name, which the CLI refuses itself. Other errors are returned as they are.
func inputRefused(err error, fromCommandLine func(*api.Error) bool) error {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && ae.Body.Code == "invalid_input" && fromCommandLine(&ae.Body) {
		return &usageError{msg: err.Error(), err: err}
	}
	return err
}

// anyRefusal accepts every refusal, for a request that is all the
// command line's: a card run's (card, connection, inputs), which the
// server refuses before any run is recorded, a GET's (see fetch), and
// the flags of connections create, reauthorize, update and rotate-key and
// of tokens create (a nickname or domain the server refuses, an unknown
// scope or role, a lifetime that is not a duration).
func anyRefusal(*api.Error) bool { return true }

// flowInputsRefusal accepts the server's refusal of a flow run's inputs,
// which it marks with details.field "inputs"; the problems of the flow
// document itself (details.errors of issues with a line and column) are
// not the command line's.
func flowInputsRefusal(b *api.Error) bool {
	return b.Details["field"] == "inputs"
}
