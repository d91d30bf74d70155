package web

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// A client that sends its headers and then only part of its body is cut
// off once BodyTimeout has passed, whether the handler reads the body or
// net/http reads it after an answer given without reading it; it held the
// connection for as long as it kept it open.
func TestSlowBodyIsCutOff(t *testing.T) {
	readErr := make(chan error, 1)
	ts, _ := newTestServer(t, &Server{
		BodyTimeout: 50 * time.Millisecond,
		Hooks: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, err := io.ReadAll(r.Body)
			readErr <- err
			http.Error(w, "body not read", http.StatusBadRequest)
		}),
	})
	addr := strings.TrimPrefix(ts.URL, "http://")
	tests := []struct {
		name, path, auth string
		readsBody        bool
	}{
		{name: "body read by the handler", path: "/hooks/okta/h", readsBody: true},
		{name: "body left unread (unknown API path)", path: "/api/v1/nothing", auth: "Bearer " + testToken},
		{name: "body left unread (no API token)", path: "/api/v1/nothing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			req := "POST " + tt.path + " HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"
			if tt.auth != "" {
				req += "Authorization: " + tt.auth + "\r\n"
			}
			if _, err := io.WriteString(conn, req+"\r\n{\"a\":"); err != nil {
				t.Fatal(err)
			}
			// The safety net of the test only: the server is to end the
			// connection within its 50 ms.
			_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			got, err := io.ReadAll(bufio.NewReader(conn))
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("the server still waited for the rest of the body after 10 s (read so far: %q)", got)
			}
			if tt.readsBody {
				if err := <-readErr; !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Errorf("the handler's read of the body ended with %v; want the deadline", err)
				}
			}
		})
	}
}
