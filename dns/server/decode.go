package server

import (
	"encoding/binary"

	"github.com/miekg/dns"
)

// verdict is what the server does with a packet before any handler sees it.
type verdict uint8

const (
	accept  verdict = iota
	drop            // no reply: unreadable header or a response (replying could amplify or loop)
	formErr         // FORMERR
	notImp          // NOTIMP: an opcode other than QUERY
	badVers         // BADVERS: an EDNS version other than 0
)

// reasons label rudder_dns_server_invalid_requests_total.
const (
	reasonShort    = "short"    // fewer bytes than a header
	reasonResponse = "response" // QR=1
	reasonOpcode   = "opcode"   // not QUERY
	reasonQdcount  = "qdcount"  // not exactly one question
	reasonSections = "sections" // records where a query has none
	reasonParse    = "parse"    // does not unpack
	reasonEDNS     = "edns"     // more than one OPT, or an OPT outside the additional section
	reasonVersion  = "version"  // EDNS version > 0
	reasonAXFR     = "axfr_udp" // AXFR over UDP (RFC 5936 section 4.2)
)

var reasons = []string{reasonShort, reasonResponse, reasonOpcode, reasonQdcount, reasonSections,
	reasonParse, reasonEDNS, reasonVersion, reasonAXFR}

const (
	headerLen = 12
	bitQR     = 1 << 15
)

// decode checks a raw query and unpacks it. It decides on the header
// alone where it can, so that junk costs no unpacking. The returned Msg
// is nil for drop and for failures before unpacking; it is set for
// accept, badVers and AXFR over UDP, whose error replies echo the
// question. A query may carry an OPT and a TSIG in the additional
// section, and only an IXFR a SOA in the authority section (RFC 1995);
// anything else is FORMERR.
func decode(b []byte, udp bool) (*dns.Msg, verdict, string) {
	if len(b) < headerLen {
		return nil, drop, reasonShort
	}
	bits := binary.BigEndian.Uint16(b[2:])
	if bits&bitQR != 0 {
		return nil, drop, reasonResponse
	}
	if int(bits>>11)&0xF != dns.OpcodeQuery {
		return nil, notImp, reasonOpcode
	}
	qd, an := binary.BigEndian.Uint16(b[4:]), binary.BigEndian.Uint16(b[6:])
	ns, ar := binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:])
	if qd != 1 {
		return nil, formErr, reasonQdcount
	}
	if an != 0 || ns > 1 || ar > 2 {
		return nil, formErr, reasonSections
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil || len(m.Question) != 1 {
		return nil, formErr, reasonParse
	}
	return checkMsg(m, udp)
}

// checkMsg applies the rules that need the unpacked message.
func checkMsg(m *dns.Msg, udp bool) (*dns.Msg, verdict, string) {
	qtype := m.Question[0].Qtype
	if len(m.Ns) == 1 && (qtype != dns.TypeIXFR || m.Ns[0].Header().Rrtype != dns.TypeSOA) {
		return nil, formErr, reasonSections
	}
	var opt *dns.OPT
	for _, rr := range m.Extra {
		o, ok := rr.(*dns.OPT)
		if !ok {
			continue
		}
		if opt != nil || o.Hdr.Name != "." {
			return nil, formErr, reasonEDNS
		}
		opt = o
	}
	if opt != nil && opt.Version() != 0 {
		return m, badVers, reasonVersion
	}
	if udp && qtype == dns.TypeAXFR {
		return m, formErr, reasonAXFR
	}
	return m, accept, ""
}
