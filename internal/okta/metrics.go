package okta

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the client's Prometheus collectors. A nil *Metrics records
// nothing. Create it with NewMetrics and register it on the registry of your
// choice (never the global default one implicitly).
type Metrics struct {
	// RequestDuration observes each attempt by operation and HTTP status
	// ("error" when no response arrived).
	RequestDuration *prometheus.HistogramVec
	// RateLimited counts 429 answers by operation.
	RateLimited *prometheus.CounterVec
	// RateLimitWait sums seconds spent waiting for rate limits, by reason:
	// "429" (a reset after a 429) or "budget" (pacing before sending).
	RateLimitWait *prometheus.CounterVec
	// Retries counts retries of 5xx and network errors by operation.
	Retries *prometheus.CounterVec
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		RequestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cardflow_okta_request_duration_seconds",
			Help:    "Latency of Okta API requests by operation and HTTP status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"operation", "status"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardflow_okta_rate_limited_total",
			Help: "Okta answers with HTTP 429 by operation.",
		}, []string{"operation"}),
		RateLimitWait: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardflow_okta_rate_limit_wait_seconds_total",
			Help: "Seconds spent waiting for Okta rate limits, by reason (429 or budget).",
		}, []string{"reason"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardflow_okta_retries_total",
			Help: "Retries of Okta requests after a 5xx or network error, by operation.",
		}, []string{"operation"}),
	}
}

// Register registers every collector on r.
func (m *Metrics) Register(r prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{m.RequestDuration, m.RateLimited, m.RateLimitWait, m.Retries} {
		errs = append(errs, r.Register(c))
	}
	return errors.Join(errs...)
}

func (m *Metrics) request(op, status string, d time.Duration) {
	if m != nil {
		m.RequestDuration.WithLabelValues(op, status).Observe(d.Seconds())
	}
}

func (m *Metrics) rateLimited(op string, wait time.Duration) {
	if m != nil {
		m.RateLimited.WithLabelValues(op).Inc()
		m.RateLimitWait.WithLabelValues("429").Add(wait.Seconds())
	}
}

func (m *Metrics) budgetWait(d time.Duration) {
	if m != nil {
		m.RateLimitWait.WithLabelValues("budget").Add(d.Seconds())
	}
}

func (m *Metrics) retried(op string) {
	if m != nil {
		m.Retries.WithLabelValues(op).Inc()
	}
}
