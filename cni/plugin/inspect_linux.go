package plugin

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
)

// Inspect reads the bridge, the host end and the pod's interface.
func (n *Netlink) Inspect(q InspectQuery) (State, error) {
	var s State
	var err error
	if s.Bridge, err = inspectBridge(q.Bridge); err != nil {
		return s, err
	}
	if s.Host, err = inspectHost(q.HostVeth); err != nil {
		return s, err
	}
	s.Pod, err = inspectPod(q.Netns, q.IfName)
	return s, err
}

func notFound(err error) bool { return errors.As(err, &netlink.LinkNotFoundError{}) }

func inspectBridge(name string) (BridgeState, error) {
	link, err := netlinksafe.LinkByName(name)
	if notFound(err) {
		return BridgeState{}, nil
	}
	if err != nil {
		return BridgeState{}, fmt.Errorf("look up %s: %w", name, err)
	}
	addrs, err := netlinksafe.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return BridgeState{}, fmt.Errorf("list addresses of %s: %w", name, err)
	}
	st := BridgeState{Found: true, Up: link.Attrs().Flags&net.FlagUp != 0, MTU: link.Attrs().MTU}
	for _, a := range addrs {
		if p, ok := prefixFromAddr(a); ok {
			st.Addrs = append(st.Addrs, p)
		}
	}
	return st, nil
}

func inspectHost(name string) (HostState, error) {
	link, err := netlinksafe.LinkByName(name)
	if notFound(err) {
		return HostState{}, nil
	}
	if err != nil {
		return HostState{}, fmt.Errorf("look up %s: %w", name, err)
	}
	a := link.Attrs()
	st := HostState{Found: true, Up: a.Flags&net.FlagUp != 0, MTU: a.MTU, Alias: a.Alias}
	if a.MasterIndex != 0 {
		if m, err := netlink.LinkByIndex(a.MasterIndex); err == nil {
			st.Master = m.Attrs().Name
		}
	}
	if st.Master != "" {
		pi, err := netlinksafe.LinkGetProtinfo(link)
		if err != nil {
			return st, fmt.Errorf("read bridge port settings of %s: %w", name, err)
		}
		st.Hairpin = pi.Hairpin
	}
	return st, nil
}

func inspectPod(path, ifname string) (PodState, error) {
	h, err := podHandle(path)
	if err != nil {
		return PodState{}, err
	}
	defer h.Close()
	link, err := h.LinkByName(ifname)
	if notFound(err) {
		return PodState{}, nil
	}
	if err != nil {
		return PodState{}, fmt.Errorf("look up %s in %s: %w", ifname, path, err)
	}
	a := link.Attrs()
	st := PodState{Found: true, Up: a.Flags&net.FlagUp != 0, MTU: a.MTU, MAC: a.HardwareAddr.String()}
	addrs, err := h.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return st, fmt.Errorf("list addresses of %s in %s: %w", ifname, path, err)
	}
	for _, ad := range addrs {
		if p, ok := prefixFromAddr(ad); ok {
			st.Addrs = append(st.Addrs, p)
		}
	}
	routes, err := h.RouteList(link, netlink.FAMILY_V4)
	if err != nil {
		return st, fmt.Errorf("list routes of %s in %s: %w", ifname, path, err)
	}
	for _, r := range routes {
		st.Routes = append(st.Routes, routeFromNetlink(r))
	}
	return st, nil
}

func routeFromNetlink(r netlink.Route) Route {
	var out Route
	if r.Dst == nil {
		out.Dst = netip.MustParsePrefix("0.0.0.0/0")
	} else if p, ok := prefixFromIPNet(r.Dst.IP, r.Dst.Mask); ok {
		out.Dst = p
	}
	if gw, ok := netip.AddrFromSlice(r.Gw); ok {
		out.GW = gw.Unmap()
	}
	return out
}
