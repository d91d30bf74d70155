package main

import (
	"regexp"
	"strings"
)

// plainArg is what a POSIX shell takes as one word without quotes.
var plainArg = regexp.MustCompile(`^[A-Za-z0-9@%+=:,./_-]+$`)

// shellArg returns s as one word of a command line a person can paste
// into a POSIX shell: a nickname such as Demo org, unquoted, would be two
// arguments.
func shellArg(s string) string {
	if plainArg.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
