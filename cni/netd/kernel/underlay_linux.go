package kernel

import (
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"rudder/cni/netd/netstate"
)

// Underlay finds the interface that carries the overlay: spec is an
// interface name, an IPv4 address held by an interface, or empty for the
// interface of the default route.
func (k *Netlink) Underlay(spec string) (netstate.Underlay, error) {
	link, err := k.underlayLink(spec)
	if err != nil {
		return netstate.Underlay{}, err
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return k.h.AddrList(link, unix.AF_INET) })
	if err != nil {
		return netstate.Underlay{}, fmt.Errorf("addresses of %s: %w", link.Attrs().Name, err)
	}
	want, err := netip.ParseAddr(spec)
	anyAddr := err != nil // spec named the interface: take its first address
	for _, a := range addrs {
		p := netip.PrefixFrom(addrOf(a.IP), prefixOf(a.IPNet).Bits())
		if a.Scope == unix.RT_SCOPE_UNIVERSE && (anyAddr || p.Addr() == want) {
			return netstate.Underlay{Name: link.Attrs().Name, Addr: p, MTU: link.Attrs().MTU}, nil
		}
	}
	return netstate.Underlay{}, fmt.Errorf("underlay %s has no global IPv4 address", link.Attrs().Name)
}

func (k *Netlink) underlayLink(spec string) (netlink.Link, error) {
	if spec == "" {
		return k.defaultRouteLink()
	}
	addr, err := netip.ParseAddr(spec)
	if err != nil {
		l, err := k.h.LinkByName(spec)
		if err != nil {
			return nil, fmt.Errorf("underlay interface %s: %w", spec, err)
		}
		return l, nil
	}
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return k.h.AddrList(nil, unix.AF_INET) })
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if addrOf(a.IP) == addr {
			return k.h.LinkByIndex(a.LinkIndex)
		}
	}
	return nil, fmt.Errorf("underlay address %s: no interface holds it", spec)
}

func (k *Netlink) defaultRouteLink() (netlink.Link, error) {
	filter := &netlink.Route{Table: unix.RT_TABLE_MAIN}
	rs, err := retryDump(func() ([]netlink.Route, error) {
		return k.h.RouteListFiltered(unix.AF_INET, filter, netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	for _, r := range rs {
		if (r.Dst == nil || prefixOf(r.Dst).Bits() == 0) && r.LinkIndex != 0 {
			return k.h.LinkByIndex(r.LinkIndex)
		}
	}
	return nil, fmt.Errorf("no default route: name the underlay interface or address")
}
