package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

const day = 24 * time.Hour

// lifetimeJSON is the part of a connection view about its refresh token.
type lifetimeJSON struct {
	Status                string     `json:"status"`
	StatusReason          string     `json:"statusReason"`
	Remedy                string     `json:"remedy"`
	Auth                  string     `json:"auth"`
	RefreshTokenExpiresAt *time.Time `json:"refreshTokenExpiresAt"`
	ExpiresSoon           bool       `json:"expiresSoon"`
}

func (h *harness) lifetime(id string) lifetimeJSON {
	h.t.Helper()
	var v lifetimeJSON
	if code, data := h.call("GET", "/api/v1/connections/"+id, nil, &v); code != http.StatusOK {
		h.t.Fatalf("get connection: %d %s", code, data)
	}
	return v
}

// metrics returns the server's /metrics text.
func (h *harness) metrics() string {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.url+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestNinetyDays is the 90-day story on the emulator clock: Okta's refresh
// token ends 90 days after the sign-in however often it is refreshed, so a
// refresh on day 10 keeps the expiry; on day 77 the connection is expiring
// soon (metric, one connection.expiring notification, flagged in the
// view); on day 91 it is needs_reauthorization with a reason that names
// the limit and the sign-in date, and a card fails before calling Okta;
// reauthorizing starts a new 90 days.
func TestNinetyDays(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	received := make(chan map[string]any, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		received <- m
	}))
	defer receiver.Close()
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.Now = emu.Now
		c.ExpiryCheckInterval = time.Hour // the test runs the check itself
		c.NotifyURLs, c.NotifySecret = []string{receiver.URL}, "a-long-random-notification-secret"
	})
	ctx := context.Background()
	// The sign-in happens between these two times, however slow the
	// machine; the refresh token ends 90 days after it.
	signInFrom := emu.Now().Truncate(time.Second)
	c := h.connect("Ninety")
	signInTo := emu.Now()
	v := h.lifetime(c.ID)
	if v.Auth != "user" || v.RefreshTokenExpiresAt == nil || v.RefreshTokenExpiresAt.Before(signInFrom.Add(90*day)) ||
		v.RefreshTokenExpiresAt.After(signInTo.Add(90*day)) || v.ExpiresSoon {
		t.Fatalf("after the sign-in: %+v; want auth user, refreshTokenExpiresAt 90 days after the sign-in (%v to %v), not expiring soon",
			v, signInFrom.Add(90*day), signInTo.Add(90*day))
	}
	want := *v.RefreshTokenExpiresAt
	signIn := want.Add(-90 * day)
	line := grepLines(h.metrics(), `cardflow_connection_refresh_expiry_timestamp_seconds{connection="Ninety"}`)
	var got float64
	if _, err := fmt.Sscanf(strings.TrimSpace(strings.TrimPrefix(line, `cardflow_connection_refresh_expiry_timestamp_seconds{connection="Ninety"}`)), "%g", &got); err != nil || int64(got) != want.Unix() {
		t.Errorf("metric line %q; want the refresh expiry %d", line, want.Unix())
	}

	// Day 10: the access token has long expired; a card run refreshes
	// (rotating the refresh token) and the expiry stays.
	emu.AdvanceClock(t, 10*day)
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("day 10 run: %d %s %+v", code, r.Status, r.Error)
	}
	if got := emu.Stats(t)["POST /oauth2/v1/token"]; got != 2 {
		t.Errorf("%d token requests by day 10; want 2 (code exchange, one refresh)", got)
	}
	if v := h.lifetime(c.ID); v.RefreshTokenExpiresAt == nil || !v.RefreshTokenExpiresAt.Equal(want) || v.ExpiresSoon {
		t.Errorf("day 10: %+v; want the same expiry %v, not expiring soon", v, want)
	}

	// Day 77: inside the 336h warning.
	emu.AdvanceClock(t, 67*day)
	for range 2 {
		if err := h.app.Connections.CheckExpiries(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if v := h.lifetime(c.ID); !v.ExpiresSoon || v.Status != "active" {
		t.Errorf("day 77: %+v; want active and expiring soon", v)
	}
	if n := countActions(h.audit("connection="+c.ID), "connection.expiring"); n != 1 {
		t.Errorf("%d connection.expiring events; want 1", n)
	}
	checkServerActed(t, h.audit("connection="+c.ID), "connection.expiring")
	select {
	case m := <-received:
		conn, _ := m["connection"].(map[string]any)
		if m["type"] != "connection.expiring" || conn["id"] != c.ID || conn["expiresAt"] == nil || !strings.Contains(fmt.Sprint(m["message"]), "90 days") {
			t.Errorf("notification %v; want connection.expiring for %s with expiresAt", m, c.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no connection.expiring notification reached the receiver")
	}
	var list struct {
		Connections []lifetimeJSON `json:"connections"`
	}
	h.call("GET", "/api/v1/connections", nil, &list)
	if len(list.Connections) != 1 || !list.Connections[0].ExpiresSoon {
		t.Errorf("list on day 77: %+v; want it flagged", list.Connections)
	}

	// Day 91: past the end. The card fails before any call to Okta.
	emu.AdvanceClock(t, 14*day)
	before := emu.Stats(t)
	code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{})
	if r.Error == nil || r.Error.Code != "needs_reauthorization" {
		t.Fatalf("day 91 run: %d %s %+v; want needs_reauthorization", code, r.Status, r.Error)
	}
	after := emu.Stats(t)
	if after["GET /api/v1/devices"] != before["GET /api/v1/devices"] || after["POST /oauth2/v1/token"] != before["POST /oauth2/v1/token"] {
		t.Errorf("the day-91 run called Okta: before %v after %v", before, after)
	}
	v = h.lifetime(c.ID)
	if v.Status != "needs_reauthorization" || !strings.Contains(v.StatusReason, "90 days") ||
		!strings.Contains(v.StatusReason, signIn.UTC().Format("2006-01-02")) || !strings.Contains(v.Remedy, "reauthorize") {
		t.Errorf("day 91: %+v; want needs_reauthorization naming the 90-day limit and the sign-in date %s", v, signIn.UTC().Format("2006-01-02"))
	}
	// The receiver hears of it: the notice was stored with the status.
	select {
	case m := <-received:
		conn, _ := m["connection"].(map[string]any)
		if m["type"] != "connection.needs_reauthorization" || conn["id"] != c.ID || conn["status"] != "needs_reauthorization" ||
			conn["statusReasonCode"] != "refresh_token_expired" ||
			!strings.Contains(fmt.Sprint(conn["statusReason"]), "90 days") || !strings.Contains(fmt.Sprint(m["message"]), "a new sign-in starts a new 90 days") {
			t.Errorf("notification %v; want connection.needs_reauthorization for %s, refresh_token_expired, naming the 90-day limit, and in its message the fix", m, c.ID)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no connection.needs_reauthorization notification reached the receiver")
	}

	// Reauthorizing starts a new 90 days (from the new sign-in, which
	// happens between these two times).
	var re struct {
		AuthorizeURL string `json:"authorizeUrl"`
	}
	signInFrom = emu.Now().Truncate(time.Second)
	if code, data := h.call("POST", "/api/v1/connections/"+c.ID+"/reauthorize", map[string]any{}, &re); code != http.StatusOK {
		t.Fatalf("reauthorize: %d %s", code, data)
	}
	if code, page := h.signIn(re.AuthorizeURL, oktaemu.AdminLogin); code != http.StatusOK {
		t.Fatalf("reauthorize sign-in: %d %s", code, page)
	}
	signInTo = emu.Now()
	v = h.lifetime(c.ID)
	if v.Status != "active" || v.RefreshTokenExpiresAt == nil || v.RefreshTokenExpiresAt.Before(signInFrom.Add(90*day)) ||
		v.RefreshTokenExpiresAt.After(signInTo.Add(90*day)) || v.ExpiresSoon {
		t.Errorf("after reauthorizing: %+v; want active until 90 days after the new sign-in (%v to %v)", v, signInFrom.Add(90*day), signInTo.Add(90*day))
	}
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Errorf("run after reauthorizing: %d %s %+v", code, r.Status, r.Error)
	}
}

// checkServerActed checks that the events of each action name cardflow
// itself as their actor, as what it does on its own: a person's or a
// token's name there would be wrong, and no actor at all names no one.
func checkServerActed(t *testing.T, events []map[string]any, actions ...string) {
	t.Helper()
	for _, action := range actions {
		n := 0
		for _, e := range events {
			if e["action"] != action {
				continue
			}
			n++
			if a, _ := e["actor"].(map[string]any); a["type"] != store.ActorServer || len(a) != 1 {
				t.Errorf("%s event actor %v; want {type: %s}", action, e["actor"], store.ActorServer)
			}
		}
		if n == 0 {
			t.Errorf("no %s event", action)
		}
	}
}

func countActions(events []map[string]any, action string) int {
	n := 0
	for _, e := range events {
		if e["action"] == action {
			n++
		}
	}
	return n
}

// TestNinetyDaysByTheOrgsClock is the 90-day story when only the org's
// clock moves, as the demo's POST /_emulator/clock moves it: this server
// keeps its own. A card run 80 days after the sign-in by the org's clock
// learns it from the org's answers, and the connection is expiring soon (in
// the API, and one connection.expiring notification counting the days left
// by the org's clock). 91 days after it, a card run is refused with the
// 90-day end before the refresh token is presented: no token request.
// Where the expiry went by this server's clock, no warning came and the
// org's refusal of the refresh token stopped the connection.
func TestNinetyDaysByTheOrgsClock(t *testing.T) {
	t.Parallel()
	emu := emutest.Start(t, oktaemu.Config{Devices: 3})
	received := make(chan map[string]any, 16)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		received <- m
	}))
	defer receiver.Close()
	h := startServer(t, emu, t.TempDir(), func(c *Config) {
		c.ExpiryCheckInterval = time.Hour // the test runs the check itself
		c.NotifyURLs, c.NotifySecret = []string{receiver.URL}, "a-long-random-notification-secret"
	})
	ctx := context.Background()
	c := h.connect("Org clock")
	v := h.lifetime(c.ID)
	if v.RefreshTokenExpiresAt == nil || v.ExpiresSoon {
		t.Fatalf("after the sign-in: %+v; want the expiry known, not expiring soon", v)
	}
	end := v.RefreshTokenExpiresAt.UTC().Format("2006-01-02")

	// Day 80 and an hour, by the org's clock alone.
	emu.AdvanceClock(t, 80*day+time.Hour)
	if code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{}); code != http.StatusCreated || r.Status != "succeeded" {
		t.Fatalf("day 80 run: %d %s %+v", code, r.Status, r.Error)
	}
	if v := h.lifetime(c.ID); !v.ExpiresSoon || v.Status != "active" {
		t.Errorf("day 80: %+v; want active and expiring soon", v)
	}
	for range 2 {
		if err := h.app.Connections.CheckExpiries(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := countActions(h.audit("connection="+c.ID), "connection.expiring"); n != 1 {
		t.Errorf("%d connection.expiring events; want 1", n)
	}
	select {
	case m := <-received:
		if m["type"] != "connection.expiring" || !strings.Contains(fmt.Sprint(m["message"]), end+" (in 9 days)") {
			t.Errorf("notification %v; want connection.expiring, on %s in 9 days", m, end)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no connection.expiring notification reached the receiver")
	}

	// Day 91: the run is refused without a token request.
	emu.AdvanceClock(t, 11*day)
	before := emu.Stats(t)
	code, r := h.run("okta-devices/search-devices", c.ID, map[string]any{})
	if r.Error == nil || r.Error.Code != "needs_reauthorization" || !strings.Contains(r.Error.Message, "expired on "+end) || !strings.Contains(r.Error.Message, "90 days") {
		t.Fatalf("day 91 run: %d %s %+v; want needs_reauthorization naming the 90-day end on %s", code, r.Status, r.Error, end)
	}
	if after := emu.Stats(t); after["POST /oauth2/v1/token"] != before["POST /oauth2/v1/token"] {
		t.Errorf("the day-91 run asked the org for a token: before %v after %v", before, after)
	}
	if v := h.lifetime(c.ID); v.Status != "needs_reauthorization" || !strings.Contains(v.StatusReason, "90 days") {
		t.Errorf("day 91: %+v; want needs_reauthorization naming the 90-day limit", v)
	}
	if n := countActions(h.audit("connection="+c.ID), "connection.expired"); n != 1 {
		t.Errorf("%d connection.expired events; want 1", n)
	}
}
