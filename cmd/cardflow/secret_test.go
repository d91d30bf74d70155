package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSecretSources reads a client secret from each allowed source, and
// refuses the command line, two sources at once, and an empty secret, each
// with a usage error that says what to do instead.
func TestSecretSources(t *testing.T) {
	file := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(file, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "empty.txt")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		stdin   string
		envVar  string
		want    string
		wantErr string // a usage error containing this
	}{
		{name: "stdin", args: []string{"--client-secret-stdin"}, stdin: "from-stdin\n", want: "from-stdin"},
		{name: "file dash is stdin", args: []string{"--client-secret-file", "-"}, stdin: "from-stdin", want: "from-stdin"},
		{name: "file", args: []string{"--client-secret-file", file}, want: "from-file"},
		{name: "a file beats the environment", args: []string{"--client-secret-file", file}, envVar: "from-env", want: "from-file"},
		{name: "environment", envVar: "from-env", want: "from-env"},
		{name: "environment with a Windows line end", envVar: "from-env\r\n", want: "from-env"},
		{name: "environment of spaces", envVar: "  ", wantErr: "is empty"},
		{name: "command line refused", args: []string{"--client-secret", "s3cr3t-canary"}, envVar: "from-env", wantErr: "command line"},
		{name: "two sources", args: []string{"--client-secret-stdin", "--client-secret-file", file}, wantErr: "contradict"},
		{name: "empty", args: []string{"--client-secret-file", empty}, wantErr: "is empty"},
		{name: "none", wantErr: "CARDFLOW_CLIENT_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			src := addSecretFlags(fs, "the client secret")
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			e := &env{stdin: strings.NewReader(tt.stdin), getenv: func(k string) string {
				if k == "CARDFLOW_CLIENT_SECRET" {
					return tt.envVar
				}
				return ""
			}}
			got, err := src.read(e)
			if tt.wantErr != "" {
				var ue *usageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("read: %v; want a usage error containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr3t-canary") {
					t.Errorf("the error repeats the secret: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("read = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestSecretFromTerminal: --client-secret-stdin (or --client-secret-file
// -) on a terminal asks for the secret on stderr and reads the one line
// typed, unechoed, where reading stdin to its end waited silently for
// Ctrl-D and showed the secret; a pipe or a file is read to its end.
func TestSecretFromTerminal(t *testing.T) {
	for _, args := range [][]string{{"--client-secret-stdin"}, {"--client-secret-file", "-"}} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		src := addSecretFlags(fs, "the new client secret")
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		var prompts []string
		e := &env{stdin: strings.NewReader("never read"), getenv: func(string) string { return "" },
			readSecret: func(prompt string) (string, error) {
				prompts = append(prompts, prompt)
				return " typed-secret ", nil
			}}
		got, err := src.read(e)
		if err != nil || got != "typed-secret" || len(prompts) != 1 || !strings.Contains(prompts[0], "Paste the new client secret (it is not shown), then press Enter") {
			t.Errorf("%v on a terminal: read = %q, %v, prompts %q; want the typed secret after one prompt", args, got, err, prompts)
		}
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if terminalSecretReader(r, io.Discard) != nil {
		t.Error("terminalSecretReader of a pipe is not nil: a piped secret would be asked for")
	}
}
