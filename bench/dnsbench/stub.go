package dnsbench

import (
	"fmt"
	"net"
	"strings"
	"sync/atomic"

	"github.com/miekg/dns"
)

// stubUpstream is the resolver both DNS servers forward to: any name under
// example.com. or example.org. gets an A record, anything else NXDOMAIN.
// It listens on 127.0.0.1 only.
type stubUpstream struct {
	udp, tcp *dns.Server
	addr     string
	queries  atomic.Int64
}

// stubTTL is long so that both servers' caches, not the stub, answer
// repeated forwarded names.
const stubTTL = 300

func startStub() (*stubUpstream, error) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen stub upstream udp: %w", err)
	}
	port := pc.LocalAddr().(*net.UDPAddr).Port
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		pc.Close()
		return nil, fmt.Errorf("listen stub upstream tcp: %w", err)
	}
	s := &stubUpstream{addr: pc.LocalAddr().String()}
	h := dns.HandlerFunc(s.serve)
	s.udp = &dns.Server{PacketConn: pc, Handler: h}
	s.tcp = &dns.Server{Listener: l, Handler: h}
	go func() { _ = s.udp.ActivateAndServe() }()
	go func() { _ = s.tcp.ActivateAndServe() }()
	return s, nil
}

func (s *stubUpstream) close() {
	_ = s.udp.Shutdown()
	_ = s.tcp.Shutdown()
}

func (s *stubUpstream) serve(w dns.ResponseWriter, r *dns.Msg) {
	s.queries.Add(1)
	_ = w.WriteMsg(stubAnswer(r))
}

// stubAnswer is the stub's reply to r.
func stubAnswer(r *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		return m
	}
	q := r.Question[0]
	name := strings.ToLower(q.Name)
	zone := ""
	for _, z := range []string{"example.com.", "example.org."} {
		if dns.IsSubDomain(z, name) {
			zone = z
		}
	}
	soa := func(z string) dns.RR {
		host := "stub.invalid."
		return &dns.SOA{Hdr: dns.RR_Header{Name: z, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: stubTTL},
			Ns: host, Mbox: "hostmaster." + host, Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}
	}
	switch {
	case zone == "":
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa(".")}
	case q.Qtype == dns.TypeA:
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: stubTTL},
			A: net.IPv4(192, 0, 2, byte(1+len(name)%200))}}
	default:
		m.Ns = []dns.RR{soa(zone)}
	}
	return m
}
