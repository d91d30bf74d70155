package notify

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// heldTransport holds every post to host until the test ends (a receiver
// behind a firewall that drops the packets, which times out only after
// 30 s), and sends the others on.
type heldTransport struct {
	host    string
	held    chan struct{}
	release chan struct{}
}

func (h heldTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != h.host {
		return http.DefaultTransport.RoundTrip(r)
	}
	h.held <- struct{}{}
	select {
	case <-h.release:
	case <-r.Context().Done():
	}
	return nil, context.DeadlineExceeded
}

// TestSlowReceiverHoldsUpNoOther: while a post to one receiver waits for
// an answer (up to 30 s), a message for another receiver goes out at
// once: each receiver's messages are sent on their own, where a receiver
// that timed out held up every other's for as long, each time its backoff
// let it be tried again.
func TestSlowReceiverHoldsUpNoOther(t *testing.T) {
	up, out, snd, _, _ := setup(t)
	out.Receivers = append(receivers(t, "https://slow.example/hook"), out.Receivers...)
	snd.Receivers = out.Receivers
	snd.Poll = time.Hour // only Wake reads the outbox again
	h := heldTransport{host: "slow.example", held: make(chan struct{}, 8), release: make(chan struct{})}
	snd.HTTP = &http.Client{Transport: h}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { snd.Run(ctx); close(done) }()
	t.Cleanup(func() { close(h.release); cancel(); <-done })

	if err := out.Enqueue(ctx, Message{ID: "nt_first", Type: TypeFlowRunFailed, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	snd.Wake()
	select {
	case <-h.held:
	case <-time.After(10 * time.Second):
		t.Fatal("the post to the slow receiver was never made")
	}
	// The slow receiver's post waits; the other receiver gets both
	// messages meanwhile.
	if err := out.Enqueue(ctx, Message{ID: "nt_second", Type: TypeFlowRunFailed, Message: "m"}); err != nil {
		t.Fatal(err)
	}
	snd.Wake()
	deadline := time.Now().Add(10 * time.Second)
	for len(up.messages()) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the receiver that answers got %d of 2 messages while a post to the slow one waited; want both", len(up.messages()))
		}
		select {
		case <-h.held:
			t.Fatal("a second post to the slow receiver while its first waits")
		case <-time.After(10 * time.Millisecond):
		}
	}
}
