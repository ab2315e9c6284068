package server

import (
	"testing"
	"time"

	"github.com/miekg/dns"
)

// malformed are raw queries with the expected reply rcode, or -1 for no
// reply. Used over UDP here and as fuzz seeds.
func malformed(t testing.TB) []struct {
	name  string
	b     []byte
	rcode int
	qecho bool // the reply echoes the question
} {
	twoQ := query("a.example.", dns.TypeA)
	twoQ.Question = append(twoQ.Question, dns.Question{Name: "b.example.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	resp := query("a.example.", dns.TypeA)
	resp.Response = true
	update := query("a.example.", dns.TypeSOA)
	update.Opcode = dns.OpcodeUpdate
	notify := query("a.example.", dns.TypeSOA)
	notify.Opcode = dns.OpcodeNotify
	vers := query("a.example.", dns.TypeA)
	vers.SetEdns0(1232, false)
	vers.IsEdns0().SetVersion(1)
	twoOPT := query("a.example.", dns.TypeA)
	twoOPT.SetEdns0(1232, false)
	twoOPT.Extra = append(twoOPT.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 512}})
	withAnswer := query("a.example.", dns.TypeA)
	withAnswer.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.example.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: []byte{1, 2, 3, 4}}}
	nsNotIXFR := query("a.example.", dns.TypeA)
	nsNotIXFR.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "example.", Rrtype: dns.TypeSOA, Class: dns.ClassINET}, Ns: "ns.example.", Mbox: "h.example."}}
	good := pack(t, query("a.example.", dns.TypeA))
	return []struct {
		name  string
		b     []byte
		rcode int
		qecho bool
	}{
		{name: "garbage shorter than a header", b: []byte{1, 2, 3}, rcode: -1},
		{name: "empty", b: []byte{}, rcode: -1},
		{name: "header only", b: []byte{0x12, 0x34, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0}, rcode: dns.RcodeFormatError},
		{name: "response", b: pack(t, resp), rcode: -1},
		{name: "two questions", b: pack(t, twoQ), rcode: dns.RcodeFormatError},
		{name: "opcode update", b: pack(t, update), rcode: dns.RcodeNotImplemented},
		{name: "opcode notify", b: pack(t, notify), rcode: dns.RcodeNotImplemented},
		{name: "opcode 15", b: append([]byte{0xab, 0xcd, 0x78}, good[3:]...), rcode: dns.RcodeNotImplemented},
		{name: "question cut short", b: good[:len(good)-3], rcode: dns.RcodeFormatError},
		{name: "label too long", b: append(append([]byte(nil), good[:12]...), 0x50, 'a', 0, 0, 1, 0, 1), rcode: dns.RcodeFormatError},
		{name: "compression loop", b: append(append([]byte(nil), good[:12]...), 0xc0, 12, 0, 1, 0, 1), rcode: dns.RcodeFormatError},
		{name: "EDNS version 1", b: pack(t, vers), rcode: dns.RcodeBadVers, qecho: true},
		{name: "two OPT records", b: pack(t, twoOPT), rcode: dns.RcodeFormatError},
		{name: "record in answer section", b: pack(t, withAnswer), rcode: dns.RcodeFormatError},
		{name: "authority record in a non-IXFR query", b: pack(t, nsNotIXFR), rcode: dns.RcodeFormatError},
		{name: "AXFR over UDP", b: pack(t, query("example.", dns.TypeAXFR)), rcode: dns.RcodeFormatError, qecho: true},
	}
}

func TestMalformedUDP(t *testing.T) {
	r := start(t, nil)
	for _, tt := range malformed(t) {
		wait := 2 * time.Second
		if tt.rcode < 0 {
			wait = 150 * time.Millisecond
		}
		raw := rawUDP(t, r.addr("udp"), tt.b, wait)
		if tt.rcode < 0 {
			if raw != nil {
				t.Errorf("%s: got a reply, want none", tt.name)
			}
		} else {
			checkReject(t, tt.name, tt.b, raw, tt.rcode, tt.qecho)
		}
		// the server keeps serving
		if resp := exchange(t, r, "udp", query("after.example.", dns.TypeA)); resp.Rcode != dns.RcodeSuccess {
			t.Fatalf("after %s: rcode %d", tt.name, resp.Rcode)
		}
	}
}

func checkReject(t *testing.T, name string, q, raw []byte, rcode int, qecho bool) {
	t.Helper()
	if raw == nil {
		t.Errorf("%s: no reply, want %s", name, dns.RcodeToString[rcode])
		return
	}
	m := new(dns.Msg)
	if err := m.Unpack(raw); err != nil {
		t.Errorf("%s: reply does not unpack: %v", name, err)
		return
	}
	if m.Rcode != rcode || !m.Response || m.Id != uint16(q[0])<<8|uint16(q[1]) {
		t.Errorf("%s: reply rcode %s id %d QR %v, want %s id %d", name, dns.RcodeToString[m.Rcode], m.Id, m.Response,
			dns.RcodeToString[rcode], uint16(q[0])<<8|uint16(q[1]))
	}
	if qecho != (len(m.Question) == 1) {
		t.Errorf("%s: question echoed %v, want %v", name, m.Question, qecho)
	}
}
