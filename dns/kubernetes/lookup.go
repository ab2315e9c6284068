package kubernetes

import (
	"net"
	"strings"

	"github.com/miekg/dns"
)

// Lookup answers qname/qtype from the zone. qname is taken as asked (any
// case, with or without the final dot); the answer's owner names keep that
// case. Names outside the zone and the reverse names the zone does not
// hold fall through.
func (z *Zone) Lookup(qname string, qtype uint16) Result {
	qname = dns.Fqdn(qname)
	lname := strings.ToLower(qname)
	if z.inZone(lname) {
		if qtype == dns.TypeAXFR || qtype == dns.TypeIXFR {
			return Result{Rcode: dns.RcodeRefused}
		}
		return z.lookupZone(qname, lname, qtype, true)
	}
	if rz := reverseZone(lname); rz >= 0 {
		n := z.nodes[lname]
		if n == nil {
			return Result{Fallthrough: true}
		}
		if qtype == dns.TypePTR && len(n.ptr) > 0 {
			return z.positive(appendCopies(nil, n.ptr, qname), nil)
		}
		return Result{Rcode: dns.RcodeSuccess, Ns: soaCopy(z.revSOA[rz]), Authoritative: true}
	}
	return Result{Fallthrough: true}
}

func (z *Zone) lookupZone(qname, lname string, qtype uint16, chase bool) Result {
	if lname == z.domain {
		return z.apex(qname, qtype)
	}
	if n := z.nodes[lname]; n != nil {
		return z.answer(qname, n, qtype, chase)
	}
	if isSubdomain(lname, z.podSfx) {
		return z.pod(qname, lname, qtype)
	}
	return z.negative(dns.RcodeNameError)
}

func (z *Zone) apex(qname string, qtype uint16) Result {
	switch qtype {
	case dns.TypeSOA:
		s := z.soa
		s.Hdr.Name = qname
		return z.positive([]dns.RR{&s}, nil)
	case dns.TypeNS:
		var extra []dns.RR
		if n := z.nodes[z.ns[0].Ns]; n != nil {
			extra = appendCopies(extra, n.a, "")
			extra = appendCopies(extra, n.aaaa, "")
		}
		return z.positive(appendCopies(nil, z.ns, qname), extra)
	}
	return z.negative(dns.RcodeSuccess)
}

func (z *Zone) answer(qname string, n *node, qtype uint16, chase bool) Result {
	if len(n.cname()) > 0 && qtype != dns.TypeCNAME {
		return z.alias(qname, n, qtype, chase)
	}
	var ans, extra []dns.RR
	switch qtype {
	case dns.TypeA:
		ans = appendCopies(nil, n.a, qname)
	case dns.TypeAAAA:
		ans = appendCopies(nil, n.aaaa, qname)
	case dns.TypeSRV:
		ans = appendCopies(nil, n.srv, qname)
		extra = z.targets(n.srv)
	case dns.TypePTR:
		ans = appendCopies(nil, n.ptr, qname)
	case dns.TypeTXT:
		ans = appendCopies(nil, n.txt(), qname)
	case dns.TypeCNAME:
		ans = appendCopies(nil, n.cname(), qname)
	}
	if len(ans) == 0 {
		return z.negative(dns.RcodeSuccess)
	}
	return z.positive(ans, extra)
}

// targets are the addresses of the SRV records' targets that the zone
// holds, for the additional section, copied in three allocations.
func (z *Zone) targets(srv []dns.SRV) []dns.RR {
	var buf [8]*node
	found := buf[:0]
	var na, naaaa int
	for i := range srv {
		if t := z.nodes[srv[i].Target]; t != nil && len(t.a)+len(t.aaaa) > 0 {
			found = append(found, t)
			na, naaaa = na+len(t.a), naaaa+len(t.aaaa)
		}
	}
	if na+naaaa == 0 {
		return nil
	}
	as := make([]dns.A, 0, na)
	aaaas := make([]dns.AAAA, 0, naaaa)
	for _, t := range found {
		as = append(as, t.a...)
		aaaas = append(aaaas, t.aaaa...)
	}
	extra := make([]dns.RR, 0, na+naaaa)
	for i := range as {
		extra = append(extra, &as[i])
	}
	for i := range aaaas {
		extra = append(extra, &aaaas[i])
	}
	return extra
}

// alias answers for an ExternalName: the CNAME, and when the target is in
// the zone the target's own answer (followed once, so no loops).
func (z *Zone) alias(qname string, n *node, qtype uint16, chase bool) Result {
	c := n.cname()
	ans := appendCopies(nil, c, qname)
	target := c[0].Target
	if !chase || !z.inZone(target) || target == c[0].Hdr.Name {
		return z.positive(ans, nil)
	}
	r := z.lookupZone(target, target, qtype, false)
	r.Answer = append(ans, r.Answer...)
	return r
}

// pod answers <a-b-c-d>.<ns>.pod.<zone> for any well-formed address, and
// NODATA for pod.<zone> and <ns>.pod.<zone>.
func (z *Zone) pod(qname, lname string, qtype uint16) Result {
	if lname == z.podSfx {
		return z.negative(dns.RcodeSuccess)
	}
	rest := lname[:len(lname)-len(z.podSfx)-1]
	i := strings.IndexByte(rest, '.')
	if i < 0 {
		if rest == "" {
			return z.negative(dns.RcodeNameError)
		}
		return z.negative(dns.RcodeSuccess)
	}
	label, ns := rest[:i], rest[i+1:]
	if ns == "" || strings.IndexByte(ns, '.') >= 0 {
		return z.negative(dns.RcodeNameError)
	}
	a, ok := parseDashed(label)
	if !ok {
		return z.negative(dns.RcodeNameError)
	}
	hdr := dns.RR_Header{Name: qname, Class: dns.ClassINET, Ttl: z.ttl}
	switch {
	case a.Is4() && qtype == dns.TypeA:
		hdr.Rrtype = dns.TypeA
		return z.positive([]dns.RR{&dns.A{Hdr: hdr, A: net.IP(a.AsSlice())}}, nil)
	case a.Is6() && qtype == dns.TypeAAAA:
		hdr.Rrtype = dns.TypeAAAA
		return z.positive([]dns.RR{&dns.AAAA{Hdr: hdr, AAAA: net.IP(a.AsSlice())}}, nil)
	}
	return z.negative(dns.RcodeSuccess)
}

func (z *Zone) positive(ans, extra []dns.RR) Result {
	return Result{Rcode: dns.RcodeSuccess, Answer: ans, Extra: extra, Authoritative: true}
}

// negative is NXDOMAIN or NODATA: no answer, the SOA in the authority
// section.
func (z *Zone) negative(rcode int) Result {
	return Result{Rcode: rcode, Ns: soaCopy(z.soa), Authoritative: true}
}

func soaCopy(s dns.SOA) []dns.RR {
	s.Hdr.Ttl = min(s.Hdr.Ttl, s.Minttl)
	return single(s, "")
}

// box holds one record and the slice that points at it: one allocation.
type box[T any] struct {
	v  T
	rr [1]dns.RR
}

func single[T any, P rrPtr[T]](v T, owner string) []dns.RR {
	b := &box[T]{v: v}
	p := P(&b.v)
	if owner != "" {
		p.Header().Name = owner
	}
	b.rr[0] = p
	return b.rr[:]
}

// rrPtr is a pointer to a resource record value, e.g. *dns.A.
type rrPtr[T any] interface {
	*T
	dns.RR
}

// appendCopies appends copies of src to dst, owned by owner unless it is
// empty. The values are copied in one allocation; the zone's own records
// are never handed out, so later handlers may change what they get.
func appendCopies[T any, P rrPtr[T]](dst []dns.RR, src []T, owner string) []dns.RR {
	if len(src) == 0 {
		return dst
	}
	if dst == nil && len(src) == 1 {
		return single[T, P](src[0], owner)
	}
	vals := make([]T, len(src))
	copy(vals, src)
	if dst == nil {
		dst = make([]dns.RR, 0, len(src))
	}
	for i := range vals {
		p := P(&vals[i])
		if owner != "" {
			p.Header().Name = owner
		}
		dst = append(dst, p)
	}
	return dst
}
