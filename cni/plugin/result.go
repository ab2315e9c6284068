package plugin

import (
	"fmt"
	"io"
	"net/netip"

	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"

	"rudder/ipam/hostlocal"
)

// gatewayAddrs are the bridge's addresses: each range's gateway with the
// range's prefix length.
func gatewayAddrs(set hostlocal.RangeSet) []netip.Prefix {
	out := make([]netip.Prefix, 0, len(set))
	for _, r := range set {
		out = append(out, netip.PrefixFrom(r.Gateway, r.Subnet.Bits()))
	}
	return out
}

// podRoutes is the default route via the gateway, then the configured
// routes (a route without gw goes via the gateway too).
func podRoutes(conf *NetConf, ipc hostlocal.IPConfig) []Route {
	routes := []Route{{Dst: netip.MustParsePrefix("0.0.0.0/0"), GW: ipc.Gateway}}
	for _, r := range conf.Routes {
		if !r.GW.IsValid() {
			r.GW = ipc.Gateway
		}
		routes = append(routes, r)
	}
	return routes
}

// buildResult is the 1.1.0 result: the bridge, the host veth and the pod's
// interface; the address on the pod's interface; the routes; dns. A
// prevResult (the plugin chained after another) is kept in front.
func buildResult(conf *NetConf, netns string, bridge, host, pod Iface, ipc hostlocal.IPConfig, routes []Route) *types100.Result {
	res := &types100.Result{CNIVersion: types100.ImplementedSpecVersion}
	if conf.PrevResult != nil {
		prev := conf.PrevResult
		res.Interfaces, res.IPs, res.Routes, res.DNS = prev.Interfaces, prev.IPs, prev.Routes, prev.DNS
	}
	base := len(res.Interfaces)
	res.Interfaces = append(res.Interfaces,
		&types100.Interface{Name: bridge.Name, Mac: bridge.MAC, Mtu: bridge.MTU},
		&types100.Interface{Name: host.Name, Mac: host.MAC, Mtu: host.MTU},
		&types100.Interface{Name: pod.Name, Mac: pod.MAC, Mtu: pod.MTU, Sandbox: netns},
	)
	res.IPs = append(res.IPs, &types100.IPConfig{
		Interface: types100.Int(base + 2), Address: *ipNet(ipc.Address), Gateway: ipOf(ipc.Gateway),
	})
	for _, r := range routes {
		res.Routes = append(res.Routes, &types.Route{Dst: *ipNet(r.Dst), GW: ipOf(r.GW)})
	}
	if !conf.DNS.IsEmpty() {
		res.DNS = conf.DNS
	}
	return res
}

// printResult writes res converted to the config's version.
func printResult(res *types100.Result, conf *NetConf, w io.Writer) error {
	out, err := res.GetAsVersion(conf.CNIVersion)
	if err != nil {
		return cniError(types.ErrIncompatibleCNIVersion, "convert the result to cniVersion %s: %v", conf.CNIVersion, err)
	}
	if err := out.PrintTo(w); err != nil {
		return cniError(types.ErrIOFailure, "write the result: %v", err)
	}
	return nil
}

func describeRoute(r Route) string {
	return fmt.Sprintf("%s via %s", r.Dst, r.GW)
}
