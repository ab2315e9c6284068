// Package autopath answers the search-path expansions of a ClusterFirst
// pod in one round trip. Such a pod's resolv.conf is
//
//	search <ns>.svc.<zone> svc.<zone> <zone> <host search...>
//	options ndots:5
//
// so a lookup of "example.com" first asks for
// example.com.<ns>.svc.<zone>, which does not exist. When autopath sees
// that query from a pod of namespace <ns> and the rest of the chain
// answers NXDOMAIN, it tries the remaining search domains and the bare
// name itself, and answers the first that exists with a CNAME from the
// asked name to the found one plus the found answer, as CoreDNS's
// autopath does.
package autopath

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"rudder/dns/plugin"
)

// PodNamespacer tells the namespace of the pod that has an address.
type PodNamespacer interface {
	NamespaceOf(ip net.IP) (string, bool)
}

// Config configures an Autopath.
type Config struct {
	// Next is the rest of the chain (or set by Plugin).
	Next plugin.Handler
	// Domain is the cluster domain (default cluster.local.).
	Domain string
	// Search are the search domains the kubelet appends after the
	// cluster ones (the node's own resolv.conf search list).
	Search []string
	// Pods maps a client address to its pod's namespace; required.
	Pods PodNamespacer
	// Registerer takes the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
}

// Autopath is the plugin. Create it with New.
type Autopath struct {
	next    plugin.Handler
	pods    PodNamespacer
	svcSfx  string   // ".svc.<zone>"
	tail    []string // search domains after <ns>.svc.<zone>, then "." for the bare name
	log     *slog.Logger
	metrics metrics
}

// New checks cfg and returns the plugin.
func New(cfg Config) (*Autopath, error) {
	if cfg.Pods == nil {
		return nil, errors.New("autopath: Config.Pods is nil")
	}
	zone := cfg.Domain
	if zone == "" {
		zone = "cluster.local."
	}
	zone = dns.Fqdn(strings.ToLower(zone))
	if _, ok := dns.IsDomainName(zone); !ok || zone == "." {
		return nil, fmt.Errorf("autopath: invalid cluster domain %q", cfg.Domain)
	}
	a := &Autopath{next: cfg.Next, pods: cfg.Pods, svcSfx: ".svc." + zone, log: cfg.Logger}
	a.tail = []string{"svc." + zone, zone}
	for _, s := range cfg.Search {
		s = dns.Fqdn(strings.ToLower(s))
		if _, ok := dns.IsDomainName(s); !ok || s == "." {
			return nil, fmt.Errorf("autopath: invalid search domain %q", s)
		}
		a.tail = append(a.tail, s)
	}
	a.tail = append(a.tail, ".")
	if a.log == nil {
		a.log = slog.Default()
	}
	a.metrics = newMetrics()
	if cfg.Registerer != nil {
		if err := a.metrics.register(cfg.Registerer); err != nil {
			return nil, fmt.Errorf("autopath: register metrics: %w", err)
		}
	}
	return a, nil
}

// Plugin returns the plugin as a chain element; building the chain sets
// its next handler, so call it once, before serving.
func (a *Autopath) Plugin() plugin.Plugin {
	return func(next plugin.Handler) plugin.Handler {
		a.next = next
		return a
	}
}

// Name is "autopath".
func (a *Autopath) Name() string { return "autopath" }

// ServeDNS answers a first search-path expansion from the whole search
// path; any other query goes to the next handler untouched.
func (a *Autopath) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	base, ok := a.expansion(w, r)
	if !ok {
		return plugin.Next(ctx, a.Name(), a.next, w, r)
	}
	first := &nxCatcher{ResponseWriter: w}
	rcode, err := plugin.Next(ctx, a.Name(), a.next, first, r)
	if err != nil || first.nx == nil {
		return rcode, err // answered (or failed) without NXDOMAIN
	}
	a.metrics.searches.Inc()
	reply := a.search(ctx, w, r, base)
	if reply == nil {
		reply = first.nx
	} else {
		a.metrics.found.Inc()
	}
	if err := w.WriteMsg(reply); err != nil {
		return dns.RcodeServerFailure, fmt.Errorf("autopath: write reply for %s: %w", r.Question[0].Name, err)
	}
	return reply.Rcode, nil
}

// expansion tells whether r asks for <base>.<ns>.svc.<zone> from a pod of
// namespace <ns>, and returns <base> as asked.
func (a *Autopath) expansion(w dns.ResponseWriter, r *dns.Msg) (string, bool) {
	if len(r.Question) != 1 || r.Question[0].Qclass != dns.ClassINET {
		return "", false
	}
	qname := dns.Fqdn(r.Question[0].Name)
	lname := strings.ToLower(qname)
	if len(lname) != len(qname) || !strings.HasSuffix(lname, a.svcSfx) {
		return "", false
	}
	rest := lname[:len(lname)-len(a.svcSfx)] // <base>.<ns>
	dot := strings.LastIndexByte(rest, '.')
	if dot <= 0 {
		return "", false
	}
	ns := rest[dot+1:]
	podNS, ok := a.pods.NamespaceOf(plugin.NewRequest(w, r).IP())
	if !ok || podNS != ns {
		return "", false
	}
	return qname[:dot], true
}

// search asks the rest of the chain for base in each later search domain
// and returns the reply for the first name that exists, or nil when none
// does or a step failed (the client then walks its search path itself).
func (a *Autopath) search(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, base string) *dns.Msg {
	q := r.Question[0]
	for _, dom := range a.tail {
		name := base + "." + dom
		if dom == "." {
			name = base + "."
		}
		try := *r
		try.Question = []dns.Question{{Name: name, Qtype: q.Qtype, Qclass: q.Qclass}}
		rec := &recorder{ResponseWriter: w}
		rcode, err := plugin.Next(ctx, a.Name(), a.next, rec, &try)
		if err != nil || !plugin.ClientWrite(rcode) || rec.msg == nil {
			a.log.Debug("autopath step failed", "name", name, "rcode", rcode, "err", err)
			return nil
		}
		switch rec.msg.Rcode {
		case dns.RcodeNameError:
			continue
		case dns.RcodeSuccess:
			return withCNAME(rec.msg, r, name)
		default:
			return nil
		}
	}
	return nil
}

// withCNAME turns the reply for name into the reply to r: r's id and
// question, a CNAME from the asked name to name before the answer.
func withCNAME(m, r *dns.Msg, name string) *dns.Msg {
	ttl := uint32(5)
	switch {
	case len(m.Answer) > 0:
		ttl = m.Answer[0].Header().Ttl
	case len(m.Ns) > 0:
		ttl = m.Ns[0].Header().Ttl
	}
	c := &dns.CNAME{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: ttl}, Target: name}
	m.Answer = append([]dns.RR{c}, m.Answer...)
	m.Id = r.Id
	m.Question = []dns.Question{r.Question[0]}
	return m
}
