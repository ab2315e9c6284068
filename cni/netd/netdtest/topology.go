package netdtest

import (
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
)

// UnderlayCIDR is the underlay network; the underlay bridge holds .1 and
// node i (from 1) holds .10+i.
var UnderlayCIDR = netip.MustParsePrefix("198.18.0.0/24")

// Topology is an underlay namespace with nodes attached.
type Topology struct {
	Prefix   string
	Underlay ns.NetNS
	Nodes    []*Node
}

// Node is one node namespace; its underlay interface is eth0.
type Node struct {
	Name  string // <prefix>-n<i>, also the netns name
	NS    ns.NetNS
	Iface string
	Addr  netip.Prefix // e.g. 198.18.0.11/24
}

// NewTopology creates the underlay namespace (bridge br0 with
// 198.18.0.1/24) and n node namespaces, each with eth0 up on the bridge.
func NewTopology(t testing.TB, n int) *Topology {
	t.Helper()
	RequireRoot(t)
	topo := &Topology{Prefix: NewPrefix(t)}
	topo.Underlay = NewNetNS(t, topo.Prefix+"-ul")
	h := Handle(t, topo.Underlay)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "br0", MTU: 1500}}
	must(t, "add underlay bridge", h.LinkAdd(br))
	must(t, "address underlay bridge", addAddr(h, br, netip.PrefixFrom(UnderlayCIDR.Addr().Next(), 24)))
	must(t, "underlay bridge up", h.LinkSetUp(br))
	for i := 1; i <= n; i++ {
		topo.Nodes = append(topo.Nodes, topo.addNode(t, h, br, i))
	}
	return topo
}

func (topo *Topology) addNode(t testing.TB, h *netlink.Handle, br *netlink.Bridge, i int) *Node {
	nd := &Node{Name: fmt.Sprintf("%s-n%d", topo.Prefix, i), Iface: "eth0"}
	nd.NS = NewNetNS(t, nd.Name)
	a := UnderlayCIDR.Addr().As4()
	a[3] = byte(10 + i)
	nd.Addr = netip.PrefixFrom(netip.AddrFrom4(a), UnderlayCIDR.Bits())
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: fmt.Sprintf("n%d", i), MTU: 1500, MasterIndex: br.Index},
		PeerName:  nd.Iface, PeerNamespace: netlink.NsFd(int(nd.NS.Fd())),
	}
	must(t, "add veth for "+nd.Name, h.LinkAdd(veth))
	must(t, "underlay veth up", h.LinkSetUp(veth))
	nh := Handle(t, nd.NS)
	eth, err := nh.LinkByName(nd.Iface)
	must(t, "find eth0 in "+nd.Name, err)
	must(t, "address eth0", addAddr(nh, eth, nd.Addr))
	must(t, "eth0 up", nh.LinkSetUp(eth))
	return nd
}

// Pod is a namespace with eth0 on a node's bridge.
type Pod struct {
	Name string
	NS   ns.NetNS
	Addr netip.Addr
}

// AddBridge creates a cni0-like bridge in the node with gw (e.g.
// 10.244.1.1/24) and mtu, as the CNI plugin would.
func (nd *Node) AddBridge(t testing.TB, name string, gw netip.Prefix, mtu int) {
	t.Helper()
	h := Handle(t, nd.NS)
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name, MTU: mtu}}
	must(t, "add bridge "+name, h.LinkAdd(br))
	must(t, "address bridge", addAddr(h, br, gw))
	must(t, "bridge up", h.LinkSetUp(br))
}

// AddPod creates namespace <node>-<suffix> with eth0 = addr (prefix length
// of the bridge), default route via gw, attached to the node's bridge.
func (nd *Node) AddPod(t testing.TB, suffix, bridge string, addr netip.Prefix, gw netip.Addr, mtu int) *Pod {
	t.Helper()
	p := &Pod{Name: nd.Name + "-" + suffix, Addr: addr.Addr()}
	p.NS = NewNetNS(t, p.Name)
	h := Handle(t, nd.NS)
	br, err := h.LinkByName(bridge)
	must(t, "find bridge "+bridge, err)
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{Name: "v" + suffix, MTU: mtu, MasterIndex: br.Attrs().Index},
		PeerName:  "eth0", PeerNamespace: netlink.NsFd(int(p.NS.Fd())),
	}
	must(t, "add pod veth", h.LinkAdd(veth))
	must(t, "pod veth up", h.LinkSetUp(veth))
	ph := Handle(t, p.NS)
	eth, err := ph.LinkByName("eth0")
	must(t, "find pod eth0", err)
	must(t, "address pod", addAddr(ph, eth, addr))
	must(t, "pod eth0 up", ph.LinkSetUp(eth))
	must(t, "pod default route", ph.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: gw.AsSlice()}))
	return p
}

func addAddr(h *netlink.Handle, l netlink.Link, p netip.Prefix) error {
	ipn := &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 32)}
	return h.AddrAdd(l, &netlink.Addr{IPNet: ipn})
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}
