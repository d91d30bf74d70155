package card

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics holds the Executor's Prometheus collectors. A nil *Metrics
// records nothing. Register it on the registry of your choice.
type Metrics struct {
	// Runs counts card runs by card and outcome ("succeeded" or the
	// failure's problem code, such as "insufficient_scope").
	Runs *prometheus.CounterVec
	// Duration observes run durations by card.
	Duration *prometheus.HistogramVec
}

// NewMetrics returns unregistered collectors.
func NewMetrics() *Metrics {
	return &Metrics{
		Runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cardflow_card_runs_total",
			Help: "Card runs by card and outcome (succeeded, or the error code).",
		}, []string{"card", "outcome"}),
		Duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "cardflow_card_run_duration_seconds",
			Help:    "Duration of card runs by card.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"card"}),
	}
}

// Register registers every collector on r.
func (m *Metrics) Register(r prometheus.Registerer) error {
	return errors.Join(r.Register(m.Runs), r.Register(m.Duration))
}

func (m *Metrics) observe(card string, res *Result, d time.Duration) {
	if m == nil {
		return
	}
	outcome := StatusSucceeded
	if res.Error != nil {
		outcome = string(res.Error.Code)
	}
	m.Runs.WithLabelValues(card, outcome).Inc()
	m.Duration.WithLabelValues(card).Observe(d.Seconds())
}
