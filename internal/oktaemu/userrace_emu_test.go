package oktaemu_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/cardflow/cardflow/internal/oktaemu"
	"github.com/cardflow/cardflow/internal/oktaemu/emutest"
)

// TestUsersChangedWhileRead changes a user (claims, groups, roles, device
// links) through the control endpoints and the roles API while every call
// that reads users runs: under -race, a read of the org's user maps
// without the org's lock is reported.
func TestUsersChangedWhileRead(t *testing.T) {
	s := emutest.Start(t, oktaemu.Config{Devices: 3})
	var devs []struct {
		ID string `json:"id"`
	}
	r := emuCall(t, s, "GET", "/api/v1/devices", sswsAdmin, "")
	if r.status != http.StatusOK {
		t.Fatalf("list devices: %d %s", r.status, r.body)
	}
	if err := json.Unmarshal([]byte(r.body), &devs); err != nil || len(devs) == 0 {
		t.Fatalf("list devices: %v %s", err, r.body)
	}
	dev := devs[0].ID
	user := url.PathEscape(oktaemu.UserLogin)
	// Link the user to the device first, so that the device's users name
	// them whatever the order of the calls below.
	emuCall(t, s, "POST", "/_emulator/devices/"+dev+"/users", "", `{"user":"`+oktaemu.UserLogin+`"}`)

	const rounds = 20
	type call struct{ method, path, authz, body string }
	writers := []func(i int) call{
		func(i int) call {
			return call{"POST", "/_emulator/users/" + user + "/claims", "", fmt.Sprintf(`{"preferred_username":"u%d@example.net"}`, i)}
		},
		func(i int) call {
			return call{"POST", "/_emulator/users/" + oktaemu.UserUserID + "/claims", "", fmt.Sprintf(`{"email":"e%d@example.net"}`, i)}
		},
		func(int) call {
			return call{"POST", "/api/v1/users/" + oktaemu.UserUserID + "/roles", sswsAdmin, `{"type":"HELP_DESK_ADMIN"}`}
		},
	}
	readers := []call{
		{"GET", "/api/v1/users/" + oktaemu.UserUserID, sswsAdmin, ""},
		{"GET", "/api/v1/users/" + user, sswsAdmin, ""},
		{"GET", "/api/v1/users/" + oktaemu.UserUserID + "/devices", sswsAdmin, ""},
		{"GET", "/api/v1/users/" + oktaemu.UserUserID + "/roles", sswsAdmin, ""},
		{"GET", "/api/v1/apps/" + oktaemu.DemoAppID + "/users", sswsAdmin, ""},
		{"POST", "/api/v1/apps/" + oktaemu.DemoAppID + "/users", sswsAdmin, `{"id":"` + oktaemu.UserUserID + `"}`},
		{"GET", "/api/v1/devices/" + dev + "/users", sswsAdmin, ""},
		{"GET", "/api/v1/devices?expand=user", sswsAdmin, ""},
		{"GET", "/api/v1/devices?expand=userSummary", sswsAdmin, ""},
		{"POST", "/_emulator/devices/" + dev + "/users", "", `{"user":"` + oktaemu.UserLogin + `"}`},
		{"DELETE", "/_emulator/devices/" + dev + "/users/" + user, "", ""},
		{"POST", "/_emulator/groups/" + oktaemu.OperatorsGroup + "/users", "", `{"user":"` + oktaemu.UserLogin + `"}`},
		{"DELETE", "/_emulator/groups/" + oktaemu.OperatorsGroup + "/users/" + user, "", ""},
		{"POST", "/_emulator/devices", "", `{"user":"` + oktaemu.UserLogin + `","platform":"IOS"}`},
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var problems []string
	do := func(c call) {
		defer wg.Done()
		req, err := http.NewRequest(c.method, s.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			panic(err)
		}
		if c.authz != "" {
			req.Header.Set("Authorization", c.authz)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := s.Client.Do(req)
		if err == nil {
			resp.Body.Close()
			// 400 and 404: a control call finding the link or
			// membership already made or taken away; 409: the role
			// assigned already.
			switch resp.StatusCode {
			case http.StatusOK, http.StatusCreated, http.StatusNoContent, http.StatusBadRequest, http.StatusNotFound, http.StatusConflict:
				return
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		mu.Lock()
		problems = append(problems, c.method+" "+c.path+": "+err.Error())
		mu.Unlock()
	}
	for i := range rounds {
		for _, w := range writers {
			wg.Add(1)
			go do(w(i))
		}
		for _, c := range readers {
			wg.Add(1)
			go do(c)
		}
	}
	wg.Wait()
	if len(problems) > 0 {
		t.Fatalf("%d calls failed, the first: %s", len(problems), problems[0])
	}

	r = emuCall(t, s, "GET", "/api/v1/users/"+oktaemu.UserUserID, sswsAdmin, "")
	if r.status != http.StatusOK || !strings.Contains(r.body, oktaemu.UserLogin) {
		t.Fatalf("the user after the changes: %d %s", r.status, r.body)
	}
}
