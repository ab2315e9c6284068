package flowtest

import (
	"net/netip"
	"slices"

	"rudder/proxy/model"
)

// Reference is the tracer that implements semantics.go directly over the
// model, with no rules in between: the oracle the cases are checked
// against, and a readable statement of what backends must do.
func Reference(st *model.State) Tracer { return reference{st} }

type reference struct{ st *model.State }

func (r reference) Trace(p Packet) (Verdict, error) {
	for i := range r.st.Services {
		sp := &r.st.Services[i]
		if sp.Name.Protocol != p.Protocol {
			continue
		}
		if sp.Port == p.Dst.Port() && slices.Contains(sp.ClusterIPs, p.Dst.Addr()) {
			return r.internal(sp, p), nil
		}
		if r.isExternal(sp, p.Dst) {
			return r.external(sp, p), nil
		}
	}
	return Verdict{}, nil
}

func (r reference) isExternal(sp *model.ServicePort, dst netip.AddrPort) bool {
	a := dst.Addr()
	if sp.NodePort != 0 && dst.Port() == sp.NodePort && slices.Contains(r.st.Node.NodePortAddresses, a) {
		return true
	}
	return dst.Port() == sp.Port && (slices.Contains(sp.ExternalIPs, a) || slices.Contains(sp.LoadBalancerIPs, a))
}

// internal is traffic to a cluster IP, and short-circuited external
// traffic from pods.
func (r reference) internal(sp *model.ServicePort, p Packet) Verdict {
	if len(sp.ClusterEndpoints) == 0 {
		return Verdict{Reject: true}
	}
	v := dnat(sp.ClusterEndpoints)
	v.Masquerade = !r.inCluster(p.Src) || hairpin(v, p.Src)
	return v
}

func (r reference) external(sp *model.ServicePort, p Packet) Verdict {
	if !sp.ExternalPolicyLocal {
		if len(sp.ClusterEndpoints) == 0 {
			return Verdict{Reject: true}
		}
		v := dnat(sp.ClusterEndpoints)
		v.Masquerade = true
		return v
	}
	switch {
	case r.inCluster(p.Src):
		return r.internal(sp, p)
	case p.FromNode:
		v := r.internal(sp, p)
		v.Masquerade = len(v.Endpoints) > 0
		return v
	case len(sp.LocalEndpoints) > 0:
		return dnat(sp.LocalEndpoints)
	case !sp.HasEndpoints():
		return Verdict{Reject: true}
	}
	return Verdict{Drop: true}
}

func (r reference) inCluster(a netip.Addr) bool {
	for _, c := range r.st.Node.ClusterCIDRs {
		if c.Contains(a) {
			return true
		}
	}
	return false
}

func dnat(eps []model.Endpoint) Verdict {
	var v Verdict
	for _, e := range eps {
		v.Endpoints = append(v.Endpoints, e.Addr)
	}
	return v
}

// hairpin: the source is one of the endpoints it may be sent to. The
// cases only hairpin through single-endpoint services, where this is
// exact.
func hairpin(v Verdict, src netip.Addr) bool {
	return slices.ContainsFunc(v.Endpoints, func(e netip.AddrPort) bool { return e.Addr() == src })
}
