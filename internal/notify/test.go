package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"

	"github.com/cardflow/cardflow/internal/store"
)

// TypeTest is the message Sender.Test posts.
const TypeTest = "notification.test"

// TestResult is how one receiver answered a test message: Err is nil when
// it took it (2xx).
type TestResult struct {
	Receiver Receiver
	Err      error
}

// Unreached reports whether err, of a post to a receiver, got no answer
// (the receiver down, its host unknown, a timeout), so that its URL may
// well be right, rather than an answer that refused the message.
func Unreached(err error) bool {
	var ue *url.Error
	return errors.As(err, &ue)
}

// Test posts a notification.test message, naming who asked for it (by),
// to every receiver at once, outside the outbox: nothing is retried or
// stored, and the messages waiting in the outbox keep their times.
func (s *Sender) Test(ctx context.Context, by string) []TestResult {
	m := Message{ID: newID(), Type: TypeTest, Time: s.now().UTC(),
		Message: fmt.Sprintf("a test notification that %s sent: this receiver gets cardflow's notifications", by)}
	body, err := json.Marshal(m)
	if err != nil {
		panic(err) // a Message always encodes
	}
	n := &store.Notification{ID: m.ID, Type: m.Type, Body: body}
	results := make([]TestResult, len(s.Receivers))
	var wg sync.WaitGroup
	for i, r := range s.Receivers {
		wg.Go(func() { results[i] = TestResult{Receiver: r, Err: s.post(ctx, r, n)} })
	}
	wg.Wait()
	return results
}
