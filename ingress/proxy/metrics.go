package proxy

import (
	"errors"
	"net"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the proxy's Prometheus metrics. Labels are bounded: the
// Ingress, the backend key and the status code.
type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	upstream   *prometheus.HistogramVec
	active     prometheus.Gauge
	retries    prometheus.Counter
	ejections  prometheus.Counter
	wire       prometheus.Counter
	noRoute    prometheus.Observer // duration of requests without a route
	statusText [600]string
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rudder_ingress_requests_total",
			Help: "Requests served by the ingress proxy, by Ingress, backend service and status code.",
		}, []string{"ingress", "service", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rudder_ingress_request_duration_seconds",
			Help:    "Time to serve a request, until the response is written.",
			Buckets: prometheus.DefBuckets,
		}, []string{"ingress", "service"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rudder_ingress_upstream_duration_seconds",
			Help:    "Time from sending a request upstream to its response headers.",
			Buckets: prometheus.DefBuckets,
		}, []string{"ingress", "service"}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "rudder_ingress_active_connections",
			Help: "Client connections open to the ingress proxy.",
		}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_ingress_upstream_retries_total",
			Help: "Requests retried on another endpoint after a connect failure.",
		}),
		ejections: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_ingress_endpoint_ejections_total",
			Help: "Endpoints ejected by passive outlier detection.",
		}),
		wire: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rudder_ingress_wire_path_requests_total",
			Help: "HTTP/1.1 requests (plain and over TLS) relayed on the wire path, without net/http (part of rudder_ingress_requests_total).",
		}),
	}
	m.noRoute = m.duration.WithLabelValues("", "")
	for i := range m.statusText {
		m.statusText[i] = strconv.Itoa(i)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.upstream, m.active, m.retries, m.ejections, m.wire} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, errors.New("ingress proxy metrics are already registered")
			}
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) status(code int) string {
	if code >= 0 && code < len(m.statusText) {
		return m.statusText[code]
	}
	return "other"
}

// connState counts client connections.
func (m *metrics) connState(_ net.Conn, s http.ConnState) {
	switch s {
	case http.StateNew:
		m.active.Inc()
	case http.StateHijacked, http.StateClosed:
		m.active.Dec()
	}
}
