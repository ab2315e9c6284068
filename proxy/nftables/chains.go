package nftables

import (
	"fmt"
	"net/netip"

	"rudder/proxy/model"
)

type ipList = []netip.Addr

// serviceChain picks one of eps: first a pinned endpoint (affinity), else
// a random one, and DNATs to it in the same rule. Plain rules, no
// anonymous verdict map and no chain per endpoint (nft loads every chain
// and rule of the table before each transaction, so fewer is faster):
// rule i takes endpoint i with probability 1/(n-i), as iptables'
// statistic cascade does.
func (b *portBuilder) serviceChain(prefix string, eps []model.Endpoint, offCluster bool) {
	eps = ipv4(eps)
	var rules []string
	if offCluster && len(b.node.ClusterCIDRs) > 0 {
		rules = append(rules, "ip saddr != @"+setClusterCIDRs+" jump "+chainMarkMasq)
	}
	if b.sp.Affinity != nil {
		for _, ep := range eps {
			rules = append(rules, "ip saddr @"+b.affinitySet(ep)+" "+b.dnat(ep))
		}
	}
	n := len(eps)
	for i, ep := range eps {
		if i == n-1 {
			rules = append(rules, b.dnat(ep))
			break
		}
		rules = append(rules, fmt.Sprintf("numgen random mod %d == 0 %s", n-i, b.dnat(ep)))
	}
	b.addChain(prefix+b.hash, rules...)
}

// dnat translates to ep, recording the client for affinity first.
func (b *portBuilder) dnat(ep model.Endpoint) string {
	b.hairpin(ep.Addr.Addr())
	s := "meta l4proto " + nftProto(b.sp.Name.Protocol) + " "
	if b.sp.Affinity != nil {
		s += "update @" + b.affinitySet(ep) + " { ip saddr } "
	}
	return s + "dnat to " + ep.Addr.String()
}

// affinitySet is the name of ep's affinity set, created on first use.
func (b *portBuilder) affinitySet(ep model.Endpoint) string {
	name := prefixAffinity + endpointHash(b.sp.Name, ep)
	if !b.seen[name] {
		b.seen[name] = true
		b.objs.sets = append(b.objs.sets, affinitySet{name: name, timeout: b.sp.Affinity.Timeout})
	}
	return name
}

// hairpin records an endpoint address: a connection from it to itself
// through the service is masqueraded in postrouting.
func (b *portBuilder) hairpin(a netip.Addr) {
	key := "hairpin/" + a.String()
	if !b.seen[key] {
		b.seen[key] = true
		b.objs.hairpin = append(b.objs.hairpin, a)
	}
}

// externalChain is where NodePort, external and LB IPs go. eTP=Cluster:
// masquerade and use all cluster endpoints. eTP=Local: pods and the node
// itself still reach every endpoint; other sources keep their address and
// reach only local endpoints (or are dropped).
func (b *portBuilder) externalChain() {
	svc := prefixService + b.hash
	if !b.sp.ExternalPolicyLocal {
		b.addChain(prefixExternal+b.hash, "jump "+chainMarkMasq, "goto "+svc)
		return
	}
	var rules []string
	if b.sp.HasEndpoints() {
		if len(b.node.ClusterCIDRs) > 0 {
			rules = append(rules, "ip saddr @"+setClusterCIDRs+" goto "+svc)
		}
		rules = append(rules,
			"fib saddr type local jump "+chainMarkMasq,
			"fib saddr type local goto "+svc)
	}
	if len(b.sp.LocalEndpoints) > 0 {
		rules = append(rules, "goto "+prefixLocal+b.hash)
	} else {
		rules = append(rules, "drop")
	}
	b.addChain(prefixExternal+b.hash, rules...)
}

// ipv4 keeps the IPv4 endpoints (the table is family ip).
func ipv4(eps []model.Endpoint) []model.Endpoint {
	var out []model.Endpoint
	for _, ep := range eps {
		if ep.Addr.Addr().Is4() {
			out = append(out, ep)
		}
	}
	return out
}
