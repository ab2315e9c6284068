package proxy

import (
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"rudder/ingress/route"
)

// generation is one published table plus what the proxy derives from
// its routes on first use (label values, backend balancing state). It is
// dropped whole by the next Swap.
type generation struct {
	table route.Table
	p     *Proxy

	mu       sync.RWMutex
	routes   map[*route.Route]*routeInfo
	backends map[*route.Backend]*backendState
}

// maxCachedRoutes bounds a generation's caches. A table returns the same
// *Route for the same rule (its values are immutable once published), so
// the caches hold one entry per rule; past the bound (a table building
// routes per call) the proxy computes the info per request instead of
// growing without limit.
const maxCachedRoutes = 1 << 16

// routeInfo is what the proxy precomputes per route.
type routeInfo struct {
	route    *route.Route
	ingress  string // "namespace/name" or ""
	service  string // backend key or ""
	policy   *route.Policy
	backend  *backendState // nil: 503
	duration prometheus.Observer
	ok       prometheus.Counter // requests_total with status 200
	upstream prometheus.Observer
}

var zeroPolicy = route.Policy{}

func newGeneration(t route.Table, p *Proxy) *generation {
	return &generation{
		table:    t,
		p:        p,
		routes:   make(map[*route.Route]*routeInfo),
		backends: make(map[*route.Backend]*backendState),
	}
}

// info is the routeInfo of rt, computed once per generation.
func (g *generation) info(rt *route.Route) *routeInfo {
	g.mu.RLock()
	ri := g.routes[rt]
	g.mu.RUnlock()
	if ri != nil {
		return ri
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if ri = g.routes[rt]; ri != nil {
		return ri
	}
	ri = &routeInfo{route: rt, policy: rt.Policy}
	if rt.Namespace != "" || rt.Name != "" {
		ri.ingress = rt.Namespace + "/" + rt.Name
	}
	if ri.policy == nil {
		ri.policy = &zeroPolicy
	}
	if b := rt.Backend; b != nil {
		ri.service = b.Key
		ri.backend = g.backendLocked(b)
	}
	ri.duration = g.p.metrics.duration.WithLabelValues(ri.ingress, ri.service)
	ri.ok = g.p.metrics.requests.WithLabelValues(ri.ingress, ri.service, "200")
	ri.upstream = g.p.metrics.upstream.WithLabelValues(ri.ingress, ri.service)
	if len(g.routes) < maxCachedRoutes {
		g.routes[rt] = ri
	}
	return ri
}

func (g *generation) backendLocked(b *route.Backend) *backendState {
	if bs, ok := g.backends[b]; ok {
		return bs
	}
	var addrs []string
	if b.ExternalName != "" {
		addrs = []string{net.JoinHostPort(b.ExternalName, strconv.Itoa(int(b.ExternalPort)))}
	} else {
		addrs = make([]string, 0, len(b.Endpoints))
		for _, ap := range b.Endpoints {
			addrs = append(addrs, ap.String())
		}
	}
	var bs *backendState
	if len(addrs) > 0 {
		bs = newBackendState(g.p.endpoints, addrs)
	}
	if len(g.backends) < maxCachedRoutes {
		g.backends[b] = bs
	}
	return bs
}

// listener is what the proxy knows of the listener a request came in on.
// Its header values are shared, read-only, by all its requests.
type listener struct {
	tls         bool
	proto       string   // "http" or "https"
	protoHeader []string // {proto}
	portHeader  []string // {port}, nil when unknown
}

func newListener(isTLS bool, addr net.Addr) *listener {
	l := &listener{tls: isTLS, proto: "http"}
	if isTLS {
		l.proto = "https"
	}
	l.protoHeader = []string{l.proto}
	if addr == nil {
		return l
	}
	if ap, err := netip.ParseAddrPort(addr.String()); err == nil {
		l.portHeader = []string{strconv.Itoa(int(ap.Port()))}
	}
	return l
}

func listenerFor(ln net.Listener, isTLS bool) *listener {
	return newListener(isTLS, ln.Addr())
}

// listenerOf derives the listener from a request, for Handler().
func listenerOf(r *http.Request) *listener {
	a, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	return newListener(r.TLS != nil, a)
}
