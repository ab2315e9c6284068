package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"

	"rudder/controlplane/storage"
	"rudder/ipam"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Storage keys of the allocators' state.
const (
	ServiceIPsKey       = "/registry/ranges/serviceips"
	ServiceNodePortsKey = "/registry/ranges/servicenodeports"
)

// PortRange is a range of ports Base..Base+Size-1.
type PortRange struct{ Base, Size int }

// ServiceAllocatorConfig configures NewServiceAllocator.
type ServiceAllocatorConfig struct {
	Store       storage.Store
	ServiceCIDR *net.IPNet
	// NodePorts is the node port range; zero means 30000-32767.
	NodePorts PortRange
	// Logger reports what rollbacks, commits and Repair could not do; nil
	// means slog.Default().
	Logger *slog.Logger
}

// ServiceAllocator hands out Service cluster IPs and node ports, keeping
// both bitmaps in the store so that they survive restarts. It is safe for
// concurrent use, also by several apiservers over one store.
type ServiceAllocator struct {
	ips    *persisted[*ipam.Range]
	ports  *persisted[*ipam.PortRange]
	family corev1.IPFamily
	cidr   string
	prange string
	log    *slog.Logger
}

// InvalidError is a Service's request the allocator cannot grant: an IP or
// port already allocated or out of range, a family or dual-stack the cluster
// is not configured for. The REST layer answers it like a validation
// failure, apierrors.NewInvalid(schema.GroupKind{Kind: "Service"}, name,
// e.Errs) (HTTP 422). Every other error of the allocator is internal (500),
// among them a full range (wrapping ipam.ErrFull) and storage failures.
type InvalidError struct{ Errs field.ErrorList }

func (e *InvalidError) Error() string { return e.Errs.ToAggregate().Error() }

func invalid(errs ...*field.Error) error { return &InvalidError{Errs: errs} }

// NewServiceAllocator returns an allocator over the configured ranges.
// Nothing is read from the store until the first allocation; call Repair
// at startup.
func NewServiceAllocator(cfg ServiceAllocatorConfig) (*ServiceAllocator, error) {
	if cfg.Store == nil || cfg.ServiceCIDR == nil {
		return nil, errors.New("new service allocator: Store and ServiceCIDR are required")
	}
	if cfg.NodePorts == (PortRange{}) {
		cfg.NodePorts = PortRange{Base: ipam.DefaultNodePortBase, Size: ipam.DefaultNodePortSize}
	}
	r, err := ipam.NewRange(cfg.ServiceCIDR)
	if err != nil {
		return nil, fmt.Errorf("new service allocator: %w", err)
	}
	pr, err := ipam.NewPortRange(cfg.NodePorts.Base, cfg.NodePorts.Size)
	if err != nil {
		return nil, fmt.Errorf("new service allocator: %w", err)
	}
	cidr, np := cfg.ServiceCIDR, cfg.NodePorts
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	family := corev1.IPv4Protocol
	if r.CIDR().IP.To4() == nil {
		family = corev1.IPv6Protocol
	}
	return &ServiceAllocator{
		// The ranges were just built from the same arguments: no error.
		ips:    &persisted[*ipam.Range]{store: cfg.Store, key: ServiceIPsKey, fresh: func() *ipam.Range { r, _ := ipam.NewRange(cidr); return r }},
		ports:  &persisted[*ipam.PortRange]{store: cfg.Store, key: ServiceNodePortsKey, fresh: func() *ipam.PortRange { p, _ := ipam.NewPortRange(np.Base, np.Size); return p }},
		family: family,
		cidr:   r.String(),
		prange: pr.String(),
		log:    log,
	}, nil
}

// txn records what one create or update allocated (released by rollback)
// and what it made free (released by commit).
type txn struct {
	a                  *ServiceAllocator
	ctx                context.Context
	newIPs, oldIPs     []net.IP
	newPorts, oldPorts []int
	finished           bool
}

func (t *txn) rollback() {
	if !t.finished {
		t.finished = true
		t.a.release(t.ctx, t.newIPs, t.newPorts, "roll back")
	}
}

func (t *txn) commit() {
	if !t.finished {
		t.finished = true
		t.a.release(t.ctx, t.oldIPs, t.oldPorts, "commit")
	}
}

// release frees ips and ports, logging what it could not do: a leak that
// Repair reclaims at the next start.
func (a *ServiceAllocator) release(ctx context.Context, ips []net.IP, ports []int, why string) {
	if err := a.releaseAll(ctx, ips, ports); err != nil {
		a.log.Error("service allocator: "+why+" failed; Repair will reclaim", "ips", ips, "ports", ports, "err", err)
	}
}

func (a *ServiceAllocator) releaseAll(ctx context.Context, ips []net.IP, ports []int) error {
	var errs []error
	if len(ips) > 0 {
		errs = append(errs, a.ips.update(ctx, func(r *ipam.Range) error {
			for _, ip := range ips {
				r.Release(ip)
			}
			return nil
		}))
	}
	if len(ports) > 0 {
		errs = append(errs, a.ports.update(ctx, func(p *ipam.PortRange) error {
			for _, port := range ports {
				p.Release(port)
			}
			return nil
		}))
	}
	return errors.Join(errs...)
}
