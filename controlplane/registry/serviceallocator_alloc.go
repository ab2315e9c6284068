package registry

import (
	"context"
	"errors"
	"fmt"
	"net"

	"rudder/ipam"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// AllocateCreate allocates what a new Service needs and writes it into svc:
// spec.clusterIP/clusterIPs (the requested one if free; none for headless
// "None" and ExternalName), nodePorts for NodePort and LoadBalancer
// services (requested ones honoured), and healthCheckNodePort for
// LoadBalancer services with externalTrafficPolicy Local. Call it after
// Validate; call rollback if the Service is then not stored. A request
// that cannot be granted is an *InvalidError.
func (a *ServiceAllocator) AllocateCreate(ctx context.Context, svc *corev1.Service) (rollback func(), err error) {
	t := &txn{a: a, ctx: context.WithoutCancel(ctx)}
	if err := a.allocClusterIP(ctx, svc, "", t); err != nil {
		return nil, err
	}
	if err := a.allocNodePorts(ctx, svc, nil, t); err != nil {
		t.rollback()
		return nil, err
	}
	return t.rollback, nil
}

// AllocateUpdate allocates what an updated Service newly needs (a type
// change from ExternalName, or to NodePort/LoadBalancer, new ports) and
// works out what old held that svc no longer uses (a type change to
// ExternalName frees the cluster IP, to ClusterIP the node ports). Call it
// after PrepareForUpdate and ValidateUpdate; then commit once the update is
// stored (it releases what is no longer used), or rollback if not.
func (a *ServiceAllocator) AllocateUpdate(ctx context.Context, svc, old *corev1.Service) (commit, rollback func(), err error) {
	t := &txn{a: a, ctx: context.WithoutCancel(ctx)}
	oldIP := allocatedIP(old)
	if needsClusterIP(svc) && !isHeadless(svc) && (svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP != oldIP) {
		if err := a.allocClusterIP(ctx, svc, oldIP, t); err != nil {
			return nil, nil, err
		}
	}
	if oldIP != "" && oldIP != allocatedIP(svc) {
		t.oldIPs = append(t.oldIPs, net.ParseIP(oldIP))
	}
	held := heldNodePorts(old)
	if err := a.allocNodePorts(ctx, svc, held, t); err != nil {
		t.rollback()
		return nil, nil, err
	}
	kept := heldNodePorts(svc)
	for port := range held {
		if !kept[port] {
			t.oldPorts = append(t.oldPorts, port)
		}
	}
	return t.commit, t.rollback, nil
}

// Release frees the cluster IP and node ports of a deleted Service.
func (a *ServiceAllocator) Release(ctx context.Context, svc *corev1.Service) error {
	var ips []net.IP
	if ip := allocatedIP(svc); ip != "" {
		ips = append(ips, net.ParseIP(ip))
	}
	var ports []int
	for port := range heldNodePorts(svc) {
		ports = append(ports, port)
	}
	if err := a.releaseAll(ctx, ips, ports); err != nil {
		return fmt.Errorf("release service %s/%s: %w", svc.Namespace, svc.Name, err)
	}
	return nil
}

// allocatedIP is the cluster IP a Service holds from the allocator, if any.
func allocatedIP(svc *corev1.Service) string {
	if !needsClusterIP(svc) || isHeadless(svc) || net.ParseIP(svc.Spec.ClusterIP) == nil {
		return ""
	}
	return svc.Spec.ClusterIP
}

// heldNodePorts are the node ports (health check included) a Service holds.
func heldNodePorts(svc *corev1.Service) map[int]bool {
	held := map[int]bool{}
	if svc == nil {
		return held
	}
	if needsNodePorts(svc) {
		for _, p := range svc.Spec.Ports {
			if p.NodePort != 0 {
				held[int(p.NodePort)] = true
			}
		}
	}
	if needsHealthCheckPort(svc) && svc.Spec.HealthCheckNodePort != 0 {
		held[int(svc.Spec.HealthCheckNodePort)] = true
	}
	return held
}

// allocClusterIP gives svc the requested cluster IP, or the next free one.
// held is an IP svc already owns (it needs no allocation).
func (a *ServiceAllocator) allocClusterIP(ctx context.Context, svc *corev1.Service, held string, t *txn) error {
	if !needsClusterIP(svc) || isHeadless(svc) {
		return nil
	}
	if err := a.checkFamilies(svc); err != nil {
		return err
	}
	requested := svc.Spec.ClusterIP
	if requested != "" && requested == held {
		return nil
	}
	var want net.IP
	if requested != "" {
		if want = net.ParseIP(requested); want == nil {
			return invalid(field.Invalid(specPath.Child("clusterIPs").Index(0), requested, "must be a valid IP address"))
		}
	}
	var got net.IP
	err := a.ips.update(ctx, func(r *ipam.Range) error {
		if want != nil {
			got = want
			return r.Allocate(want)
		}
		var err error
		got, err = r.AllocateNext()
		return err
	})
	if err != nil {
		return a.clusterIPError(svc, requested, err)
	}
	t.newIPs = append(t.newIPs, got)
	svc.Spec.ClusterIP = got.String()
	svc.Spec.ClusterIPs = []string{got.String()}
	svc.Spec.IPFamilies = []corev1.IPFamily{a.family}
	return nil
}

func (a *ServiceAllocator) clusterIPError(svc *corev1.Service, requested string, err error) error {
	path := specPath.Child("clusterIPs")
	switch {
	case errors.Is(err, ipam.ErrAllocated):
		return invalid(field.Invalid(path, svc.Spec.ClusterIPs, fmt.Sprintf("failed to allocate IP %s: provided IP is already allocated", requested)))
	case errors.Is(err, ipam.ErrNotInRange):
		return invalid(field.Invalid(path, svc.Spec.ClusterIPs, fmt.Sprintf(
			"failed to allocate IP %s: the provided IP (%s) is not in the valid range. The range of valid IPs is %s", requested, requested, a.cidr)))
	case errors.Is(err, ipam.ErrFull):
		return fmt.Errorf("failed to allocate a serviceIP: %w", err)
	}
	return fmt.Errorf("allocate cluster IP for %s/%s: %w", svc.Namespace, svc.Name, err)
}

// checkFamilies rejects what a single-stack cluster cannot give.
func (a *ServiceAllocator) checkFamilies(svc *corev1.Service) error {
	spec := &svc.Spec
	preferDual := spec.IPFamilyPolicy != nil && *spec.IPFamilyPolicy == corev1.IPFamilyPolicyPreferDualStack
	if preferDual && len(spec.IPFamilies) > 1 && spec.IPFamilies[0] == a.family {
		spec.IPFamilies = spec.IPFamilies[:1] // prefer, not require: single stack it is
	}
	if p := spec.IPFamilyPolicy; p != nil && *p == corev1.IPFamilyPolicyRequireDualStack {
		return invalid(field.Invalid(specPath.Child("ipFamilyPolicy"), *p, "this cluster is not configured for dual-stack services"))
	}
	for i, f := range spec.IPFamilies {
		if f != a.family {
			return invalid(field.Invalid(specPath.Child("ipFamilies").Index(i), f, "not configured on this cluster"))
		}
	}
	if len(spec.ClusterIPs) > 1 {
		return invalid(field.Invalid(specPath.Child("clusterIPs"), spec.ClusterIPs, "this cluster is not configured for dual-stack services"))
	}
	return nil
}
