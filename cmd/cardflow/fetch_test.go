package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFetch(t *testing.T) {
	var gotPath string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.String()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"name":"x","extra":{"kept":true}}`)
	}))
	t.Cleanup(srv.Close)
	c := &client{base: srv.URL, token: "t", http: srv.Client()}
	type view struct {
		Name string `json:"name"`
	}
	human := func(w io.Writer, v *view) { fmt.Fprintf(w, "Name: %s\n", v.Name) }

	tests := []struct {
		name string
		json bool
		want string
	}{
		{name: "human", want: "Name: x\n"},
		{name: "json keeps the whole answer", json: true, want: "{\n  \"name\": \"x\",\n  \"extra\": {\n    \"kept\": true\n  }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := fetch(t.Context(), c, &clientOpts{json: tt.json}, &out, "/api/v1/thing", human); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got %q; want %q", out.String(), tt.want)
			}
		})
	}
	if gotPath != "/api/v1/thing" {
		t.Errorf("path %q; want /api/v1/thing", gotPath)
	}
}

func TestListPath(t *testing.T) {
	tests := []struct {
		name    string
		filters []string
		want    string
	}{
		{name: "no filters", want: "/api/v1/runs?limit=20"},
		{name: "empty filters left out", filters: []string{"connection", "", "card", "okta-devices/x"}, want: "/api/v1/runs?card=okta-devices%2Fx&limit=20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := listPath("/api/v1/runs", 20, tt.filters...); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
	if got := listPath("/api/v1/audit", 5, "action", "a&b"); !strings.Contains(got, "action=a%26b") {
		t.Errorf("got %q; want the value escaped", got)
	}
}
