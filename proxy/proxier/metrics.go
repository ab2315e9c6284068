package proxier

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxier's Prometheus metrics, named after kube-proxy's.
type metrics struct {
	syncDuration     prometheus.Histogram
	lastSuccess      prometheus.Gauge
	syncs            *prometheus.CounterVec // result, mode
	servicePorts     prometheus.Gauge
	endpoints        prometheus.Gauge
	rules            *prometheus.GaugeVec // kind
	programmingDelay prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rudder_proxy_sync_duration_seconds",
			Help:    "Time a sync of the proxy rules takes, from snapshot to applied.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16),
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rudder_proxy_last_sync_success_timestamp_seconds",
			Help: "Unix time of the last successful sync.",
		}),
		syncs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rudder_proxy_syncs_total",
			Help: "Syncs by result (success, failure, skipped) and mode (full, partial).",
		}, []string{"result", "mode"}),
		servicePorts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rudder_proxy_service_ports",
			Help: "Service ports in the last successfully applied state.",
		}),
		endpoints: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rudder_proxy_endpoints",
			Help: "Endpoints (all service ports) in the last successfully applied state.",
		}),
		rules: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rudder_proxy_rules",
			Help: "Rules the backend has installed, by kind, after the last successful sync.",
		}, []string{"kind"}),
		programmingDelay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rudder_proxy_network_programming_duration_seconds",
			Help:    "From an EndpointSlice's last-change-trigger-time to the rules that reflect it being applied.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16),
		}),
	}
	for _, c := range []prometheus.Collector{m.syncDuration, m.lastSuccess, m.syncs, m.servicePorts, m.endpoints, m.rules, m.programmingDelay} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register proxy metrics: %w", err)
		}
	}
	return m, nil
}

func mode(full bool) string {
	if full {
		return "full"
	}
	return "partial"
}
