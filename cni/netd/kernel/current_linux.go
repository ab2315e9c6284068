package kernel

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"rudder/cni/netd/netstate"
)

// Current reads the objects in scope: the named devices with their
// permanent neighbours and FDB entries, every main-table route marked with
// RouteProtocol, and the listed sysctls.
func (k *Netlink) Current(scope netstate.Scope) (netstate.State, error) {
	names, err := k.linkNames()
	if err != nil {
		return netstate.State{}, err
	}
	var s netstate.State
	for _, dev := range scope.Devices {
		if err := k.readDevice(&s, dev, names); err != nil {
			return netstate.State{}, err
		}
	}
	if s.Routes, err = k.routes(names); err != nil {
		return netstate.State{}, err
	}
	for _, key := range scope.Sysctls {
		v, err := k.Sysctl(key)
		if err != nil {
			return netstate.State{}, err
		}
		s.Sysctls = append(s.Sysctls, netstate.Sysctl{Key: key, Value: v})
	}
	return s.Sorted(), nil
}

func (k *Netlink) readDevice(s *netstate.State, dev string, names map[int]string) error {
	l, err := k.linkByName(dev)
	if err != nil || l == nil {
		return err
	}
	s.Links = append(s.Links, linkOf(l, names))
	idx := l.Attrs().Index
	addrs, err := retryDump(func() ([]netlink.Addr, error) { return k.h.AddrList(l, unix.AF_INET) })
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", dev, err)
	}
	for _, a := range addrs {
		if a.Scope == unix.RT_SCOPE_UNIVERSE {
			s.Addrs = append(s.Addrs, netstate.Addr{Dev: dev, Prefix: netip.PrefixFrom(addrOf(a.IP), prefixOf(a.IPNet).Bits())})
		}
	}
	neighs, err := retryDump(func() ([]netlink.Neigh, error) { return k.h.NeighList(idx, unix.AF_INET) })
	if err != nil {
		return fmt.Errorf("list neighbours of %s: %w", dev, err)
	}
	for _, n := range neighs {
		if n.LinkIndex == idx && n.State&unix.NUD_PERMANENT != 0 && n.IP != nil {
			s.Neighs = append(s.Neighs, netstate.Neigh{Dev: dev, IP: addrOf(n.IP), MAC: netstate.MACFrom(n.HardwareAddr)})
		}
	}
	fdb, err := retryDump(func() ([]netlink.Neigh, error) { return k.h.NeighList(idx, unix.AF_BRIDGE) })
	if err != nil {
		return fmt.Errorf("list fdb of %s: %w", dev, err)
	}
	for _, n := range fdb {
		if n.LinkIndex == idx && n.Flags&unix.NTF_SELF != 0 && n.IP != nil {
			s.FDB = append(s.FDB, netstate.FDB{Dev: dev, MAC: netstate.MACFrom(n.HardwareAddr), Dst: addrOf(n.IP)})
		}
	}
	return nil
}

func linkOf(l netlink.Link, names map[int]string) netstate.Link {
	a := l.Attrs()
	out := netstate.Link{
		Name: a.Name, Kind: l.Type(), MTU: a.MTU,
		MAC: netstate.MACFrom(a.HardwareAddr), Up: a.Flags&net.FlagUp != 0,
	}
	if vx, ok := l.(*netlink.Vxlan); ok {
		out.VNI, out.Port, out.Learning = vx.VxlanId, vx.Port, vx.Learning
		out.Local, out.Parent = addrOf(vx.SrcAddr), names[vx.VtepDevIndex]
	}
	return out
}

func (k *Netlink) routes(names map[int]string) ([]netstate.Route, error) {
	filter := &netlink.Route{Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN}
	rs, err := retryDump(func() ([]netlink.Route, error) {
		return k.h.RouteListFiltered(unix.AF_INET, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, fmt.Errorf("list routes: %w", err)
	}
	out := make([]netstate.Route, 0, len(rs))
	for _, r := range rs {
		out = append(out, netstate.Route{
			Dst: prefixOf(r.Dst), Gw: addrOf(r.Gw), Dev: names[r.LinkIndex],
			Onlink: r.Flags&int(netlink.FLAG_ONLINK) != 0,
		})
	}
	return out, nil
}
