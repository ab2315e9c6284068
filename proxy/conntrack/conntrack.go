// Package conntrack clears the UDP conntrack entries that would keep
// sending a client's datagrams to an endpoint that no longer exists (the
// cause of the well-known 5 s DNS timeouts), and the entries of services
// that just got their first endpoint (a client whose datagrams were
// rejected keeps its entry until it idles out otherwise). For TCP it
// clears the entries that were never DNAT'ed to a service that just
// became reachable: a SYN sent in the moment between a Service's creation
// and its rules leaves an entry without NAT, and every retransmitted SYN
// of that connection follows it, so the connection hangs until SYN_SENT
// times out (two minutes) instead of succeeding on the next retransmit.
package conntrack

import (
	"net/netip"
	"slices"

	"rudder/proxy/model"
)

// Flush is what must be deleted after a sync.
type Flush struct {
	// Endpoints: UDP entries whose reply source is one of these
	// (connections DNAT'ed to an endpoint that went away).
	Endpoints []netip.Addr
	// ServiceIPs: UDP entries whose original destination is one of these
	// frontends (the service had no endpoints before).
	ServiceIPs []netip.Addr
	// TCPServiceIPs: TCP entries whose original destination is one of
	// these frontends and whose reply comes from that same address, i.e.
	// that were not DNAT'ed (the service was new or had no endpoints).
	TCPServiceIPs []netip.Addr
}

// Empty tells whether there is nothing to delete.
func (f Flush) Empty() bool {
	return len(f.Endpoints) == 0 && len(f.ServiceIPs) == 0 && len(f.TCPServiceIPs) == 0
}

// Stale computes the flush between two applied states (pure).
func Stale(old, cur *model.State) Flush {
	if old == nil {
		return Flush{}
	}
	var f Flush
	for i := range old.Services {
		o := &old.Services[i]
		if o.Name.Protocol != model.UDP {
			continue
		}
		n := cur.Lookup(o.Name)
		for _, ep := range o.ClusterEndpoints {
			if n == nil || !hasEndpoint(n, ep.Addr) {
				f.Endpoints = append(f.Endpoints, ep.Addr.Addr())
			}
		}
	}
	for i := range cur.Services {
		n := &cur.Services[i]
		if !n.HasEndpoints() {
			continue
		}
		if o := old.Lookup(n.Name); o != nil && o.HasEndpoints() {
			continue
		}
		switch n.Name.Protocol {
		case model.UDP:
			f.ServiceIPs = append(f.ServiceIPs, frontends(n)...)
		case model.TCP:
			f.TCPServiceIPs = append(f.TCPServiceIPs, frontends(n)...)
		}
	}
	return f.normalise()
}

func hasEndpoint(sp *model.ServicePort, a netip.AddrPort) bool {
	for _, ep := range sp.ClusterEndpoints {
		if ep.Addr == a {
			return true
		}
	}
	return false
}

func frontends(sp *model.ServicePort) []netip.Addr {
	out := slices.Clone(sp.ClusterIPs)
	out = append(out, sp.ExternalIPs...)
	return append(out, sp.LoadBalancerIPs...)
}

func (f Flush) normalise() Flush {
	for _, s := range []*[]netip.Addr{&f.Endpoints, &f.ServiceIPs, &f.TCPServiceIPs} {
		slices.SortFunc(*s, func(a, b netip.Addr) int { return a.Compare(b) })
		*s = slices.Compact(*s)
	}
	return f
}

// Deleter removes conntrack entries (netlink on Linux; a fake in tests).
type Deleter interface {
	Delete(f Flush) (int, error)
}
