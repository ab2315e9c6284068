package nftables

import (
	"fmt"
	"net/netip"
	"time"

	"rudder/proxy/model"
)

// chainRules is one chain and its rules, in order.
type chainRules struct {
	name  string
	rules []string
}

// element is one map or set element; value is empty for sets.
type element struct {
	container string // map or set name
	key       string // " . "-joined
	value     string
}

// affinitySet is the per-endpoint set of client addresses pinned to it.
type affinitySet struct {
	name    string
	timeout time.Duration
}

// portObjects is everything one service port owns in the table; it is
// also the record kept of what was last written.
type portObjects struct {
	chains   []chainRules
	sets     []affinitySet
	elements []element
	hairpin  []netip.Addr // endpoint addresses, shared between ports
}

// buildPort computes the objects of one service port.
func buildPort(sp *model.ServicePort, node model.Node) *portObjects {
	b := &portBuilder{sp: sp, node: node, hash: serviceHash(sp.Name), objs: &portObjects{}, seen: map[string]bool{}}
	b.frontends()
	if sp.HasEndpoints() {
		b.serviceChain(prefixService, sp.ClusterEndpoints, true)
	}
	if sp.ExternalPolicyLocal && len(sp.LocalEndpoints) > 0 && b.hasExternal() {
		b.serviceChain(prefixLocal, sp.LocalEndpoints, false)
	}
	if b.hasExternal() && b.externalReachable() {
		b.externalChain()
	}
	return b.objs
}

type portBuilder struct {
	sp   *model.ServicePort
	node model.Node
	hash string
	objs *portObjects
	seen map[string]bool // affinity sets and hairpin addresses already added
}

func (b *portBuilder) hasExternal() bool {
	return b.sp.NodePort != 0 || len(b.sp.ExternalIPs) > 0 || len(b.sp.LoadBalancerIPs) > 0
}

// externalReachable: external frontends go somewhere (else they reject).
func (b *portBuilder) externalReachable() bool {
	return b.sp.HasEndpoints() || (b.sp.ExternalPolicyLocal && len(b.sp.LocalEndpoints) > 0)
}

func (b *portBuilder) addChain(name string, rules ...string) {
	b.objs.chains = append(b.objs.chains, chainRules{name: name, rules: rules})
}

func (b *portBuilder) addElement(container, key, value string) {
	b.objs.elements = append(b.objs.elements, element{container: container, key: key, value: value})
}

// frontends adds the map elements (or the no-endpoint set elements).
func (b *portBuilder) frontends() {
	proto := nftProto(b.sp.Name.Protocol)
	port := fmt.Sprint(b.sp.Port)
	add := func(ips []ipList, reachable bool, target string) {
		for _, l := range ips {
			for _, ip := range l {
				if !ip.Is4() {
					continue
				}
				key := ip.String() + " . " + proto + " . " + port
				if reachable {
					b.addElement(mapServiceIPs, key, "goto "+target)
				} else {
					b.addElement(setNoEndpoints, key, "")
				}
			}
		}
	}
	add([]ipList{b.sp.ClusterIPs}, b.sp.HasEndpoints(), prefixService+b.hash)
	ext := b.externalReachable()
	add([]ipList{b.sp.ExternalIPs, b.sp.LoadBalancerIPs}, ext, prefixExternal+b.hash)
	if b.sp.NodePort == 0 {
		return
	}
	key := proto + " . " + fmt.Sprint(b.sp.NodePort)
	if ext {
		b.addElement(mapServiceNodePorts, key, "goto "+prefixExternal+b.hash)
	} else {
		b.addElement(setNoEndpointPorts, key, "")
	}
}
