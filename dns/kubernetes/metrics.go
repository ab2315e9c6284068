package kubernetes

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	buildDuration prometheus.Histogram
	records       prometheus.Gauge
	builds        prometheus.Counter
}

func newMetrics() metrics {
	return metrics{
		buildDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rudder_dns_kubernetes_zone_build_duration_seconds",
			Help:    "Time to build the cluster zone from the service view.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		records: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rudder_dns_kubernetes_zone_records",
			Help: "Resource records in the cluster zone being served.",
		}),
		builds: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_dns_kubernetes_zone_builds_total",
			Help: "Cluster zone builds.",
		}),
	}
}

func (m metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.buildDuration, m.records, m.builds} {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("register %T: %w", c, err)
		}
	}
	return nil
}
