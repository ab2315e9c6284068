package nftables

import (
	"sigs.k8s.io/knftables"

	"rudder/proxy/model"
)

// baseChain is one hooked chain of the table.
type baseChain struct {
	name     string
	typ      knftables.BaseChainType
	hook     knftables.BaseChainHook
	priority knftables.BaseChainPriority
	rules    []string
}

// baseChains are the hooked chains; filter chains run before conntrack
// helpers and NAT (dstnat - 10), so a service without endpoints is
// rejected before anything is translated.
func baseChains() []baseChain {
	const early = knftables.DNATPriority + "-10"
	return []baseChain{
		{chainFilterPrerouting, knftables.FilterType, knftables.PreroutingHook, early,
			[]string{"ct state new jump " + chainNoEndpoints}},
		{chainFilterOutput, knftables.FilterType, knftables.OutputHook, early,
			[]string{"ct state new jump " + chainNoEndpoints}},
		{chainFilterForward, knftables.FilterType, knftables.ForwardHook, knftables.FilterPriority,
			[]string{"ct state invalid drop"}},
		{chainNATPrerouting, knftables.NATType, knftables.PreroutingHook, knftables.DNATPriority,
			[]string{"jump " + chainServices}},
		{chainNATOutput, knftables.NATType, knftables.OutputHook, knftables.DNATPriority,
			[]string{"jump " + chainServices}},
		{chainNATPostrouting, knftables.NATType, knftables.PostroutingHook, knftables.SNATPriority,
			[]string{"jump " + chainMasquerading}},
	}
}

// regularChains are the fixed non-hooked chains and their rules.
func regularChains() []chainRules {
	return []chainRules{
		// TCP gets a reset: ICMP errors are rate-limited per destination
		// (net.ipv4.icmp_ratelimit), so a second connection within a
		// second would otherwise wait for a SYN retransmit.
		{chainNoEndpoints, []string{
			"ip daddr . meta l4proto . th dport @" + setNoEndpoints + " meta l4proto tcp reject with tcp reset",
			"ip daddr . meta l4proto . th dport @" + setNoEndpoints + " reject",
			"ip daddr @" + setNodePortIPs + " meta l4proto . th dport @" + setNoEndpointPorts + " meta l4proto tcp reject with tcp reset",
			"ip daddr @" + setNodePortIPs + " meta l4proto . th dport @" + setNoEndpointPorts + " reject",
		}},
		{chainServices, []string{
			"ip daddr . meta l4proto . th dport vmap @" + mapServiceIPs,
			"ip daddr @" + setNodePortIPs + " meta l4proto . th dport vmap @" + mapServiceNodePorts,
		}},
		{chainMasquerading, []string{
			"ct status dnat ip saddr . ip daddr @" + setHairpin + " jump " + chainMarkMasq,
			"meta mark & " + masqMark + " == 0 return",
			"meta mark set meta mark ^ " + masqMark,
			"masquerade fully-random",
		}},
		{chainMarkMasq, []string{
			"meta mark set meta mark | " + masqMark,
		}},
	}
}

const (
	typeServiceKey  = "ipv4_addr . inet_proto . inet_service"
	typeNodePortKey = "inet_proto . inet_service"
)

// addLayout adds the table's fixed objects and the node's own facts.
func addLayout(tx *knftables.Transaction, node model.Node) {
	for _, c := range baseChains() {
		tx.Add(&knftables.Chain{Name: c.name, Type: &c.typ, Hook: &c.hook, Priority: &c.priority})
	}
	for _, c := range regularChains() {
		tx.Add(&knftables.Chain{Name: c.name})
	}
	tx.Add(&knftables.Set{Name: setNodePortIPs, Type: "ipv4_addr"})
	tx.Add(&knftables.Set{Name: setClusterCIDRs, Type: "ipv4_addr", Flags: []knftables.SetFlag{knftables.IntervalFlag}})
	tx.Add(&knftables.Set{Name: setNoEndpoints, Type: typeServiceKey})
	tx.Add(&knftables.Set{Name: setNoEndpointPorts, Type: typeNodePortKey})
	tx.Add(&knftables.Set{Name: setHairpin, Type: "ipv4_addr . ipv4_addr"})
	tx.Add(&knftables.Map{Name: mapServiceIPs, Type: typeServiceKey + " : verdict"})
	tx.Add(&knftables.Map{Name: mapServiceNodePorts, Type: typeNodePortKey + " : verdict"})
	for _, c := range baseChains() {
		for _, r := range c.rules {
			tx.Add(&knftables.Rule{Chain: c.name, Rule: r})
		}
	}
	for _, c := range regularChains() {
		for _, r := range c.rules {
			tx.Add(&knftables.Rule{Chain: c.name, Rule: r})
		}
	}
	for _, a := range node.NodePortAddresses {
		if a.Is4() {
			tx.Add(&knftables.Element{Set: setNodePortIPs, Key: []string{a.String()}})
		}
	}
	for _, p := range node.ClusterCIDRs {
		if p.Addr().Is4() {
			tx.Add(&knftables.Element{Set: setClusterCIDRs, Key: []string{p.Masked().String()}})
		}
	}
}
