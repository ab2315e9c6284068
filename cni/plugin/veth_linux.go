package plugin

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// CreateVeth creates the pair in one request, the peer straight in the
// pod's namespace, then enslaves the host end with hairpin mode.
func (n *Netlink) CreateVeth(v Veth) (Iface, Iface, error) {
	br, err := netlinksafe.LinkByName(v.Bridge)
	if err != nil {
		return Iface{}, Iface{}, fmt.Errorf("look up bridge %s: %w", v.Bridge, err)
	}
	ns, err := netns.GetFromPath(v.Netns)
	if err != nil {
		return Iface{}, Iface{}, fmt.Errorf("open %s: %v: %w", v.Netns, err, ErrNoNetns)
	}
	defer ns.Close()
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.MTU, attrs.Flags, attrs.MasterIndex = v.HostName, v.MTU, net.FlagUp, br.Attrs().Index
	attrs.HardwareAddr = randomMAC()
	peerMAC := randomMAC()
	veth := &netlink.Veth{LinkAttrs: attrs, PeerName: v.IfName, PeerNamespace: netlink.NsFd(int(ns)), PeerHardwareAddr: peerMAC}
	if err := netlink.LinkAdd(veth); err != nil { // also enslaves it to the bridge
		return Iface{}, Iface{}, n.vethExists(v, err)
	}
	if err := n.finishHost(veth, v); err != nil {
		_ = n.DeleteVeth(v.HostName)
		return Iface{}, Iface{}, err
	}
	return Iface{Name: v.HostName, MAC: attrs.HardwareAddr.String(), MTU: v.MTU},
		Iface{Name: v.IfName, MAC: peerMAC.String(), MTU: v.MTU}, nil
}

// finishHost sets what RTM_NEWLINK does not: the alias (the kernel
// ignores IFLA_IFALIAS when creating a link) and hairpin mode.
func (n *Netlink) finishHost(host *netlink.Veth, v Veth) error {
	if err := netlink.LinkSetAlias(host, v.Alias); err != nil {
		return fmt.Errorf("set alias of %s: %w", v.HostName, err)
	}
	if v.Hairpin {
		if err := netlink.LinkSetHairpin(host, true); err != nil {
			return fmt.Errorf("set hairpin mode on %s: %w", v.HostName, err)
		}
	}
	return nil
}

// randomMAC is a random locally administered unicast MAC.
func randomMAC() net.HardwareAddr {
	mac := make(net.HardwareAddr, 6)
	_, _ = rand.Read(mac)
	mac[0] = mac[0]&0xfe | 0x02
	return mac
}

// vethExists says which end's name was taken when LinkAdd failed with
// EEXIST.
func (n *Netlink) vethExists(v Veth, err error) error {
	if !errors.Is(err, syscall.EEXIST) {
		return fmt.Errorf("create veth %s: %w", v.HostName, err)
	}
	if _, lerr := netlinksafe.LinkByName(v.HostName); lerr == nil {
		return fmt.Errorf("%s: %w", v.HostName, ErrHostVethExists)
	}
	return fmt.Errorf("%s in %s: %w", v.IfName, v.Netns, ErrPodIfaceExists)
}

// ConfigurePod works in the pod's namespace through a netlink handle: no
// thread of this process changes namespace.
func (n *Netlink) ConfigurePod(p PodConfig) error {
	h, err := podHandle(p.Netns)
	if err != nil {
		return err
	}
	defer h.Close()
	link, err := h.LinkByName(p.IfName)
	if err != nil {
		return fmt.Errorf("look up %s: %w", p.IfName, err)
	}
	for _, a := range p.Addrs {
		if err := h.AddrAdd(link, &netlink.Addr{IPNet: ipNet(a)}); err != nil {
			return fmt.Errorf("add address %s: %w", a, err)
		}
	}
	if err := h.LinkSetUp(link); err != nil {
		return fmt.Errorf("bring %s up: %w", p.IfName, err)
	}
	for _, r := range p.Routes {
		route := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: ipNet(r.Dst), Gw: ipOf(r.GW)}
		if err := h.RouteAdd(route); err != nil {
			return fmt.Errorf("add route %s: %w", describeRoute(r), err)
		}
	}
	return nil
}

// DeleteVeth deletes a host end; deleting it deletes the pod's end.
func (n *Netlink) DeleteVeth(name string) error {
	link, err := netlinksafe.LinkByName(name)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up %s: %w", name, err)
	}
	if err := netlink.LinkDel(link); err != nil && !errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// ListHostVeths lists the node's veths whose name starts with prefix.
func (n *Netlink) ListHostVeths(prefix string) ([]HostVeth, error) {
	links, err := netlinksafe.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var out []HostVeth
	for _, l := range links {
		if _, ok := l.(*netlink.Veth); ok && strings.HasPrefix(l.Attrs().Name, prefix) {
			out = append(out, HostVeth{Name: l.Attrs().Name, Alias: l.Attrs().Alias})
		}
	}
	return out, nil
}
