package kernel

import (
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"rudder/cni/netd/netstate"
)

// Apply applies p in its documented order. It goes on after a failed step,
// so that one bad object does not hold back the others, and returns every
// failure joined. Deleting what is already gone is not a failure.
func (k *Netlink) Apply(p netstate.Plan) error {
	var errs []error
	add := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	for _, r := range p.DelRoutes {
		add("delete "+r.String(), ignoreGone(k.delRoute(r)))
	}
	for _, n := range p.DelNeighs {
		add("delete "+n.String(), ignoreGone(k.neigh(n.Dev, neighMsg(n), k.h.NeighDel)))
	}
	for _, f := range p.DelFDB {
		add("delete "+f.String(), ignoreGone(k.neigh(f.Dev, fdbMsg(f), k.h.NeighDel)))
	}
	for _, a := range p.DelAddrs {
		add("delete "+a.String(), ignoreGone(k.addr(a, k.h.AddrDel)))
	}
	for _, name := range p.DelLinks {
		add("delete link "+name, ignoreGone(k.delLink(name)))
	}
	for _, l := range p.AddLinks {
		add("add "+l.String(), k.addLink(l))
	}
	for _, l := range p.SetLinks {
		add("set "+l.String(), k.setLink(l))
	}
	for _, a := range p.AddAddrs {
		add("add "+a.String(), k.addr(a, k.h.AddrReplace))
	}
	for _, s := range p.SetSysctls {
		add("set "+s.String(), k.SetSysctl(s.Key, s.Value))
	}
	for _, f := range p.AddFDB {
		add("append "+f.String(), k.neigh(f.Dev, fdbMsg(f), k.h.NeighAppend))
	}
	for _, n := range p.SetNeighs {
		add("set "+n.String(), k.neigh(n.Dev, neighMsg(n), k.h.NeighSet))
	}
	for _, r := range p.SetRoutes {
		add("replace "+r.String(), k.replaceRoute(r))
	}
	return errors.Join(errs...)
}

func ignoreGone(err error) error {
	if gone(err) {
		return nil
	}
	return err
}

func (k *Netlink) index(dev string) (int, error) {
	l, err := k.h.LinkByName(dev)
	if err != nil {
		return 0, fmt.Errorf("device %s: %w", dev, err)
	}
	return l.Attrs().Index, nil
}

func neighMsg(n netstate.Neigh) *netlink.Neigh {
	return &netlink.Neigh{Family: unix.AF_INET, State: unix.NUD_PERMANENT,
		IP: n.IP.AsSlice(), HardwareAddr: n.MAC.HardwareAddr()}
}

func fdbMsg(f netstate.FDB) *netlink.Neigh {
	return &netlink.Neigh{Family: unix.AF_BRIDGE, State: unix.NUD_PERMANENT, Flags: unix.NTF_SELF,
		IP: f.Dst.AsSlice(), HardwareAddr: f.MAC.HardwareAddr()}
}

// neigh runs op (NeighSet, NeighAppend, NeighDel) on msg for device dev.
func (k *Netlink) neigh(dev string, msg *netlink.Neigh, op func(*netlink.Neigh) error) error {
	idx, err := k.index(dev)
	if err != nil {
		return err
	}
	msg.LinkIndex = idx
	return op(msg)
}

// addr runs op (AddrReplace, AddrDel) for a on its device.
func (k *Netlink) addr(a netstate.Addr, op func(netlink.Link, *netlink.Addr) error) error {
	l, err := k.h.LinkByName(a.Dev)
	if err != nil {
		return fmt.Errorf("device %s: %w", a.Dev, err)
	}
	return op(l, &netlink.Addr{IPNet: ipNet(a.Prefix)})
}

func (k *Netlink) routeMsg(r netstate.Route) (*netlink.Route, error) {
	idx, err := k.index(r.Dev)
	if err != nil {
		return nil, err
	}
	msg := &netlink.Route{
		LinkIndex: idx, Dst: ipNet(r.Dst), Gw: r.Gw.AsSlice(),
		Protocol: RouteProtocol, Table: unix.RT_TABLE_MAIN, Scope: netlink.SCOPE_UNIVERSE,
	}
	if r.Onlink {
		msg.Flags = int(netlink.FLAG_ONLINK)
	}
	return msg, nil
}

func (k *Netlink) replaceRoute(r netstate.Route) error {
	msg, err := k.routeMsg(r)
	if err != nil {
		return err
	}
	return k.h.RouteReplace(msg)
}

func (k *Netlink) delRoute(r netstate.Route) error {
	msg, err := k.routeMsg(r)
	if err != nil {
		return err
	}
	return k.h.RouteDel(msg)
}
