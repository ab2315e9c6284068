package kubernetes

import (
	"net"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"rudder/proxy/serviceview"
)

// SOA timers (seconds), as CoreDNS has them.
const (
	soaRefresh = 7200
	soaRetry   = 1800
	soaExpire  = 86400
)

// Build turns a snapshot of the service view into a Zone. It never fails:
// objects it cannot use (unparsable addresses, invalid names) are skipped.
func Build(s serviceview.Snapshot, cfg ZoneConfig) *Zone {
	cfg = cfg.withDefaults()
	b := &builder{
		cfg:    cfg,
		svcSfx: "svc." + cfg.Domain,
		nodes:  make(map[string]*node, 2*len(s.Services)+len(s.EndpointSlices)),
	}
	b.nodes[b.svcSfx] = emptyNonTerminal
	version := "dns-version." + cfg.Domain
	b.node(version).x = &rareRecords{txt: []dns.TXT{{Hdr: b.hdr(version, dns.TypeTXT), Txt: []string{SchemaVersion}}}}
	b.records++
	slices := slicesByService(s.EndpointSlices)
	for _, svc := range s.Services {
		b.service(svc, slices[svcKey{svc.Namespace, svc.Name}])
	}
	b.nameserver(s.Services)
	b.finishSRV()
	return b.zone()
}

type svcKey struct{ ns, name string }

func slicesByService(all []*discoveryv1.EndpointSlice) map[svcKey][]*discoveryv1.EndpointSlice {
	m := make(map[svcKey][]*discoveryv1.EndpointSlice, len(all))
	for _, sl := range all {
		name := sl.Labels[discoveryv1.LabelServiceName]
		if name == "" {
			continue
		}
		k := svcKey{sl.Namespace, name}
		m[k] = append(m[k], sl)
	}
	return m
}

type builder struct {
	cfg      ZoneConfig
	svcSfx   string
	nodes    map[string]*node
	records  int
	srvNodes []*node
	lastNS   [2]string // a namespace and its owner name, for sorted input

	// Slabs: most names hold one record of a type, so the first one of
	// each comes from a shared chunk instead of an allocation of its own.
	nodeSlab slab[node]
	aSlab    slab[dns.A]
	aaaaSlab slab[dns.AAAA]
	ptrSlab  slab[dns.PTR]
	srvSlab  slab[dns.SRV]
	ipSlab   slab[byte]
}

func (b *builder) hdr(name string, t uint16) dns.RR_Header {
	return dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET, Ttl: b.cfg.TTL}
}

// node returns the node at name, creating it and the empty non-terminals
// above it (up to the apex) when missing. Reverse names get no ancestors.
func (b *builder) node(name string) *node {
	n := b.nodes[name]
	if n != nil && n != emptyNonTerminal {
		return n
	}
	fresh := n == nil
	n = &b.nodeSlab.one(node{})[0]
	b.nodes[name] = n
	if fresh && isSubdomain(name, b.cfg.Domain) {
		b.ancestors(name)
	}
	return n
}

// ancestors adds the empty non-terminals between name and the apex.
func (b *builder) ancestors(name string) {
	for p := parent(name); len(p) > len(b.cfg.Domain); p = parent(p) {
		if b.nodes[p] != nil {
			return
		}
		b.nodes[p] = emptyNonTerminal
	}
}

func parent(name string) string {
	if i := strings.IndexByte(name, '.'); i >= 0 && i+1 < len(name) {
		return name[i+1:]
	}
	return "."
}

func (b *builder) addAddr(name string, a netip.Addr) {
	n := b.node(name)
	if a.Is4() {
		v := a.As4()
		n.a = add(&b.aSlab, n.a, dns.A{Hdr: b.hdr(name, dns.TypeA), A: net.IP(b.ipSlab.bytes(v[:]))})
	} else {
		v := a.As16()
		n.aaaa = add(&b.aaaaSlab, n.aaaa, dns.AAAA{Hdr: b.hdr(name, dns.TypeAAAA), AAAA: net.IP(b.ipSlab.bytes(v[:]))})
	}
	b.records++
}

func (b *builder) addPTR(a netip.Addr, target string) {
	name := reverseName(a)
	n := b.node(name)
	n.ptr = add(&b.ptrSlab, n.ptr, dns.PTR{Hdr: b.hdr(name, dns.TypePTR), Ptr: target})
	b.records++
}

func (b *builder) addSRV(name, target string, port int32) {
	n := b.node(name)
	if n.srv == nil {
		b.srvNodes = append(b.srvNodes, n)
	}
	n.srv = add(&b.srvSlab, n.srv, dns.SRV{Hdr: b.hdr(name, dns.TypeSRV), Port: uint16(port), Target: target})
	b.records++
}

func (b *builder) service(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) {
	if b.lastNS[0] != svc.Namespace {
		b.lastNS = [2]string{svc.Namespace, strings.ToLower(svc.Namespace) + "." + b.svcSfx}
		if b.nodes[b.lastNS[1]] == nil {
			b.nodes[b.lastNS[1]] = emptyNonTerminal
		}
	}
	ns := b.lastNS[1]
	name := strings.ToLower(svc.Name) + "." + ns
	switch {
	case svc.Spec.Type == corev1.ServiceTypeExternalName:
		b.externalName(name, svc)
	case svc.Spec.ClusterIP == corev1.ClusterIPNone:
		b.headless(name, svc, slices)
	default:
		b.clusterIP(name, svc)
	}
}

func (b *builder) clusterIP(name string, svc *corev1.Service) {
	ips := svc.Spec.ClusterIPs
	if len(ips) == 0 && svc.Spec.ClusterIP != "" {
		ips = []string{svc.Spec.ClusterIP}
	}
	found := false
	for _, s := range ips {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			continue
		}
		a = a.Unmap()
		b.addAddr(name, a)
		b.addPTR(a, name)
		found = true
	}
	if !found {
		return
	}
	for _, p := range svc.Spec.Ports {
		if p.Name != "" {
			b.addSRV(srvName(p.Name, p.Protocol, name), name, p.Port)
		}
	}
}

func (b *builder) externalName(name string, svc *corev1.Service) {
	target := dns.Fqdn(strings.ToLower(svc.Spec.ExternalName))
	if _, ok := dns.IsDomainName(target); !ok || target == "." {
		return
	}
	b.node(name).x = &rareRecords{cname: []dns.CNAME{{Hdr: b.hdr(name, dns.TypeCNAME), Target: target}}}
	b.records++
	for _, p := range svc.Spec.Ports {
		if p.Name != "" {
			b.addSRV(srvName(p.Name, p.Protocol, name), target, p.Port)
		}
	}
}

func srvName(port string, proto corev1.Protocol, svcName string) string {
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	return "_" + strings.ToLower(port) + "._" + strings.ToLower(string(proto)) + "." + svcName
}

// headless adds the records of a headless service: its name resolves to
// every ready endpoint, each endpoint has its own name (hostname or
// dashed address) with A/AAAA and PTR, and every named port has one SRV
// per endpoint name.
func (b *builder) headless(name string, svc *corev1.Service, slices []*discoveryv1.EndpointSlice) {
	seen := make(map[netip.Addr]bool)
	type epAddr struct {
		ep string
		a  netip.Addr
	}
	seenEP := make(map[epAddr]bool)
	seenSRV := make(map[[2]string]bool)
	for _, sl := range slices {
		if sl.AddressType == discoveryv1.AddressTypeFQDN {
			continue
		}
		for i := range sl.Endpoints {
			ep := &sl.Endpoints[i]
			if !ready(ep, svc.Spec.PublishNotReadyAddresses) {
				continue
			}
			for _, s := range ep.Addresses {
				a, err := netip.ParseAddr(s)
				if err != nil || a.Zone() != "" {
					continue
				}
				a = a.Unmap()
				if !seen[a] {
					seen[a] = true
					b.addAddr(name, a)
				}
				epName := endpointLabel(ep, a) + "." + name
				if !seenEP[epAddr{epName, a}] {
					seenEP[epAddr{epName, a}] = true
					b.addAddr(epName, a)
					b.addPTR(a, epName)
				}
				for _, p := range sl.Ports {
					if p.Name == nil || *p.Name == "" || p.Port == nil {
						continue
					}
					var proto corev1.Protocol
					if p.Protocol != nil {
						proto = *p.Protocol
					}
					sn := srvName(*p.Name, proto, name)
					if !seenSRV[[2]string{sn, epName}] {
						seenSRV[[2]string{sn, epName}] = true
						b.addSRV(sn, epName, *p.Port)
					}
				}
			}
		}
	}
}

// ready tells whether an endpoint is published: ready (nil counts as
// ready) and not terminating, or any endpoint when the service publishes
// not-ready addresses.
func ready(ep *discoveryv1.Endpoint, publishNotReady bool) bool {
	if publishNotReady {
		return true
	}
	c := ep.Conditions
	if c.Terminating != nil && *c.Terminating {
		return false
	}
	return c.Ready == nil || *c.Ready
}

// nameserver adds ns.dns.<zone>: the configured addresses, else the
// cluster IPs of kube-system/kube-dns.
func (b *builder) nameserver(svcs []*corev1.Service) {
	name := "ns.dns." + b.cfg.Domain
	var addrs []netip.Addr
	for _, ip := range b.cfg.NSIPs {
		if a, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, a.Unmap())
		}
	}
	if len(addrs) == 0 {
		for _, svc := range svcs {
			if svc.Namespace != "kube-system" || svc.Name != "kube-dns" {
				continue
			}
			for _, s := range svc.Spec.ClusterIPs {
				if a, err := netip.ParseAddr(s); err == nil {
					addrs = append(addrs, a.Unmap())
				}
			}
		}
	}
	for _, a := range addrs {
		b.addAddr(name, a)
	}
}

// finishSRV shares a weight of 100 out over the SRV records at a name.
func (b *builder) finishSRV() {
	for _, n := range b.srvNodes {
		w := uint16(max(1, 100/len(n.srv)))
		for i := range n.srv {
			n.srv[i].Weight = w
		}
	}
}

func (b *builder) zone() *Zone {
	d := b.cfg.Domain
	z := &Zone{
		domain:  d,
		podSfx:  "pod." + d,
		ttl:     b.cfg.TTL,
		nodes:   b.nodes,
		records: b.records,
		ns:      []dns.NS{{Hdr: b.hdr(d, dns.TypeNS), Ns: "ns.dns." + d}},
	}
	z.soa = dns.SOA{
		Hdr: b.hdr(d, dns.TypeSOA), Ns: "ns.dns." + d, Mbox: "hostmaster." + d,
		Serial: b.cfg.Serial, Refresh: soaRefresh, Retry: soaRetry, Expire: soaExpire, Minttl: b.cfg.TTL,
	}
	for i, rz := range [2]string{"in-addr.arpa.", "ip6.arpa."} {
		z.revSOA[i] = z.soa
		z.revSOA[i].Hdr.Name = rz
	}
	return z
}
