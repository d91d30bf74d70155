package main

import (
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/api"
)

// TestShowFailingPoll: connections show names a failing System Log poll,
// since when, and its remedy; a poll that works prints no such lines.
func TestShowFailingPoll(t *testing.T) {
	since := time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC)
	c := api.ConnectionDetail{Connection: api.Connection{ID: "conn_1", Nickname: "Prod", Status: "active"},
		EventSource: &api.EventSource{EventTypes: []string{}, PollError: "Okta refused the request", PollRemedy: "grant okta.logs.read", PollFailingSince: &since}}
	var b strings.Builder
	printConnection(&b, &c, nil)
	for _, want := range []string{"System Log poll:  failing since " + when(since) + ": Okta refused the request", "Poll remedy:      grant okta.logs.read"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("connections show lacks %q:\n%s", want, b.String())
		}
	}
	c.EventSource.PollError, c.EventSource.PollRemedy, c.EventSource.PollFailingSince = "", "", nil
	b.Reset()
	printConnection(&b, &c, nil)
	if strings.Contains(b.String(), "System Log poll") || strings.Contains(b.String(), "Poll remedy") {
		t.Errorf("a working poll prints a failure:\n%s", b.String())
	}
}

// TestShowUnknownExpiry: a signed-in user connection whose refresh token
// expiry the org has not told yet says so, where connections show
// printed no line and the 90-day end seemed not to apply; a known expiry
// is printed as a date.
func TestShowUnknownExpiry(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := api.ConnectionDetail{Connection: api.Connection{ID: "conn_1", Nickname: "Prod", Status: "active", Auth: "user", AuthorizedAt: &at,
		AuthorizedBy: &api.AuthorizedBy{Type: "user", Login: "admin@example.com"}}}
	var b strings.Builder
	printConnection(&b, &c, nil)
	if !strings.Contains(b.String(), "Refresh expires:  not known yet") {
		t.Errorf("connections show of an unknown expiry:\n%s", b.String())
	}
	exp := at.Add(90 * 24 * time.Hour)
	c.RefreshTokenExpiresAt = &exp
	b.Reset()
	printConnection(&b, &c, nil)
	if !strings.Contains(b.String(), "Refresh expires:  "+when(exp)) || strings.Contains(b.String(), "not known") {
		t.Errorf("connections show of a known expiry:\n%s", b.String())
	}
	// Past it (no card has found that yet: still active).
	c.RefreshTokenExpired = true
	b.Reset()
	printConnection(&b, &c, nil)
	if !strings.Contains(b.String(), "Refresh expired:  "+when(exp)+" (EXPIRED: reauthorize") {
		t.Errorf("connections show of an expired refresh token:\n%s", b.String())
	}
	if got, want := statusText(&c.Connection), "active (expired "+exp.Format("2006-01-02")+": reauthorize)"; got != want {
		t.Errorf("connections list status of an expired refresh token %q; want %q", got, want)
	}
	c.RefreshTokenExpired = false
	c.Auth, c.RefreshTokenExpiresAt = "service", nil
	b.Reset()
	printConnection(&b, &c, nil)
	if strings.Contains(b.String(), "Refresh expires") {
		t.Errorf("a service connection has no refresh token:\n%s", b.String())
	}
}
