package app

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cardflow/cardflow/internal/store"
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

// connectionExpiryCollector exports, at each scrape, when every user
// connection's refresh token expires (Okta: 90 days after the sign-in),
// read from the store so every server reports the same values.
type connectionExpiryCollector struct{ store store.Store }

var connectionExpiryDesc = prometheus.NewDesc("cardflow_connection_refresh_expiry_timestamp_seconds",
	"When each user connection's refresh token expires (Unix seconds); reauthorize before then.",
	[]string{"connection"}, nil)

func (c connectionExpiryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- connectionExpiryDesc }

func (c connectionExpiryCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cs, err := c.store.ListConnections(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(connectionExpiryDesc, err)
		return
	}
	for _, conn := range cs {
		if conn.Auth == store.AuthService || conn.RefreshTokenExpiresAt.IsZero() {
			continue
		}
		ch <- prometheus.MustNewConstMetric(connectionExpiryDesc, prometheus.GaugeValue,
			float64(conn.RefreshTokenExpiresAt.Unix()), conn.Nickname)
	}
}

// checkExpiries runs the connections' expiry check now and then every
// ExpiryCheckInterval until ctx ends, and with it the background tests of
// failed service connections (connection.Manager.RetryFailedServices).
func (a *App) checkExpiries(ctx context.Context) {
	every := a.cfg.ExpiryCheckInterval
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		err := a.Connections.CheckExpiries(ctx)
		if err == nil {
			err = a.Connections.RetryFailedServices(ctx)
		}
		switch {
		case ctx.Err() != nil:
		case err != nil:
			a.expiryOutage.Fail(ctx, "check connection expiries", err)
		default:
			a.expiryOutage.OK(ctx, "check connection expiries")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
