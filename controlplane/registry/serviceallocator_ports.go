package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"rudder/ipam"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// portPlan is the node ports one allocation settles on, applied to the
// Service only once they are stored.
type portPlan struct {
	nodePorts []int32 // per spec.ports entry; 0: none
	hc        int32
	allocated []int
}

// allocNodePorts gives svc the node ports its type needs. held are ports
// the Service already owns (on update), which need no allocation.
func (a *ServiceAllocator) allocNodePorts(ctx context.Context, svc *corev1.Service, held map[int]bool, t *txn) error {
	if !needsNodePorts(svc) && !needsHealthCheckPort(svc) {
		return nil
	}
	var plan portPlan
	err := a.ports.update(ctx, func(pr *ipam.PortRange) error {
		var err error
		plan, err = a.planNodePorts(pr, svc, held)
		return err
	})
	if err != nil {
		return err
	}
	for i := range svc.Spec.Ports {
		svc.Spec.Ports[i].NodePort = plan.nodePorts[i]
	}
	if needsHealthCheckPort(svc) {
		svc.Spec.HealthCheckNodePort = plan.hc
	}
	t.newPorts = append(t.newPorts, plan.allocated...)
	return nil
}

// planNodePorts allocates in pr. As upstream, ports sharing a port number
// (say 53/TCP and 53/UDP) share one node port, and LoadBalancer services
// with allocateLoadBalancerNodePorts false get only the ones they ask for.
func (a *ServiceAllocator) planNodePorts(pr *ipam.PortRange, svc *corev1.Service, held map[int]bool) (portPlan, error) {
	plan := portPlan{nodePorts: make([]int32, len(svc.Spec.Ports))}
	auto := svc.Spec.Type == corev1.ServiceTypeNodePort ||
		(svc.Spec.Type == corev1.ServiceTypeLoadBalancer && (svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts))
	claimed := map[int]bool{}
	claim := func(port int, path *field.Path, prefix string) error {
		if held[port] || claimed[port] {
			return nil
		}
		if err := pr.Allocate(port); err != nil {
			return a.nodePortError(port, path, prefix, err)
		}
		claimed[port] = true
		plan.allocated = append(plan.allocated, port)
		return nil
	}
	byPort := map[int32]int32{} // service port number -> node port
	for i, p := range svc.Spec.Ports {
		np := p.NodePort
		if np == 0 && needsNodePorts(svc) && auto {
			np = byPort[p.Port]
			if np == 0 {
				np = requestedNodePort(svc.Spec.Ports[i+1:], p.Port)
			}
			if np == 0 {
				next, err := pr.AllocateNext()
				if err != nil {
					return plan, fmt.Errorf("failed to allocate a nodePort: %w", err)
				}
				np = int32(next)
				claimed[next] = true
				plan.allocated = append(plan.allocated, next)
			}
		}
		if np == 0 || !needsNodePorts(svc) {
			continue
		}
		if err := claim(int(np), specPath.Child("ports").Index(i).Child("nodePort"), ""); err != nil {
			return plan, err
		}
		plan.nodePorts[i] = np
		if byPort[p.Port] == 0 {
			byPort[p.Port] = np
		}
	}
	return plan, planHealthCheckPort(pr, svc, claim, &plan)
}

func planHealthCheckPort(pr *ipam.PortRange, svc *corev1.Service, claim func(int, *field.Path, string) error, plan *portPlan) error {
	if !needsHealthCheckPort(svc) {
		return nil
	}
	hc := int(svc.Spec.HealthCheckNodePort)
	if hc == 0 {
		next, err := pr.AllocateNext()
		if err != nil {
			return fmt.Errorf("failed to allocate a healthCheck nodePort: %w", err)
		}
		plan.hc = int32(next)
		plan.allocated = append(plan.allocated, next)
		return nil
	}
	prefix := fmt.Sprintf("failed to allocate requested HealthCheck NodePort %d: ", hc)
	if slices.Contains(plan.nodePorts, int32(hc)) {
		return invalid(field.Invalid(specPath.Child("healthCheckNodePort"), hc, prefix+"provided port is already allocated"))
	}
	if err := claim(hc, specPath.Child("healthCheckNodePort"), prefix); err != nil {
		return err
	}
	plan.hc = int32(hc)
	return nil
}

// requestedNodePort is a node port given explicitly to a later port with
// the same port number.
func requestedNodePort(ports []corev1.ServicePort, port int32) int32 {
	for _, p := range ports {
		if p.Port == port && p.NodePort != 0 {
			return p.NodePort
		}
	}
	return 0
}

func (a *ServiceAllocator) nodePortError(port int, path *field.Path, prefix string, err error) error {
	switch {
	case errors.Is(err, ipam.ErrAllocated):
		return invalid(field.Invalid(path, port, prefix+"provided port is already allocated"))
	case errors.Is(err, ipam.ErrNotInRange):
		return invalid(field.Invalid(path, port, prefix+"provided port is not in the valid range. The range of valid ports is "+a.prange))
	}
	return fmt.Errorf("allocate node port %d: %w", port, err)
}
