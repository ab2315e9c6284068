package endpointslice

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discovery "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// includePod says whether a pod contributes an endpoint at all: it needs an IP
// and must not have finished for good (as upstream's ShouldPodBeInEndpoints).
// includeTerminating=false also drops pods being deleted.
func includePod(pod *corev1.Pod, includeTerminating bool) bool {
	if pod.Status.PodIP == "" {
		return false
	}
	if !includeTerminating && pod.DeletionTimestamp != nil {
		return false
	}
	switch pod.Spec.RestartPolicy {
	case corev1.RestartPolicyNever:
		return pod.Status.Phase != corev1.PodFailed && pod.Status.Phase != corev1.PodSucceeded
	case corev1.RestartPolicyOnFailure:
		return pod.Status.Phase != corev1.PodSucceeded
	}
	return true
}

// podReady reports the pod's Ready condition.
func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// podIPv4 returns the pod's first IPv4 address, or "".
func podIPv4(pod *corev1.Pod) string {
	if isIPv4(pod.Status.PodIP) {
		return pod.Status.PodIP
	}
	for _, ip := range pod.Status.PodIPs {
		if isIPv4(ip.IP) {
			return ip.IP
		}
	}
	return ""
}

func isIPv4(s string) bool {
	return s != "" && !strings.Contains(s, ":")
}

// hostnameFor returns the DNS hostname a pod gets in the service's endpoints:
// spec.hostname when the pod's subdomain names the service (upstream's
// ShouldSetHostname).
func hostnameFor(pod *corev1.Pod, svc *corev1.Service) string {
	if pod.Spec.Hostname != "" && pod.Spec.Subdomain == svc.Name && pod.Namespace == svc.Namespace {
		return pod.Spec.Hostname
	}
	return ""
}

// findPort resolves a service port's targetPort against the pod: a number is
// taken as is, a name is looked up among the pod's container ports (and those of
// restartable init containers) with the same protocol.
func findPort(pod *corev1.Pod, sp *corev1.ServicePort) (int32, error) {
	switch sp.TargetPort.Type {
	case intstr.String:
		name := sp.TargetPort.StrVal
		if name == "" {
			return sp.Port, nil
		}
		proto := sp.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		match := func(cs []corev1.Container) (int32, bool) {
			for _, c := range cs {
				for _, p := range c.Ports {
					pp := p.Protocol
					if pp == "" {
						pp = corev1.ProtocolTCP
					}
					if p.Name == name && pp == proto {
						return p.ContainerPort, true
					}
				}
			}
			return 0, false
		}
		if n, ok := match(pod.Spec.Containers); ok {
			return n, nil
		}
		var sidecars []corev1.Container
		for _, c := range pod.Spec.InitContainers {
			if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
				sidecars = append(sidecars, c)
			}
		}
		if n, ok := match(sidecars); ok {
			return n, nil
		}
		return 0, fmt.Errorf("no container port named %q (%s) in pod %s/%s", name, proto, pod.Namespace, pod.Name)
	default:
		if sp.TargetPort.IntVal == 0 {
			return sp.Port, nil
		}
		return sp.TargetPort.IntVal, nil
	}
}

// endpointPorts resolves all service ports for one pod; ports that do not
// resolve are left out for that pod, as upstream does.
func endpointPorts(pod *corev1.Pod, svc *corev1.Service) []discovery.EndpointPort {
	ports := make([]discovery.EndpointPort, 0, len(svc.Spec.Ports))
	for i := range svc.Spec.Ports {
		sp := &svc.Spec.Ports[i]
		n, err := findPort(pod, sp)
		if err != nil {
			continue
		}
		name, proto, num := sp.Name, sp.Protocol, n
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		ports = append(ports, discovery.EndpointPort{Name: &name, Protocol: &proto, Port: &num, AppProtocol: sp.AppProtocol})
	}
	sort.Slice(ports, func(i, j int) bool { return portKey(ports[i]) < portKey(ports[j]) })
	return ports
}

func portKey(p discovery.EndpointPort) string {
	var b strings.Builder
	if p.Name != nil {
		b.WriteString(*p.Name)
	}
	b.WriteByte('/')
	if p.Protocol != nil {
		b.WriteString(string(*p.Protocol))
	}
	b.WriteByte('/')
	if p.Port != nil {
		fmt.Fprint(&b, *p.Port)
	}
	b.WriteByte('/')
	if p.AppProtocol != nil {
		b.WriteString(*p.AppProtocol)
	}
	return b.String()
}

// portsKey identifies a set of endpoint ports; slices are grouped by it.
func portsKey(ports []discovery.EndpointPort) string {
	keys := make([]string, len(ports))
	for i, p := range ports {
		keys[i] = portKey(p)
	}
	sort.Strings(keys)
	return strings.Join(keys, ",")
}

// podEndpoint builds the slice endpoint for a pod of a service.
func podEndpoint(pod *corev1.Pod, svc *corev1.Service, ip string) discovery.Endpoint {
	serving := podReady(pod)
	terminating := pod.DeletionTimestamp != nil
	// ready is never true for a terminating pod, unless the service publishes
	// not-ready addresses (upstream compatibility rule).
	ready := svc.Spec.PublishNotReadyAddresses || (serving && !terminating)
	ep := discovery.Endpoint{
		Addresses: []string{ip},
		Conditions: discovery.EndpointConditions{
			Ready:       &ready,
			Serving:     &serving,
			Terminating: &terminating,
		},
		TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
	}
	if pod.Spec.NodeName != "" {
		n := pod.Spec.NodeName
		ep.NodeName = &n
	}
	if h := hostnameFor(pod, svc); h != "" {
		ep.Hostname = &h
	}
	return ep
}

// endpointGroup is the desired endpoints sharing one set of ports.
type endpointGroup struct {
	ports     []discovery.EndpointPort
	endpoints map[string]discovery.Endpoint // by endpointKey
}

// endpointKey identifies an endpoint across syncs: its first address.
func endpointKey(ep *discovery.Endpoint) string {
	if len(ep.Addresses) == 0 {
		return ""
	}
	return ep.Addresses[0]
}

// desiredGroups computes the endpoints a service should have, grouped by
// resolved ports. pods must already be the pods matching the selector.
func desiredGroups(svc *corev1.Service, pods []*corev1.Pod) map[string]*endpointGroup {
	groups := map[string]*endpointGroup{}
	for _, pod := range pods {
		if !includePod(pod, true) {
			continue
		}
		ip := podIPv4(pod)
		if ip == "" {
			continue
		}
		ports := endpointPorts(pod, svc)
		k := portsKey(ports)
		g := groups[k]
		if g == nil {
			g = &endpointGroup{ports: ports, endpoints: map[string]discovery.Endpoint{}}
			groups[k] = g
		}
		ep := podEndpoint(pod, svc, ip)
		if old, dup := g.endpoints[ip]; dup && old.TargetRef.Name < pod.Name {
			continue // two pods with one IP: keep one, deterministically
		}
		g.endpoints[ip] = ep
	}
	return groups
}

// maxEndpointsAddresses is the capacity of a core/v1 Endpoints object
// (upstream truncates past it and marks the object over capacity).
const maxEndpointsAddresses = 1000

// desiredSubsets computes core/v1 Endpoints subsets for a service, in the
// legacy Endpoints controller's form, and whether they were truncated.
func desiredSubsets(svc *corev1.Service, pods []*corev1.Pod) ([]corev1.EndpointSubset, bool) {
	type subset struct {
		ports           []corev1.EndpointPort
		ready, notReady []corev1.EndpointAddress
	}
	subsets := map[string]*subset{}
	var keys []string
	total := 0
	for _, pod := range pods {
		if !includePod(pod, svc.Spec.PublishNotReadyAddresses) {
			continue
		}
		ip := podIPv4(pod)
		if ip == "" {
			continue
		}
		addr := corev1.EndpointAddress{
			IP:        ip,
			Hostname:  hostnameFor(pod, svc),
			TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: pod.Namespace, Name: pod.Name, UID: pod.UID},
		}
		if pod.Spec.NodeName != "" {
			n := pod.Spec.NodeName
			addr.NodeName = &n
		}
		var ports []corev1.EndpointPort
		for _, p := range endpointPorts(pod, svc) {
			ports = append(ports, corev1.EndpointPort{Name: *p.Name, Port: *p.Port, Protocol: *p.Protocol, AppProtocol: p.AppProtocol})
		}
		if len(ports) == 0 && len(svc.Spec.Ports) > 0 {
			continue // no port resolves for this pod
		}
		k := fmt.Sprint(ports)
		s := subsets[k]
		if s == nil {
			s = &subset{ports: ports}
			subsets[k] = s
			keys = append(keys, k)
		}
		if svc.Spec.PublishNotReadyAddresses || podReady(pod) {
			s.ready = append(s.ready, addr)
		} else {
			s.notReady = append(s.notReady, addr)
		}
		total++
	}
	sort.Strings(keys)
	truncated := total > maxEndpointsAddresses
	budget := maxEndpointsAddresses
	out := []corev1.EndpointSubset{}
	for _, k := range keys {
		s := subsets[k]
		sortAddrs(s.ready)
		sortAddrs(s.notReady)
		if truncated {
			// Ready addresses first, then not-ready, up to the capacity.
			if len(s.ready) > budget {
				s.ready = s.ready[:budget]
			}
			budget -= len(s.ready)
			if len(s.notReady) > budget {
				s.notReady = s.notReady[:budget]
			}
			budget -= len(s.notReady)
			if len(s.ready)+len(s.notReady) == 0 {
				continue
			}
		}
		out = append(out, corev1.EndpointSubset{Addresses: s.ready, NotReadyAddresses: s.notReady, Ports: s.ports})
	}
	return out, truncated
}

func sortAddrs(a []corev1.EndpointAddress) {
	sort.Slice(a, func(i, j int) bool {
		if a[i].IP != a[j].IP {
			return a[i].IP < a[j].IP
		}
		return a[i].TargetRef.Name < a[j].TargetRef.Name
	})
}
