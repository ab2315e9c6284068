package router

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"rudder/ingress/route"
)

// backendResult is one resolved Service port, or why it failed; cached
// per Build so every route to a port shares one *route.Backend.
type backendResult struct {
	backend *route.Backend
	reason  string // event reason when backend is nil
	message string
}

// ingressBackend resolves an Ingress backend, reporting failures on ing.
// Nil means 503.
func (b *builder) ingressBackend(ing *networkingv1.Ingress, ib *networkingv1.IngressBackend) *route.Backend {
	switch {
	case ib.Resource != nil:
		b.warn(ing, ReasonUnsupportedBackend, "resource backend %s %s is not supported", ib.Resource.Kind, ib.Resource.Name)
		return nil
	case ib.Service == nil:
		b.warn(ing, ReasonUnsupportedBackend, "backend names neither a service nor a resource")
		return nil
	}
	port := ib.Service.Port.Name
	if port == "" {
		port = strconv.Itoa(int(ib.Service.Port.Number))
	}
	return b.serviceBackend(ing, ing.Namespace, ib.Service.Name, port)
}

// serviceBackend resolves namespace/service:port once per Build.
func (b *builder) serviceBackend(ing *networkingv1.Ingress, ns, svc, port string) *route.Backend {
	key := ns + "/" + svc + ":" + port
	res, ok := b.backends[key]
	if !ok {
		res = b.resolve(key, ns, svc, port)
		b.backends[key] = res
	}
	if res.backend == nil {
		b.warn(ing, res.reason, "%s", res.message)
	}
	return res.backend
}

func (b *builder) resolve(key, ns, name, port string) backendResult {
	svc := b.services[ns+"/"+name]
	if svc == nil {
		return backendResult{reason: ReasonServiceNotFound, message: fmt.Sprintf("service %s/%s not found", ns, name)}
	}
	be := &route.Backend{Key: key, Namespace: ns, Service: name, Port: port}
	sp, found := servicePort(svc, port)
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		be.ExternalName = svc.Spec.ExternalName
		switch n, err := strconv.Atoi(port); {
		case found:
			be.ExternalPort = uint16(sp.Port)
		case err == nil && n > 0 && n < 65536:
			be.ExternalPort = uint16(n)
		default:
			return portNotFound(ns, name, port)
		}
		return backendResult{backend: be}
	}
	if !found {
		return portNotFound(ns, name, port)
	}
	be.Endpoints = b.endpoints(ns, name, sp)
	return backendResult{backend: be}
}

func portNotFound(ns, name, port string) backendResult {
	return backendResult{reason: ReasonPortNotFound, message: fmt.Sprintf("service %s/%s has no port %s", ns, name, port)}
}

// servicePort finds a Service port by name or number.
func servicePort(svc *corev1.Service, port string) (corev1.ServicePort, bool) {
	n, err := strconv.Atoi(port)
	for _, sp := range svc.Spec.Ports {
		if (err == nil && int(sp.Port) == n) || (err != nil && sp.Name == port) {
			return sp, true
		}
	}
	return corev1.ServicePort{}, false
}

// endpoints are the ready, not terminating addresses of the Service port
// sp in the Service's EndpointSlices, with the slice port of the same
// name; deduplicated and sorted. When there are none, the serving
// terminating ones are used instead (kube-proxy's fallback): a Service
// whose pods are all shutting down, as with a Recreate rollout, still
// answers while they drain rather than failing at once.
func (b *builder) endpoints(ns, name string, sp corev1.ServicePort) []netip.AddrPort {
	proto := sp.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	var ready, draining []netip.AddrPort
	for _, es := range b.slices[ns+"/"+name] {
		if es.AddressType != discoveryv1.AddressTypeIPv4 && es.AddressType != discoveryv1.AddressTypeIPv6 {
			continue
		}
		port, ok := slicePort(es, sp.Name, proto)
		if !ok {
			continue
		}
		for _, ep := range es.Endpoints {
			var list *[]netip.AddrPort
			switch {
			case usable(ep.Conditions):
				list = &ready
			case drainingServing(ep.Conditions):
				list = &draining
			default:
				continue
			}
			for _, a := range ep.Addresses {
				addr, err := netip.ParseAddr(a)
				if err == nil && addr.Unmap().Is4() == (es.AddressType == discoveryv1.AddressTypeIPv4) {
					*list = append(*list, netip.AddrPortFrom(addr.Unmap(), port))
				}
			}
		}
	}
	out := ready
	if len(out) == 0 {
		out = draining
	}
	slices.SortFunc(out, func(a, b netip.AddrPort) int { return a.Compare(b) })
	return slices.Compact(out)
}

// slicePort is the number of the slice's port named name.
func slicePort(es *discoveryv1.EndpointSlice, name string, proto corev1.Protocol) (uint16, bool) {
	for _, p := range es.Ports {
		pname := ""
		if p.Name != nil {
			pname = *p.Name
		}
		pproto := corev1.ProtocolTCP
		if p.Protocol != nil {
			pproto = *p.Protocol
		}
		if pname == name && pproto == proto && p.Port != nil && *p.Port > 0 && *p.Port < 65536 {
			return uint16(*p.Port), true
		}
	}
	return 0, false
}

// usable is ready (nil counts as ready) and not terminating.
func usable(c discoveryv1.EndpointConditions) bool {
	ready := c.Ready == nil || *c.Ready
	terminating := c.Terminating != nil && *c.Terminating
	return ready && !terminating
}

// drainingServing is terminating but still serving (the serving
// condition nil counts as the ready one).
func drainingServing(c discoveryv1.EndpointConditions) bool {
	terminating := c.Terminating != nil && *c.Terminating
	serving := c.Ready == nil || *c.Ready
	if c.Serving != nil {
		serving = *c.Serving
	}
	return terminating && serving
}

// addGlobalDefault installs Config.DefaultBackend as the catch-all
// default when no Ingress provided one.
func (b *builder) addGlobalDefault() {
	if b.cfg.DefaultBackend == "" {
		return
	}
	ns, svc, port, err := ParseServiceRef(b.cfg.DefaultBackend)
	if err != nil {
		b.warn(nil, ReasonInvalidDefaultBackend, "default backend: %v", err)
		return
	}
	if b.table.any.def != nil {
		return
	}
	pol := defaultPolicy()
	pol.SSLRedirect = false
	b.table.any.def = &route.Route{
		PathType: route.Default,
		Backend:  b.serviceBackend(nil, ns, svc, port),
		Policy:   &pol,
	}
}
