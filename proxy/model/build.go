package model

import (
	"cmp"
	"net/netip"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
)

// DefaultAffinityTimeout is ClientIP affinity's timeout when the service
// does not set one (the API's default, 3 hours).
const DefaultAffinityTimeout = 10800 * time.Second

// Build is the pure desired state for node from a snapshot of Services and
// EndpointSlices. node.Name is this node (it decides which endpoints are
// local); node is copied into State.Node as is. Headless, ExternalName
// and IP-less services are ignored; slices are matched to their service
// by the kubernetes.io/service-name label. Inputs are not modified.
func Build(services []*corev1.Service, slices []*discoveryv1.EndpointSlice, node Node) *State {
	bySvc := slicesByService(slices)
	st := &State{Node: node}
	for _, svc := range services {
		if !proxied(svc) {
			continue
		}
		key := types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name}
		for i := range svc.Spec.Ports {
			sp := servicePort(svc, &svc.Spec.Ports[i])
			sp.Endpoints = collectEndpoints(bySvc[key], sp.Name, node.Name)
			categorize(&sp)
			st.Services = append(st.Services, sp)
		}
	}
	slicesSortFunc(st.Services)
	return st
}

func slicesSortFunc(sps []ServicePort) {
	slices.SortFunc(sps, func(a, b ServicePort) int { return ComparePortNames(a.Name, b.Name) })
}

// ComparePortNames orders service port names by namespace, name, port
// name and protocol.
func ComparePortNames(a, b ServicePortName) int {
	return cmp.Or(
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
		cmp.Compare(a.Port, b.Port),
		cmp.Compare(a.Protocol, b.Protocol),
	)
}

// proxied tells whether svc gets service ports at all.
func proxied(svc *corev1.Service) bool {
	switch svc.Spec.Type {
	case "", corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer:
	default:
		return false
	}
	ip := svc.Spec.ClusterIP
	return ip != "" && ip != corev1.ClusterIPNone
}

// servicePort is the frontends and policies of one port of svc, without
// endpoints.
func servicePort(svc *corev1.Service, p *corev1.ServicePort) ServicePort {
	spec := &svc.Spec
	sp := ServicePort{
		Name: ServicePortName{
			NamespacedName: types.NamespacedName{Namespace: svc.Namespace, Name: svc.Name},
			Port:           p.Name,
			Protocol:       protocol(p.Protocol),
		},
		ClusterIPs:          clusterIPs(spec),
		Port:                uint16(p.Port),
		ExternalIPs:         parseAddrs(spec.ExternalIPs),
		LoadBalancerIPs:     loadBalancerIPs(svc),
		Affinity:            affinity(spec),
		ExternalPolicyLocal: externallyAccessible(svc) && spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal,
		InternalPolicyLocal: spec.InternalTrafficPolicy != nil && *spec.InternalTrafficPolicy == corev1.ServiceInternalTrafficPolicyLocal,
	}
	if spec.Type == corev1.ServiceTypeNodePort || spec.Type == corev1.ServiceTypeLoadBalancer {
		sp.NodePort = uint16(p.NodePort)
	}
	if sp.ExternalPolicyLocal && spec.Type == corev1.ServiceTypeLoadBalancer {
		sp.HealthCheckNodePort = uint16(spec.HealthCheckNodePort)
	}
	return sp
}

func protocol(p corev1.Protocol) Protocol {
	if p == "" {
		return TCP
	}
	return Protocol(p)
}

// externallyAccessible is kube-proxy's rule for when externalTrafficPolicy
// applies: NodePort and LoadBalancer services, and any service with
// externalIPs.
func externallyAccessible(svc *corev1.Service) bool {
	t := svc.Spec.Type
	return t == corev1.ServiceTypeNodePort || t == corev1.ServiceTypeLoadBalancer || len(svc.Spec.ExternalIPs) > 0
}

func clusterIPs(spec *corev1.ServiceSpec) []netip.Addr {
	if len(spec.ClusterIPs) > 0 {
		return parseAddrs(spec.ClusterIPs)
	}
	return parseAddrs([]string{spec.ClusterIP})
}

// loadBalancerIPs are the status ingress IPs of a LoadBalancer service,
// except those in Proxy mode (the load balancer, not the node, receives
// that traffic).
func loadBalancerIPs(svc *corev1.Service) []netip.Addr {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return nil
	}
	var ips []string
	for _, ing := range svc.Status.LoadBalancer.Ingress {
		if ing.IPMode != nil && *ing.IPMode == corev1.LoadBalancerIPModeProxy {
			continue
		}
		ips = append(ips, ing.IP)
	}
	return parseAddrs(ips)
}

func affinity(spec *corev1.ServiceSpec) *Affinity {
	if spec.SessionAffinity != corev1.ServiceAffinityClientIP {
		return nil
	}
	a := &Affinity{Timeout: DefaultAffinityTimeout}
	if c := spec.SessionAffinityConfig; c != nil && c.ClientIP != nil && c.ClientIP.TimeoutSeconds != nil {
		a.Timeout = time.Duration(*c.ClientIP.TimeoutSeconds) * time.Second
	}
	return a
}

// parseAddrs parses, unmaps, drops empty and invalid strings and
// duplicates, keeping the order.
func parseAddrs(ss []string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		a, err := netip.ParseAddr(s)
		if err != nil {
			continue
		}
		a = a.Unmap()
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
