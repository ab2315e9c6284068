package flowtest

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"rudder/proxy/model"
)

// Builders for the cases' packets and verdicts.

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

// pod is a packet from a pod on this node.
func pod(src netip.Addr, dst string, proto model.Protocol) Packet {
	return Packet{Src: src, Dst: netip.MustParseAddrPort(dst), Protocol: proto, FromLocalPod: true}
}

// in is a packet arriving from outside the node.
func in(src netip.Addr, dst string, proto model.Protocol) Packet {
	return Packet{Src: src, Dst: netip.MustParseAddrPort(dst), Protocol: proto}
}

// host is a packet from the node's own processes.
func host(src netip.Addr, dst string, proto model.Protocol) Packet {
	return Packet{Src: src, Dst: netip.MustParseAddrPort(dst), Protocol: proto, FromNode: true}
}

func to(masq bool, eps ...string) Verdict {
	v := Verdict{Masquerade: masq}
	for _, e := range eps {
		v.Endpoints = append(v.Endpoints, netip.MustParseAddrPort(e))
	}
	return v
}

func reject() Verdict { return Verdict{Reject: true} }
func drop() Verdict   { return Verdict{Drop: true} }
func accept() Verdict { return Verdict{} }

// Builders for the cases' Services and EndpointSlices (namespace "flow").

type svcOpt func(*corev1.Service)

func service(name, clusterIP string, opts ...svcOpt) *corev1.Service {
	s := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: "flow", Name: name},
		Spec: corev1.ServiceSpec{
			Type:      corev1.ServiceTypeClusterIP,
			ClusterIP: clusterIP, ClusterIPs: []string{clusterIP},
			Ports: []corev1.ServicePort{port("http", corev1.ProtocolTCP, 80)},
		},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

func port(name string, proto corev1.Protocol, n int32) corev1.ServicePort {
	return corev1.ServicePort{Name: name, Protocol: proto, Port: n, TargetPort: intstr.FromString(name)}
}

func ports(ps ...corev1.ServicePort) svcOpt {
	return func(s *corev1.Service) { s.Spec.Ports = ps }
}

func nodePort(n int32) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeNodePort
		s.Spec.Ports[0].NodePort = n
	}
}

func loadBalancer(n int32, ip string) svcOpt {
	return func(s *corev1.Service) {
		s.Spec.Type = corev1.ServiceTypeLoadBalancer
		s.Spec.Ports[0].NodePort = n
		s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: ip}}
	}
}

func externalIPs(ips ...string) svcOpt {
	return func(s *corev1.Service) { s.Spec.ExternalIPs = ips }
}

func externalLocal(s *corev1.Service) {
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
	if s.Spec.Type == corev1.ServiceTypeLoadBalancer {
		s.Spec.HealthCheckNodePort = 32000 + s.Spec.Ports[0].NodePort%1000
	}
}

func internalLocal(s *corev1.Service) {
	p := corev1.ServiceInternalTrafficPolicyLocal
	s.Spec.InternalTrafficPolicy = &p
}

// slice is the IPv4 slice of service svc with one port "http"/TCP 8080.
func slice(svc string, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
	return &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: "flow", Name: svc + "-1",
			Labels: map[string]string{discoveryv1.LabelServiceName: svc},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   eps,
		Ports:       []discoveryv1.EndpointPort{slicePort("http", corev1.ProtocolTCP, 8080)},
	}
}

func withPorts(s *discoveryv1.EndpointSlice, ps ...discoveryv1.EndpointPort) *discoveryv1.EndpointSlice {
	s.Ports = ps
	return s
}

func slicePort(name string, proto corev1.Protocol, n int32) discoveryv1.EndpointPort {
	return discoveryv1.EndpointPort{Name: &name, Protocol: &proto, Port: &n}
}

func ready(ip, node string) discoveryv1.Endpoint {
	t := true
	return discoveryv1.Endpoint{Addresses: []string{ip}, NodeName: &node, Conditions: discoveryv1.EndpointConditions{Ready: &t}}
}

func servingTerminating(ip, node string) discoveryv1.Endpoint {
	f, t := false, true
	return discoveryv1.Endpoint{
		Addresses: []string{ip}, NodeName: &node,
		Conditions: discoveryv1.EndpointConditions{Ready: &f, Serving: &t, Terminating: &t},
	}
}
