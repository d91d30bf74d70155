package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cardflow/cardflow/internal/api"
)

// jsonError is a failure as a command run with --json reports it: one line
// of JSON, the last on stderr, {"error": jsonError}. Code and Details are
// the server's error body as the API sends it (the remedy in Details too),
// Message its message without the remedy, which is Remedy; a failure
// raised by the CLI itself has one of the CLI's codes (codeUsage, ...).
// Status is the HTTP status of the server's answer (absent for a failure
// raised by the CLI), and ExitCode and ExitClass are the exit status the
// command ends with.
type jsonError struct {
	Code      string         `json:"code"`
	Message   string         `json:"message"`
	Remedy    string         `json:"remedy,omitempty"`
	Details   map[string]any `json:"details,omitempty"`
	Status    int            `json:"status,omitempty"`
	ExitCode  int            `json:"exitCode"`
	ExitClass string         `json:"exitClass"`
}

// The codes of the failures the CLI raises itself; every other code is
// the server's.
const (
	codeUsage       = "usage"       // the command line is wrong (exit 2)
	codeUnreachable = "unreachable" // no connection to the server
	codeNoAnswer    = "no_answer"   // the server did not answer (in time)
	codeBadAnswer   = "bad_answer"  // the answer is not a cardflow server's
	codeInterrupted = "interrupted" // Ctrl-C or SIGTERM (exit 130)
	codeFailed      = "failed"      // anything else: a file, a failed run, ...
)

// exitClass names an exit code in jsonError.
func exitClass(code int) string {
	switch code {
	case exitUsage:
		return "usage"
	case exitInterrupted:
		return "interrupted"
	}
	return "failure"
}

// scanArgs reports whether the command line asks for JSON (--json, -json
// or --json=BOOL) and for help (-h, -help, --help), before a "--". It is
// read before the command parses its flags, so that a command line the
// command cannot parse is reported as JSON too.
func scanArgs(args []string) (wantJSON, help bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		name, ok := strings.CutPrefix(a, "--")
		if !ok {
			name, ok = strings.CutPrefix(a, "-")
		}
		if !ok {
			continue
		}
		name, val, hasVal := strings.Cut(name, "=")
		switch {
		case name == "h" || name == "help":
			help = true
		case name != "json":
		case !hasVal:
			wantJSON = true
		default:
			if b, err := strconv.ParseBool(val); err == nil {
				wantJSON = b
			}
		}
	}
	return wantJSON, help
}

// reportedError is a failure the command has printed already (a failed
// card run, a connection that did not become active), with what its
// --json error says of it.
type reportedError struct{ body api.Error }

func (e *reportedError) Error() string { return e.body.Message }

// Is makes a reportedError errReported: nothing more is printed as text.
func (e *reportedError) Is(target error) bool { return target == errReported }

// reported is errReported with the error --json reports for it: code
// (codeFailed when empty), message and remedy.
func reported(code, message, remedy string) error {
	if code == "" {
		code = codeFailed
	}
	b := api.Error{Code: code, Message: message}
	if remedy != "" {
		b.Details = map[string]any{"remedy": remedy}
	}
	return &reportedError{body: b}
}

// newJSONError is err, which ends the command with exit code exit, as
// --json reports it.
func newJSONError(ctx context.Context, err error, exit int) jsonError {
	je := jsonError{Code: codeFailed, Message: err.Error(), ExitCode: exit, ExitClass: exitClass(exit)}
	var (
		ae *apiError
		re *reportedError
		ue *usageError
		un *unansweredError
		nr *unreachableError
	)
	switch {
	case errors.As(err, &re):
		je.Code, je.Message, je.Details = re.body.Code, re.body.Message, re.body.Details
	case errors.As(err, &ae):
		je.Status, je.Details = ae.Status, ae.Body.Details
		je.Code = ae.Body.Code
		if je.Code == "" {
			je.Code = codeBadAnswer
		}
		// What the command adds around the server's error (how to go
		// on) stays; the error itself is the server's message.
		je.Message = strings.Replace(je.Message, ae.Error(), ae.Body.Message, 1)
	case errors.As(err, &ue):
		je.Code = codeUsage
	case errors.As(err, &un):
		je.Code = codeNoAnswer
	case errors.As(err, &nr):
		je.Code = codeUnreachable
	}
	if ctx.Err() != nil && exit == exitInterrupted {
		je.Code = codeInterrupted
	}
	if msg, remedy, ok := strings.Cut(je.Message, "\nRemedy: "); ok {
		je.Message, je.Remedy = msg, remedy
	}
	if r, ok := je.Details["remedy"].(string); ok && r != "" {
		// The API's message ends with its remedy; here it is said once.
		je.Remedy = r
		je.Message = strings.Replace(je.Message, "; "+r, "", 1)
	}
	return je
}

// printJSONError writes err as --json reports it: {"error": {...}} on one
// line.
func printJSONError(w io.Writer, je jsonError) {
	b, err := json.Marshal(map[string]jsonError{"error": je})
	if err != nil { // a detail that JSON cannot hold
		je.Details = nil
		b, _ = json.Marshal(map[string]jsonError{"error": je})
	}
	fmt.Fprintf(w, "%s\n", b)
}
