package iptables

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"rudder/proxy/model"
)

// portRules is everything one service port contributes: its own nat
// chains and its lines in the shared chains.
type portRules struct {
	chains         []chain  // nat: SVC, SVL, EXT, SEPs
	natServices    []string // nat RUDDER-SERVICES
	natNodePorts   []string // nat RUDDER-NODEPORTS
	filterServices []string // filter RUDDER-SERVICES
	filterExternal []string // filter RUDDER-EXTERNAL-SERVICES
}

// buildPort generates the rules of one service port. Only IPv4 frontends
// and endpoints are used: this is the iptables (not ip6tables) backend.
func buildPort(sp *model.ServicePort, node *model.Node) *portRules {
	pr := &portRules{}
	g := portGen{sp: sp, node: node, proto: protoMatch(sp.Name.Protocol, sp.Port), out: pr}
	if len(v4Endpoints(sp.ClusterEndpoints)) == 0 { // no (IPv4) endpoints
		g.rejectAll()
		return pr
	}
	g.clusterFrontends()
	if g.hasExternal() {
		g.externalFrontends()
	}
	g.endpointChains()
	return pr
}

type portGen struct {
	sp    *model.ServicePort
	node  *model.Node
	proto string // "-p tcp -m tcp --dport N"
	out   *portRules
}

func (g *portGen) comment(what string) string {
	return `-m comment --comment "` + g.sp.Name.String() + what + `"`
}

func (g *portGen) svc() string { return portChain(kindSVC, g.sp.Name) }
func (g *portGen) svl() string { return portChain(kindSVL, g.sp.Name) }
func (g *portGen) ext() string { return portChain(kindEXT, g.sp.Name) }

func (g *portGen) hasExternal() bool {
	return g.sp.NodePort != 0 || len(v4(g.sp.ExternalIPs)) > 0 || len(v4(g.sp.LoadBalancerIPs)) > 0
}

func (g *portGen) externalIPs() []netip.Addr {
	return append(v4(g.sp.ExternalIPs), v4(g.sp.LoadBalancerIPs)...)
}

// rejectAll answers every frontend of a service port without endpoints
// with REJECT in the filter table.
func (g *portGen) rejectAll() {
	// TCP gets a reset: an ICMP error is rate-limited per destination
	// (net.ipv4.icmp_ratelimit), so a second connection within a second
	// would wait for a SYN retransmit instead of being refused at once.
	reject := "-j REJECT --reject-with icmp-port-unreachable"
	if g.sp.Name.Protocol == model.TCP {
		reject = "-j REJECT --reject-with tcp-reset"
	}
	for _, ip := range v4(g.sp.ClusterIPs) {
		g.out.filterServices = append(g.out.filterServices,
			fmt.Sprintf("%s -d %s %s %s", g.comment(" has no endpoints"), host(ip), g.proto, reject))
	}
	g.externalVerdict(reject, " has no endpoints")
}

// externalVerdict writes a filter rule for every external frontend.
func (g *portGen) externalVerdict(target, why string) {
	for _, ip := range g.externalIPs() {
		g.out.filterExternal = append(g.out.filterExternal,
			fmt.Sprintf("%s -d %s %s %s", g.comment(why), host(ip), g.proto, target))
	}
	if g.sp.NodePort == 0 {
		return
	}
	np := protoMatch(g.sp.Name.Protocol, g.sp.NodePort)
	addrs := v4(g.node.NodePortAddresses)
	if len(addrs) == 0 {
		g.out.filterExternal = append(g.out.filterExternal,
			fmt.Sprintf("%s -m addrtype --dst-type LOCAL %s %s", g.comment(why), np, target))
	}
	for _, a := range addrs {
		g.out.filterExternal = append(g.out.filterExternal,
			fmt.Sprintf("%s -d %s -m addrtype --dst-type LOCAL %s %s", g.comment(why), host(a), np, target))
	}
}

// clusterFrontends sends cluster IPs to the SVC chain.
func (g *portGen) clusterFrontends() {
	for _, ip := range v4(g.sp.ClusterIPs) {
		g.out.natServices = append(g.out.natServices,
			fmt.Sprintf("%s -d %s %s -j %s", g.comment(" cluster IP"), host(ip), g.proto, g.svc()))
	}
}

// externalFrontends sends external IPs, load-balancer IPs and the node
// port on: with externalTrafficPolicy Cluster straight to the SVC chain,
// marked for masquerade (no EXT chain: fewer chains make every restore
// cheaper); with Local through the EXT chain.
func (g *portGen) externalFrontends() {
	targets := []string{g.ext()}
	if !g.sp.ExternalPolicyLocal {
		targets = []string{chainMarkMasq, g.svc()}
	}
	for _, tg := range targets {
		// Only the jump to the service's own chain carries a comment:
		// each comment costs 256 bytes in the kernel's table.
		ipNote, npNote := "", ""
		if tg != chainMarkMasq {
			ipNote, npNote = g.comment(" external IP")+" ", g.comment(" node port")+" "
		}
		for _, ip := range g.externalIPs() {
			g.out.natServices = append(g.out.natServices,
				fmt.Sprintf("%s-d %s %s -j %s", ipNote, host(ip), g.proto, tg))
		}
		if g.sp.NodePort != 0 {
			g.out.natNodePorts = append(g.out.natNodePorts,
				fmt.Sprintf("%s%s -j %s", npNote, protoMatch(g.sp.Name.Protocol, g.sp.NodePort), tg))
		}
	}
	if !g.sp.ExternalPolicyLocal {
		return
	}
	ext := chain{Name: g.ext()}
	// externalTrafficPolicy: Local. Pods and the node itself may use any
	// endpoint (the node's own traffic is masqueraded); others only the
	// local ones, and are dropped in the filter table when there is none.
	for _, cidr := range v4Prefixes(g.node.ClusterCIDRs) {
		ext.Rules = append(ext.Rules, fmt.Sprintf(`-m comment --comment "pod traffic short-circuit" -s %s -j %s`, cidr, g.svc()))
	}
	ext.Rules = append(ext.Rules,
		"-m addrtype --src-type LOCAL -j "+chainMarkMasq,
		"-m addrtype --src-type LOCAL -j "+g.svc())
	if len(v4Endpoints(g.sp.LocalEndpoints)) > 0 {
		ext.Rules = append(ext.Rules, "-j "+g.svl())
	} else {
		g.externalVerdict("-j DROP", " has no local endpoints")
	}
	g.out.chains = append(g.out.chains, ext)
}

// endpointChains writes SVC (and SVL) choosing among SEP chains, and the
// SEP chains themselves.
func (g *portGen) endpointChains() {
	svc := chain{Name: g.svc()}
	svc.Rules = append(svc.Rules, g.offClusterMasq()...)
	svc.Rules = append(svc.Rules, g.choose(v4Endpoints(g.sp.ClusterEndpoints))...)
	g.out.chains = append(g.out.chains, svc)
	if g.sp.ExternalPolicyLocal && g.hasExternal() && len(v4Endpoints(g.sp.LocalEndpoints)) > 0 {
		g.out.chains = append(g.out.chains, chain{Name: g.svl(), Rules: g.choose(v4Endpoints(g.sp.LocalEndpoints))})
	}
	seen := map[netip.AddrPort]bool{}
	for _, ep := range append(v4Endpoints(g.sp.ClusterEndpoints), v4Endpoints(g.sp.LocalEndpoints)...) {
		if !seen[ep.Addr] {
			seen[ep.Addr] = true
			g.out.chains = append(g.out.chains, g.sep(ep.Addr))
		}
	}
}

// offClusterMasq marks traffic to the cluster IP from outside the pod
// network for masquerade.
// With several pod CIDRs the test goes through RUDDER-OFF-CLUSTER.
func (g *portGen) offClusterMasq() []string {
	cidrs := v4Prefixes(g.node.ClusterCIDRs)
	if len(cidrs) == 0 {
		return nil
	}
	target, src := chainOffCluster, ""
	if len(cidrs) == 1 {
		target, src = chainMarkMasq, "! -s "+cidrs[0].String()+" "
	}
	var rules []string
	for _, ip := range v4(g.sp.ClusterIPs) {
		rules = append(rules, fmt.Sprintf("%s-d %s %s -j %s", src, host(ip), g.proto, target))
	}
	return rules
}

// choose spreads new connections over endpoints (per-endpoint rules carry
// no comment: a comment match is 256 bytes in the kernel's table, and the
// chain names say enough): affinity first, then
// `statistic` with probabilities 1/n, 1/(n-1), …, 1.
func (g *portGen) choose(eps []model.Endpoint) []string {
	var rules []string
	if a := g.sp.Affinity; a != nil {
		secs := int(a.Timeout.Seconds())
		for _, ep := range eps {
			sep := sepChain(g.sp.Name, ep.Addr)
			rules = append(rules, fmt.Sprintf("-m recent --name %s --mask 255.255.255.255 --rsource --rcheck --seconds %d --reap -j %s",
				sep, secs, sep))
		}
	}
	for i, ep := range eps {
		sep := sepChain(g.sp.Name, ep.Addr)
		stat := ""
		if left := len(eps) - i; left > 1 {
			stat = fmt.Sprintf(" -m statistic --mode random --probability %0.11f", 1/float64(left))
		}
		rules = append(rules, strings.TrimPrefix(stat+" -j "+sep, " "))
	}
	return rules
}

// sep writes one endpoint's chain: hairpin masquerade, then DNAT.
func (g *portGen) sep(ep netip.AddrPort) chain {
	name := sepChain(g.sp.Name, ep)
	recent := ""
	if g.sp.Affinity != nil {
		recent = " -m recent --name " + name + " --mask 255.255.255.255 --rsource --set"
	}
	return chain{Name: name, Rules: []string{
		fmt.Sprintf("-s %s -j %s", host(ep.Addr()), chainMarkMasq),
		fmt.Sprintf("%s%s -j DNAT --to-destination %s", protoMatch(g.sp.Name.Protocol, 0), recent, ep),
	}}
}

// protoMatch is "-p tcp -m tcp --dport N" (without --dport when port is 0).
func protoMatch(p model.Protocol, port uint16) string {
	proto := strings.ToLower(string(p))
	if port == 0 {
		return "-p " + proto + " -m " + proto
	}
	return "-p " + proto + " -m " + proto + " --dport " + strconv.Itoa(int(port))
}

func host(ip netip.Addr) string { return ip.String() + "/32" }

func v4(ips []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, ip := range ips {
		if ip.Unmap().Is4() {
			out = append(out, ip.Unmap())
		}
	}
	return out
}

func v4Prefixes(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if p.Addr().Is4() {
			out = append(out, p.Masked())
		}
	}
	return out
}

func v4Endpoints(eps []model.Endpoint) []model.Endpoint {
	var out []model.Endpoint
	for _, ep := range eps {
		if ep.Addr.Addr().Unmap().Is4() {
			ep.Addr = netip.AddrPortFrom(ep.Addr.Addr().Unmap(), ep.Addr.Port())
			out = append(out, ep)
		}
	}
	return out
}
