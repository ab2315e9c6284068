package kubernetes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"rudder/proxy/serviceview"
)

func port(name string, proto corev1.Protocol, p int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: proto, Port: p}
}

func clusterIPSvc(ns, name string, ips []string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: ips[0], ClusterIPs: ips, Ports: ports},
	}
}

func headlessSvc(ns, name string, publishNotReady bool, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, ClusterIP: corev1.ClusterIPNone,
			ClusterIPs: []string{corev1.ClusterIPNone}, PublishNotReadyAddresses: publishNotReady, Ports: ports},
	}
}

func externalSvc(ns, name, target string, ports ...corev1.ServicePort) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: target, Ports: ports},
	}
}

type epOpt func(*discoveryv1.Endpoint)

func hostname(h string) epOpt { return func(e *discoveryv1.Endpoint) { e.Hostname = &h } }
func readyIs(b bool) epOpt    { return func(e *discoveryv1.Endpoint) { e.Conditions.Ready = &b } }
func terminating() epOpt {
	return func(e *discoveryv1.Endpoint) {
		t, f := true, false
		e.Conditions.Terminating, e.Conditions.Ready = &t, &f
	}
}

func ep(addr string, opts ...epOpt) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{addr}}
	for _, o := range opts {
		o(&e)
	}
	return e
}

func slicePort(name string, proto corev1.Protocol, p int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &p}
}

func epSlice(ns, svc, name string, at discoveryv1.AddressType, ports []discoveryv1.EndpointPort, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc}},
		AddressType: at, Ports: ports, Endpoints: eps,
	}
}

// fixture is a small cluster with every kind of record.
func fixture() serviceview.Snapshot {
	tcp, udp := corev1.ProtocolTCP, corev1.ProtocolUDP
	mysql := []discoveryv1.EndpointPort{slicePort("mysql", tcp, 3306)}
	return serviceview.Snapshot{
		Services: []*corev1.Service{
			clusterIPSvc("default", "kubernetes", []string{"10.96.0.1"}, port("https", tcp, 443)),
			clusterIPSvc("default", "web", []string{"10.96.0.20", "fd00:96::20"},
				port("http", tcp, 80), port("dns", udp, 53), port("", tcp, 8080)),
			headlessSvc("default", "db", false, port("mysql", tcp, 3306)),
			headlessSvc("default", "pub", true),
			headlessSvc("default", "empty", false),
			externalSvc("default", "ext", "www.Example.com", port("http", "", 80)),
			externalSvc("default", "alias", "web.default.svc.cluster.local"),
			externalSvc("default", "loop", "loop.default.svc.cluster.local."),
			externalSvc("default", "gone", "nothere.default.svc.cluster.local."),
			clusterIPSvc("kube-system", "kube-dns", []string{"10.96.0.10"}, port("dns", udp, 53)),
			headlessSvc("lonely", "nobody", false),
		},
		EndpointSlices: []*discoveryv1.EndpointSlice{
			epSlice("default", "db", "db-a", discoveryv1.AddressTypeIPv4, mysql,
				ep("10.244.1.5", hostname("db-0"), readyIs(true)),
				ep("10.244.1.6", hostname("DB-1")),
				ep("10.244.1.7"),
				ep("10.244.1.8", readyIs(false)),
				ep("10.244.1.9", hostname("db-9"), terminating())),
			epSlice("default", "db", "db-b", discoveryv1.AddressTypeIPv4, mysql,
				ep("10.244.1.7")),
			epSlice("default", "db", "db-c", discoveryv1.AddressTypeIPv6, mysql,
				ep("fd00:244::5", hostname("db-0")),
				ep("fd00:244::7")),
			epSlice("default", "pub", "pub-a", discoveryv1.AddressTypeIPv4, nil,
				ep("10.244.2.1", readyIs(false))),
			epSlice("default", "empty", "empty-a", discoveryv1.AddressTypeIPv4, nil,
				ep("10.244.3.1", readyIs(false))),
		},
	}
}

// rrStrings renders records one per string with single spaces, sorted.
func rrStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, strings.Join(strings.Fields(rr.String()), " "))
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func rcodeName(rc int) string {
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprint(rc)
}
