package netstate

import (
	"fmt"
	"net/netip"
)

// Node is what netd needs to know about one cluster node.
type Node struct {
	Name     string
	PodCIDR  netip.Prefix // this node's pod range; invalid when not assigned yet
	PublicIP netip.Addr   // underlay address (annotation rudder.io/public-ip, else InternalIP)
	VTEPMAC  MAC          // VXLAN endpoint MAC (annotation rudder.io/vtep-mac); zero when unknown
}

// Underlay is the node's interface on the network that carries the overlay.
type Underlay struct {
	Name string       // interface name, e.g. eth0
	Addr netip.Prefix // the node's address with the prefix of its subnet, e.g. 198.18.0.11/24
	MTU  int
}

// Backend says how pod traffic crosses nodes.
type Backend string

// The backends netd implements.
const (
	VXLAN  Backend = "vxlan"
	HostGW Backend = "host-gw"
)

// ParseBackend accepts "vxlan" and "host-gw".
func ParseBackend(s string) (Backend, error) {
	switch b := Backend(s); b {
	case VXLAN, HostGW:
		return b, nil
	}
	return "", fmt.Errorf("backend %q: want %q or %q", s, VXLAN, HostGW)
}
