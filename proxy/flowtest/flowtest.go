// Package flowtest is the packet-flow table every proxy backend must pass:
// cases of (source, destination, port, protocol) → where the connection
// goes (an endpoint set, REJECT, DROP or nothing to do with services), and
// whether it is masqueraded. Each backend traces its own generated rules
// (without a kernel) through the Tracer interface.
package flowtest

import (
	"net/netip"

	"rudder/proxy/model"
)

// Packet is the first packet of a connection as the node sees it.
type Packet struct {
	Src      netip.Addr
	Dst      netip.AddrPort
	Protocol model.Protocol
	// FromLocalPod is true when it arrives from a pod on this node
	// (bridge), false when it arrives from outside the node (or from the
	// node itself, with FromNode).
	FromLocalPod bool
	FromNode     bool // originated by the node's own processes
}

// Verdict is what the rules do with the packet.
type Verdict struct {
	// Endpoints the connection may be DNAT'ed to (any of them); empty
	// for REJECT, DROP and ACCEPT.
	Endpoints []netip.AddrPort
	Reject    bool
	Drop      bool
	// Masquerade is true when the packet is SNAT'ed to the node.
	Masquerade bool
}

// Tracer evaluates a backend's generated rules for one state.
type Tracer interface {
	Trace(p Packet) (Verdict, error)
}
