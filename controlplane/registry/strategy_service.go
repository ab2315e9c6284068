package registry

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
)

// serviceStrategy: names are DNS-1123 labels (upstream's relaxed Service
// name rule), status is a subresource, and an update keeps the values the
// allocator filled in when the client leaves them out.
func serviceStrategy() Strategy {
	return kind[*corev1.Service]{
		namespaced: true,
		name:       apivalidation.NameIsDNSLabel,
		status:     true,
		defaults:   defaultService,
		create: func(svc *corev1.Service) {
			normalizeClusterIPs(svc, nil)
		},
		update: func(svc, old *corev1.Service) {
			patchAllocatedValues(svc, old)
			normalizeClusterIPs(svc, old)
			dropTypeDependentFields(svc, old)
		},
		validate:       validateService,
		validateUpdate: validateServiceUpdate,
		validateStatus: validateServiceStatus,
	}
}

func needsClusterIP(svc *corev1.Service) bool {
	return svc.Spec.Type != corev1.ServiceTypeExternalName
}

func needsNodePorts(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.Type == corev1.ServiceTypeLoadBalancer
}

func needsHealthCheckPort(svc *corev1.Service) bool {
	return svc.Spec.Type == corev1.ServiceTypeLoadBalancer &&
		svc.Spec.ExternalTrafficPolicy == corev1.ServiceExternalTrafficPolicyLocal
}

// normalizeClusterIPs keeps clusterIP and clusterIPs in step as upstream
// does: a create giving only clusterIP gets clusterIPs; an update from a
// client that knows only clusterIP (clusterIPs dropped or left as they were)
// gets clusterIPs to follow it. A client giving both must make them agree
// (validation checks).
func normalizeClusterIPs(svc, old *corev1.Service) {
	spec := &svc.Spec
	if old == nil {
		if spec.ClusterIP != "" && len(spec.ClusterIPs) == 0 {
			spec.ClusterIPs = []string{spec.ClusterIP}
		}
		return
	}
	if len(old.Spec.ClusterIPs) > 0 && len(spec.ClusterIPs) == 0 && old.Spec.ClusterIP == spec.ClusterIP {
		spec.ClusterIPs = slices.Clone(old.Spec.ClusterIPs)
	}
	if old.Spec.ClusterIP == spec.ClusterIP || !slices.Equal(old.Spec.ClusterIPs, spec.ClusterIPs) {
		return
	}
	if spec.ClusterIP == "" {
		spec.ClusterIPs = nil // cleared by the client: clear the copy too
	} else {
		spec.ClusterIPs = []string{spec.ClusterIP}
	}
}

// patchAllocatedValues lets a client resubmit the Service it created (no
// clusterIP, no nodePorts) without a read-modify-write: values the
// allocator filled in are copied from old when the new object leaves them
// empty and still needs them.
func patchAllocatedValues(svc, old *corev1.Service) {
	if needsClusterIP(old) && needsClusterIP(svc) {
		if svc.Spec.ClusterIP == "" {
			svc.Spec.ClusterIP = old.Spec.ClusterIP
		}
		if len(svc.Spec.ClusterIPs) == 0 && len(old.Spec.ClusterIPs) > 0 {
			svc.Spec.ClusterIPs = slices.Clone(old.Spec.ClusterIPs)
		}
	}
	if needsNodePorts(old) && needsNodePorts(svc) {
		patchNodePorts(svc, old)
	}
	if needsHealthCheckPort(old) && needsHealthCheckPort(svc) && svc.Spec.HealthCheckNodePort == 0 {
		svc.Spec.HealthCheckNodePort = old.Spec.HealthCheckNodePort
	}
}

// patchNodePorts fills zero nodePorts from old's ports of the same name,
// unless that node port is used by another port of the new object.
func patchNodePorts(svc, old *corev1.Service) {
	used := map[int32]bool{}
	for _, p := range svc.Spec.Ports {
		used[p.NodePort] = p.NodePort != 0
	}
	byName := map[string]int32{}
	for _, p := range old.Spec.Ports {
		byName[p.Name] = p.NodePort
	}
	for i := range svc.Spec.Ports {
		p := &svc.Spec.Ports[i]
		if np := byName[p.Name]; p.NodePort == 0 && np != 0 && !used[np] {
			p.NodePort = np
			used[np] = true
		}
	}
}

// dropTypeDependentFields clears, on a type change, the allocated fields
// the new type does not use, when the client left them as they were (a
// changed value is left for validation to reject).
func dropTypeDependentFields(svc, old *corev1.Service) {
	spec := &svc.Spec
	if needsClusterIP(old) && !needsClusterIP(svc) {
		if spec.ClusterIP == old.Spec.ClusterIP && slices.Equal(spec.ClusterIPs, old.Spec.ClusterIPs) {
			spec.ClusterIP, spec.ClusterIPs = "", nil
		}
		if slices.Equal(spec.IPFamilies, old.Spec.IPFamilies) {
			spec.IPFamilies = nil
		}
		if ptrEqual(spec.IPFamilyPolicy, old.Spec.IPFamilyPolicy) {
			spec.IPFamilyPolicy = nil
		}
		if ptrEqual(spec.InternalTrafficPolicy, old.Spec.InternalTrafficPolicy) {
			spec.InternalTrafficPolicy = nil
		}
	}
	if needsNodePorts(old) && !needsNodePorts(svc) && nodePortsSubset(svc, old) {
		for i := range spec.Ports {
			spec.Ports[i].NodePort = 0
		}
	}
	if needsHealthCheckPort(old) && !needsHealthCheckPort(svc) && spec.HealthCheckNodePort == old.Spec.HealthCheckNodePort {
		spec.HealthCheckNodePort = 0
	}
	dropLoadBalancerFields(svc, old)
	if needsNodePorts(old) && !needsNodePorts(svc) && spec.ExternalTrafficPolicy == old.Spec.ExternalTrafficPolicy && !externallyAccessible(svc) {
		spec.ExternalTrafficPolicy = ""
	}
	if spec.Type != corev1.ServiceTypeLoadBalancer {
		svc.Status.LoadBalancer = corev1.LoadBalancerStatus{}
	}
}

func dropLoadBalancerFields(svc, old *corev1.Service) {
	if old.Spec.Type != corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
		return
	}
	if ptrEqual(svc.Spec.AllocateLoadBalancerNodePorts, old.Spec.AllocateLoadBalancerNodePorts) {
		svc.Spec.AllocateLoadBalancerNodePorts = nil
	}
	if ptrEqual(svc.Spec.LoadBalancerClass, old.Spec.LoadBalancerClass) {
		svc.Spec.LoadBalancerClass = nil
	}
}

// nodePortsSubset: the new object adds no node port old did not have.
func nodePortsSubset(svc, old *corev1.Service) bool {
	had := map[int32]bool{}
	for _, p := range old.Spec.Ports {
		had[p.NodePort] = true
	}
	for _, p := range svc.Spec.Ports {
		if p.NodePort != 0 && !had[p.NodePort] {
			return false
		}
	}
	return true
}

func ptrEqual[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
