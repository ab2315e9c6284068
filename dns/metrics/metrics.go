// Package metrics is the handler that counts queries and replies for
// Prometheus: requests by server, transport, address family and type,
// replies by rcode, request duration and reply size.
//
// It sees the final rcode of every query: when the rest of the chain
// returns an rcode for which plugin.ClientWrite is false without writing,
// this handler writes that error reply itself (the query's ID, question
// and rcode, as the server would) and counts it; the server then finds
// the reply written and writes nothing. Queries the server rejects before
// the chain (FORMERR, NOTIMP, BADVERS, dropped) and handler panics are
// counted by the server (rudder_dns_server_*), not here.
package metrics

import (
	"context"
	"fmt"
	"net"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"rudder/dns/plugin"
)

// Config configures the metrics handler.
type Config struct {
	// Server is the "server" label, e.g. "dns://:53".
	Server string
	// Registerer takes the metrics (a private registry when nil).
	Registerer prometheus.Registerer
}

// Query types with their own label value; the rest are "other".
var types = [...]uint16{dns.TypeA, dns.TypeAAAA, dns.TypeSRV, dns.TypePTR, dns.TypeTXT}

const (
	numTypes  = len(types) + 1 // + other
	otherType = len(types)
	numRcodes = 24 // NOERROR..BADCOOKIE; larger ones are "other"
)

// Metrics holds the collectors and their pre-resolved children, so the
// hot path does no label lookups.
type Metrics struct {
	requests  [2][2][numTypes]prometheus.Counter // proto, family, type
	responses [numRcodes + 1]prometheus.Counter  // rcode, other last
	duration  [numTypes]prometheus.Observer
	respSize  [2]prometheus.Observer // proto
	reqSize   [2]prometheus.Observer
}

// New registers the metrics.
func New(cfg Config) (*Metrics, error) {
	if cfg.Registerer == nil {
		cfg.Registerer = prometheus.NewRegistry()
	}
	c := newCollectors()
	for _, col := range []prometheus.Collector{c.requests, c.responses, c.duration, c.respSize, c.reqSize} {
		if err := cfg.Registerer.Register(col); err != nil {
			return nil, fmt.Errorf("register dns metrics: %w", err)
		}
	}
	return c.resolve(cfg.Server), nil
}

// Plugin returns the handler wrapping next; place it first in the chain
// so that it sees every query and its duration.
func (m *Metrics) Plugin() plugin.Plugin {
	return func(next plugin.Handler) plugin.Handler { return &handler{m: m, next: next} }
}

type handler struct {
	m    *Metrics
	next plugin.Handler
}

// Name is "metrics".
func (h *handler) Name() string { return "metrics" }

// ServeDNS counts the query, runs next, writes the error reply next left
// unwritten and counts the reply.
func (h *handler) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	begin := time.Now()
	rec := &recorder{ResponseWriter: w}
	proto, family := transport(w.RemoteAddr())
	t := typeIndex(r)
	h.m.requests[proto][family][t].Inc()

	rcode, err := plugin.Next(ctx, h.Name(), h.next, rec, r)
	if !rec.written && !plugin.ClientWrite(rcode) {
		e := new(dns.Msg)
		e.SetRcode(r, rcode)
		if werr := rec.WriteMsg(e); werr != nil && err == nil {
			err = fmt.Errorf("write %s reply: %w", dns.RcodeToString[rcode], werr)
		}
	}
	if rec.written {
		h.m.observe(proto, t, rec, w, begin)
	}
	return rcode, err
}

func (m *Metrics) observe(proto, t int, rec *recorder, w dns.ResponseWriter, begin time.Time) {
	m.duration[t].Observe(time.Since(begin).Seconds())
	rc := rec.rcode
	if rc < 0 || rc >= numRcodes {
		rc = numRcodes
	}
	m.responses[rc].Inc()
	m.respSize[proto].Observe(float64(rec.size))
	if q, ok := w.(interface{ QueryBytes() int }); ok {
		m.reqSize[proto].Observe(float64(q.QueryBytes()))
	}
}

// transport maps the client address to (0 udp | 1 tcp, 0 IPv4 | 1 IPv6).
func transport(a net.Addr) (int, int) {
	switch a := a.(type) {
	case *net.UDPAddr:
		return 0, family(a.IP)
	case *net.TCPAddr:
		return 1, family(a.IP)
	}
	return 0, 0
}

func family(ip net.IP) int {
	if ip == nil || ip.To4() != nil {
		return 0
	}
	return 1
}

func typeIndex(r *dns.Msg) int {
	if len(r.Question) == 0 {
		return otherType
	}
	for i, t := range types {
		if r.Question[0].Qtype == t {
			return i
		}
	}
	return otherType
}
