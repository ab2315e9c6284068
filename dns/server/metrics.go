package server

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// serverMetrics are the server's own counters; per-query counts are the
// dns/metrics handler's.
type serverMetrics struct {
	invalid     map[string]prometheus.Counter
	panics      prometheus.Counter
	tcpRejected prometheus.Counter
}

func newServerMetrics(reg prometheus.Registerer) (*serverMetrics, error) {
	invalid := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rudder_dns_server_invalid_requests_total",
		Help: "Queries rejected (FORMERR, NOTIMP, BADVERS) or dropped before the handler chain, by reason.",
	}, []string{"reason"})
	panics := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "rudder_dns_server_panics_total",
		Help: "Handler panics recovered (answered SERVFAIL).",
	})
	rejected := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "rudder_dns_server_tcp_rejected_total",
		Help: "TCP connections closed on accept because MaxTCPConns were open or the server was stopping.",
	})
	for _, c := range []prometheus.Collector{invalid, panics, rejected} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register dns server metrics: %w", err)
		}
	}
	m := &serverMetrics{invalid: map[string]prometheus.Counter{}, panics: panics, tcpRejected: rejected}
	for _, r := range reasons {
		m.invalid[r] = invalid.WithLabelValues(r)
	}
	return m, nil
}
