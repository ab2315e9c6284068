package scheduler

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a scheduling attempt, as kube-scheduler labels them.
const (
	resultScheduled     = "scheduled"
	resultUnschedulable = "unschedulable"
	resultError         = "error"
)

// metrics are the scheduler's collectors, named after kube-scheduler's
// (scheduler_schedule_attempts_total, scheduler_pending_pods, …). They always
// exist; they are registered only when Config.Registerer is set.
type metrics struct {
	attempts *prometheus.CounterVec
	duration *prometheus.HistogramVec
	pending  []prometheus.Collector
}

func newMetrics(reg prometheus.Registerer, q *queue) (*metrics, error) {
	m := &metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rudder_scheduler_schedule_attempts_total",
			Help: "Scheduling attempts by result (scheduled, unschedulable, error).",
		}, []string{"result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rudder_scheduler_scheduling_attempt_duration_seconds",
			Help:    "Time to filter and score nodes for one pod, binding excluded.",
			Buckets: prometheus.ExponentialBuckets(0.00001, 2, 18),
		}, []string{"result"}),
	}
	for i, name := range []string{"active", "backoff", "unschedulable"} {
		m.pending = append(m.pending, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "rudder_scheduler_pending_pods",
			Help:        "Pods waiting to be scheduled, by queue.",
			ConstLabels: prometheus.Labels{"queue": name},
		}, func() float64 {
			a, b, u := q.lengths()
			return float64([]int{a, b, u}[i])
		}))
	}
	if reg == nil {
		return m, nil
	}
	all := append([]prometheus.Collector{m.attempts, m.duration}, m.pending...)
	for i, c := range all {
		if err := reg.Register(c); err != nil {
			for _, done := range all[:i] {
				reg.Unregister(done)
			}
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) observe(result string, d time.Duration) {
	m.attempts.WithLabelValues(result).Inc()
	m.duration.WithLabelValues(result).Observe(d.Seconds())
}
