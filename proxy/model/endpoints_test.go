package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

func TestBuildEndpoints(t *testing.T) {
	local := on("me")
	tests := []struct {
		name    string
		mod     func(*corev1.Service)
		slices  []*discoveryv1.EndpointSlice
		all     []string
		cluster []string
		local   []string // nil unless eTP=Local
	}{{
		name:    "ready only, sorted, across slices",
		slices:  []*discoveryv1.EndpointSlice{slice("a-2", "a", 8080, ep("10.244.2.5")), slice("a-1", "a", 8080, ep("10.244.1.5"), ep("10.244.0.5", notReady))},
		all:     []string{"10.244.0.5:8080", "10.244.1.5:8080", "10.244.2.5:8080"},
		cluster: []string{"10.244.1.5:8080", "10.244.2.5:8080"},
	}, {
		name:    "serving-terminating used when nothing is ready",
		slices:  []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080, ep("10.244.1.5", terminating(true)), ep("10.244.1.6", terminating(false)), ep("10.244.1.7", notReady))},
		all:     []string{"10.244.1.5:8080", "10.244.1.6:8080", "10.244.1.7:8080"},
		cluster: []string{"10.244.1.5:8080"},
	}, {
		name:    "serving-terminating ignored while one is ready",
		slices:  []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080, ep("10.244.1.5", terminating(true)), ep("10.244.1.6"))},
		all:     []string{"10.244.1.5:8080", "10.244.1.6:8080"},
		cluster: []string{"10.244.1.6:8080"},
	}, {
		name:    "no endpoints",
		slices:  []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080)},
		all:     []string{},
		cluster: []string{},
	}, {
		name: "duplicates across slices, the ready copy wins",
		slices: []*discoveryv1.EndpointSlice{
			slice("a-1", "a", 8080, ep("10.244.1.5", notReady)),
			slice("a-2", "a", 8080, ep("10.244.1.5")),
		},
		all:     []string{"10.244.1.5:8080"},
		cluster: []string{"10.244.1.5:8080"},
	}, {
		name: "named target port resolved per slice",
		slices: []*discoveryv1.EndpointSlice{
			slice("a-1", "a", 8080, ep("10.244.1.5")),
			slice("a-2", "a", 9090, ep("10.244.2.5")),
		},
		all:     []string{"10.244.1.5:8080", "10.244.2.5:9090"},
		cluster: []string{"10.244.1.5:8080", "10.244.2.5:9090"},
	}, {
		name: "slice port of another name or protocol, other services, FQDN slices, unlabelled slices ignored",
		slices: []*discoveryv1.EndpointSlice{
			withPort(slice("a-1", "a", 8080, ep("10.244.1.5")), "metrics", corev1.ProtocolTCP),
			withPort(slice("a-2", "a", 8080, ep("10.244.1.6")), "http", corev1.ProtocolUDP),
			slice("b-1", "b", 8080, ep("10.244.1.7")),
			fqdn(slice("a-3", "a", 8080, ep("10.244.1.8"))),
			unlabelled(slice("a-4", "a", 8080, ep("10.244.1.9"))),
			slice("a-5", "a", 8080, ep("10.244.1.10")),
		},
		all:     []string{"10.244.1.10:8080"},
		cluster: []string{"10.244.1.10:8080"},
	}, {
		name:    "iTP=Local keeps local endpoints only",
		mod:     func(s *corev1.Service) { s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal) },
		slices:  []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080, ep("10.244.0.5", local), ep("10.244.1.5"))},
		all:     []string{"10.244.0.5:8080", "10.244.1.5:8080"},
		cluster: []string{"10.244.0.5:8080"},
	}, {
		name:    "iTP=Local without local endpoints has none",
		mod:     func(s *corev1.Service) { s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal) },
		slices:  []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080, ep("10.244.1.5"))},
		all:     []string{"10.244.1.5:8080"},
		cluster: []string{},
	}, {
		name: "iTP=Local falls back to local serving-terminating even with remote ready ones",
		mod:  func(s *corev1.Service) { s.Spec.InternalTrafficPolicy = ptr(corev1.ServiceInternalTrafficPolicyLocal) },
		slices: []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080,
			ep("10.244.0.5", local, terminating(true)), ep("10.244.1.5"))},
		all:     []string{"10.244.0.5:8080", "10.244.1.5:8080"},
		cluster: []string{"10.244.0.5:8080"},
	}, {
		name: "eTP=Local: local endpoints, cluster endpoints unaffected",
		mod:  nodePortLocal,
		slices: []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080,
			ep("10.244.0.5", local), ep("10.244.0.6", local, notReady), ep("10.244.1.5"))},
		all:     []string{"10.244.0.5:8080", "10.244.0.6:8080", "10.244.1.5:8080"},
		cluster: []string{"10.244.0.5:8080", "10.244.1.5:8080"},
		local:   []string{"10.244.0.5:8080"},
	}, {
		name: "eTP=Local: local serving-terminating when no local ready one",
		mod:  nodePortLocal,
		slices: []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080,
			ep("10.244.0.5", local, terminating(true)), ep("10.244.1.5"))},
		all:     []string{"10.244.0.5:8080", "10.244.1.5:8080"},
		cluster: []string{"10.244.1.5:8080"},
		local:   []string{"10.244.0.5:8080"},
	}, {
		name:    "eTP=Local: no local endpoint",
		mod:     nodePortLocal,
		slices:  []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080, ep("10.244.1.5"))},
		all:     []string{"10.244.1.5:8080"},
		cluster: []string{"10.244.1.5:8080"},
		local:   []string{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := svc("a", "10.96.0.20")
			if tt.mod != nil {
				tt.mod(s)
			}
			st := Build([]*corev1.Service{s}, tt.slices, testNode)
			sp := st.Services[0]
			if d := cmp.Diff(tt.all, epAddrs(sp.Endpoints)); d != "" {
				t.Errorf("Endpoints (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.cluster, epAddrs(sp.ClusterEndpoints)); d != "" {
				t.Errorf("ClusterEndpoints (-want +got):\n%s", d)
			}
			if tt.local == nil && sp.LocalEndpoints != nil {
				t.Errorf("LocalEndpoints = %v, want nil", sp.LocalEndpoints)
			}
			if tt.local != nil {
				if d := cmp.Diff(tt.local, epAddrs(sp.LocalEndpoints)); d != "" {
					t.Errorf("LocalEndpoints (-want +got):\n%s", d)
				}
			}
			if got, want := sp.HasEndpoints(), len(tt.cluster) > 0; got != want {
				t.Errorf("HasEndpoints() = %v, want %v", got, want)
			}
		})
	}
}

func TestEndpointFields(t *testing.T) {
	e := ep("10.244.0.5", on("me"), terminating(true))
	e.Zone = ptr("z1")
	unset := discoveryv1.Endpoint{Addresses: []string{"10.244.1.5"}}
	st := Build([]*corev1.Service{svc("a", "10.96.0.20")}, []*discoveryv1.EndpointSlice{slice("a-1", "a", 8080, e, unset)}, testNode)
	got := st.Services[0].Endpoints
	want := []Endpoint{
		{Addr: mustAddrPort("10.244.0.5:8080"), NodeName: "me", Zone: "z1", Serving: true, Terminating: true, Local: true},
		{Addr: mustAddrPort("10.244.1.5:8080"), Ready: true, Serving: true},
	}
	if d := cmp.Diff(want, got, addrCmp); d != "" {
		t.Errorf("Endpoints (-want +got):\n%s", d)
	}
}

func TestLocalReadyEndpoints(t *testing.T) {
	s := svc("a", "10.96.0.20", nodePortLocal)
	sl := slice("a-1", "a", 8080,
		ep("10.244.0.5", on("me")), ep("10.244.0.6", on("me")),
		ep("10.244.0.7", on("me"), terminating(true)), ep("10.244.1.5"))
	sp := Build([]*corev1.Service{s}, []*discoveryv1.EndpointSlice{sl}, testNode).Services[0]
	if got := sp.LocalReadyEndpoints(); got != 2 {
		t.Errorf("LocalReadyEndpoints() = %d, want 2", got)
	}
}

func nodePortLocal(s *corev1.Service) {
	s.Spec.Type = corev1.ServiceTypeNodePort
	s.Spec.Ports[0].NodePort = 30080
	s.Spec.ExternalTrafficPolicy = corev1.ServiceExternalTrafficPolicyLocal
}

func withPort(s *discoveryv1.EndpointSlice, name string, proto corev1.Protocol) *discoveryv1.EndpointSlice {
	s.Ports[0].Name, s.Ports[0].Protocol = ptr(name), ptr(proto)
	return s
}

func fqdn(s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	s.AddressType = discoveryv1.AddressTypeFQDN
	return s
}

func unlabelled(s *discoveryv1.EndpointSlice) *discoveryv1.EndpointSlice {
	s.Labels = nil
	return s
}
