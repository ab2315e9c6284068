package forward

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"rudder/dns/dnstest"
	"rudder/dns/plugin"
)

var tcpClient = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}

func newForward(t testing.TB, cfg Config) *Forward {
	t.Helper()
	f, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func ask(t testing.TB, f plugin.Handler, remote net.Addr, name string, qtype uint16) (*dns.Msg, int, error) {
	t.Helper()
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.Id = 4242
	w := dnstest.NewRecorder(remote)
	rcode, err := f.ServeDNS(context.Background(), w, q)
	m, n := w.Reply()
	if n > 1 {
		t.Fatalf("%d replies written", n)
	}
	if m != nil && m.Id != q.Id {
		t.Fatalf("reply id %d, want the client's %d", m.Id, q.Id)
	}
	return m, rcode, err
}

func TestPassthrough(t *testing.T) {
	nx := func(_ dns.ResponseWriter, r *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeNameError)
		return m
	}
	servfail := func(_ dns.ResponseWriter, r *dns.Msg) *dns.Msg {
		m := new(dns.Msg)
		m.SetRcode(r, dns.RcodeServerFailure)
		return m
	}
	tests := []struct {
		name      string
		handle    func(dns.ResponseWriter, *dns.Msg) *dns.Msg
		remote    net.Addr
		wantRcode int // returned
		wantReply int // written
		wantUDP   int
		wantTCP   int
	}{
		{"A over udp", answerA("10.1.2.3"), nil, dns.RcodeSuccess, dns.RcodeSuccess, 1, 0},
		{"A over tcp", answerA("10.1.2.3"), tcpClient, dns.RcodeSuccess, dns.RcodeSuccess, 0, 1},
		{"NXDOMAIN", nx, nil, dns.RcodeNameError, dns.RcodeNameError, 1, 0},
		{"upstream SERVFAIL is written, returned as success", servfail, nil, dns.RcodeSuccess, dns.RcodeServerFailure, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startStub(t, tt.handle)
			f := newForward(t, Config{Upstreams: []string{s.addr}})
			m, rcode, err := ask(t, f, tt.remote, "Svc.Example.ORG.", dns.TypeA)
			if err != nil || rcode != tt.wantRcode || m == nil || m.Rcode != tt.wantReply {
				t.Fatalf("rcode %d err %v reply %v; want %d and a reply with %d", rcode, err, m, tt.wantRcode, tt.wantReply)
			}
			if m.Question[0].Name != "Svc.Example.ORG." {
				t.Fatalf("question %q changed", m.Question[0].Name)
			}
			if udp, tcp, _ := s.counts(); udp != tt.wantUDP || tcp != tt.wantTCP {
				t.Fatalf("upstream saw %d udp %d tcp, want %d %d", udp, tcp, tt.wantUDP, tt.wantTCP)
			}
		})
	}
}

func TestTruncatedRetriedOverTCP(t *testing.T) {
	s := startStub(t, func(w dns.ResponseWriter, r *dns.Msg) *dns.Msg {
		m := answerA("10.0.0.1")(w, r)
		if _, ok := w.RemoteAddr().(*net.UDPAddr); ok {
			m.Answer, m.Truncated = nil, true
		}
		return m
	})
	f := newForward(t, Config{Upstreams: []string{s.addr}})
	m, _, err := ask(t, f, nil, "big.example.org.", dns.TypeA)
	if err != nil || m.Truncated || len(m.Answer) != 1 {
		t.Fatalf("reply %v, err %v: want the full TCP answer", m, err)
	}
	if udp, tcp, _ := s.counts(); udp != 1 || tcp != 1 {
		t.Fatalf("upstream saw %d udp %d tcp, want 1 and 1", udp, tcp)
	}
}

func TestFailoverToNextUpstream(t *testing.T) {
	for _, tc := range []struct {
		name string
		bad  func(testing.TB) string
	}{{"timeout", silentUDP}, {"closed", closedUDP}} {
		t.Run(tc.name, func(t *testing.T) {
			good := startStub(t, answerA("10.0.0.2"))
			f := newForward(t, Config{Upstreams: []string{tc.bad(t), good.addr}, Policy: Sequential, Timeout: 200 * time.Millisecond})
			start := time.Now()
			m, _, err := ask(t, f, nil, "a.example.org.", dns.TypeA)
			if err != nil || len(m.Answer) != 1 {
				t.Fatalf("reply %v err %v", m, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("failover took %s", d)
			}
		})
	}
}

func TestAllUpstreamsFail(t *testing.T) {
	f := newForward(t, Config{Upstreams: []string{silentUDP(t), closedUDP(t)}, Timeout: 100 * time.Millisecond})
	m, rcode, err := ask(t, f, nil, "a.example.org.", dns.TypeA)
	if m != nil || rcode != dns.RcodeServerFailure || !errors.Is(err, ErrNoUpstream) {
		t.Fatalf("reply %v rcode %d err %v: want nothing written, SERVFAIL, ErrNoUpstream", m, rcode, err)
	}
}

func TestHealthDownAndUp(t *testing.T) {
	var mu sync.Mutex
	dead := true
	var checks []string
	flaky := startStub(t, func(w dns.ResponseWriter, r *dns.Msg) *dns.Msg {
		mu.Lock()
		defer mu.Unlock()
		if r.Question[0].Name == "." && r.Question[0].Qtype == dns.TypeNS {
			checks = append(checks, "check")
		}
		if dead {
			return nil
		}
		return answerA("10.0.0.9")(w, r)
	})
	good := startStub(t, answerA("10.0.0.2"))
	reg := prometheus.NewRegistry()
	f := newForward(t, Config{
		Upstreams: []string{flaky.addr, good.addr}, Policy: Sequential, Timeout: 100 * time.Millisecond,
		HealthInterval: 20 * time.Millisecond, Registerer: reg,
	})
	for i := range 2 {
		if m, _, err := ask(t, f, nil, "a.example.org.", dns.TypeA); err != nil || m.Answer[0].(*dns.A).A.String() != "10.0.0.2" {
			t.Fatalf("query %d: %v %v", i, m, err)
		}
	}
	if f.Healthy(flaky.addr) || gauge(t, reg, "rudder_dns_forward_upstream_healthy", flaky.addr) != 0 {
		t.Fatal("upstream not marked down after 2 failures")
	}
	// Down upstreams are skipped: the next query goes to the good one at once.
	before, _, _ := flaky.counts()
	start := time.Now()
	if _, _, err := ask(t, f, nil, "b.example.org.", dns.TypeA); err != nil || time.Since(start) > 80*time.Millisecond {
		t.Fatalf("query with one upstream down: err %v after %s", err, time.Since(start))
	}
	if after, _, _ := flaky.counts(); after-before > 1 {
		t.Fatalf("down upstream got %d queries", after-before)
	}
	waitFor(t, "health check failures counted", func() bool {
		return gauge(t, reg, "rudder_dns_forward_healthcheck_failures_total", flaky.addr) >= 1
	})
	mu.Lock()
	dead = false
	mu.Unlock()
	waitFor(t, "upstream back up", func() bool { return f.Healthy(flaky.addr) })
	mu.Lock()
	n := len(checks)
	mu.Unlock()
	if n == 0 {
		t.Fatal("no '. IN NS' health check seen")
	}
	if m, _, err := ask(t, f, nil, "c.example.org.", dns.TypeA); err != nil || m.Answer[0].(*dns.A).A.String() != "10.0.0.9" {
		t.Fatalf("after recovery: %v %v, want the first upstream's answer", m, err)
	}
}

func TestAllDownTriesOneAnyway(t *testing.T) {
	s := startStub(t, answerA("10.0.0.1"))
	f := newForward(t, Config{Upstreams: []string{s.addr}, HealthInterval: time.Hour})
	f.ups[0].down.Store(true)
	if m, _, err := ask(t, f, nil, "a.example.org.", dns.TypeA); err != nil || len(m.Answer) != 1 {
		t.Fatalf("%v %v", m, err)
	}
	if !f.Healthy(s.addr) {
		t.Fatal("an answer did not mark the upstream up")
	}
}

func TestPolicies(t *testing.T) {
	tests := []struct {
		policy Policy
		want   func(counts []int) bool
	}{
		{Sequential, func(c []int) bool { return slices.Equal(c, []int{60, 0, 0}) }},
		{RoundRobin, func(c []int) bool { return slices.Equal(c, []int{20, 20, 20}) }},
		{Random, func(c []int) bool { return c[0] > 0 && c[1] > 0 && c[2] > 0 && c[0]+c[1]+c[2] == 60 }},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			var stubs []*stub
			var addrs []string
			for range 3 {
				s := startStub(t, answerA("10.0.0.1"))
				stubs = append(stubs, s)
				addrs = append(addrs, s.addr)
			}
			f := newForward(t, Config{Upstreams: addrs, Policy: tt.policy})
			for range 60 {
				if _, _, err := ask(t, f, nil, "a.example.org.", dns.TypeA); err != nil {
					t.Fatal(err)
				}
			}
			var counts []int
			for _, s := range stubs {
				udp, _, _ := s.counts()
				counts = append(counts, udp)
			}
			if !tt.want(counts) {
				t.Fatalf("queries per upstream %v", counts)
			}
		})
	}
}

func TestConnectionsReused(t *testing.T) {
	s := startStub(t, answerA("10.0.0.1"))
	f := newForward(t, Config{Upstreams: []string{s.addr}})
	for range 20 {
		if _, _, err := ask(t, f, nil, "a.example.org.", dns.TypeA); err != nil {
			t.Fatal(err)
		}
		if _, _, err := ask(t, f, tcpClient, "a.example.org.", dns.TypeA); err != nil {
			t.Fatal(err)
		}
	}
	if udp, tcp, remotes := s.counts(); udp != 20 || tcp != 20 || remotes != 2 {
		t.Fatalf("udp %d tcp %d from %d client sockets, want 20 20 from 2", udp, tcp, remotes)
	}
}

func TestMaxConcurrent(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 10)
	s := startStub(t, func(w dns.ResponseWriter, r *dns.Msg) *dns.Msg {
		arrived <- struct{}{}
		<-release
		return answerA("10.0.0.1")(w, r)
	})
	reg := prometheus.NewRegistry()
	f := newForward(t, Config{Upstreams: []string{s.addr}, MaxConcurrent: 2, Registerer: reg})
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := ask(t, f, tcpClient, "slow.example.org.", dns.TypeA); err != nil {
				t.Error(err)
			}
		}()
	}
	<-arrived
	<-arrived
	m, rcode, err := ask(t, f, nil, "a.example.org.", dns.TypeA)
	if m != nil || rcode != dns.RcodeRefused || err != nil {
		t.Fatalf("third query: reply %v rcode %d err %v, want REFUSED unwritten", m, rcode, err)
	}
	close(release)
	wg.Wait()
	if got := gauge(t, reg, "rudder_dns_forward_max_concurrent_rejects_total", ""); got != 1 {
		t.Fatalf("rejects %v, want 1", got)
	}
	if _, _, err := ask(t, f, nil, "a.example.org.", dns.TypeA); err != nil {
		t.Fatalf("after the slow queries: %v", err)
	}
}

func TestExceptGoesToNext(t *testing.T) {
	s := startStub(t, answerA("10.0.0.1"))
	f := newForward(t, Config{Upstreams: []string{s.addr}, Except: []string{"cluster.local"}})
	called := false
	f.Plugin()(plugin.HandlerFunc{N: "next", F: func(context.Context, dns.ResponseWriter, *dns.Msg) (int, error) {
		called = true
		return dns.RcodeRefused, nil
	}})
	if _, rcode, _ := ask(t, f, nil, "svc.NS.Cluster.Local.", dns.TypeA); !called || rcode != dns.RcodeRefused {
		t.Fatalf("except domain: next called %v rcode %d", called, rcode)
	}
	if udp, _, _ := s.counts(); udp != 0 {
		t.Fatal("except domain forwarded")
	}
	if _, _, err := ask(t, f, nil, "example.org.", dns.TypeA); err != nil {
		t.Fatal(err)
	}
}

func TestFromResolvConf(t *testing.T) {
	tests := []struct {
		name, text string
		want       []string
		wantErr    string
	}{
		{"plain", "nameserver 10.0.0.10\n", []string{"10.0.0.10:53"}, ""},
		{"mixed", "# comment\nsearch a.svc b.svc\nnameserver 10.0.0.10\n; other\nnameserver 2001:db8::1\noptions ndots:5\nnameserver fe80::1%eth0\n",
			[]string{"10.0.0.10:53", "[2001:db8::1]:53", "[fe80::1%eth0]:53"}, ""},
		{"none", "search x\n", nil, "no nameserver"},
		{"host name", "nameserver dns.example.org\n", nil, "not an IP"},
		{"empty nameserver", "nameserver\n", nil, "without an address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "resolv.conf")
			if err := os.WriteFile(p, []byte(tt.text), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := FromResolvConf(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v %v, want %v", got, err, tt.want)
			}
		})
	}
	if _, err := FromResolvConf(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("missing file: want an error")
	}
}

func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		want    []string
		wantErr string
	}{
		{"port default", Config{Upstreams: []string{"10.0.0.1", "10.0.0.2:5353", "::1"}}, []string{"10.0.0.1:53", "10.0.0.2:5353", "[::1]:53"}, ""},
		{"self dropped", Config{Upstreams: []string{"127.0.0.1:53", "10.0.0.1"}, Self: []string{"127.0.0.1:53"}}, []string{"10.0.0.1:53"}, ""},
		{"other port kept", Config{Upstreams: []string{"127.0.0.1:5353"}, Self: []string{"127.0.0.1:53"}}, []string{"127.0.0.1:5353"}, ""},
		{"only self", Config{Upstreams: []string{"127.0.0.1"}, Self: []string{"0.0.0.0:53"}}, nil, "no upstream left"},
		{"only self v6", Config{Upstreams: []string{"::1"}, Self: []string{"[::]:53"}}, nil, "no upstream left"},
		{"only self, no host", Config{Upstreams: []string{"127.0.0.1"}, Self: []string{":53"}}, nil, "no upstream left"},
		{"no host, other upstream kept", Config{Upstreams: []string{"192.0.2.53"}, Self: []string{":53"}}, []string{"192.0.2.53:53"}, ""},
		{"none", Config{}, nil, "no upstream"},
		{"host name", Config{Upstreams: []string{"dns.google"}}, nil, "not an IP"},
		{"bad policy", Config{Upstreams: []string{"10.0.0.1"}, Policy: "fastest"}, nil, "policy"},
		{"bad except", Config{Upstreams: []string{"10.0.0.1"}, Except: []string{"a..b"}}, nil, "except"},
		{"negative timeout", Config{Upstreams: []string{"10.0.0.1"}, Timeout: -1}, nil, "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := New(tt.cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if got := f.Upstreams(); !slices.Equal(got, tt.want) {
				t.Fatalf("upstreams %v, want %v", got, tt.want)
			}
		})
	}
}

// gauge reads one sample of a metric family, by its "to" label.
func gauge(t testing.TB, reg *prometheus.Registry, name, to string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.Metric {
			if to == "" || labelIs(m, "to", to) {
				if m.Gauge != nil {
					return m.Gauge.GetValue()
				}
				return m.Counter.GetValue()
			}
		}
	}
	return -1
}

func labelIs(m *dto.Metric, name, value string) bool {
	for _, l := range m.Label {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func BenchmarkForwardUDP(b *testing.B) {
	s := startStub(b, answerA("10.0.0.1"))
	f := newForward(b, Config{Upstreams: []string{s.addr}})
	q := new(dns.Msg)
	q.SetQuestion("a.example.org.", dns.TypeA)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &dnstest.Discard{}
		for pb.Next() {
			if _, err := f.ServeDNS(ctx, w, q.Copy()); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// rawEcho is a UDP upstream that answers every query with one A record
// without decoding it, so that a benchmark measures the forwarder.
func rawEcho(b *testing.B) string {
	b.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil {
				continue
			}
			out, _ := answerA("10.0.0.1")(nil, q).PackBuffer(buf[n:])
			pc.WriteTo(out, from)
		}
	}()
	return pc.LocalAddr().String()
}

func BenchmarkForwardRawUpstream(b *testing.B) {
	f := newForward(b, Config{Upstreams: []string{rawEcho(b)}})
	q := new(dns.Msg)
	q.SetQuestion("a.example.org.", dns.TypeA)
	ctx := context.Background()
	w := &dnstest.Discard{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.ServeDNS(ctx, w, q); err != nil {
			b.Fatal(err)
		}
	}
}
