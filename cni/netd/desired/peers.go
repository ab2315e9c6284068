package desired

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"rudder/cni/netd/netstate"
)

// peerCheck is the verdict on one other node: programmable, pending (some
// datum is not published yet) or refused (it would be wrong to program).
type peerCheck struct {
	node    netstate.Node
	pending string
	refused string
}

// checkPeers judges every other node, in name order so that when two nodes
// claim overlapping ranges the verdict does not depend on list order.
func checkPeers(in Input, self netstate.Node) []peerCheck {
	nodes := slices.Clone(in.Nodes)
	slices.SortFunc(nodes, func(a, b netstate.Node) int { return cmp.Compare(a.Name, b.Name) })
	taken := []netip.Prefix{self.PodCIDR}
	macs := map[netstate.MAC]string{VTEPMAC(in.Underlay.Addr.Addr()): in.Self}
	var out []peerCheck
	for _, n := range nodes {
		if n.Name == in.Self {
			continue
		}
		n.PodCIDR = n.PodCIDR.Masked()
		c := peerCheck{node: n}
		c.pending, c.refused = judge(in, n, taken)
		if c.pending == "" && c.refused == "" && in.Backend == netstate.VXLAN {
			if other, dup := macs[n.VTEPMAC]; dup {
				c.refused = fmt.Sprintf("VTEP MAC %s is already %s's", n.VTEPMAC, other)
			} else {
				macs[n.VTEPMAC] = n.Name
			}
		}
		if c.pending == "" && c.refused == "" {
			taken = append(taken, n.PodCIDR)
		}
		out = append(out, c)
	}
	return out
}

// judge returns (pending, refused) reasons; both empty means program it.
func judge(in Input, n netstate.Node, taken []netip.Prefix) (string, string) {
	if !n.PodCIDR.IsValid() {
		return "no podCIDR yet", ""
	}
	if !n.PodCIDR.Addr().Is4() || !in.ClusterCIDR.Contains(n.PodCIDR.Addr()) || n.PodCIDR.Bits() < in.ClusterCIDR.Bits() {
		return "", fmt.Sprintf("podCIDR %s is outside the cluster CIDR %s", n.PodCIDR, in.ClusterCIDR)
	}
	for _, t := range taken {
		if t.Overlaps(n.PodCIDR) {
			return "", fmt.Sprintf("podCIDR %s overlaps %s, already in use", n.PodCIDR, t)
		}
	}
	if !n.PublicIP.IsValid() {
		return "no underlay address yet (annotation rudder.io/public-ip or an InternalIP)", ""
	}
	if !n.PublicIP.Is4() {
		return "", fmt.Sprintf("underlay address %s is not IPv4", n.PublicIP)
	}
	if n.PublicIP == in.Underlay.Addr.Addr() {
		return "", fmt.Sprintf("underlay address %s is this node's own", n.PublicIP)
	}
	if in.Backend == netstate.HostGW && !in.Underlay.Addr.Masked().Contains(n.PublicIP) {
		return "", fmt.Sprintf("host-gw needs every node on one L2 segment: %s is outside this node's underlay subnet %s",
			n.PublicIP, in.Underlay.Addr.Masked())
	}
	if in.Backend == netstate.VXLAN && n.VTEPMAC.IsZero() {
		return "no VTEP MAC yet (annotation rudder.io/vtep-mac)", ""
	}
	return "", ""
}
