package forward

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the forwarder's Prometheus collectors.
type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	hcFailures *prometheus.CounterVec
	healthy    *prometheus.GaugeVec
	rejects    prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rudder_dns_forward_requests_total",
			Help: "Tries sent upstream, by upstream and the reply's rcode (\"error\" when none came).",
		}, []string{"to", "rcode"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rudder_dns_forward_request_duration_seconds",
			Help:    "Time of one try to an upstream.",
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 16),
		}, []string{"to"}),
		hcFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rudder_dns_forward_healthcheck_failures_total",
			Help: "Failed health checks of down upstreams.",
		}, []string{"to"}),
		healthy: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rudder_dns_forward_upstream_healthy",
			Help: "1 when the upstream is up, 0 when it is marked down.",
		}, []string{"to"}),
		rejects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_dns_forward_max_concurrent_rejects_total",
			Help: "Queries refused because MaxConcurrent queries were in flight.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.hcFailures, m.healthy, m.rejects} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register forward metrics: %w", err)
		}
	}
	return m, nil
}
