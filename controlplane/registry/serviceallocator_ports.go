package registry

import (
	"cmp"
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

// portPlanner allocates the node ports of one Service in a PortRange.
type portPlanner struct {
	a       *ServiceAllocator
	pr      *ipam.PortRange
	held    map[int]bool // owned already (update): no allocation needed
	claimed map[int]bool // allocated by this plan
	plan    portPlan
}

// claim allocates port unless the Service holds it already.
func (p *portPlanner) claim(port int, path *field.Path, prefix string) error {
	if p.held[port] || p.claimed[port] {
		return nil
	}
	if err := p.pr.Allocate(port); err != nil {
		return p.a.nodePortError(port, path, prefix, err)
	}
	p.claimed[port] = true
	p.plan.allocated = append(p.plan.allocated, port)
	return nil
}

// next allocates any free port.
func (p *portPlanner) next(what string) (int32, error) {
	port, err := p.pr.AllocateNext()
	if err != nil {
		return 0, fmt.Errorf("failed to allocate a %s: %w", what, err)
	}
	p.claimed[port] = true
	p.plan.allocated = append(p.plan.allocated, port)
	return int32(port), nil
}

// planNodePorts allocates in pr. As upstream, ports sharing a port number
// (say 53/TCP and 53/UDP) share one node port, and LoadBalancer services
// with allocateLoadBalancerNodePorts false get only the ones they ask for.
func (a *ServiceAllocator) planNodePorts(pr *ipam.PortRange, svc *corev1.Service, held map[int]bool) (portPlan, error) {
	p := &portPlanner{a: a, pr: pr, held: held, claimed: map[int]bool{}}
	p.plan.nodePorts = make([]int32, len(svc.Spec.Ports))
	if needsNodePorts(svc) {
		if err := p.servicePorts(svc); err != nil {
			return p.plan, err
		}
	}
	return p.plan, p.healthCheckPort(svc)
}

func (p *portPlanner) servicePorts(svc *corev1.Service) error {
	auto := svc.Spec.Type == corev1.ServiceTypeNodePort || svc.Spec.AllocateLoadBalancerNodePorts == nil || *svc.Spec.AllocateLoadBalancerNodePorts
	byPort := map[int32]int32{} // service port number -> node port
	for i, sp := range svc.Spec.Ports {
		np := sp.NodePort
		if np == 0 && auto {
			np = cmp.Or(byPort[sp.Port], requestedNodePort(svc.Spec.Ports[i+1:], sp.Port))
		}
		if np == 0 && auto {
			var err error
			if np, err = p.next("nodePort"); err != nil {
				return err
			}
		}
		if np == 0 {
			continue
		}
		if err := p.claim(int(np), specPath.Child("ports").Index(i).Child("nodePort"), ""); err != nil {
			return err
		}
		p.plan.nodePorts[i] = np
		if byPort[sp.Port] == 0 {
			byPort[sp.Port] = np
		}
	}
	return nil
}

func (p *portPlanner) healthCheckPort(svc *corev1.Service) error {
	if !needsHealthCheckPort(svc) {
		return nil
	}
	hc := svc.Spec.HealthCheckNodePort
	if hc == 0 {
		var err error
		p.plan.hc, err = p.next("healthCheck nodePort")
		return err
	}
	path := specPath.Child("healthCheckNodePort")
	prefix := fmt.Sprintf("failed to allocate requested HealthCheck NodePort %d: ", hc)
	if slices.Contains(p.plan.nodePorts, hc) {
		return invalid(field.Invalid(path, hc, prefix+"provided port is already allocated"))
	}
	if err := p.claim(int(hc), path, prefix); err != nil {
		return err
	}
	p.plan.hc = hc
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
