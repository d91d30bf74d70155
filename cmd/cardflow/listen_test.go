package main

import (
	"net"
	"strings"
	"testing"
)

// TestServeListenErrorsSayWhatToDo starts serve and demo on an address they
// cannot listen on: each says why and how to pick another.
func TestServeListenErrorsSayWhatToDo(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	tests := []struct {
		name    string
		args    []string
		want    []string
		notWant string
	}{
		{name: "serve on a port in use", args: []string{"serve", "-listen", taken.Addr().String()},
			want: []string{"address already in use", "another process", "-listen (127.0.0.1:0 picks a free port)"}},
		{name: "demo on a port in use", args: []string{"demo", "-listen", taken.Addr().String()},
			want: []string{"address already in use", "-listen (127.0.0.1:0 picks a free port)"}},
		{name: "serve on an address without a port", args: []string{"serve", "-listen", "localhost"},
			want: []string{`listen on "localhost"`, "-listen wants HOST:PORT, e.g. 127.0.0.1:8080"}, notWant: "another process"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "-data-dir", t.TempDir())
			code, out, errOut := runCLI(t, map[string]string{"CARDFLOW_API_TOKEN": e2eToken}, args...)
			if code != exitFailure {
				t.Errorf("exit %d; want %d", code, exitFailure)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q\n%s%s", w, out, errOut)
				}
			}
			if tc.notWant != "" && strings.Contains(errOut, tc.notWant) {
				t.Errorf("stderr has %q\n%s", tc.notWant, errOut)
			}
		})
	}
}
