package model

import (
	"net/netip"
	"slices"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// slicesByService groups IP slices by the service named in their
// kubernetes.io/service-name label, each group sorted by slice name so
// that the result does not depend on the input order.
func slicesByService(in []*discoveryv1.EndpointSlice) map[types.NamespacedName][]*discoveryv1.EndpointSlice {
	out := map[types.NamespacedName][]*discoveryv1.EndpointSlice{}
	for _, s := range in {
		svc := s.Labels[discoveryv1.LabelServiceName]
		if svc == "" || s.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		key := types.NamespacedName{Namespace: s.Namespace, Name: svc}
		out[key] = append(out[key], s)
	}
	for _, group := range out {
		slices.SortFunc(group, func(a, b *discoveryv1.EndpointSlice) int {
			if a.Name < b.Name {
				return -1
			}
			if a.Name > b.Name {
				return 1
			}
			return 0
		})
	}
	return out
}

// collectEndpoints is every endpoint of the service port name in the
// service's slices, with its port resolved from its own slice (the slice
// port with the service port's name and protocol), deduplicated by
// address and port (a ready copy wins over a not-ready one), sorted.
func collectEndpoints(group []*discoveryv1.EndpointSlice, name ServicePortName, nodeName string) []Endpoint {
	seen := map[netip.AddrPort]int{}
	var out []Endpoint
	for _, s := range group {
		port, ok := slicePort(s, name)
		if !ok {
			continue
		}
		for i := range s.Endpoints {
			ep, ok := endpoint(&s.Endpoints[i], port, nodeName)
			if !ok {
				continue
			}
			if j, dup := seen[ep.Addr]; dup {
				if ep.Ready && !out[j].Ready {
					out[j] = ep
				}
				continue
			}
			seen[ep.Addr] = len(out)
			out = append(out, ep)
		}
	}
	slices.SortFunc(out, func(a, b Endpoint) int { return a.Addr.Compare(b.Addr) })
	return out
}

// slicePort is the port number a slice gives the service port name.
func slicePort(s *discoveryv1.EndpointSlice, name ServicePortName) (uint16, bool) {
	for _, p := range s.Ports {
		pname, proto := "", TCP
		if p.Name != nil {
			pname = *p.Name
		}
		if p.Protocol != nil {
			proto = protocol(*p.Protocol)
		}
		if pname == name.Port && proto == name.Protocol && p.Port != nil && *p.Port > 0 && *p.Port < 65536 {
			return uint16(*p.Port), true
		}
	}
	return 0, false
}

// endpoint converts one slice endpoint (its first address, as kube-proxy
// does). Unset ready and serving mean true, unset terminating false.
func endpoint(e *discoveryv1.Endpoint, port uint16, nodeName string) (Endpoint, bool) {
	if len(e.Addresses) == 0 {
		return Endpoint{}, false
	}
	addr, err := netip.ParseAddr(e.Addresses[0])
	if err != nil {
		return Endpoint{}, false
	}
	c := e.Conditions
	ep := Endpoint{
		Addr:        netip.AddrPortFrom(addr.Unmap(), port),
		Ready:       c.Ready == nil || *c.Ready,
		Terminating: c.Terminating != nil && *c.Terminating,
	}
	ep.Serving = ep.Ready
	if c.Serving != nil {
		ep.Serving = *c.Serving
	}
	if e.NodeName != nil {
		ep.NodeName = *e.NodeName
		ep.Local = nodeName != "" && ep.NodeName == nodeName
	}
	if e.Zone != nil {
		ep.Zone = *e.Zone
	}
	return ep, true
}
