package kubernetes

import (
	"net"
	"net/netip"
	"testing"

	"github.com/miekg/dns"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func TestReverseName(t *testing.T) {
	for _, ip := range []string{"10.96.0.1", "0.0.0.0", "255.1.20.3", "fd00:96::20", "::1", "2001:db8:ffff::abcd"} {
		want, err := dns.ReverseAddr(ip)
		if err != nil {
			t.Fatal(err)
		}
		if got := reverseName(netip.MustParseAddr(ip)); got != want {
			t.Errorf("reverseName(%s) = %q, want %q", ip, got, want)
		}
	}
}

func TestParseDashed(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" for malformed
	}{
		{"10-1-2-3", "10.1.2.3"},
		{"0-0-0-0", "0.0.0.0"},
		{"fd00--1", "fd00::1"},
		{"1--2-3", "1::2:3"},
		{"--1", "::1"},
		{"fd00-0-0-0-0-0-0-1", "fd00::1"},
		{"10-1-2-256", ""},
		{"10-1-2", ""},
		{"01-1-2-3", ""},
		{"10-1-2-3-4", ""},
		{"abc", ""},
		{"", ""},
		{"fd00--1%eth0", ""},
		{"10.1.2.3", ""},
		{"-10-1-2-3", ""},
	}
	for _, c := range cases {
		a, ok := parseDashed(c.in)
		switch {
		case c.want == "" && ok:
			t.Errorf("parseDashed(%q) = %v, want malformed", c.in, a)
		case c.want != "" && (!ok || a != netip.MustParseAddr(c.want)):
			t.Errorf("parseDashed(%q) = %v, %v, want %s", c.in, a, ok, c.want)
		}
	}
}

func TestEndpointLabel(t *testing.T) {
	str := func(s string) *string { return &s }
	cases := []struct {
		host *string
		addr string
		want string
	}{
		{str("web-0"), "10.0.0.1", "web-0"},
		{str("Web-0"), "10.0.0.1", "web-0"},
		{nil, "10.0.0.1", "10-0-0-1"},
		{str(""), "10.0.0.1", "10-0-0-1"},
		{str("bad.name"), "10.0.0.1", "10-0-0-1"},
		{str("-bad"), "10.0.0.1", "10-0-0-1"},
		{nil, "fd00::1:2", "fd00--1-2"},
	}
	for _, c := range cases {
		e := &discoveryv1.Endpoint{Hostname: c.host}
		if got := endpointLabel(e, netip.MustParseAddr(c.addr)); got != c.want {
			t.Errorf("endpointLabel(%v, %s) = %q, want %q", c.host, c.addr, got, c.want)
		}
	}
}

func TestLookupHandsOutCopies(t *testing.T) {
	z := Build(fixture(), ZoneConfig{})
	const name = "_http._tcp.web.default.svc.cluster.local."
	r := z.Lookup(name, dns.TypeSRV)
	for _, rr := range append(r.Answer, r.Extra...) {
		rr.Header().Ttl = 999
		rr.Header().Name = "changed."
	}
	r.Ns = nil
	again := z.Lookup(name, dns.TypeSRV)
	for _, rr := range append(again.Answer, again.Extra...) {
		if rr.Header().Ttl != 5 || rr.Header().Name == "changed." {
			t.Fatalf("zone record changed through a Lookup result: %v", rr)
		}
	}
}

func TestBuildConfig(t *testing.T) {
	z := Build(fixture(), ZoneConfig{Domain: "Example.Org", TTL: 30, NSIPs: []net.IP{net.ParseIP("10.0.0.53"), net.ParseIP("fd00::53")}})
	if z.Domain() != "example.org." {
		t.Errorf("domain = %q", z.Domain())
	}
	r := z.Lookup("ns.dns.example.org.", dns.TypeAAAA)
	if got := rrStrings(r.Answer); len(got) != 1 || got[0] != "ns.dns.example.org. 30 IN AAAA fd00::53" {
		t.Errorf("ns.dns AAAA = %q", got)
	}
	if r := z.Lookup("kubernetes.default.svc.cluster.local.", dns.TypeA); !r.Fallthrough {
		t.Error("cluster.local answered by an example.org zone")
	}
	if z.Records() == 0 {
		t.Error("no records counted")
	}
}
