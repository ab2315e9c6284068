package metrics

import (
	"strconv"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

type collectors struct {
	requests  *prometheus.CounterVec
	responses *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	respSize  *prometheus.HistogramVec
	reqSize   *prometheus.HistogramVec
}

// sizeBuckets are CoreDNS's, in bytes.
var sizeBuckets = []float64{0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3}

func newCollectors() collectors {
	return collectors{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rudder_dns_requests_total",
			Help: "DNS queries the handler chain saw, by server, transport, address family (1 IPv4, 2 IPv6) and type.",
		}, []string{"server", "proto", "family", "type"}),
		responses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rudder_dns_responses_total",
			Help: "DNS replies written, by server and rcode.",
		}, []string{"server", "rcode"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rudder_dns_request_duration_seconds",
			Help:    "Time from the query entering the chain to its reply being written, by server and type.",
			Buckets: prometheus.ExponentialBuckets(0.00025, 2, 16), // 0.25 ms .. 8 s
		}, []string{"server", "type"}),
		respSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rudder_dns_response_size_bytes",
			Help:    "Size of the replies on the wire, by server and transport.",
			Buckets: sizeBuckets,
		}, []string{"server", "proto"}),
		reqSize: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "rudder_dns_request_size_bytes",
			Help:    "Size of the queries on the wire, by server and transport.",
			Buckets: sizeBuckets,
		}, []string{"server", "proto"}),
	}
}

var protos = [2]string{"udp", "tcp"}

// resolve looks up every child once.
func (c collectors) resolve(server string) *Metrics {
	m := &Metrics{}
	for p, proto := range protos {
		for f := range 2 {
			for t := range numTypes {
				m.requests[p][f][t] = c.requests.WithLabelValues(server, proto, strconv.Itoa(f+1), typeName(t))
			}
		}
		m.respSize[p] = c.respSize.WithLabelValues(server, proto)
		m.reqSize[p] = c.reqSize.WithLabelValues(server, proto)
	}
	other := c.responses.WithLabelValues(server, "other")
	for rc := range numRcodes {
		m.responses[rc] = other
		if name, ok := dns.RcodeToString[rc]; ok {
			m.responses[rc] = c.responses.WithLabelValues(server, name)
		}
	}
	m.responses[numRcodes] = other
	for t := range numTypes {
		m.duration[t] = c.duration.WithLabelValues(server, typeName(t))
	}
	return m
}

func typeName(i int) string {
	if i >= len(types) {
		return "other"
	}
	return dns.TypeToString[types[i]]
}
