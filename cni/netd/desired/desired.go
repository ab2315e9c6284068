// Package desired computes, without syscalls, the kernel state a node needs
// for its overlay: from the node's own record, the other nodes, the backend
// and the underlay to a netstate.State.
package desired

import (
	"errors"
	"fmt"
	"net/netip"

	"rudder/cni/netd/netstate"
)

// VXLANOverhead is what encapsulation costs per packet (outer IPv4, UDP,
// VXLAN and Ethernet headers).
const VXLANOverhead = 50

// ForwardSysctl is the one sysctl every node needs.
const ForwardSysctl = "net.ipv4.ip_forward"

// Input is everything the desired state depends on.
type Input struct {
	Self        string // this node's name
	Nodes       []netstate.Node
	Backend     netstate.Backend
	Underlay    netstate.Underlay
	ClusterCIDR netip.Prefix
	Device      string // VXLAN device name, e.g. rudder.1
	VNI         int
	Port        int
}

// Result is the desired state plus what it was computed from.
type Result struct {
	State   netstate.State
	PodCIDR netip.Prefix // this node's pod range
	MTU     int          // pod MTU
	VTEPMAC netstate.MAC // this node's VXLAN MAC (zero for host-gw)
	Peers   []string     // nodes programmed, sorted
	Pending []PeerIssue  // nodes not programmed yet: data still missing
	Refused []PeerIssue  // nodes that cannot be programmed
}

// PeerIssue says why one node is not programmed.
type PeerIssue struct {
	Node   string
	Reason string
}

func (p PeerIssue) String() string { return p.Node + ": " + p.Reason }

// ErrNoPodCIDR means this node has no pod range yet; nothing can be set up.
var ErrNoPodCIDR = errors.New("node has no podCIDR yet")

// Compute returns the desired state of node in.Self. It fails only when the
// node itself cannot be set up; problems with peers are reported in Result.
func Compute(in Input) (Result, error) {
	self, err := findSelf(in)
	if err != nil {
		return Result{}, err
	}
	res := Result{PodCIDR: self.PodCIDR, MTU: in.Underlay.MTU}
	res.State.Sysctls = []netstate.Sysctl{{Key: ForwardSysctl, Value: "1"}}
	if in.Backend == netstate.VXLAN {
		res.MTU = in.Underlay.MTU - VXLANOverhead
		res.VTEPMAC = VTEPMAC(in.Underlay.Addr.Addr())
		res.State.Links = []netstate.Link{vxlanLink(in, res.MTU, res.VTEPMAC)}
		res.State.Addrs = []netstate.Addr{{Dev: in.Device, Prefix: netip.PrefixFrom(self.PodCIDR.Addr(), 32)}}
	}
	for _, p := range checkPeers(in, self) {
		switch {
		case p.pending != "":
			res.Pending = append(res.Pending, PeerIssue{p.node.Name, p.pending})
		case p.refused != "":
			res.Refused = append(res.Refused, PeerIssue{p.node.Name, p.refused})
		default:
			res.Peers = append(res.Peers, p.node.Name)
			addPeer(&res.State, in, p.node)
		}
	}
	res.State = res.State.Sorted()
	return res, nil
}

func findSelf(in Input) (netstate.Node, error) {
	for _, n := range in.Nodes {
		if n.Name != in.Self {
			continue
		}
		if !n.PodCIDR.IsValid() {
			return n, fmt.Errorf("node %s: %w", n.Name, ErrNoPodCIDR)
		}
		n.PodCIDR = n.PodCIDR.Masked()
		if !in.ClusterCIDR.Contains(n.PodCIDR.Addr()) || n.PodCIDR.Bits() < in.ClusterCIDR.Bits() {
			return n, fmt.Errorf("node %s: podCIDR %s is outside the cluster CIDR %s", n.Name, n.PodCIDR, in.ClusterCIDR)
		}
		return n, nil
	}
	return netstate.Node{}, fmt.Errorf("node %s: not found: %w", in.Self, ErrNoPodCIDR)
}

func vxlanLink(in Input, mtu int, mac netstate.MAC) netstate.Link {
	return netstate.Link{
		Name: in.Device, Kind: "vxlan", VNI: in.VNI, Port: in.Port,
		Local: in.Underlay.Addr.Addr(), Parent: in.Underlay.Name,
		MTU: mtu, MAC: mac, Up: true,
	}
}

// addPeer adds the objects that carry traffic to one other node's pods.
func addPeer(s *netstate.State, in Input, n netstate.Node) {
	if in.Backend == netstate.HostGW {
		s.Routes = append(s.Routes, netstate.Route{Dst: n.PodCIDR, Gw: n.PublicIP, Dev: in.Underlay.Name})
		return
	}
	gw := n.PodCIDR.Addr() // the peer's network address stands for its VTEP
	s.Routes = append(s.Routes, netstate.Route{Dst: n.PodCIDR, Gw: gw, Dev: in.Device, Onlink: true})
	s.Neighs = append(s.Neighs, netstate.Neigh{Dev: in.Device, IP: gw, MAC: n.VTEPMAC})
	s.FDB = append(s.FDB, netstate.FDB{Dev: in.Device, MAC: n.VTEPMAC, Dst: n.PublicIP})
}
