package main

import "testing"

// TestShellArg: a name printed in a command to paste is one word of it.
func TestShellArg(t *testing.T) {
	for in, want := range map[string]string{
		"Prod":             "Prod",
		"conn_7x2k":        "conn_7x2k",
		"Demo org":         "'Demo org'",
		"Bob's org":        `'Bob'\''s org'`,
		"$HOME":            "'$HOME'",
		"":                 "''",
		"flows/a b.yaml":   "'flows/a b.yaml'",
		"user@example.com": "user@example.com",
	} {
		if got := shellArg(in); got != want {
			t.Errorf("shellArg(%q) = %s; want %s", in, got, want)
		}
	}
}
