package plugin

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/containernetworking/cni/pkg/skel"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"rudder/ipam/hostlocal"
)

// Check compares the attachment with prevResult: the pod's interface, its
// MTU, addresses and routes, the host veth and bridge port, the bridge's
// gateway address and the IPAM reservation. The error lists every
// difference.
func (p *Plugin) Check(args *skel.CmdArgs) error {
	conf, att, cerr := load("CHECK", args)
	if cerr != nil {
		return cerr
	}
	if conf.PrevResult == nil {
		return cniError(types.ErrInvalidNetworkConfig, "CHECK needs prevResult: the runtime must pass the result of ADD")
	}
	nw, err := resolveNetwork(conf, p.readFile)
	if err != nil {
		return networkError(err)
	}
	want, diffs := expectFrom(conf, nw, args, att)
	if len(diffs) == 0 {
		state, err := p.dp.Inspect(InspectQuery{Bridge: conf.Bridge, HostVeth: want.host, Netns: args.Netns, IfName: args.IfName})
		if errors.Is(err, ErrNoNetns) {
			return cniError(types.ErrInvalidEnvironmentVariables, "CNI_NETNS=%q: %v", args.Netns, err)
		}
		if err != nil {
			return internal(err, "inspect %s", att)
		}
		diffs = compare(want, state)
		diffs = append(diffs, p.checkReservation(conf, att, want.addrs)...)
	}
	if len(diffs) > 0 {
		return cniError(CodeCheckFailed, "CHECK of %s in network %s (netns %s) failed: %s",
			att, conf.Network, args.Netns, strings.Join(diffs, "; "))
	}
	return nil
}

// expected is what prevResult and the config say the attachment is.
type expected struct {
	bridge    string
	bridgeIPs []netip.Prefix
	host      string
	hairpin   bool
	ifname    string
	mac       string
	mtu       int
	addrs     []netip.Prefix
	routes    []Route
}

// expectFrom reads prevResult; diffs says what it lacks.
func expectFrom(conf *NetConf, nw Network, args *skel.CmdArgs, att hostlocal.Attachment) (expected, []string) {
	want := expected{
		bridge: conf.Bridge, bridgeIPs: gatewayAddrs(nw.Ranges), host: hostVethName(conf.Network, att),
		hairpin: conf.Hairpin, ifname: args.IfName, mtu: nw.MTU,
	}
	prev := conf.PrevResult
	podIdx := slices.IndexFunc(prev.Interfaces, func(i *types100.Interface) bool {
		return i.Name == args.IfName && i.Sandbox == args.Netns
	})
	if podIdx < 0 {
		return want, []string{fmt.Sprintf("prevResult lists no interface %s in %s", args.IfName, args.Netns)}
	}
	want.mac = prev.Interfaces[podIdx].Mac
	var gw netip.Addr
	for _, ip := range prev.IPs {
		if ip.Interface == nil || *ip.Interface != podIdx {
			continue
		}
		if a, ok := netip.AddrFromSlice(ip.Address.IP); ok {
			ones, _ := ip.Address.Mask.Size()
			want.addrs = append(want.addrs, netip.PrefixFrom(a.Unmap(), ones))
		}
		if g, ok := netip.AddrFromSlice(ip.Gateway); ok && !gw.IsValid() {
			gw = g.Unmap()
		}
	}
	for _, r := range prev.Routes {
		dst, ok := prefixFromIPNet(r.Dst.IP, r.Dst.Mask)
		if !ok {
			continue
		}
		route := Route{Dst: dst, GW: gw}
		if g, ok := netip.AddrFromSlice(r.GW); ok {
			route.GW = g.Unmap()
		}
		want.routes = append(want.routes, route)
	}
	return want, nil
}

// compare lists how state differs from want.
func compare(want expected, s State) []string {
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
	if !s.Bridge.Found {
		add("bridge %s is missing", want.bridge)
	}
	for _, a := range want.bridgeIPs {
		if s.Bridge.Found && !slices.Contains(s.Bridge.Addrs, a) {
			add("bridge %s lacks gateway address %s", want.bridge, a)
		}
	}
	d = append(d, compareHost(want, s.Host)...)
	if !s.Pod.Found {
		return append(d, fmt.Sprintf("interface %s is missing in the pod", want.ifname))
	}
	if !s.Pod.Up {
		add("interface %s is down", want.ifname)
	}
	if s.Pod.MTU != want.mtu {
		add("MTU of %s is %d, want %d", want.ifname, s.Pod.MTU, want.mtu)
	}
	if want.mac != "" && !strings.EqualFold(s.Pod.MAC, want.mac) {
		add("MAC of %s is %s, prevResult says %s", want.ifname, s.Pod.MAC, want.mac)
	}
	for _, a := range want.addrs {
		if !slices.Contains(s.Pod.Addrs, a) {
			add("address %s is missing on %s", a, want.ifname)
		}
	}
	for _, r := range want.routes {
		if !slices.Contains(s.Pod.Routes, r) {
			add("route %s is missing on %s", describeRoute(r), want.ifname)
		}
	}
	return d
}

func compareHost(want expected, h HostState) []string {
	if !h.Found {
		return []string{fmt.Sprintf("host veth %s is missing", want.host)}
	}
	var d []string
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
	if !h.Up {
		add("host veth %s is down", want.host)
	}
	if h.Master != want.bridge {
		add("host veth %s is not a port of %s (master %q)", want.host, want.bridge, h.Master)
	}
	if h.Hairpin != want.hairpin {
		add("hairpin mode of %s is %v, want %v", want.host, h.Hairpin, want.hairpin)
	}
	if h.MTU != want.mtu {
		add("MTU of host veth %s is %d, want %d", want.host, h.MTU, want.mtu)
	}
	return d
}

// checkReservation makes sure IPAM still holds every address of att.
func (p *Plugin) checkReservation(conf *NetConf, att hostlocal.Attachment, addrs []netip.Prefix) []string {
	store, cerr := p.store(conf)
	if cerr != nil {
		return []string{cerr.Msg}
	}
	defer store.Close()
	var held []netip.Addr
	err := hostlocal.WithLock(store, func() (err error) {
		held, err = store.GetByID(att)
		return err
	})
	if err != nil {
		return []string{fmt.Sprintf("read IPAM reservations: %v", err)}
	}
	var d []string
	for _, a := range addrs {
		if !slices.Contains(held, a.Addr()) {
			d = append(d, fmt.Sprintf("IPAM holds no reservation of %s for this attachment", a.Addr()))
		}
	}
	return d
}
