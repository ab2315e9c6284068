package iptables

import (
	"rudder/proxy/model"
)

// jumps are the rules in builtin chains that lead to ours.
func jumps() []jump {
	const newConn = "-m conntrack --ctstate NEW "
	return []jump{
		{tableNAT, "PREROUTING", `-m comment --comment "rudder service portals" -j ` + chainServices},
		{tableNAT, "OUTPUT", `-m comment --comment "rudder service portals" -j ` + chainServices},
		{tableNAT, "POSTROUTING", `-m comment --comment "rudder postrouting" -j ` + chainPostrouting},
		{tableFilter, "INPUT", newConn + `-m comment --comment "rudder external services" -j ` + chainExternal},
		{tableFilter, "FORWARD", newConn + `-m comment --comment "rudder external services" -j ` + chainExternal},
		{tableFilter, "FORWARD", newConn + `-m comment --comment "rudder service portals" -j ` + chainServices},
		{tableFilter, "FORWARD", `-m comment --comment "rudder forward" -j ` + chainForward},
		{tableFilter, "OUTPUT", newConn + `-m comment --comment "rudder external services" -j ` + chainExternal},
		{tableFilter, "OUTPUT", newConn + `-m comment --comment "rudder service portals" -j ` + chainServices},
	}
}

// staticChains are the fixed chains, independent of services.
func staticChains(node *model.Node) map[string][]chain {
	nat := []chain{
		{Name: chainMarkMasq, Rules: []string{"-j MARK --or-mark " + masqMark}},
		{Name: chainPostrouting, Rules: []string{
			"-m mark ! --mark " + masqMarkMatch + " -j RETURN",
			"-j MARK --xor-mark " + masqMark,
			`-m comment --comment "rudder service traffic requiring SNAT" -j MASQUERADE --random-fully`,
		}},
	}
	if cidrs := v4Prefixes(node.ClusterCIDRs); len(cidrs) > 1 {
		off := chain{Name: chainOffCluster}
		for _, c := range cidrs {
			off.Rules = append(off.Rules, "-s "+c.String()+" -j RETURN")
		}
		off.Rules = append(off.Rules, "-j "+chainMarkMasq)
		nat = append(nat, off)
	}
	filter := []chain{
		{Name: chainForward, Rules: []string{"-m conntrack --ctstate INVALID -j DROP"}},
	}
	return map[string][]chain{tableNAT: nat, tableFilter: filter}
}

// nodePortJumps end nat RUDDER-SERVICES: node ports on local addresses,
// only the node-port addresses when they are given.
func nodePortJumps(node *model.Node) []string {
	addrs := v4(node.NodePortAddresses)
	if len(addrs) == 0 {
		return []string{`-m comment --comment "node ports" -m addrtype --dst-type LOCAL -j ` + chainNodePorts}
	}
	var rules []string
	for _, a := range addrs {
		rules = append(rules, `-m comment --comment "node ports" -d `+host(a)+" -m addrtype --dst-type LOCAL -j "+chainNodePorts)
	}
	return rules
}

// sharedChains assembles the chains every service port writes into, in
// the order of the state's services.
func sharedChains(st *model.State, ports map[model.ServicePortName]*portRules) map[string][]chain {
	natSvc := chain{Name: chainServices}
	natNP := chain{Name: chainNodePorts}
	fSvc := chain{Name: chainServices}
	fExt := chain{Name: chainExternal}
	for i := range st.Services {
		pr := ports[st.Services[i].Name]
		if pr == nil {
			continue
		}
		natSvc.Rules = append(natSvc.Rules, pr.natServices...)
		natNP.Rules = append(natNP.Rules, pr.natNodePorts...)
		fSvc.Rules = append(fSvc.Rules, pr.filterServices...)
		fExt.Rules = append(fExt.Rules, pr.filterExternal...)
	}
	natSvc.Rules = append(natSvc.Rules, nodePortJumps(&st.Node)...)
	return map[string][]chain{tableNAT: {natSvc, natNP}, tableFilter: {fSvc, fExt}}
}
