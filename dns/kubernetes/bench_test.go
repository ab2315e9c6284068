package kubernetes

import (
	"context"
	"fmt"
	"testing"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"rudder/dns/dnstest"
	"rudder/proxy/serviceview"
)

// bigSnapshot is n services in n/100 namespaces: one in ten headless with
// three ready endpoints, the others ClusterIP with two named ports.
func bigSnapshot(n int) serviceview.Snapshot {
	var s serviceview.Snapshot
	tcp := corev1.ProtocolTCP
	for i := range n {
		ns := fmt.Sprintf("ns-%d", i/100)
		name := fmt.Sprintf("svc-%d", i)
		if i%10 == 0 {
			s.Services = append(s.Services, headlessSvc(ns, name, false, port("http", tcp, 80)))
			var eps []discoveryv1.Endpoint
			for j := range 3 {
				eps = append(eps, ep(fmt.Sprintf("10.%d.%d.%d", 100+i>>16, i>>8&0xff, 10+j), hostname(fmt.Sprintf("%s-%d", name, j))))
			}
			s.EndpointSlices = append(s.EndpointSlices, epSlice(ns, name, name+"-x", discoveryv1.AddressTypeIPv4,
				[]discoveryv1.EndpointPort{slicePort("http", tcp, 8080)}, eps...))
			continue
		}
		ip := fmt.Sprintf("10.%d.%d.%d", 96+i>>16, i>>8&0xff, i&0xff)
		s.Services = append(s.Services, clusterIPSvc(ns, name, []string{ip}, port("http", tcp, 80), port("metrics", tcp, 9090)))
	}
	return s
}

func BenchmarkBuild10k(b *testing.B) {
	s := bigSnapshot(10000)
	b.ReportAllocs()
	var z *Zone
	for b.Loop() {
		z = Build(s, ZoneConfig{})
	}
	b.ReportMetric(float64(z.Records()), "records")
}

func BenchmarkLookup(b *testing.B) {
	z := Build(bigSnapshot(10000), ZoneConfig{})
	for _, c := range []struct {
		name  string
		qtype uint16
	}{
		{"svc-5.ns-0.svc.cluster.local.", dns.TypeA},
		{"svc-5.ns-0.svc.cluster.local.", dns.TypeAAAA},
		{"svc-5.ns-0.ns-0.svc.cluster.local.", dns.TypeA},
		{"_http._tcp.svc-10.ns-0.svc.cluster.local.", dns.TypeSRV},
	} {
		b.Run(dns.TypeToString[c.qtype]+" "+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				z.Lookup(c.name, c.qtype)
			}
		})
	}
}

func BenchmarkServe(b *testing.B) {
	h, err := New(Config{})
	if err != nil {
		b.Fatal(err)
	}
	h.SetZone(Build(bigSnapshot(10000), ZoneConfig{}))
	for _, c := range []struct {
		name  string
		qtype uint16
	}{
		{"svc-5.ns-0.svc.cluster.local.", dns.TypeA},
		{"svc-5.ns-0.ns-0.svc.cluster.local.", dns.TypeA},
	} {
		b.Run(dns.TypeToString[c.qtype]+" "+c.name, func(b *testing.B) {
			r := new(dns.Msg)
			r.SetQuestion(c.name, c.qtype)
			w := &dnstest.Discard{}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := h.ServeDNS(ctx, w, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
