package connection

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
	"github.com/cardflow/cardflow/internal/problem"
)

// echoedRequest is how the emulator's "echo" page introduces the request
// it repeats.
const echoedRequest = "The request was:"

// causeText is all an error says, its problem's internal cause included:
// what a caller that logs the cause writes to the log.
func causeText(err error) string {
	s := fmt.Sprintf("%v", err)
	if p, ok := problem.As(err); ok && p.Err != nil {
		s += "\n" + p.Err.Error()
	}
	return s
}

// TestTokenErrorsHoldNoEchoedRequest: a token endpoint answering with a
// page that repeats the request (a proxy's or a firewall's) puts the
// client secret, the refresh token, the code verifier or the client
// assertion in the answer; the errors of a refresh, a code exchange and a
// service connection's token request, causes included, hold none of it,
// nor does the log.
func TestTokenErrorsHoldNoEchoedRequest(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusInternalServerError} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e := newEnv(t)
			e.sleeps(t)
			ctx := context.Background()
			echo := func() {
				e.emu.Inject(t, emutest.FaultSpec{Method: "POST", Path: "/oauth2/v1/token", Status: status, Body: "echo", Count: refreshAttempts})
			}
			var errs []error

			v := e.connect(t, "Prod")
			refresh := e.open(t, e.conn(t, v.ID), "refresh_token")
			e.emu.AdvanceClock(t, time.Hour)
			echo()
			_, err := e.m.Token(ctx, v.ID)
			errs = append(errs, err)
			e.emu.ClearFaults(t)

			_, u := e.create(t, "Exchange", nil)
			cb := e.emu.SignIn(t, u, oktaemu.AdminLogin, oktaemu.DemoPassword)
			echo()
			res, err := e.m.Callback(ctx, cb.Query())
			if err == nil && res.OK {
				t.Fatalf("the code exchange through the page succeeded")
			}
			if err != nil {
				errs = append(errs, err)
			} else {
				errs = append(errs, fmt.Errorf("%s; %s", res.Message, res.Remedy))
			}
			e.emu.ClearFaults(t)

			svc, jwk, err := e.m.CreateService(ctx, ServiceInput{Connector: connector, Nickname: "Robot", Domain: e.emu.URL,
				ClientID: oktaemu.DemoServiceClientID}, tester)
			if err != nil {
				t.Fatalf("CreateService: %v", err)
			}
			e.emu.AddAppKey(t, oktaemu.DemoServiceAppID, jwk)
			echo()
			_, err = e.m.Token(ctx, svc.ID)
			errs = append(errs, err)

			for i, err := range errs {
				if err == nil {
					t.Errorf("error %d: nil; want the failure", i)
					continue
				}
				text := causeText(err)
				for what, s := range map[string]string{"the repeated request": echoedRequest, "the client secret": e.secret,
					"the refresh token": refresh, "a client assertion": "client_assertion="} {
					if strings.Contains(text, s) {
						t.Errorf("error %d holds %s: %s", i, what, text)
					}
				}
			}
			if strings.Contains(e.logs.String(), echoedRequest) {
				t.Errorf("the log holds the repeated request:\n%s", e.logs)
			}
		})
	}
}
