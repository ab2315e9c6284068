package kubernetes

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"rudder/dns/dnstest"
	"rudder/dns/plugin"
	"rudder/proxy/serviceview"
)

// stub is a next handler that answers every query with one A record (or
// NXDOMAIN) and counts its calls.
type stub struct {
	calls int
	rcode int
}

func (s *stub) Name() string { return "stub" }

func (s *stub) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	s.calls++
	m := new(dns.Msg)
	m.SetRcode(r, s.rcode)
	if s.rcode == dns.RcodeSuccess {
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60},
			A: net.IPv4(192, 0, 2, 53)}}
	}
	return s.rcode, w.WriteMsg(m)
}

func newTestHandler(t testing.TB, next plugin.Handler) *Handler {
	t.Helper()
	h, err := New(Config{Next: next, Registerer: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	h.SetZone(Build(fixture(), ZoneConfig{Serial: 1}))
	return h
}

func query(t *testing.T, h plugin.Handler, name string, qtype uint16) (*dns.Msg, int) {
	t.Helper()
	r := new(dns.Msg)
	r.SetQuestion(name, qtype)
	w := dnstest.NewRecorder(nil)
	rcode, err := h.ServeDNS(context.Background(), w, r)
	if err != nil {
		t.Fatalf("ServeDNS(%s): %v", name, err)
	}
	m, writes := w.Reply()
	if plugin.ClientWrite(rcode) != (writes == 1) {
		t.Fatalf("rcode %d with %d writes", rcode, writes)
	}
	if m != nil && (m.Id != r.Id || m.Question[0] != r.Question[0]) {
		t.Fatalf("reply id/question %d %v, want %d %v", m.Id, m.Question, r.Id, r.Question)
	}
	return m, rcode
}

func TestServeDNS(t *testing.T) {
	next := &stub{}
	h := newTestHandler(t, next)
	m, rcode := query(t, h, "Web.Default.svc.cluster.local.", dns.TypeA)
	if rcode != dns.RcodeSuccess || !m.Authoritative || !m.RecursionAvailable || !m.Response || len(m.Answer) != 1 {
		t.Fatalf("A reply: rcode %d, %v", rcode, m)
	}
	if m.Answer[0].Header().Name != "Web.Default.svc.cluster.local." {
		t.Errorf("owner %q, want the case asked", m.Answer[0].Header().Name)
	}
	m, rcode = query(t, h, "missing.default.svc.cluster.local.", dns.TypeA)
	if rcode != dns.RcodeNameError || m.Rcode != dns.RcodeNameError || len(m.Ns) != 1 || !m.Authoritative {
		t.Errorf("NXDOMAIN reply: rcode %d, %v", rcode, m)
	}
	if _, rcode = query(t, h, "cluster.local.", dns.TypeAXFR); rcode != dns.RcodeRefused {
		t.Errorf("AXFR rcode %d, want REFUSED", rcode)
	}
	if next.calls != 0 {
		t.Fatalf("next called %d times for zone names", next.calls)
	}
	for _, name := range []string{"example.com.", "9.9.9.9.in-addr.arpa."} {
		m, rcode = query(t, h, name, dns.TypeA)
		if rcode != dns.RcodeSuccess || len(m.Answer) != 1 || m.Authoritative {
			t.Errorf("%s not passed to next: rcode %d, %v", name, rcode, m)
		}
	}
	if next.calls != 2 {
		t.Errorf("next called %d times, want 2", next.calls)
	}
}

func TestServeDNSExternalNameThroughNext(t *testing.T) {
	next := &stub{}
	h := newTestHandler(t, next)
	m, rcode := query(t, h, "ext.default.svc.cluster.local.", dns.TypeA)
	want := []string{"ext.default.svc.cluster.local. 5 IN CNAME www.example.com.", "www.example.com. 60 IN A 192.0.2.53"}
	if got := rrStrings(m.Answer); rcode != dns.RcodeSuccess || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("ExternalName answer %q (rcode %d), want %q", got, rcode, want)
	}
	next.rcode = dns.RcodeServerFailure
	m, rcode = query(t, h, "ext.default.svc.cluster.local.", dns.TypeA)
	if rcode != dns.RcodeSuccess || len(m.Answer) != 1 {
		t.Errorf("with a failing upstream want the bare CNAME, got rcode %d %v", rcode, m.Answer)
	}
	if _, rcode = query(t, h, "ext.default.svc.cluster.local.", dns.TypeCNAME); next.calls != 2 || rcode != dns.RcodeSuccess {
		t.Errorf("CNAME query went to next (%d calls)", next.calls)
	}
}

func TestServeDNSWithoutZone(t *testing.T) {
	next := &stub{}
	h, err := New(Config{Next: next})
	if err != nil {
		t.Fatal(err)
	}
	if h.Ready() {
		t.Error("ready without a zone")
	}
	if _, rcode := query(t, h, "web.default.svc.cluster.local.", dns.TypeA); rcode != dns.RcodeServerFailure {
		t.Errorf("zone name without a zone: rcode %d, want SERVFAIL", rcode)
	}
	if _, rcode := query(t, h, "example.com.", dns.TypeA); rcode != dns.RcodeSuccess || next.calls != 1 {
		t.Errorf("outside name without a zone: rcode %d, next calls %d", rcode, next.calls)
	}
}

func TestPluginChain(t *testing.T) {
	h, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	h.SetZone(Build(fixture(), ZoneConfig{}))
	chain := plugin.Chain(h.Plugin())
	if _, rcode := query(t, chain, "example.com.", dns.TypeA); rcode != dns.RcodeRefused {
		t.Errorf("outside name at the end of the chain: rcode %d, want REFUSED", rcode)
	}
}

func TestNewRejectsBadDomain(t *testing.T) {
	if _, err := New(Config{Domain: "bad..domain"}); err == nil {
		t.Error("New accepted an invalid domain")
	}
	reg := prometheus.NewRegistry()
	if _, err := New(Config{Registerer: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Config{Registerer: reg}); err == nil {
		t.Error("second registration on one registry succeeded")
	}
}

func TestRunFollowsView(t *testing.T) {
	client := fake.NewClientset(clusterIPSvc("default", "kubernetes", []string{"10.96.0.1"}))
	view, err := serviceview.New(serviceview.Config{Client: client, NoNodes: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{View: view, Now: func() time.Time { return time.Unix(100, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 2)
	go func() { done <- view.Run(ctx) }()
	go func() { done <- h.Run(ctx) }()
	defer func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}()
	waitFor(t, h.Ready)
	if r := h.Zone().Lookup("kubernetes.default.svc.cluster.local.", dns.TypeA); len(r.Answer) != 1 {
		t.Fatalf("first zone misses the service: %+v", r)
	}
	first := h.Zone().Serial()
	if _, err := client.CoreV1().Services("default").Create(ctx, clusterIPSvc("default", "new", []string{"10.96.0.77"}), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return len(h.Zone().Lookup("new.default.svc.cluster.local.", dns.TypeA).Answer) == 1
	})
	if h.Zone().Serial() <= first {
		t.Errorf("serial %d did not increase past %d", h.Zone().Serial(), first)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRebuildGap(t *testing.T) {
	ms := time.Millisecond
	tests := []struct{ min, last, want time.Duration }{
		{100 * ms, 0, 100 * ms},
		{100 * ms, 10 * ms, 100 * ms},
		{100 * ms, 40 * ms, 120 * ms},
		{-1, 40 * ms, 0}, // gaps off
	}
	for _, tt := range tests {
		if got := rebuildGap(tt.min, tt.last); got != tt.want {
			t.Errorf("rebuildGap(%v, %v) = %v, want %v", tt.min, tt.last, got, tt.want)
		}
	}
}
