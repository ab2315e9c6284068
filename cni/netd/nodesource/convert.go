// Package nodesource tells netd about the cluster's nodes: from Node
// objects through a client-go informer (Kube), or from flags and a file for
// standalone use (Static, File). It also publishes this node's VTEP MAC and
// underlay address, as annotations on its Node.
package nodesource

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"rudder/cni/netd/netstate"
)

// The annotations a node publishes about itself.
const (
	AnnotationVTEPMAC  = "rudder.io/vtep-mac"
	AnnotationPublicIP = "rudder.io/public-ip"
)

// FromNode extracts what netd needs from a Node: spec.podCIDR (else the
// first IPv4 of spec.podCIDRs), the rudder.io/public-ip annotation (else
// the first IPv4 InternalIP) and the rudder.io/vtep-mac annotation.
// Unparsable values count as absent.
func FromNode(n *corev1.Node) netstate.Node {
	out := netstate.Node{Name: n.Name}
	cidrs := append([]string{n.Spec.PodCIDR}, n.Spec.PodCIDRs...)
	for _, c := range cidrs {
		if p, err := netip.ParsePrefix(c); err == nil && p.Addr().Is4() {
			out.PodCIDR = p.Masked()
			break
		}
	}
	if a, err := netip.ParseAddr(n.Annotations[AnnotationPublicIP]); err == nil && a.Is4() {
		out.PublicIP = a
	} else {
		out.PublicIP = internalIP(n)
	}
	if m, err := netstate.ParseMAC(n.Annotations[AnnotationVTEPMAC]); err == nil {
		out.VTEPMAC = m
	}
	return out
}

func internalIP(n *corev1.Node) netip.Addr {
	for _, a := range n.Status.Addresses {
		if ip, err := netip.ParseAddr(a.Address); err == nil && a.Type == corev1.NodeInternalIP && ip.Is4() {
			return ip
		}
	}
	return netip.Addr{}
}

// Published is what a node announces about itself.
type Published struct {
	PublicIP netip.Addr
	VTEPMAC  netstate.MAC // zero: no VXLAN endpoint (host-gw); the annotation is removed
}

// annotations returns the patch values: a string to set, nil to remove.
func (p Published) annotations() map[string]*string {
	ip := p.PublicIP.String()
	out := map[string]*string{AnnotationPublicIP: &ip, AnnotationVTEPMAC: nil}
	if !p.VTEPMAC.IsZero() {
		mac := p.VTEPMAC.String()
		out[AnnotationVTEPMAC] = &mac
	}
	return out
}
