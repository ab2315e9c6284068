package model

import (
	"net/netip"

	"github.com/google/go-cmp/cmp"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Test fixtures: small builders for Services and EndpointSlices.

func svc(name, clusterIP string, mods ...func(*corev1.Service)) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: clusterIP,
			Ports:     []corev1.ServicePort{{Name: "http", Port: 80, Protocol: corev1.ProtocolTCP, TargetPort: intstr.FromString("web")}},
		},
	}
	if clusterIP != "" {
		s.Spec.ClusterIPs = []string{clusterIP}
	}
	for _, m := range mods {
		m(s)
	}
	return s
}

type epOpt func(*discoveryv1.Endpoint)

func notReady(e *discoveryv1.Endpoint) { e.Conditions.Ready = ptr(false) }

func terminating(serving bool) epOpt {
	return func(e *discoveryv1.Endpoint) {
		e.Conditions.Ready = ptr(false)
		e.Conditions.Serving = ptr(serving)
		e.Conditions.Terminating = ptr(true)
	}
}

func on(node string) epOpt { return func(e *discoveryv1.Endpoint) { e.NodeName = ptr(node) } }

func ep(addr string, opts ...epOpt) discoveryv1.Endpoint {
	e := discoveryv1.Endpoint{Addresses: []string{addr}, NodeName: ptr("other")}
	for _, o := range opts {
		o(&e)
	}
	return e
}

// slice is an IPv4 slice of service svcName with one port "http"/TCP.
func slice(name, svcName string, port int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "ns", Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: svcName},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr("http"), Port: ptr(port), Protocol: ptr(corev1.ProtocolTCP)}},
	}
}

func ptr[T any](v T) *T { return &v }

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// epAddrs is the "ip:port" strings of eps, for compact comparisons.
func epAddrs(eps []Endpoint) []string {
	out := []string{}
	for _, e := range eps {
		out = append(out, e.Addr.String())
	}
	return out
}

var testNode = Node{Name: "me", NodePortAddresses: addrs("192.168.1.10")}

// addrCmp lets cmp compare netip values.
var addrCmp = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
}
