package model

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

func TestBuildIgnores(t *testing.T) {
	services := []*corev1.Service{
		svc("headless", corev1.ClusterIPNone),
		svc("noip", ""),
		svc("extname", "", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeExternalName
			s.Spec.ExternalName = "example.com"
		}),
	}
	st := Build(services, []*discoveryv1.EndpointSlice{slice("headless-1", "headless", 8080, ep("10.244.0.5"))}, testNode)
	if len(st.Services) != 0 {
		t.Fatalf("got service ports %v, want none", st.Services)
	}
}

func TestBuildFrontends(t *testing.T) {
	tests := []struct {
		name string
		svc  *corev1.Service
		want ServicePort
	}{{
		name: "cluster IP, dual stack",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.ClusterIPs = []string{"10.96.0.20", "fd00::20"}
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20", "fd00::20"), Port: 80},
	}, {
		name: "node port ignored on a ClusterIP service",
		svc:  svc("a", "10.96.0.20", func(s *corev1.Service) { s.Spec.Ports[0].NodePort = 30080 }),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80},
	}, {
		name: "node port",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeNodePort
			s.Spec.Ports[0].NodePort = 30080
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80, NodePort: 30080},
	}, {
		name: "external IPs, invalid and duplicate dropped",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"203.0.113.7", "bogus", "203.0.113.7", "203.0.113.8"}
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80, ExternalIPs: addrs("203.0.113.7", "203.0.113.8")},
	}, {
		name: "load balancer ingress IPs, Proxy mode skipped, hostname-only skipped",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.Ports[0].NodePort = 30080
			s.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{
				{IP: "198.51.100.1"},
				{IP: "198.51.100.2", IPMode: ptr(corev1.LoadBalancerIPModeProxy)},
				{Hostname: "lb.example.com"},
				{IP: "198.51.100.3", IPMode: ptr(corev1.LoadBalancerIPModeVIP)},
			}
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80, NodePort: 30080, LoadBalancerIPs: addrs("198.51.100.1", "198.51.100.3")},
	}, {
		name: "affinity default timeout",
		svc:  svc("a", "10.96.0.20", func(s *corev1.Service) { s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP }),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80, Affinity: &Affinity{Timeout: 3 * time.Hour}},
	}, {
		name: "affinity timeout",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.SessionAffinity = corev1.ServiceAffinityClientIP
			s.Spec.SessionAffinityConfig = &corev1.SessionAffinityConfig{ClientIP: &corev1.ClientIPConfig{TimeoutSeconds: ptr(int32(60))}}
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80, Affinity: &Affinity{Timeout: time.Minute}},
	}, {
		name: "eTP=Local on a LoadBalancer with health check port",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.Type = corev1.ServiceTypeLoadBalancer
			s.Spec.Ports[0].NodePort = 30080
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
			s.Spec.HealthCheckNodePort = 32000
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80, NodePort: 30080, ExternalPolicyLocal: true, HealthCheckNodePort: 32000},
	}, {
		name: "eTP=Local ignored without external frontends",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80},
	}, {
		name: "eTP=Local applies to external IPs",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.ExternalIPs = []string{"203.0.113.7"}
			s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80, ExternalIPs: addrs("203.0.113.7"), ExternalPolicyLocal: true},
	}, {
		name: "iTP=Local",
		svc: svc("a", "10.96.0.20", func(s *corev1.Service) {
			s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal)
		}),
		want: ServicePort{ClusterIPs: addrs("10.96.0.20"), Port: 80, InternalPolicyLocal: true},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := Build([]*corev1.Service{tt.svc}, nil, testNode)
			if len(st.Services) != 1 {
				t.Fatalf("got %d service ports, want 1", len(st.Services))
			}
			got := st.Services[0]
			tt.want.Name = ServicePortName{NamespacedName: got.Name.NamespacedName, Port: "http", Protocol: TCP}
			if d := cmp.Diff(tt.want, got, addrCmp); d != "" {
				t.Errorf("service port (-want +got):\n%s", d)
			}
		})
	}
}

func TestBuildMultiPortAndOrder(t *testing.T) {
	b := svc("b", "10.96.0.2", func(s *corev1.Service) {
		s.Spec.Ports = []corev1.ServicePort{
			{Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
			{Name: "dns-tcp", Port: 53, Protocol: corev1.ProtocolTCP},
			{Name: "assoc", Port: 9000, Protocol: corev1.ProtocolSCTP},
			{Name: "noproto", Port: 8080},
		}
	})
	a := svc("a", "10.96.0.1")
	st := Build([]*corev1.Service{b, a}, nil, testNode)
	var got []string
	for _, sp := range st.Services {
		got = append(got, sp.Name.String())
	}
	want := []string{"ns/a:http/TCP", "ns/b:assoc/SCTP", "ns/b:dns/UDP", "ns/b:dns-tcp/TCP", "ns/b:noproto/TCP"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("service ports (-want +got):\n%s", d)
	}
	dns := ServicePortName{NamespacedName: types.NamespacedName{Namespace: "ns", Name: "b"}, Port: "dns", Protocol: UDP}
	if sp := st.Lookup(dns); sp == nil || sp.Port != 53 {
		t.Errorf("Lookup(%v) = %v, want port 53", dns, sp)
	}
	dns.Protocol = TCP
	if sp := st.Lookup(dns); sp != nil {
		t.Errorf("Lookup(%v) = %v, want nil", dns, sp.Name)
	}
}
