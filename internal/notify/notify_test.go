package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store"
	"github.com/cardflow/cardflow/internal/store/sqlite"
	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// receiver is a test endpoint that checks signatures the way a receiver
// would and answers with the statuses it is given, then 200.
type receiver struct {
	t      *testing.T
	secret []byte

	mu       sync.Mutex
	statuses []int
	got      []Message
	bad      int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	sig, ok := strings.CutPrefix(req.Header.Get(SignatureHeader), "sha256=")
	want := hmac.New(sha256.New, r.secret)
	want.Write(body)
	raw, err := hex.DecodeString(sig)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok || err != nil || !hmac.Equal(raw, want.Sum(nil)) || req.Header.Get("Content-Type") != "application/json" {
		r.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		r.t.Errorf("body %s: %v", body, err)
	}
	r.got = append(r.got, m)
	status := http.StatusOK
	if len(r.statuses) > 0 {
		status, r.statuses = r.statuses[0], r.statuses[1:]
	}
	w.WriteHeader(status)
}

func (r *receiver) messages() []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Message(nil), r.got...)
}

// dbFiles holds each test's database file, for the tests that read it.
var dbFiles = map[*testing.T]string{}

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func setup(t *testing.T, statuses ...int) (*receiver, *Outbox, *Sender, *clock, store.Store) {
	t.Helper()
	path := sqlitetest.NewFile(t)
	dbFiles[t] = path
	t.Cleanup(func() { delete(dbFiles, t) })
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rcv := &receiver{t: t, secret: []byte("s3cret"), statuses: statuses}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	c := &clock{now: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)}
	to := receivers(t, srv.URL+"/hook")
	out := &Outbox{Store: st, Receivers: to, Now: c.Now}
	snd := &Sender{Store: st, Secret: rcv.secret, Owner: "test", Receivers: to, Now: c.Now, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}
	return rcv, out, snd, c, st
}

func receivers(t *testing.T, urls ...string) []Receiver {
	t.Helper()
	rs, err := ParseReceivers(urls)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestSignedDelivery(t *testing.T) {
	rcv, out, snd, _, st := setup(t)
	m := Message{Type: TypeFlowRunFailed, Message: "flow x: run r1 failed",
		FlowRun: &FlowRunInfo{ID: "r1", FlowID: "f1", Flow: "x", Status: "failed", Trigger: "schedule"}}
	if err := out.Enqueue(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if !snd.SendDue(t.Context()) {
		t.Fatal("nothing was due")
	}
	if snd.SendDue(t.Context()) {
		t.Error("a delivered message was sent again")
	}
	got := rcv.messages()
	if len(got) != 1 || rcv.bad != 0 {
		t.Fatalf("received %d (bad signatures %d); want 1 signed", len(got), rcv.bad)
	}
	if g := got[0]; !strings.HasPrefix(g.ID, "nt_") || g.Type != TypeFlowRunFailed || g.FlowRun.ID != "r1" || g.Time.IsZero() {
		t.Errorf("received %+v", g)
	}
	list, err := st.ListNotifications(t.Context(), 0)
	if err != nil || len(list) != 1 || list[0].DeliveredAt.IsZero() || list[0].Attempts != 1 {
		t.Errorf("outbox = %+v, %v; want one delivered after one attempt", list, err)
	}
}

func TestWrongSecretIsRejected(t *testing.T) {
	rcv, out, snd, _, _ := setup(t)
	snd.Secret = []byte("not the receiver's")
	if err := out.Enqueue(t.Context(), Message{Type: TypeNeedsReauthorization, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	snd.SendDue(t.Context())
	if rcv.bad != 1 || len(rcv.messages()) != 0 {
		t.Errorf("bad = %d, accepted %d; want the receiver to reject the signature", rcv.bad, len(rcv.messages()))
	}
}

func TestRetryUntil2xxWithTheSameID(t *testing.T) {
	rcv, out, snd, c, st := setup(t, 500, 503, 500, 500, 500)
	if err := out.Enqueue(t.Context(), Message{ID: "nt_fixed", Type: TypeNeedsReauthorization, Message: "reauthorize Prod",
		Connection: &Connection{ID: "c1", Nickname: "Prod", Status: "needs_reauthorization"}}); err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	for i := 0; ; i++ {
		if !snd.SendDue(t.Context()) {
			t.Fatalf("attempt %d: nothing due", i+1)
		}
		list, err := st.ListNotifications(t.Context(), 0)
		if err != nil {
			t.Fatal(err)
		}
		n := list[0]
		if !n.DeliveredAt.IsZero() {
			break
		}
		if snd.SendDue(t.Context()) {
			t.Fatal("a failed message was due again at once")
		}
		waits = append(waits, n.NextAttemptAt.Sub(c.now))
		c.now = n.NextAttemptAt
	}
	// Capped exponential backoff: 1s, 2s, 4s, 8s, 8s.
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if len(waits) != len(want) {
		t.Fatalf("waits %v; want %v", waits, want)
	}
	for i := range want {
		if waits[i] != want[i] {
			t.Errorf("wait %d = %v; want %v", i, waits[i], want[i])
		}
	}
	got := rcv.messages()
	if len(got) != 6 {
		t.Fatalf("received %d attempts; want 6", len(got))
	}
	for _, m := range got {
		if m.ID != "nt_fixed" || m.Connection == nil || m.Connection.Nickname != "Prod" {
			t.Errorf("attempt carried %+v; want the same message and id each time", m)
		}
	}
}

func TestEnqueueTwiceSendsOnce(t *testing.T) {
	rcv, out, snd, _, _ := setup(t)
	m := Message{ID: "nt_same", Type: TypeFlowRunFailed, Message: "m"}
	for range 2 {
		if err := out.Enqueue(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	for snd.SendDue(t.Context()) {
	}
	if n := len(rcv.messages()); n != 1 {
		t.Errorf("received %d; want 1", n)
	}
}

func TestNoReceiversEnqueuesNothing(t *testing.T) {
	_, out, snd, _, st := setup(t)
	out.Receivers = nil
	if err := out.Enqueue(t.Context(), Message{Type: TypeFlowRunFailed, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if snd.SendDue(t.Context()) {
		t.Error("a message went out with no receivers configured")
	}
	if list, _ := st.ListNotifications(t.Context(), 0); len(list) != 0 {
		t.Errorf("outbox holds %d; want 0", len(list))
	}
}

// TestRemovedReceiverGetsNothing: a message to a receiver that is no longer
// among the sender's (its -notify-url was removed) is not sent to it.
func TestRemovedReceiverGetsNothing(t *testing.T) {
	rcv, out, snd, _, _ := setup(t)
	if err := out.Enqueue(t.Context(), Message{Type: TypeNeedsReauthorization, Message: "reauthorize Prod"}); err != nil {
		t.Fatal(err)
	}
	snd.Receivers = receivers(t, "https://hooks.example.com/cardflow")
	if snd.SendDue(t.Context()) {
		t.Error("a message to a removed receiver was due")
	}
	if got := rcv.messages(); len(got) != 0 {
		t.Errorf("the removed receiver got %+v; want nothing", got)
	}
	snd.Receivers = out.Receivers
	if !snd.SendDue(t.Context()) || len(rcv.messages()) != 1 {
		t.Errorf("with the receiver configured again: received %d; want the message", len(rcv.messages()))
	}
}

// A receiver URL is a credential: an incoming webhook's path or query is
// its key, and a password may sit in its userinfo. A failed delivery's log
// line and stored error name the receiver by scheme, host and fingerprint
// only.
func TestFailedDeliveryKeepsReceiverURLOutOfLogs(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	for _, tc := range []struct {
		name string
		base func(rcv string) string
	}{
		{name: "receiver answers 500", base: func(rcv string) string { return rcv }},
		{name: "receiver unreachable", base: func(string) string { return downURL }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, out, snd, _, st := setup(t, 500)
			rcvBase, _ := strings.CutSuffix(out.Receivers[0].url(), "/hook")
			base := tc.base(rcvBase)
			u := strings.Replace(base, "http://", "http://alerts:pw-s3cret@", 1) + "/services/T0/B0/path-s3cret?token=tok-s3cret"
			out.Receivers = receivers(t, u)
			snd.Receivers = out.Receivers
			var logs strings.Builder
			snd.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			if err := out.Enqueue(t.Context(), Message{Type: TypeFlowRunFailed, Message: "m"}); err != nil {
				t.Fatal(err)
			}
			if !snd.SendDue(t.Context()) {
				t.Fatal("nothing was due")
			}
			list, err := st.ListNotifications(t.Context(), 0)
			if err != nil || len(list) != 1 || list[0].LastError == "" {
				t.Fatalf("outbox = %+v, %v; want one failed attempt", list, err)
			}
			for what, s := range map[string]string{"log": logs.String(), "stored error": list[0].LastError} {
				for _, secret := range []string{"pw-s3cret", "path-s3cret", "/services", "tok-s3cret"} {
					if strings.Contains(s, secret) {
						t.Errorf("the %s shows the receiver's %s: %s", what, secret, s)
					}
				}
			}
			sum := sha256.Sum256([]byte(u))
			shown := base + "/… (receiver " + hex.EncodeToString(sum[:4]) + ")"
			if !strings.Contains(logs.String(), `receiver="`+shown+`"`) {
				t.Errorf("the log does not name the receiver %s: %s", shown, logs.String())
			}
		})
	}
}

func TestReceiverShowsNoSecret(t *testing.T) {
	const u = "https://ops:pw-s3cret@chat.example.com:8443/v1/spaces/path-s3cret/messages?key=key-s3cret&token=tok-s3cret#frag-s3cret"
	r, err := ParseReceiver(u)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(u))
	const want = "https://chat.example.com:8443/… (receiver "
	if r.Digest() != hex.EncodeToString(sum[:]) || r.Fingerprint() != r.Digest()[:8] {
		t.Errorf("digest %s, fingerprint %s; want the SHA-256 of the URL and its first 8 hex digits", r.Digest(), r.Fingerprint())
	}
	js, _ := json.Marshal(map[string]any{"r": r, "rs": []Receiver{r}})
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "receiver", r, "receivers", []Receiver{r})
	type holder struct{ r Receiver }
	for name, got := range map[string]string{
		"String": r.String(), "%v": fmt.Sprintf("%v", r), "%+v": fmt.Sprintf("%+v", r), "%#v": fmt.Sprintf("%#v", r),
		"%q": fmt.Sprintf("%q", r), "%x": fmt.Sprintf("%x", r), "%s of a slice": fmt.Sprintf("%s", []Receiver{r}),
		"%+v of a struct": fmt.Sprintf("%+v", holder{r}), "%#v of a struct": fmt.Sprintf("%#v", holder{r}),
		"JSON": string(js), "slog": logs.String(),
	} {
		if strings.Contains(got, "s3cret") || strings.Contains(got, "/v1") {
			t.Errorf("%s shows the URL: %s", name, got)
		}
		if strings.HasPrefix(name, "%") && !strings.Contains(name, "struct") && !strings.Contains(got, want+r.Fingerprint()+")") {
			t.Errorf("%s = %s; want %s%s)", name, got, want, r.Fingerprint())
		}
	}
	for _, bad := range []string{"ftp://h/x-s3cret", "/relative/x-s3cret", "https:///x-s3cret", "https://h/%zz-s3cret", "mailto:x-s3cret@example.com"} {
		_, err := ParseReceiver(bad)
		if err == nil || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("ParseReceiver(%q) = %v; want an error that does not quote the URL", bad, err)
		}
	}
}

// TestOutboxHoldsNoReceiverURL: the outbox names a receiver by the
// SHA-256 of its URL; nothing of the URL reaches the database, whose
// backups would give the webhook away.
func TestOutboxHoldsNoReceiverURL(t *testing.T) {
	rcv, out, snd, c, st := setup(t, 500)
	base, _ := strings.CutSuffix(out.Receivers[0].url(), "/hook")
	u := base + "/services/T0/B0/path-s3cret?token=tok-s3cret"
	out.Receivers = receivers(t, u)
	snd.Receivers = out.Receivers
	if err := out.Enqueue(t.Context(), Message{Type: TypeFlowRunFailed, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if !snd.SendDue(t.Context()) {
			t.Fatalf("attempt %d: nothing was due", i+1)
		}
		c.now = c.now.Add(time.Hour)
	}
	if len(rcv.messages()) != 2 {
		t.Fatalf("received %d attempts; want a failed one and a delivery", len(rcv.messages()))
	}
	list, err := st.ListNotifications(t.Context(), 0)
	if err != nil || len(list) != 1 || list[0].Receiver != sha256Hex(u) {
		t.Fatalf("outbox = %+v, %v; want one row naming its receiver by the SHA-256 of its URL", list, err)
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(dbFiles[t] + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "s3cret") || strings.Contains(string(b), "/services/") {
			t.Errorf("the database file cardflow.db%s holds the receiver's URL", suffix)
		}
	}
}

// TestServersSendToTheirOwnReceivers: servers sharing the database each
// send the messages of the receivers they are configured with, and a
// message waits for a server that has its receiver.
func TestServersSendToTheirOwnReceivers(t *testing.T) {
	rcvA, out, sndA, _, st := setup(t)
	rcvB := &receiver{t: t, secret: rcvA.secret}
	srvB := httptest.NewServer(rcvB)
	t.Cleanup(srvB.Close)
	a, b := out.Receivers[0], receivers(t, srvB.URL+"/other")[0]
	out.Receivers = []Receiver{a, b}
	sndB := &Sender{Store: st, Secret: rcvA.secret, Owner: "test-b", Receivers: []Receiver{b}}
	sndA.Receivers = []Receiver{a}
	if err := out.Enqueue(t.Context(), Message{ID: "nt_both", Type: TypeFlowRunFailed, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	for sndA.SendDue(t.Context()) {
	}
	if len(rcvA.messages()) != 1 || len(rcvB.messages()) != 0 {
		t.Fatalf("after server A: A got %d, B got %d; want 1 and 0", len(rcvA.messages()), len(rcvB.messages()))
	}
	for sndB.SendDue(t.Context()) {
	}
	if got := rcvB.messages(); len(got) != 1 || got[0].ID != "nt_both" || len(rcvA.messages()) != 1 {
		t.Errorf("after server B: A got %d, B got %+v; want the message once each", len(rcvA.messages()), got)
	}
	list, err := st.ListNotifications(t.Context(), 0)
	if err != nil || len(list) != 2 || list[0].DeliveredAt.IsZero() || list[1].DeliveredAt.IsZero() {
		t.Errorf("outbox = %+v, %v; want both rows delivered", list, err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// TestReceiverDownLogsOnce: a receiver that fails five attempts is logged
// once at ERROR, not once per attempt (each attempt is at debug level and
// in the outbox), and its recovery once at INFO.
func TestReceiverDownLogsOnce(t *testing.T) {
	_, out, snd, c, st := setup(t, 500, 500, 500, 500, 500)
	var logs strings.Builder
	snd.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	if err := out.Enqueue(t.Context(), Message{ID: "nt_down", Type: TypeFlowRunFailed, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; ; attempt++ {
		if !snd.SendDue(t.Context()) {
			t.Fatalf("attempt %d: nothing due", attempt)
		}
		list, err := st.ListNotifications(t.Context(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if !list[0].DeliveredAt.IsZero() {
			break
		}
		c.now = list[0].NextAttemptAt
	}
	count := func(msg string) (n int) {
		for line := range strings.SplitSeq(logs.String(), "\n") {
			if strings.Contains(line, `"msg":"`+msg+`"`) {
				n++
			}
		}
		return n
	}
	if n := count("deliver notifications"); n != 1 {
		t.Errorf("the failing receiver was logged %d times; want once\n%s", n, logs.String())
	}
	if n := count("deliver notifications: recovered"); n != 1 || !strings.Contains(logs.String(), `"failures":5`) {
		t.Errorf("the recovery was logged %d times; want once, naming 5 failures\n%s", n, logs.String())
	}
}

// TestDownReceiverIsTriedOncePerBackoff: a receiver that fails is tried
// again with one message once its backoff has passed, not with every
// message that is due meanwhile (each a timeout when it is unreachable),
// and the other receivers' messages go out at once all the same.
func TestDownReceiverIsTriedOncePerBackoff(t *testing.T) {
	statuses := make([]int, 100)
	for i := range statuses {
		statuses[i] = http.StatusServiceUnavailable
	}
	down, out, snd, c, st := setup(t, statuses...)
	up := &receiver{t: t, secret: down.secret}
	srvUp := httptest.NewServer(up)
	t.Cleanup(srvUp.Close)
	out.Receivers = append(out.Receivers, receivers(t, srvUp.URL+"/up")[0])
	snd.Receivers = out.Receivers
	const n = 20
	for i := range n {
		if err := out.Enqueue(t.Context(), Message{ID: fmt.Sprintf("nt_%02d", i), Type: TypeFlowRunFailed, Message: "m"}); err != nil {
			t.Fatal(err)
		}
	}
	for snd.SendDue(t.Context()) {
	}
	if got, tried := len(up.messages()), len(down.messages()); got != n || tried != 1 {
		t.Fatalf("the receiver that is up got %d messages, the one that is down was tried %d times; want %d and 1", got, tried, n)
	}
	// Each backoff (1s, 2s, 4s, 8s, 8s) lets one message try again.
	for i, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second} {
		c.now = c.now.Add(wait - time.Millisecond)
		for snd.SendDue(t.Context()) {
		}
		if tried := len(down.messages()); tried != i+1 {
			t.Fatalf("before backoff %d (%v) ended, the receiver that is down was tried %d times; want %d", i+1, wait, tried, i+1)
		}
		c.now = c.now.Add(time.Millisecond)
		for snd.SendDue(t.Context()) {
		}
		if tried := len(down.messages()); tried != i+2 {
			t.Fatalf("after backoff %d (%v), the receiver that is down was tried %d times; want %d", i+1, wait, tried, i+2)
		}
	}
	// Back up: everything it missed arrives.
	down.mu.Lock()
	down.statuses = nil
	down.mu.Unlock()
	c.now = c.now.Add(time.Minute)
	for snd.SendDue(t.Context()) {
	}
	list, err := st.ListNotifications(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	delivered := 0
	for _, m := range list {
		if !m.DeliveredAt.IsZero() {
			delivered++
		}
	}
	if delivered != 2*n {
		t.Errorf("%d of %d outbox rows delivered once the receiver was back; want all", delivered, 2*n)
	}
}

// TestRedirectIsNotFollowed: a receiver that answers with a redirect does
// not get the message sent on to where it points (a signed message taken
// elsewhere), and the attempt's error says to configure the address it
// redirects to, naming only that address's scheme and host.
func TestRedirectIsNotFollowed(t *testing.T) {
	_, out, snd, _, st := setup(t)
	elsewhere := &receiver{t: t, secret: []byte("s3cret")}
	srvElsewhere := httptest.NewServer(elsewhere)
	t.Cleanup(srvElsewhere.Close)
	for _, code := range []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, srvElsewhere.URL+"/secret-path", code)
		}))
		t.Cleanup(redirecting.Close)
		to := receivers(t, redirecting.URL+"/hook")
		out.Receivers, snd.Receivers = to, to
		id := fmt.Sprintf("nt_redirect_%d", code)
		if err := out.Enqueue(t.Context(), Message{ID: id, Type: TypeFlowRunFailed, Message: "m"}); err != nil {
			t.Fatal(err)
		}
		if !snd.SendDue(t.Context()) {
			t.Fatalf("%d: nothing was due", code)
		}
		if n := len(elsewhere.messages()); n != 0 {
			t.Fatalf("%d: the redirect's target got %d messages; want none", code, n)
		}
		list, err := st.ListNotifications(t.Context(), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range list {
			if n.ID != id {
				continue
			}
			host := strings.TrimPrefix(srvElsewhere.URL, "http://")
			if !n.DeliveredAt.IsZero() || !strings.Contains(n.LastError, "redirect") || !strings.Contains(n.LastError, "http://"+host+"/…") ||
				strings.Contains(n.LastError, "secret-path") {
				t.Errorf("%d: outbox row delivered %v, error %q; want undelivered, the error naming the redirect's scheme and host only", code, n.DeliveredAt, n.LastError)
			}
		}
	}
}

// takenOver is a store on which, when the sender stores its attempt,
// another server has meanwhile claimed the message (the attempt outlasted
// the lease) and delivered it.
type takenOver struct {
	store.Store
	t     *testing.T
	clock *clock
}

func (s *takenOver) UpdateNotification(ctx context.Context, n *store.Notification) error {
	s.t.Helper()
	s.clock.now = s.clock.now.Add(2 * time.Minute)
	other, err := s.Store.ClaimNotification(ctx, "other", nil, time.Minute, s.clock.now)
	if err != nil {
		s.t.Errorf("the other server's claim: %v", err)
		return s.Store.UpdateNotification(ctx, n)
	}
	other.Attempts, other.DeliveredAt, other.LastError = other.Attempts+1, s.clock.now, ""
	if err := s.Store.UpdateNotification(ctx, other); err != nil {
		s.t.Errorf("the other server's delivery: %v", err)
	}
	return s.Store.UpdateNotification(ctx, n)
}

// TestAttemptAfterLostLeaseKeepsTheOtherServersOutcome: an attempt that
// failed after its lease ran out and another server delivered the message
// meanwhile stores nothing: the message stays delivered (it would be sent
// again otherwise), and no store outage is reported.
func TestAttemptAfterLostLeaseKeepsTheOtherServersOutcome(t *testing.T) {
	_, out, snd, c, st := setup(t, 500)
	var logs strings.Builder
	snd.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
	snd.Store = &takenOver{Store: st, t: t, clock: c}
	if err := out.Enqueue(t.Context(), Message{ID: "nt_slow", Type: TypeFlowRunFailed, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	if !snd.SendDue(t.Context()) {
		t.Fatal("nothing due")
	}
	list, err := st.ListNotifications(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("the outbox holds %d messages; want 1", len(list))
	}
	if n := list[0]; n.DeliveredAt.IsZero() || n.LastError != "" || n.Attempts != 1 {
		t.Errorf("the outbox holds %+v; want the message delivered by the other server, 1 attempt", n)
	}
	if strings.Contains(logs.String(), "store a notification's attempt") {
		t.Errorf("the lost lease is logged as a store failure:\n%s", logs.String())
	}
}
