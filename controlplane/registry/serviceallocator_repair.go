package registry

import (
	"context"
	"fmt"
	"net"

	"rudder/ipam"

	corev1 "k8s.io/api/core/v1"
)

// Repair rebuilds both bitmaps from the stored Services and stores them,
// as upstream's repair controllers do: values allocated for a Service that
// was never stored (a crash between allocation and create) become free
// again, and a bitmap of another range (the service CIDR or node port range
// changed) is replaced. Values held by two Services, or out of range, are
// logged and left to the operator. Call it at startup, before serving, with
// every Service in the store; allocations made while it runs would be lost.
func (a *ServiceAllocator) Repair(ctx context.Context, services []corev1.Service) error {
	ips := a.ips.fresh()
	ports := a.ports.fresh()
	for i := range services {
		svc := &services[i]
		a.repairIP(ips, svc)
		a.repairPorts(ports, svc)
	}
	if err := a.ips.replace(ctx, ips); err != nil {
		return fmt.Errorf("repair service IPs: %w", err)
	}
	if err := a.ports.replace(ctx, ports); err != nil {
		return fmt.Errorf("repair node ports: %w", err)
	}
	return nil
}

func (a *ServiceAllocator) repairIP(r *ipam.Range, svc *corev1.Service) {
	ip := allocatedIP(svc)
	if ip == "" {
		return
	}
	if err := r.Allocate(net.ParseIP(ip)); err != nil {
		a.log.Warn("service allocator repair: cluster IP not reserved",
			"service", svc.Namespace+"/"+svc.Name, "ip", ip, "range", a.cidr, "err", err)
	}
}

func (a *ServiceAllocator) repairPorts(pr *ipam.PortRange, svc *corev1.Service) {
	for port := range heldNodePorts(svc) {
		if err := pr.Allocate(port); err != nil {
			a.log.Warn("service allocator repair: node port not reserved",
				"service", svc.Namespace+"/"+svc.Name, "port", port, "range", a.prange, "err", err)
		}
	}
}

// Allocated returns the cluster IPs and node ports currently allocated in
// the store (for diagnostics and tests).
func (a *ServiceAllocator) Allocated(ctx context.Context) ([]net.IP, []int, error) {
	r, err := a.ips.current(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, err := a.ports.current(ctx)
	if err != nil {
		return nil, nil, err
	}
	var ips []net.IP
	r.ForEach(func(ip net.IP) { ips = append(ips, ip) })
	var ports []int
	p.ForEach(func(port int) { ports = append(ports, port) })
	return ips, ports, nil
}
