package autopath

import (
	"context"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"

	"rudder/dns/dnstest"
	"rudder/dns/plugin"
)

// fakeNext answers from a table of lowercase names and records what it
// was asked. A name not in the table is NXDOMAIN.
type fakeNext struct {
	answers map[string]int // name → rcode; NOERROR answers carry one A
	asked   []string
}

func (f *fakeNext) Name() string { return "fake" }

func (f *fakeNext) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
	name := r.Question[0].Name
	f.asked = append(f.asked, name)
	rcode, ok := f.answers[strings.ToLower(name)]
	if !ok {
		rcode = dns.RcodeNameError
	}
	if !plugin.ClientWrite(rcode) {
		return rcode, nil
	}
	m := new(dns.Msg)
	m.SetRcode(r, rcode)
	soa := &dns.SOA{Hdr: dns.RR_Header{Name: "cluster.local.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 5}, Minttl: 5}
	switch {
	case rcode == dns.RcodeSuccess && r.Question[0].Qtype == dns.TypeA:
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.IPv4(192, 0, 2, 1)}}
	default:
		m.Ns = []dns.RR{soa}
	}
	return rcode, w.WriteMsg(m)
}

type fakePods map[string]string

func (f fakePods) NamespaceOf(ip net.IP) (string, bool) {
	ns, ok := f[ip.String()]
	return ns, ok
}

func TestAutopath(t *testing.T) {
	answers := map[string]int{
		"web.default.svc.cluster.local.":      dns.RcodeSuccess,
		"db.other.svc.cluster.local.":         dns.RcodeSuccess,
		"google.com.":                         dns.RcodeSuccess,
		"host.example.internal.":              dns.RcodeSuccess,
		"v4only.svc.cluster.local.":           dns.RcodeSuccess,
		"broken.cluster.local.":               dns.RcodeServerFailure,
		"refused.svc.cluster.local.":          dns.RcodeRefused,
		"pass.kube-system.svc.cluster.local.": dns.RcodeSuccess,
	}
	const (
		inDefault = "10.244.1.5"
		inKS      = "10.244.2.9"
		unknown   = "10.244.9.9"
	)
	cases := []struct {
		name   string
		client string
		q      string
		qtype  uint16
		rcode  int
		ans    []string // answer records, "owner type target/address"
		asked  []string
	}{
		{name: "exists as asked", client: inDefault, q: "web.default.svc.cluster.local.", qtype: dns.TypeA,
			ans: []string{"web.default.svc.cluster.local. A 192.0.2.1"}, asked: []string{"web.default.svc.cluster.local."}},
		{name: "outside name through the whole path", client: inDefault, q: "google.com.default.svc.cluster.local.", qtype: dns.TypeA,
			ans: []string{"google.com.default.svc.cluster.local. CNAME google.com.", "google.com. A 192.0.2.1"},
			asked: []string{"google.com.default.svc.cluster.local.", "google.com.svc.cluster.local.", "google.com.cluster.local.",
				"google.com.example.internal.", "google.com."}},
		{name: "service of another namespace", client: inDefault, q: "db.other.default.svc.cluster.local.", qtype: dns.TypeA,
			ans:   []string{"db.other.default.svc.cluster.local. CNAME db.other.svc.cluster.local.", "db.other.svc.cluster.local. A 192.0.2.1"},
			asked: []string{"db.other.default.svc.cluster.local.", "db.other.svc.cluster.local."}},
		{name: "host search domain", client: inDefault, q: "host.default.svc.cluster.local.", qtype: dns.TypeA,
			ans: []string{"host.default.svc.cluster.local. CNAME host.example.internal.", "host.example.internal. A 192.0.2.1"},
			asked: []string{"host.default.svc.cluster.local.", "host.svc.cluster.local.", "host.cluster.local.",
				"host.example.internal."}},
		{name: "case kept", client: inDefault, q: "Google.COM.Default.svc.cluster.local.", qtype: dns.TypeA,
			ans: []string{"Google.COM.Default.svc.cluster.local. CNAME Google.COM.", "Google.COM. A 192.0.2.1"},
			asked: []string{"Google.COM.Default.svc.cluster.local.", "Google.COM.svc.cluster.local.", "Google.COM.cluster.local.",
				"Google.COM.example.internal.", "Google.COM."}},
		{name: "NODATA stops the search", client: inDefault, q: "v4only.default.svc.cluster.local.", qtype: dns.TypeAAAA,
			ans:   []string{"v4only.default.svc.cluster.local. CNAME v4only.svc.cluster.local."},
			asked: []string{"v4only.default.svc.cluster.local.", "v4only.svc.cluster.local."}},
		{name: "nothing found: the original NXDOMAIN", client: inDefault, q: "nope.default.svc.cluster.local.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError,
			asked: []string{"nope.default.svc.cluster.local.", "nope.svc.cluster.local.", "nope.cluster.local.",
				"nope.example.internal.", "nope."}},
		{name: "failing step: the original NXDOMAIN", client: inDefault, q: "broken.default.svc.cluster.local.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError,
			asked: []string{"broken.default.svc.cluster.local.", "broken.svc.cluster.local.", "broken.cluster.local."}},
		{name: "unwritten step: the original NXDOMAIN", client: inDefault, q: "refused.default.svc.cluster.local.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError,
			asked: []string{"refused.default.svc.cluster.local.", "refused.svc.cluster.local."}},
		{name: "client of another namespace", client: inKS, q: "google.com.default.svc.cluster.local.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, asked: []string{"google.com.default.svc.cluster.local."}},
		{name: "client of its own namespace", client: inKS, q: "pass.kube-system.svc.cluster.local.", qtype: dns.TypeA,
			ans: []string{"pass.kube-system.svc.cluster.local. A 192.0.2.1"}, asked: []string{"pass.kube-system.svc.cluster.local."}},
		{name: "unknown client", client: unknown, q: "google.com.default.svc.cluster.local.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, asked: []string{"google.com.default.svc.cluster.local."}},
		{name: "not a search expansion", client: inDefault, q: "nope.com.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, asked: []string{"nope.com."}},
		{name: "namespace name itself", client: inDefault, q: "default.svc.cluster.local.", qtype: dns.TypeA,
			rcode: dns.RcodeNameError, asked: []string{"default.svc.cluster.local."}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			next := &fakeNext{answers: answers}
			ap, err := New(Config{Next: next, Domain: "Cluster.Local", Search: []string{"example.internal"},
				Pods: fakePods{inDefault: "default", inKS: "kube-system"}, Registerer: prometheus.NewRegistry()})
			if err != nil {
				t.Fatal(err)
			}
			r := new(dns.Msg)
			r.SetQuestion(c.q, c.qtype)
			w := dnstest.NewRecorder(&net.UDPAddr{IP: net.ParseIP(c.client), Port: 5353})
			rcode, err := ap.ServeDNS(context.Background(), w, r)
			if err != nil {
				t.Fatal(err)
			}
			m, writes := w.Reply()
			if writes != 1 {
				t.Fatalf("%d replies written", writes)
			}
			if rcode != c.rcode || m.Rcode != c.rcode {
				t.Errorf("rcode %d (reply %d), want %d", rcode, m.Rcode, c.rcode)
			}
			if m.Id != r.Id || len(m.Question) != 1 || m.Question[0] != r.Question[0] {
				t.Errorf("reply id/question %d %v, want %d %v", m.Id, m.Question, r.Id, r.Question)
			}
			if got := short(m.Answer); !slices.Equal(got, c.ans) {
				t.Errorf("answer %q, want %q", got, c.ans)
			}
			if !slices.Equal(next.asked, c.asked) {
				t.Errorf("asked %q, want %q", next.asked, c.asked)
			}
		})
	}
}

func short(rrs []dns.RR) []string {
	var out []string
	for _, rr := range rrs {
		h := rr.Header()
		s := h.Name + " " + dns.TypeToString[h.Rrtype] + " "
		switch v := rr.(type) {
		case *dns.A:
			s += v.A.String()
		case *dns.CNAME:
			s += v.Target
		}
		out = append(out, s)
	}
	return out
}

func TestNewErrors(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New without Pods succeeded")
	}
	if _, err := New(Config{Pods: fakePods{}, Domain: "a..b"}); err == nil {
		t.Error("New accepted a bad domain")
	}
	if _, err := New(Config{Pods: fakePods{}, Search: []string{"bad..search"}}); err == nil {
		t.Error("New accepted a bad search domain")
	}
}

func TestPluginSetsNext(t *testing.T) {
	ap, err := New(Config{Pods: fakePods{"127.0.0.1": "default"}})
	if err != nil {
		t.Fatal(err)
	}
	chain := plugin.Chain(ap.Plugin())
	r := new(dns.Msg)
	r.SetQuestion("x.default.svc.cluster.local.", dns.TypeA)
	rcode, err := chain.ServeDNS(context.Background(), dnstest.NewRecorder(nil), r)
	if err != nil || rcode != dns.RcodeRefused {
		t.Errorf("end of chain: rcode %d, err %v; want REFUSED", rcode, err)
	}
}

func BenchmarkPassThrough(b *testing.B) {
	next := &fakeNext{answers: map[string]int{"web.default.svc.cluster.local.": dns.RcodeSuccess}}
	ap, err := New(Config{Next: next, Pods: fakePods{"127.0.0.1": "default"}})
	if err != nil {
		b.Fatal(err)
	}
	r := new(dns.Msg)
	r.SetQuestion("web.default.svc.cluster.local.", dns.TypeA)
	w := &dnstest.Discard{}
	b.ReportAllocs()
	for b.Loop() {
		next.asked = next.asked[:0]
		if _, err := ap.ServeDNS(context.Background(), w, r); err != nil {
			b.Fatal(err)
		}
	}
}
