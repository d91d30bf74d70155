package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestNewConnectionNamesEveryEmptyField: a New Connection form sent with
// fields left empty names each of them at once, in the error summary and
// beside the field, instead of only the first, one send at a time.
func TestNewConnectionNamesEveryEmptyField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	for _, tc := range []struct {
		name   string
		form   url.Values
		fields []string
		first  string // the first item's text
	}{
		{"all empty", url.Values{}, []string{"nickname", "domain", "clientId", "clientSecret"}, "A nickname is required."},
		{"only a nickname", url.Values{"nickname": {"Prod"}}, []string{"domain", "clientId", "clientSecret"}, "The domain is required."},
		{"a wrong domain and no client ID", url.Values{"nickname": {"Prod"}, "domain": {"example-admin.okta.com"}, "clientSecret": {"s"}},
			[]string{"domain", "clientId"}, "example-admin.okta.com is the Admin Console host, not the org's API host."},
	} {
		form := url.Values{"csrf": {csrf}, "connector": {"okta-devices"}}
		for k, v := range tc.form {
			form[k] = v
		}
		resp, body := post(t, c, e.url+"/connections", form, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d; want 400", tc.name, resp.StatusCode)
		}
		fields, first := errorSummary(body)
		if !slices.Equal(fields, tc.fields) || first != tc.first {
			t.Errorf("%s: the error summary names %q, first %q; want %q, first %q", tc.name, fields, first, tc.fields, tc.first)
		}
		for _, f := range tc.fields {
			if !regexp.MustCompile(`<p class="field-error" id="` + f + `-error">`).MatchString(body) {
				t.Errorf("%s: no error beside the field %s", tc.name, f)
			}
		}
	}
}

// TestChangeSecretNamesEveryEmptyField: Change client secret sent with the
// Client ID emptied and no secret names both at once, and says of the
// emptied client ID that it is empty (not that it has spaces) and how to
// keep the app; nothing changes.
func TestChangeSecretNamesEveryEmptyField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	prod := e.connect(t, "Prod", nil)
	c, _, csrf := signInHTTP(t, e.url, "/connections")
	for _, tc := range []struct {
		name   string
		form   url.Values
		fields []string
		first  string
	}{
		{"both empty", url.Values{"clientId": {" "}}, []string{"clientId", "clientSecret"}, "The client ID is empty."},
		{"client ID emptied", url.Values{"clientId": {""}, "clientSecret": {"new-secret"}}, []string{"clientId"}, "The client ID is empty."},
		{"no secret", url.Values{"clientId": {prod.ClientID}}, []string{"clientSecret"}, "The new client secret is required."},
	} {
		form := url.Values{"csrf": {csrf}}
		for k, v := range tc.form {
			form[k] = v
		}
		resp, body := post(t, c, e.url+"/connections/"+prod.ID+"/edit", form, nil)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: status %d; want 400", tc.name, resp.StatusCode)
		}
		fields, first := errorSummary(body)
		if !slices.Equal(fields, tc.fields) || first != tc.first {
			t.Errorf("%s: the error summary names %q, first %q; want %q, first %q", tc.name, fields, first, tc.fields, tc.first)
		}
		if slices.Contains(tc.fields, "clientId") && !strings.Contains(html.UnescapeString(body), "or "+prod.ClientID+" to keep the app") {
			t.Errorf("%s: the page does not say how to keep the app:\n%s", tc.name, body)
		}
	}
	if v, err := e.manager.Get(t.Context(), prod.ID); err != nil || v.Status != "active" || v.ClientID != prod.ClientID {
		t.Errorf("after the refused changes the connection is %+v, %v; want it active with its client ID", v, err)
	}
}

// errorSummaryItem is one item of a form page's error summary: the field
// it links to and its text.
var errorSummaryItem = regexp.MustCompile(`<li><a href="#([A-Za-z]+)">([^<]*)</a>`)

// errorSummary returns the fields a form page's error summary names, in
// order, and the text of its first item.
func errorSummary(body string) (fields []string, first string) {
	for i, m := range errorSummaryItem.FindAllStringSubmatch(body, -1) {
		fields = append(fields, m[1])
		if i == 0 {
			first = html.UnescapeString(m[2])
		}
	}
	return fields, first
}
