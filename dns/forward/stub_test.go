package forward

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"rudder/dns/dnstest"
)

// stub is an upstream the test runs on 127.0.0.1, over UDP and TCP on one
// port. handle returns the reply, or nil to stay silent.
type stub struct {
	addr   string
	handle func(w dns.ResponseWriter, r *dns.Msg) *dns.Msg

	mu      sync.Mutex
	udp     int
	tcp     int
	remotes map[string]bool
}

func startStub(t testing.TB, handle func(w dns.ResponseWriter, r *dns.Msg) *dns.Msg) *stub {
	t.Helper()
	s := &stub{remotes: map[string]bool{}, handle: handle}
	pc, l := listenPair(t)
	s.addr = pc.LocalAddr().String()
	h := dns.HandlerFunc(s.serve)
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: l, Handler: h}} {
		dnstest.Serve(t, srv)
	}
	return s
}

// listenPair binds UDP and TCP on the same free loopback port.
func listenPair(t testing.TB) (net.PacketConn, net.Listener) {
	t.Helper()
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, l
		}
		pc.Close()
	}
	t.Fatal("no free port for udp and tcp")
	return nil, nil
}

func (s *stub) serve(w dns.ResponseWriter, r *dns.Msg) {
	s.mu.Lock()
	if _, ok := w.RemoteAddr().(*net.TCPAddr); ok {
		s.tcp++
	} else {
		s.udp++
	}
	s.remotes[w.RemoteAddr().String()] = true
	s.mu.Unlock()
	if m := s.handle(w, r); m != nil {
		w.WriteMsg(m)
	}
}

// counts returns the queries seen over UDP and TCP and the distinct
// client addresses.
func (s *stub) counts() (udp, tcp, remotes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udp, s.tcp, len(s.remotes)
}

// answerA answers every question with one A record.
func answerA(ip string) func(dns.ResponseWriter, *dns.Msg) *dns.Msg {
	return func(_ dns.ResponseWriter, r *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{
			Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A:   net.ParseIP(ip),
		})
		return m
	}
}

// silentUDP is an address where a UDP socket reads and never answers.
func silentUDP(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 512)
		for {
			if _, _, err := pc.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return pc.LocalAddr().String()
}

// closedUDP is an address where nothing listens (the port was just freed).
func closedUDP(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5 s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
