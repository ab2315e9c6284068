package autopath

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	searches prometheus.Counter
	found    prometheus.Counter
}

func newMetrics() metrics {
	return metrics{
		searches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_dns_autopath_searches_total",
			Help: "First search-path expansions that were NXDOMAIN and were searched further.",
		}),
		found: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_dns_autopath_success_total",
			Help: "Searches answered from a later search domain with a CNAME.",
		}),
	}
}

func (m metrics) register(r prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{m.searches, m.found} {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("register %T: %w", c, err)
		}
	}
	return nil
}
