package kubelet

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the kubelet's Prometheus metrics, named after upstream's
// kubelet_* ones.
type metrics struct {
	startedContainers prometheus.Counter
	startErrors       *prometheus.CounterVec
	podStart          prometheus.Histogram
	podWorker         prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, k *Kubelet) *metrics {
	m := &metrics{
		startedContainers: prometheus.NewCounter(prometheus.CounterOpts{Name: "rudder_kubelet_started_containers_total",
			Help: "Container instances started."}),
		startErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "rudder_kubelet_started_containers_errors_total",
			Help: "Container starts that failed, by waiting reason."}, []string{"reason"}),
		podStart: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rudder_kubelet_pod_start_duration_seconds",
			Help:    "From the pod's creation to all its containers running, for pods this kubelet started.",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 12)}),
		podWorker: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "rudder_kubelet_pod_worker_duration_seconds",
			Help:    "Duration of one sync of one pod.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14)}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.startedContainers, m.startErrors, m.podStart, m.podWorker,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rudder_kubelet_running_pods", Help: "Pods with a worker on this node."},
			func() float64 { return float64(k.workerCount()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "rudder_kubelet_running_containers", Help: "Container instances running on this node."},
			func() float64 { return float64(k.runningContainers()) }))
	return m
}

func (k *Kubelet) workerCount() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.workers)
}

func (k *Kubelet) runningContainers() int {
	k.mu.Lock()
	workers := make([]*podWorker, 0, len(k.workers))
	for _, w := range k.workers {
		workers = append(workers, w)
	}
	k.mu.Unlock()
	n := 0
	for _, w := range workers {
		w.live.mu.Lock()
		for _, e := range w.live.ctrs {
			select {
			case <-e.c.Done():
			default:
				n++
			}
		}
		w.live.mu.Unlock()
	}
	return n
}
