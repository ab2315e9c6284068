package netd

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/cni/netd/desired"
)

type metrics struct {
	duration    prometheus.Histogram
	lastSuccess prometheus.Gauge
	failures    prometheus.Counter
	peers       *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "rudder_netd_sync_duration_seconds",
			Help:    "Duration of one full sync of the node's overlay state.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rudder_netd_last_sync_success_timestamp_seconds",
			Help: "Unix time of the last sync that completed without error.",
		}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_netd_sync_failures_total",
			Help: "Syncs that failed and were retried.",
		}),
		peers: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "rudder_netd_peers",
			Help: "Other nodes by state: programmed, pending (data not published yet) or refused.",
		}, []string{"state"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.duration, m.lastSuccess, m.failures, m.peers} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) observe(took time.Duration, res desired.Result, err error) {
	m.duration.Observe(took.Seconds())
	m.peers.WithLabelValues("programmed").Set(float64(len(res.Peers)))
	m.peers.WithLabelValues("pending").Set(float64(len(res.Pending)))
	m.peers.WithLabelValues("refused").Set(float64(len(res.Refused)))
	if err != nil {
		m.failures.Inc()
		return
	}
	m.lastSuccess.SetToCurrentTime()
}
