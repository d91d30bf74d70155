package notify

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/store/sqlite/sqlitetest"
)

// TestChatBodies: a chat service's webhook gets the message as its chat
// post (Slack's and Google Chat's {"text"}, an Adaptive Card for Teams),
// which it takes, instead of cardflow's JSON, which it refuses.
func TestChatBodies(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got[r.URL.Path] = string(b)
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	st := sqlitetest.Open(t)
	to := receivers(t, "slack="+srv.URL+"/slack", "googlechat="+srv.URL+"/chat", "teams="+srv.URL+"/teams", srv.URL+"/json")
	now := func() time.Time { return time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC) }
	out := &Outbox{Store: st, Receivers: to, Now: now}
	snd := &Sender{Store: st, Secret: []byte("s"), Owner: "test", Receivers: to, Now: now}
	text := `flow x: run r1 failed: step "s": <device> & more`
	if err := out.Enqueue(t.Context(), Message{Type: TypeFlowRunFailed, Message: text}); err != nil {
		t.Fatal(err)
	}
	for snd.SendDue(t.Context()) {
	}
	line := "cardflow flow_run.failed: " + text
	want := map[string]string{
		"/slack": mustJSON(t, map[string]string{"text": `cardflow flow_run.failed: flow x: run r1 failed: step "s": &lt;device&gt; &amp; more`}),
		"/chat":  mustJSON(t, map[string]string{"text": line}),
		"/teams": mustJSON(t, map[string]any{"type": "message", "summary": line, "attachments": []any{map[string]any{
			"contentType": "application/vnd.microsoft.card.adaptive",
			"content": map[string]any{"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.2",
				"body": []any{map[string]any{"type": "TextBlock", "text": line, "wrap": true}}}}}}),
	}
	for path, w := range want {
		if got[path] != w {
			t.Errorf("%s got %s\nwant %s", path, got[path], w)
		}
	}
	var m Message
	if err := json.Unmarshal([]byte(got["/json"]), &m); err != nil || m.Message != text || m.Type != TypeFlowRunFailed {
		t.Errorf("/json got %s (%v); want cardflow's message", got["/json"], err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestReceiverBody: a chat service's webhook host takes its chat post
// unless the -notify-url names another body; naming the body keeps the
// receiver's digest (its waiting messages are still its own), and an
// unknown body is refused without showing the URL.
func TestReceiverBody(t *testing.T) {
	for _, tt := range []struct{ raw, want string }{
		{"https://hooks.slack.com/services/T0/B0/XXXX", BodySlack},
		{"https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t", BodyGoogleChat},
		{"https://acme.webhook.office.com/webhookb2/abc@def/IncomingWebhook/x/y", BodyTeams},
		{"https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=s", BodyTeams},
		{"https://example.com/hook?a=b", BodyCardflow},
		{"cardflow=https://hooks.slack.com/services/T0/B0/XXXX", BodyCardflow},
		{"slack=https://relay.example.com/slack", BodySlack},
	} {
		r, err := ParseReceiver(tt.raw)
		if err != nil || r.Body() != tt.want {
			t.Errorf("ParseReceiver(%s): body %q, %v; want %q", tt.raw, r.Body(), err, tt.want)
		}
	}
	plain, _ := ParseReceiver("https://hooks.slack.com/services/T0/B0/XXXX")
	named, _ := ParseReceiver("slack=https://hooks.slack.com/services/T0/B0/XXXX")
	if plain.Digest() != named.Digest() {
		t.Error("naming the body changed the receiver's digest")
	}
	_, err := ParseReceiver("slak=https://hooks.slack.com/services/T0/B0/SECRETPART")
	if err == nil || !strings.Contains(err.Error(), "did you mean slack?") || strings.Contains(err.Error(), "SECRETPART") {
		t.Errorf("unknown body: %v; want a did you mean, without the URL", err)
	}
}

// TestTestMessage: Test posts a notification.test message to every
// receiver at once and says how each answered, with the start of a
// refusal's answer (Slack's reason) but nothing of the receiver's URL that
// the answer quotes.
func TestTestMessage(t *testing.T) {
	rcv, _, snd, _, st := setup(t)
	const secretPath = "/services/T0AAAA/B0BBBB/SECRETTOKEN123"
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, "Cannot POST "+r.URL.Path+"\n(no_text)")
	}))
	t.Cleanup(refusing.Close)
	snd.Receivers = append(snd.Receivers, receivers(t, "slack="+refusing.URL+secretPath)...)
	res := snd.Test(t.Context(), "admin@example.com")
	if len(res) != 2 || res[0].Err != nil || res[1].Err == nil {
		t.Fatalf("results %+v; want the first receiver to take it and the second to refuse", res)
	}
	got := rcv.messages()
	if len(got) != 1 || got[0].Type != TypeTest || !strings.Contains(got[0].Message, "admin@example.com") {
		t.Errorf("received %+v; want one signed notification.test naming who sent it", got)
	}
	msg := res[1].Err.Error()
	if want := "the receiver answered 404 Not Found: Cannot POST /…/…/…/… (no_text)"; msg != want {
		t.Errorf("error %q; want %q", msg, want)
	}
	if list, err := st.ListNotifications(t.Context(), 0); err != nil || len(list) != 0 {
		t.Errorf("outbox %+v, %v; want nothing stored", list, err)
	}
}

// timeoutTransport answers a post to host slow as a post that got no
// answer in time does, and sends the others on.
type timeoutTransport struct{ slow string }

type timeoutError struct{}

func (timeoutError) Error() string   { return "timeout awaiting response headers" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func (tt timeoutTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == tt.slow {
		return nil, timeoutError{}
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestTestTellsAnswersApart: a test message's results tell a receiver
// that failed on its side (5xx) or refused the request (4xx), by the
// answer's status, from one that did not answer in time, whose error
// says so rather than quoting the transport's words alone.
func TestTestTellsAnswersApart(t *testing.T) {
	_, _, snd, _, _ := setup(t)
	answering := func(status int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }))
		t.Cleanup(srv.Close)
		return srv.URL + "/hook"
	}
	snd.Receivers = receivers(t, answering(http.StatusInternalServerError), answering(http.StatusUnauthorized), "https://slow.example/hook")
	snd.HTTP = &http.Client{Transport: timeoutTransport{slow: "slow.example"}}
	res := snd.Test(t.Context(), "admin@example.com")
	if len(res) != 3 {
		t.Fatalf("%d results; want 3", len(res))
	}
	for i, want := range []int{http.StatusInternalServerError, http.StatusUnauthorized, 0} {
		if got := AnswerStatus(res[i].Err); got != want || TimedOut(res[i].Err) != (i == 2) || Unreached(res[i].Err) != (i == 2) {
			t.Errorf("receiver %d: %v: status %d, timed out %v, unreached %v; want status %d, only the last timed out (and unreached)",
				i, res[i].Err, got, TimedOut(res[i].Err), Unreached(res[i].Err), want)
		}
	}
	if msg := res[2].Err.Error(); !strings.HasPrefix(msg, "no answer within 30s: ") || strings.Contains(msg, "/hook") {
		t.Errorf("error %q; want it to say no answer came within 30s, without the receiver's path", msg)
	}
}
