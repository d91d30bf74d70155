package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

type clock struct{ now time.Time }

func (c *clock) Now() time.Time { return c.now }

func setup(t *testing.T, statuses ...int) (*receiver, *Outbox, *Sender, *clock, store.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), sqlitetest.NewFile(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rcv := &receiver{t: t, secret: []byte("s3cret"), statuses: statuses}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	c := &clock{now: time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)}
	out := &Outbox{Store: st, URLs: []string{srv.URL + "/hook"}, Now: c.Now}
	snd := &Sender{Store: st, Secret: rcv.secret, Owner: "test", Now: c.Now, MinBackoff: time.Second, MaxBackoff: 8 * time.Second}
	return rcv, out, snd, c, st
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
	out.URLs = nil
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
	snd.URLs = []string{"https://hooks.example.com/cardflow"}
	if snd.SendDue(t.Context()) {
		t.Error("a message to a removed receiver was due")
	}
	if got := rcv.messages(); len(got) != 0 {
		t.Errorf("the removed receiver got %+v; want nothing", got)
	}
	snd.URLs = out.URLs
	if !snd.SendDue(t.Context()) || len(rcv.messages()) != 1 {
		t.Errorf("with the receiver configured again: received %d; want the message", len(rcv.messages()))
	}
}

// A receiver URL may carry credentials (a password in its userinfo, a
// token in its query); a failed delivery's log line and stored error name
// the receiver without them.
func TestFailedDeliveryKeepsReceiverCredentialsOutOfLogs(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close()
	for name, tc := range map[string]struct {
		url  func(rcv string) string
		host string
	}{
		"receiver answers 500": {url: func(rcv string) string { return rcv }},
		"receiver unreachable": {url: func(string) string { return downURL }},
	} {
		t.Run(name, func(t *testing.T) {
			_, out, snd, _, st := setup(t, 500)
			base, _ := strings.CutSuffix(out.URLs[0], "/hook")
			u := strings.Replace(tc.url(base), "http://", "http://alerts:pw-s3cret@", 1) + "/hook?token=tok-s3cret"
			out.URLs, snd.URLs = []string{u}, []string{u}
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
				if strings.Contains(s, "pw-s3cret") || strings.Contains(s, "tok-s3cret") {
					t.Errorf("the %s shows the receiver's credentials: %s", what, s)
				}
			}
			if host := strings.TrimPrefix(tc.url(base), "http://"); !strings.Contains(logs.String(), host+"/hook") {
				t.Errorf("the log does not name the receiver %s/hook: %s", host, logs.String())
			}
		})
	}
}
