package app

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// tokenMetrics counts the requests to orgs' token endpoints by grant type
// (authorization_code: authorizations; refresh_token: refreshes) and
// outcome, from the transport every org call goes through.
type tokenMetrics struct {
	next     http.RoundTripper
	requests *prometheus.CounterVec
}

func newTokenMetrics(next http.RoundTripper, reg prometheus.Registerer) (*tokenMetrics, error) {
	m := &tokenMetrics{next: next, requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "cardflow_oauth_token_requests_total",
		Help: "Requests to orgs' OAuth token endpoints, by grant type and HTTP status (\"error\" when no answer came).",
	}, []string{"grant_type", "status"})}
	return m, reg.Register(m.requests)
}

func (m *tokenMetrics) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost || !strings.HasSuffix(req.URL.Path, "/v1/token") || req.Body == nil {
		return m.next.RoundTrip(req)
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, 1<<16))
	_ = req.Body.Close()
	if err != nil {
		return nil, err
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	grant := "other"
	if form, err := url.ParseQuery(string(body)); err == nil {
		switch g := form.Get("grant_type"); g {
		case "authorization_code", "refresh_token", "client_credentials":
			grant = g
		}
	}
	resp, err := m.next.RoundTrip(req)
	status := "error"
	if err == nil {
		status = strconv.Itoa(resp.StatusCode)
	}
	m.requests.WithLabelValues(grant, status).Inc()
	return resp, err
}
