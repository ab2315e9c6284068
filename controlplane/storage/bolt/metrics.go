package bolt

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's collectors. They always exist; they are
// registered only when Config.Registerer is set.
type metrics struct {
	reg            prometheus.Registerer
	commitDuration prometheus.Histogram
	batchSize      prometheus.Histogram
	watchers       prometheus.Gauge
	compactions    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		reg: reg,
		commitDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rudder_storage_bolt_commit_duration_seconds",
			Help:    "Time to apply and fsync one group commit.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batchSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rudder_storage_bolt_commit_writes",
			Help:    "Writes acknowledged by one group commit.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}),
		watchers: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rudder_storage_bolt_watchers",
			Help: "Open watches.",
		}),
		compactions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_storage_bolt_compactions_total",
			Help: "Compactions of the event log, automatic or requested.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for i, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			for _, done := range m.collectors()[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.commitDuration, m.batchSize, m.watchers, m.compactions}
}

func (m *metrics) unregister() {
	if m.reg == nil {
		return
	}
	for _, c := range m.collectors() {
		m.reg.Unregister(c)
	}
}

func (m *metrics) observeCommit(d time.Duration, writes int) {
	m.commitDuration.Observe(d.Seconds())
	m.batchSize.Observe(float64(writes))
}
