package controller

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the control loop's metrics.
type Metrics struct {
	syncs    *prometheus.CounterVec
	build    prometheus.Histogram
	served   prometheus.Gauge
	lastSync prometheus.Gauge
}

// NewMetrics registers the control loop's metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rudder_ingress_config_syncs_total",
			Help: "Configuration syncs (build, swap, events, status) by result."}, []string{"result"}),
		build: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rudder_ingress_config_build_duration_seconds",
			Help: "Time to compile the Ingresses into a route table and swap it in.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9)}),
		served: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rudder_ingress_served_ingresses",
			Help: "Ingresses of this controller's classes in the current table."}),
		lastSync: prometheus.NewGauge(prometheus.GaugeOpts{Name: "rudder_ingress_config_last_sync_timestamp_seconds",
			Help: "When the current table was swapped in (Unix time)."}),
	}
	reg.MustRegister(m.syncs, m.build, m.served, m.lastSync)
	return m
}

func (m *Metrics) observeSync(build time.Duration, served int, err error) {
	if m == nil {
		return
	}
	result := "success"
	if err != nil {
		result = "error"
	}
	m.syncs.WithLabelValues(result).Inc()
	m.build.Observe(build.Seconds())
	m.served.Set(float64(served))
	m.lastSync.SetToCurrentTime()
}
