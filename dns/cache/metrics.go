package cache

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the cache's Prometheus collectors, with the label values
// resolved once so that the hot path does not look them up.
type metrics struct {
	hitPos, hitNeg, misses, prefetches prometheus.Counter
	evictPos, evictNeg                 prometheus.Counter
	entriesPos, entriesNeg             prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	hits := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rudder_dns_cache_hits_total", Help: "Queries answered from the cache, by kind (positive, negative).",
	}, []string{"kind"})
	misses := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "rudder_dns_cache_misses_total", Help: "Queries not found in the cache.",
	})
	entries := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "rudder_dns_cache_entries", Help: "Entries in the cache, by kind.",
	}, []string{"kind"})
	prefetches := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "rudder_dns_cache_prefetch_total", Help: "Background refreshes of popular entries.",
	})
	evictions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "rudder_dns_cache_evictions_total", Help: "Entries evicted to make room, by kind.",
	}, []string{"kind"})
	if reg != nil {
		for _, c := range []prometheus.Collector{hits, misses, entries, prefetches, evictions} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("register cache metrics: %w", err)
			}
		}
	}
	return &metrics{
		hitPos: hits.WithLabelValues("positive"), hitNeg: hits.WithLabelValues("negative"),
		misses: misses, prefetches: prefetches,
		evictPos: evictions.WithLabelValues("positive"), evictNeg: evictions.WithLabelValues("negative"),
		entriesPos: entries.WithLabelValues("positive"), entriesNeg: entries.WithLabelValues("negative"),
	}, nil
}

func (m *metrics) hit(negative bool) {
	if negative {
		m.hitNeg.Inc()
		return
	}
	m.hitPos.Inc()
}

func (m *metrics) miss() { m.misses.Inc() }
