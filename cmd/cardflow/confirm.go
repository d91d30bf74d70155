package main

import (
	"bufio"
	"fmt"
	"strings"
)

// yesFlag is the usage of --yes, the flag of every command that asks
// first.
const yesFlag = "do it without asking first; without a terminal on standard input (a script, a pipe) the command refuses to run unless --yes is given"

// needsAnswer refuses a command that cannot be undone when nobody can be
// asked: standard input is not a terminal and --yes was not given. cmd is
// the command ("connections delete"), what says what it would do ("delete
// connection \"Prod\"") and again the command line that does it without
// asking. It returns nil when yes is set or the question can be asked.
func needsAnswer(e *env, yes bool, cmd, what, again string) error {
	if yes || e.stdinTTY {
		return nil
	}
	return usagef("%s cannot be undone, so it asks first, and standard input is not a terminal to answer at: "+
		"add --yes to %s without being asked: %s", cmd, what, again)
}

// confirm asks the person at the terminal, as the console asks before its
// Delete and Revoke buttons act: it prints question and the lines that
// say what happens on stderr, and reads the answer from standard input.
// act is what yes does ("delete it"). It returns nil for y or yes, and
// otherwise an error saying that nothing was done (notDone, such as
// "connection \"Prod\" was not deleted").
func confirm(e *env, question string, lines []string, act, notDone string) error {
	fmt.Fprintln(e.stderr, question)
	for _, l := range lines {
		fmt.Fprintln(e.stderr, "  "+l)
	}
	fmt.Fprintf(e.stderr, "Type yes to %s; anything else keeps it: ", act)
	answer, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && answer == "" {
		fmt.Fprintln(e.stderr)
		return fmt.Errorf("%s: standard input ended before an answer (type yes, or add --yes)", notDone)
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("%s: the answer was not yes", notDone)
}
