package events

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/notify"
	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/store"
)

// flakyReceiver takes notifications while up and answers 503 while down.
type flakyReceiver struct {
	mu   sync.Mutex
	down bool
	got  []string // the types taken, in order
}

func (r *flakyReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var m notify.Message
	_ = json.Unmarshal(body, &m)
	r.got = append(r.got, m.Type)
}

func (r *flakyReceiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *flakyReceiver) taken() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// TestRecoveredNoticeComesAfterItsFailure: when an outage of the event
// intake also cut off the notification receiver, the receiver gets the
// failing notice before the recovered one once it is back, although the
// recovered one was enqueued while the failing one waited for its retry
// (due later): a recovery of a failure it was never told of, followed by
// that failure, would leave an admin believing the intake is down.
func TestRecoveredNoticeComesAfterItsFailure(t *testing.T) {
	for _, tt := range []struct {
		name            string
		fail, recover   func(t *testing.T, in *intake, rec *Reconciler)
		failed, healthy string
	}{
		{name: "System Log polls", failed: notify.TypePollFailing, healthy: notify.TypePollRecovered,
			fail: func(t *testing.T, in *intake, _ *Reconciler) {
				in.srv.Inject(t, emutest.FaultSpec{Method: "GET", Path: "/api/v1/logs", Status: 503, Count: 1000})
				for range 2 {
					if _, err := in.poller.Poll(t.Context(), connID, in.srv.Now().Add(-time.Hour)); err == nil {
						t.Fatal("a poll worked while the System Log answered 503")
					}
					in.srv.AdvanceClock(t, 20*time.Minute)
				}
			},
			recover: func(t *testing.T, in *intake, _ *Reconciler) {
				in.srv.ClearFaults(t)
				if _, err := in.poller.Poll(t.Context(), connID, in.srv.Now().Add(-time.Hour)); err != nil {
					t.Fatalf("poll once the System Log answers: %v", err)
				}
			}},
		{name: "event hook", failed: notify.TypeHookFailing, healthy: notify.TypeHookRecovered,
			fail: func(t *testing.T, in *intake, rec *Reconciler) {
				src, err := rec.Reconcile(t.Context(), connID, []string{"device.enrollment.create"})
				if err != nil || src.HookStatus != store.HookActive {
					t.Fatalf("reconcile: %v %+v", err, src)
				}
				cl, _ := emuOrgs{in.srv}.Client(t.Context(), connID)
				if _, err := cl.HookLifecycle(t.Context(), src.HookID, "deactivate"); err != nil {
					t.Fatal(err)
				}
				if got, err := rec.Check(t.Context(), connID); err != nil || got.HookStatus != store.HookDeactivated {
					t.Fatalf("check of a deactivated hook: %v %+v", err, got)
				}
			},
			recover: func(t *testing.T, in *intake, rec *Reconciler) {
				src, _ := in.st.GetEventSource(t.Context(), connID)
				cl, _ := emuOrgs{in.srv}.Client(t.Context(), connID)
				if _, err := cl.HookLifecycle(t.Context(), src.HookID, "activate"); err != nil {
					t.Fatal(err)
				}
				if got, err := rec.Check(t.Context(), connID); err != nil || got.HookStatus != store.HookActive {
					t.Fatalf("check of a hook activated again: %v %+v", err, got)
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := newIntake(t, oktaemu.Config{Devices: 1})
			rcv := &flakyReceiver{}
			srv := httptest.NewServer(rcv)
			t.Cleanup(srv.Close)
			receivers, err := notify.ParseReceivers([]string{srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			outbox := &notify.Outbox{Store: in.st, Receivers: receivers, Now: in.srv.Now}
			in.poller.Now, in.poller.Outbox = in.srv.Now, outbox
			rec := &Reconciler{Store: in.st, Orgs: emuOrgs{in.srv}, Keyring: in.kr, PublicURL: in.hook.URL, Now: in.srv.Now, Outbox: outbox}
			sender := &notify.Sender{Store: in.st, Secret: []byte("notify-secret"), Owner: "server-1", Receivers: receivers,
				MinBackoff: 10 * time.Minute, MaxBackoff: time.Hour, Now: in.srv.Now}
			sendDue := func() {
				for sender.SendDue(t.Context()) {
				}
			}

			// The outage cuts off the receiver too: the failing notice's
			// attempt fails, and it waits ten minutes for the next.
			rcv.setDown(true)
			tt.fail(t, in, rec)
			sendDue()
			if got := rcv.taken(); len(got) != 0 {
				t.Fatalf("a receiver that is down took %v", got)
			}
			in.srv.AdvanceClock(t, time.Minute)
			tt.recover(t, in, rec)
			rcv.setDown(false)
			sendDue() // the receiver is held for its backoff
			in.srv.AdvanceClock(t, 15*time.Minute)
			sendDue()
			if got, want := rcv.taken(), []string{tt.failed, tt.healthy}; !slices.Equal(got, want) {
				t.Errorf("the receiver took %v; want %v", got, want)
			}
		})
	}
}
