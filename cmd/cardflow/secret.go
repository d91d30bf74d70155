package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// secretSource is where a command reads a client secret from: stdin, a
// file, or the environment variable CARDFLOW_CLIENT_SECRET, never the
// command line (other users of the machine see a process's arguments, and
// the shell keeps them in its history).
type secretSource struct {
	what  string // "the client secret", for messages
	stdin bool
	file  string
	argv  string // --client-secret VALUE: refused with a remedy
}

// addSecretFlags registers --client-secret-stdin and --client-secret-file
// on fs, and --client-secret only to refuse it with a clear remedy.
func addSecretFlags(fs *flag.FlagSet, what string) *secretSource {
	s := &secretSource{what: what}
	fs.BoolVar(&s.stdin, "client-secret-stdin", false, "read "+what+" from stdin")
	fs.StringVar(&s.file, "client-secret-file", "", "read "+what+" from this file (\"-\" for stdin)")
	fs.StringVar(&s.argv, "client-secret", "", "refused: a secret on the command line is visible to others; use --client-secret-stdin, --client-secret-file or CARDFLOW_CLIENT_SECRET")
	return s
}

// given reports whether any of the secret options was used.
func (s *secretSource) given() bool { return s.stdin || s.file != "" || s.argv != "" }

const secretRemedy = "use --client-secret-stdin, --client-secret-file FILE or the environment variable CARDFLOW_CLIENT_SECRET"

// check refuses the options that no input could make right (a secret on
// the command line, two sources), before anything is read or sent.
func (s *secretSource) check() error {
	if s.argv != "" {
		return usagef("--client-secret VALUE puts %s on the command line, where other users of this machine and the shell history see it: %s", s.what, secretRemedy)
	}
	if s.stdin && s.file != "" {
		return usagef("--client-secret-stdin and --client-secret-file contradict each other: use one")
	}
	return nil
}

// read returns the secret from the one source the options name, else from
// CARDFLOW_CLIENT_SECRET.
func (s *secretSource) read(e *env) (string, error) {
	const remedy = secretRemedy
	if err := s.check(); err != nil {
		return "", err
	}
	var secret string
	switch {
	case (s.stdin || s.file == "-") && e.readSecret != nil:
		// Read to its end, a terminal would wait for Ctrl-D after the
		// secret, silently, and show it as it is typed.
		v, err := e.readSecret(fmt.Sprintf("Paste %s (it is not shown), then press Enter: ", s.what))
		if err != nil {
			return "", fmt.Errorf("read %s from the terminal: %w", s.what, err)
		}
		secret = strings.TrimSpace(v)
	case s.stdin || s.file == "-":
		b, err := io.ReadAll(io.LimitReader(e.stdin, 64<<10))
		if err != nil {
			return "", fmt.Errorf("read %s from stdin: %w", s.what, err)
		}
		secret = strings.TrimSpace(string(b))
	case s.file != "":
		b, err := os.ReadFile(s.file)
		if err != nil {
			return "", argFileError("--client-secret-file", err)
		}
		secret = strings.TrimSpace(string(b))
	case e.getenv("CARDFLOW_CLIENT_SECRET") != "":
		// Trimmed as a file's is: "$(cat secret.txt)" of a file saved
		// with Windows line ends keeps its carriage return.
		secret = strings.TrimSpace(e.getenv("CARDFLOW_CLIENT_SECRET"))
	default:
		return "", usagef("missing client secret: %s", remedy)
	}
	if secret == "" {
		return "", usagef("%s is empty: give the OAuth app's client secret", s.what)
	}
	return secret, nil
}

// terminalSecretReader is env.readSecret for stdin: nil unless stdin is a
// terminal, else a reader that prompts on w and reads one line without
// echo.
func terminalSecretReader(stdin *os.File, w io.Writer) func(string) (string, error) {
	if !term.IsTerminal(int(stdin.Fd())) {
		return nil
	}
	return func(prompt string) (string, error) {
		fmt.Fprint(w, prompt)
		b, err := term.ReadPassword(int(stdin.Fd()))
		fmt.Fprintln(w) // the Enter that ended it was not echoed
		return string(b), err
	}
}
