package kubernetes

import (
	"slices"
	"testing"

	"github.com/miekg/dns"
)

const soaStr = "cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5"

func rev(ip string) string {
	r, err := dns.ReverseAddr(ip)
	if err != nil {
		panic(err)
	}
	return r
}

type zcase struct {
	name  string
	qtype uint16
	rcode int
	ans   []string
	extra []string
	ns    string // the SOA expected in Ns for negative answers ("" for none)
	fall  bool
}

func nx(name string, t uint16) zcase {
	return zcase{name: name, qtype: t, rcode: dns.RcodeNameError, ns: soaStr}
}

func nodata(name string, t uint16) zcase {
	return zcase{name: name, qtype: t, rcode: dns.RcodeSuccess, ns: soaStr}
}

func ok(name string, t uint16, ans ...string) zcase {
	return zcase{name: name, qtype: t, ans: ans}
}

func fall(name string, t uint16) zcase { return zcase{name: name, qtype: t, fall: true} }

func (c zcase) with(extra ...string) zcase { c.extra = extra; return c }

func TestLookup(t *testing.T) {
	z := Build(fixture(), ZoneConfig{Domain: "Cluster.Local", Serial: 42})
	const (
		web = "web.default.svc.cluster.local."
		db  = "db.default.svc.cluster.local."
	)
	cases := []zcase{
		// Schema version, apex, nameserver.
		ok("dns-version.cluster.local.", dns.TypeTXT, `dns-version.cluster.local. 5 IN TXT "1.1.0"`),
		nodata("dns-version.cluster.local.", dns.TypeA),
		ok("Cluster.LOCAL.", dns.TypeSOA, "Cluster.LOCAL. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5"),
		ok("cluster.local.", dns.TypeNS, "cluster.local. 5 IN NS ns.dns.cluster.local.").
			with("ns.dns.cluster.local. 5 IN A 10.96.0.10"),
		nodata("cluster.local.", dns.TypeA),
		ok("ns.dns.cluster.local.", dns.TypeA, "ns.dns.cluster.local. 5 IN A 10.96.0.10"),
		nodata("dns.cluster.local.", dns.TypeA),
		nodata("svc.cluster.local.", dns.TypeA),
		nx("nothing.cluster.local.", dns.TypeA),
		// ClusterIP services, case kept as asked.
		ok("kubernetes.default.svc.cluster.local.", dns.TypeA, "kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1"),
		ok("KuberNetes.Default.SVC.cluster.local.", dns.TypeA, "KuberNetes.Default.SVC.cluster.local. 5 IN A 10.96.0.1"),
		ok("kubernetes.default.svc.cluster.local", dns.TypeA, "kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1"),
		nodata("kubernetes.default.svc.cluster.local.", dns.TypeAAAA),
		nodata("kubernetes.default.svc.cluster.local.", dns.TypeMX),
		nodata("kubernetes.default.svc.cluster.local.", dns.TypeSOA),
		ok(web, dns.TypeA, web+" 5 IN A 10.96.0.20"),
		ok(web, dns.TypeAAAA, web+" 5 IN AAAA fd00:96::20"),
		nodata("default.svc.cluster.local.", dns.TypeA),
		nodata("lonely.svc.cluster.local.", dns.TypeA),
		nx("nobody.lonely.svc.cluster.local.", dns.TypeA),
		nx("nons.svc.cluster.local.", dns.TypeA),
		nx("missing.default.svc.cluster.local.", dns.TypeA),
		nx("a.kubernetes.default.svc.cluster.local.", dns.TypeA),
		// SRV for ClusterIP services.
		ok("_http._tcp."+web, dns.TypeSRV, "_http._tcp."+web+" 5 IN SRV 0 100 80 "+web).
			with(web+" 5 IN A 10.96.0.20", web+" 5 IN AAAA fd00:96::20"),
		ok("_DNS._UDP.Web.default.svc.cluster.local.", dns.TypeSRV, "_DNS._UDP.Web.default.svc.cluster.local. 5 IN SRV 0 100 53 "+web).
			with(web+" 5 IN A 10.96.0.20", web+" 5 IN AAAA fd00:96::20"),
		ok("_https._tcp.kubernetes.default.svc.cluster.local.", dns.TypeSRV,
			"_https._tcp.kubernetes.default.svc.cluster.local. 5 IN SRV 0 100 443 kubernetes.default.svc.cluster.local.").
			with("kubernetes.default.svc.cluster.local. 5 IN A 10.96.0.1"),
		nodata("_http._tcp."+web, dns.TypeA),
		nodata("_tcp."+web, dns.TypeSRV),
		nodata("_udp."+web, dns.TypeSRV),
		nx("_http._udp."+web, dns.TypeSRV),
		nx("_sctp."+web, dns.TypeSRV),
		// Headless: ready endpoints only, deduplicated, dual-stack.
		ok(db, dns.TypeA, db+" 5 IN A 10.244.1.5", db+" 5 IN A 10.244.1.6", db+" 5 IN A 10.244.1.7"),
		ok(db, dns.TypeAAAA, db+" 5 IN AAAA fd00:244::5", db+" 5 IN AAAA fd00:244::7"),
		ok("db-0."+db, dns.TypeA, "db-0."+db+" 5 IN A 10.244.1.5"),
		ok("DB-0.DB.default.svc.cluster.local.", dns.TypeAAAA, "DB-0.DB.default.svc.cluster.local. 5 IN AAAA fd00:244::5"),
		ok("db-1."+db, dns.TypeA, "db-1."+db+" 5 IN A 10.244.1.6"),
		ok("10-244-1-7."+db, dns.TypeA, "10-244-1-7."+db+" 5 IN A 10.244.1.7"),
		ok("fd00-244--7."+db, dns.TypeAAAA, "fd00-244--7."+db+" 5 IN AAAA fd00:244::7"),
		nodata("fd00-244--7."+db, dns.TypeA),
		nx("10-244-1-8."+db, dns.TypeA),
		nx("db-9."+db, dns.TypeA),
		nx("10-244-1-5."+db, dns.TypeA),
		ok("_mysql._tcp."+db, dns.TypeSRV,
			"_mysql._tcp."+db+" 5 IN SRV 0 25 3306 db-0."+db,
			"_mysql._tcp."+db+" 5 IN SRV 0 25 3306 db-1."+db,
			"_mysql._tcp."+db+" 5 IN SRV 0 25 3306 10-244-1-7."+db,
			"_mysql._tcp."+db+" 5 IN SRV 0 25 3306 fd00-244--7."+db).
			with("db-0."+db+" 5 IN A 10.244.1.5", "db-0."+db+" 5 IN AAAA fd00:244::5",
				"db-1."+db+" 5 IN A 10.244.1.6", "10-244-1-7."+db+" 5 IN A 10.244.1.7",
				"fd00-244--7."+db+" 5 IN AAAA fd00:244::7"),
		ok("pub.default.svc.cluster.local.", dns.TypeA, "pub.default.svc.cluster.local. 5 IN A 10.244.2.1"),
		ok("10-244-2-1.pub.default.svc.cluster.local.", dns.TypeA, "10-244-2-1.pub.default.svc.cluster.local. 5 IN A 10.244.2.1"),
		nx("empty.default.svc.cluster.local.", dns.TypeA),
		nx("_tcp.empty.default.svc.cluster.local.", dns.TypeSRV),
		// ExternalName.
		ok("ext.default.svc.cluster.local.", dns.TypeA, "ext.default.svc.cluster.local. 5 IN CNAME www.example.com."),
		ok("Ext.default.svc.cluster.local.", dns.TypeCNAME, "Ext.default.svc.cluster.local. 5 IN CNAME www.example.com."),
		ok("_http._tcp.ext.default.svc.cluster.local.", dns.TypeSRV,
			"_http._tcp.ext.default.svc.cluster.local. 5 IN SRV 0 100 80 www.example.com."),
		ok("alias.default.svc.cluster.local.", dns.TypeA,
			"alias.default.svc.cluster.local. 5 IN CNAME "+web, web+" 5 IN A 10.96.0.20"),
		ok("alias.default.svc.cluster.local.", dns.TypeAAAA,
			"alias.default.svc.cluster.local. 5 IN CNAME "+web, web+" 5 IN AAAA fd00:96::20"),
		{name: "alias.default.svc.cluster.local.", qtype: dns.TypeTXT, ns: soaStr,
			ans: []string{"alias.default.svc.cluster.local. 5 IN CNAME " + web}},
		ok("loop.default.svc.cluster.local.", dns.TypeA,
			"loop.default.svc.cluster.local. 5 IN CNAME loop.default.svc.cluster.local."),
		{name: "gone.default.svc.cluster.local.", qtype: dns.TypeA, rcode: dns.RcodeNameError, ns: soaStr,
			ans: []string{"gone.default.svc.cluster.local. 5 IN CNAME nothere.default.svc.cluster.local."}},
		// PTR.
		ok("1.0.96.10.in-addr.arpa.", dns.TypePTR, "1.0.96.10.in-addr.arpa. 5 IN PTR kubernetes.default.svc.cluster.local."),
		ok("20.0.96.10.IN-ADDR.ARPA.", dns.TypePTR, "20.0.96.10.IN-ADDR.ARPA. 5 IN PTR "+web),
		ok(rev("fd00:96::20"), dns.TypePTR, rev("fd00:96::20")+" 5 IN PTR "+web),
		ok("5.1.244.10.in-addr.arpa.", dns.TypePTR, "5.1.244.10.in-addr.arpa. 5 IN PTR db-0."+db),
		ok("7.1.244.10.in-addr.arpa.", dns.TypePTR, "7.1.244.10.in-addr.arpa. 5 IN PTR 10-244-1-7."+db),
		ok(rev("fd00:244::5"), dns.TypePTR, rev("fd00:244::5")+" 5 IN PTR db-0."+db),
		{name: "1.0.96.10.in-addr.arpa.", qtype: dns.TypeA,
			ns: "in-addr.arpa. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 42 7200 1800 86400 5"},
		fall("8.1.244.10.in-addr.arpa.", dns.TypePTR),
		fall("10.in-addr.arpa.", dns.TypePTR),
		fall(rev("2001:db8::1"), dns.TypePTR),
		// Pod records.
		ok("10-244-1-5.default.pod.cluster.local.", dns.TypeA, "10-244-1-5.default.pod.cluster.local. 5 IN A 10.244.1.5"),
		ok("1-2-3-4.Any.POD.cluster.local.", dns.TypeA, "1-2-3-4.Any.POD.cluster.local. 5 IN A 1.2.3.4"),
		nodata("10-244-1-5.default.pod.cluster.local.", dns.TypeAAAA),
		ok("fd00--1.default.pod.cluster.local.", dns.TypeAAAA, "fd00--1.default.pod.cluster.local. 5 IN AAAA fd00::1"),
		ok("1--2-3.default.pod.cluster.local.", dns.TypeAAAA, "1--2-3.default.pod.cluster.local. 5 IN AAAA 1::2:3"),
		nx("10-244-1-300.default.pod.cluster.local.", dns.TypeA),
		nx("10-244-1.default.pod.cluster.local.", dns.TypeA),
		nx("010-1-2-3.default.pod.cluster.local.", dns.TypeA),
		nx("web.default.pod.cluster.local.", dns.TypeA),
		nx("a.10-244-1-5.default.pod.cluster.local.", dns.TypeA),
		nodata("pod.cluster.local.", dns.TypeA),
		nodata("default.pod.cluster.local.", dns.TypeA),
		// Zone transfers, other zones.
		{name: "cluster.local.", qtype: dns.TypeAXFR, rcode: dns.RcodeRefused},
		{name: "cluster.local.", qtype: dns.TypeIXFR, rcode: dns.RcodeRefused},
		{name: web, qtype: dns.TypeAXFR, rcode: dns.RcodeRefused},
		fall("example.com.", dns.TypeA),
		fall("local.", dns.TypeSOA),
		fall("xcluster.local.", dns.TypeA),
	}
	for _, c := range cases {
		t.Run(dns.TypeToString[c.qtype]+" "+c.name, func(t *testing.T) {
			r := z.Lookup(c.name, c.qtype)
			if r.Fallthrough != c.fall {
				t.Fatalf("Fallthrough = %v, want %v", r.Fallthrough, c.fall)
			}
			if c.fall {
				return
			}
			if r.Rcode != c.rcode {
				t.Errorf("rcode = %s, want %s", rcodeName(r.Rcode), rcodeName(c.rcode))
			}
			if got, want := rrStrings(r.Answer), sorted(c.ans); !slices.Equal(got, want) {
				t.Errorf("answer:\n got %q\nwant %q", got, want)
			}
			if got, want := rrStrings(r.Extra), sorted(c.extra); !slices.Equal(got, want) {
				t.Errorf("extra:\n got %q\nwant %q", got, want)
			}
			var wantNs []string
			if c.ns != "" {
				wantNs = []string{c.ns}
			}
			if got := rrStrings(r.Ns); !slices.Equal(got, wantNs) {
				t.Errorf("ns:\n got %q\nwant %q", got, wantNs)
			}
			if r.Rcode != dns.RcodeRefused && !r.Authoritative {
				t.Error("answer not authoritative")
			}
			m := new(dns.Msg)
			m.SetQuestion(dns.Fqdn(c.name), c.qtype)
			m.Answer, m.Ns, m.Extra = r.Answer, r.Ns, r.Extra
			if _, err := m.Pack(); err != nil {
				t.Errorf("pack: %v", err)
			}
		})
	}
}

func FuzzLookup(f *testing.F) {
	z := Build(fixture(), ZoneConfig{})
	for _, s := range []string{"", ".", "..", "cluster.local.", ".pod.cluster.local.", "a..pod.cluster.local.",
		"-.default.pod.cluster.local.", "1-2-3-4..pod.cluster.local.", "ext.default.svc.cluster.local.",
		"\\000.svc.cluster.local.", "in-addr.arpa.", "x.ip6.arpa.", "_tcp.db.default.svc.cluster.local."} {
		f.Add(s, uint16(dns.TypeA))
	}
	f.Fuzz(func(t *testing.T, name string, qtype uint16) {
		r := z.Lookup(name, qtype)
		if r.Fallthrough && (len(r.Answer) > 0 || len(r.Ns) > 0) {
			t.Errorf("fallthrough with records: %+v", r)
		}
	})
}
