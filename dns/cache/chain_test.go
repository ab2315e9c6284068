package cache_test

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/miekg/dns"

	"rudder/dns/cache"
	"rudder/dns/dnstest"
	"rudder/dns/forward"
	"rudder/dns/hosts"
	"rudder/dns/plugin"
)

// serveOn runs h behind a miekg/dns UDP server on loopback, writing the
// error reply for the rcodes a handler leaves unwritten.
func serveOn(t *testing.T, h plugin.Handler) string {
	t.Helper()
	return dnstest.ServeUDP(t, dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		rcode, _ := h.ServeDNS(context.Background(), w, r)
		if !plugin.ClientWrite(rcode) {
			m := new(dns.Msg)
			m.SetRcode(r, rcode)
			w.WriteMsg(m)
		}
	}))
}

// TestChainOverSockets runs hosts, cache and forward in one chain between
// a real client and a stub upstream, all on loopback.
func TestChainOverSockets(t *testing.T) {
	var upstreamQueries atomic.Int32
	upstream := serveOn(t, plugin.HandlerFunc{N: "stub", F: func(_ context.Context, w dns.ResponseWriter, r *dns.Msg) (int, error) {
		upstreamQueries.Add(1)
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(10, 0, 0, 1)})
		return dns.RcodeSuccess, w.WriteMsg(m)
	}})
	c, err := cache.New(cache.Config{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := forward.New(forward.Config{Upstreams: []string{upstream}})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h, err := hosts.New(hosts.Config{Entries: []string{"192.0.2.1 static.lan"}})
	if err != nil {
		t.Fatal(err)
	}
	addr := serveOn(t, plugin.Chain(h.Plugin(), c.Plugin(), f.Plugin()))

	client := new(dns.Client)
	for i, name := range []string{"www.Example.org.", "WWW.example.ORG.", "static.lan."} {
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		m, _, err := client.Exchange(q, addr)
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if m.Id != q.Id || m.Question[0].Name != name || len(m.Answer) != 1 {
			t.Fatalf("query %d: reply %v", i, m)
		}
	}
	if got := upstreamQueries.Load(); got != 1 {
		t.Fatalf("upstream saw %d queries, want 1 (second from the cache, third from hosts)", got)
	}
}
