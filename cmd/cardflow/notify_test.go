package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestServeNotifyReceivers: notification receivers may come from
// CARDFLOW_NOTIFY_URLS (out of the process list) as well as -notify-url,
// serve -h says so, and a refused start never quotes a receiver's URL,
// whose path or query may be a webhook's key.
func TestServeNotifyReceivers(t *testing.T) {
	const slack, chat = "https://hooks.slack.com/services/T0/B0/path-s3cret", "https://chat.example.com/v1/spaces/X/messages?token=tok-s3cret"
	tests := []struct {
		name     string
		vars     map[string]string
		args     []string
		wantCode int
		want     []string
	}{
		{name: "receivers in the environment need the secret", vars: map[string]string{"CARDFLOW_NOTIFY_URLS": "\n" + slack + "  " + chat + "\n"},
			wantCode: exitUsage, want: []string{"-notify-url (or CARDFLOW_NOTIFY_URLS) needs CARDFLOW_NOTIFY_SECRET"}},
		{name: "a receiver in the environment that is no URL", vars: map[string]string{"CARDFLOW_NOTIFY_URLS": slack + " hooks.slack.com/services/T0/B0/x-s3cret", "CARDFLOW_NOTIFY_SECRET": "a-long-random-secret"},
			wantCode: exitUsage, want: []string{"-notify-url or CARDFLOW_NOTIFY_URLS: notification receiver ", "is not an http:// or https:// URL"}},
		{name: "a second URL after one -notify-url", args: []string{"-notify-url", chat, slack},
			wantCode: exitUsage, want: []string{"unexpected argument https://hooks.slack.com/…: give each notification receiver its own -notify-url, or list them in CARDFLOW_NOTIFY_URLS"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "-listen", "127.0.0.1:0", "-data-dir", filepath.Join(t.TempDir(), "data")}, tc.args...)
			code, out, errOut := runCLI(t, tc.vars, args...)
			if code != tc.wantCode {
				t.Errorf("exit %d; want %d\n%s%s", code, tc.wantCode, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q\n%s", w, errOut)
				}
			}
			if strings.Contains(out+errOut, "s3cret") || strings.Contains(out+errOut, "/services") {
				t.Errorf("the output quotes a receiver's URL:\n%s%s", out, errOut)
			}
		})
	}
	code, help, _ := runCLI(t, nil, "serve", "-h")
	if code != exitOK || !strings.Contains(help, "CARDFLOW_NOTIFY_URLS (notification receivers, whitespace-separated") {
		t.Errorf("serve -h: exit %d\n%s\nwant CARDFLOW_NOTIFY_URLS explained", code, help)
	}
}
