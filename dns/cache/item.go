package cache

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/plugin"
)

// kind tells positive entries from denials.
type kind int

const (
	kindPositive kind = iota
	kindNegative
)

// classify tells whether m answers q and can be cached, whether it is a
// denial, and the TTL the reply itself allows (before clamping).
func classify(m *dns.Msg, q dns.Question) (kind, time.Duration, bool) {
	if m == nil || m.Truncated || m.Opcode != dns.OpcodeQuery || len(m.Question) != 1 {
		return 0, 0, false
	}
	mq := m.Question[0]
	if mq.Qtype != q.Qtype || mq.Qclass != q.Qclass || !plugin.SameName(mq.Name, q.Name) {
		return 0, 0, false
	}
	switch {
	case m.Rcode == dns.RcodeNameError, m.Rcode == dns.RcodeSuccess && len(m.Answer) == 0:
		return kindNegative, negativeTTL(m), true
	case m.Rcode == dns.RcodeSuccess:
		return kindPositive, positiveTTL(m), true
	}
	return 0, 0, false
}

// negativeTTL is the TTL of a denial: the smaller of the SOA's TTL and its
// MINIMUM field (RFC 2308), or a short fail-safe TTL without an SOA.
func negativeTTL(m *dns.Msg) time.Duration {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return time.Duration(min(soa.Hdr.Ttl, soa.Minttl)) * time.Second
		}
	}
	return failSafeTTL
}

// positiveTTL is the smallest TTL of the reply's records, OPT excluded.
func positiveTTL(m *dns.Msg) time.Duration {
	ttl := uint32(math.MaxUint32)
	seen := false
	for _, sec := range [3][]dns.RR{m.Answer, m.Ns, m.Extra} {
		for _, rr := range sec {
			if rr.Header().Rrtype == dns.TypeOPT {
				continue
			}
			ttl, seen = min(ttl, rr.Header().Ttl), true
		}
	}
	if !seen {
		return failSafeTTL
	}
	return time.Duration(ttl) * time.Second
}

// item is one cached reply. Its records are private deep copies; rendered
// holds shared read-only copies with the TTLs of one second of its life.
type item struct {
	name          string
	qtype, qclass uint16
	flags         uint8

	rcode          int
	auth, ra, ad   bool
	answer, ns, ex []dns.RR

	ttl     int64 // seconds, after clamping
	stored  time.Time
	expires time.Time

	rendered    atomic.Pointer[rendered]
	hits        atomic.Int64
	lastHit     atomic.Int64 // unix nanoseconds of the last hit
	prefetching atomic.Bool
}

// rendered is an item's records with the TTLs they have at a given age.
type rendered struct {
	age            int64
	answer, ns, ex []dns.RR
}

// newItem copies what is cacheable of m: the records without OPT and
// TSIG, the header bits that describe the answer.
func newItem(m *dns.Msg, q dns.Question, ttl time.Duration, now time.Time, flags uint8) *item {
	secs := int64(ttl / time.Second)
	return &item{
		name: q.Name, qtype: q.Qtype, qclass: q.Qclass, flags: flags,
		rcode: m.Rcode, auth: m.Authoritative, ra: m.RecursionAvailable, ad: m.AuthenticatedData,
		answer: copyRRs(m.Answer), ns: copyRRs(m.Ns), ex: copyRRs(m.Extra),
		ttl: secs, stored: now, expires: now.Add(time.Duration(secs) * time.Second),
	}
}

func copyRRs(rrs []dns.RR) []dns.RR {
	var out []dns.RR
	for _, rr := range rrs {
		switch rr.Header().Rrtype {
		case dns.TypeOPT, dns.TypeTSIG:
			continue
		}
		out = append(out, dns.Copy(rr))
	}
	return out
}

// matches verifies a hash hit against the query, to rule out collisions.
func (it *item) matches(q *dns.Question, flags uint8) bool {
	return it.qtype == q.Qtype && it.qclass == q.Qclass && it.flags == flags && plugin.SameName(it.name, q.Name)
}

// age is the number of whole seconds since the item was stored.
func (it *item) age(now time.Time) int64 { return int64(now.Sub(it.stored) / time.Second) }

// remaining is the TTL left at now, in seconds; zero or less is expired.
func (it *item) remaining(now time.Time) int64 { return it.ttl - it.age(now) }

// records returns the records rendered for now's age, rendering them once
// per second of the item's life.
func (it *item) records(now time.Time) *rendered {
	age := it.age(now)
	if rd := it.rendered.Load(); rd != nil && rd.age == age {
		return rd
	}
	ttl := uint32(max(it.ttl-age, 0))
	rd := &rendered{age: age, answer: withTTL(it.answer, ttl), ns: withTTL(it.ns, ttl), ex: withTTL(it.ex, ttl)}
	it.rendered.Store(rd)
	return rd
}

func withTTL(rrs []dns.RR, ttl uint32) []dns.RR {
	if len(rrs) == 0 {
		return nil
	}
	out := make([]dns.RR, len(rrs))
	for i, rr := range rrs {
		out[i] = dns.Copy(rr)
		out[i].Header().Ttl = ttl
	}
	return out
}

// inlineRRs is how many records a reply holds without another allocation.
const inlineRRs = 8

// replyBuf is a reply and room for its record slices in one allocation.
type replyBuf struct {
	m   dns.Msg
	rrs [inlineRRs]dns.RR
}

// reply builds the reply to r from the item at now: r's ID and question as
// the client wrote them, the records with their TTLs counted down. The
// records are shared with other replies and must not be modified; the
// slices are the reply's own.
func (it *item) reply(r *dns.Msg, now time.Time) *dns.Msg {
	rd := it.records(now)
	b := new(replyBuf)
	m := &b.m
	m.Id, m.Response, m.Opcode = r.Id, true, r.Opcode
	m.RecursionDesired, m.CheckingDisabled = r.RecursionDesired, r.CheckingDisabled
	m.Authoritative, m.RecursionAvailable, m.Rcode = it.auth, it.ra, it.rcode
	m.AuthenticatedData = it.ad && (r.AuthenticatedData || it.flags&flagDO != 0)
	m.Compress = true
	m.Question = r.Question[:1:1]
	free := b.rrs[:0:inlineRRs]
	m.Answer, free = section(rd.answer, free)
	m.Ns, free = section(rd.ns, free)
	m.Extra, _ = section(rd.ex, free)
	return m
}

// section copies rrs into free when it fits, or into a new slice; the
// result's capacity is its length so that an append never writes into
// another section.
func section(rrs, free []dns.RR) (out, rest []dns.RR) {
	n := len(rrs)
	if n == 0 {
		return nil, free
	}
	if cap(free)-len(free) < n {
		return append([]dns.RR(nil), rrs...), free
	}
	out = append(free, rrs...)
	return out[len(free):len(out):len(out)], out[len(out):len(out):cap(free)]
}
