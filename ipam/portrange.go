package ipam

import (
	"fmt"
)

// Default node port range, as kube-apiserver's --service-node-port-range.
const (
	DefaultNodePortBase = 30000
	DefaultNodePortSize = 2768 // 30000-32767
)

// PortRange allocates ports Base..Base+Size-1. It is safe for concurrent use.
type PortRange struct {
	base int
	bits *Bitmap
}

// NewPortRange returns an empty port range.
func NewPortRange(base, size int) (*PortRange, error) {
	return NewPortRangeWithConfig(base, size, nil)
}

// NewPortRangeWithConfig is NewPortRange with the random source of
// AllocateNext injected (nil: math/rand/v2).
func NewPortRangeWithConfig(base, size int, randN func(int) int) (*PortRange, error) {
	if base < 1 || size < 1 || base+size-1 > 65535 {
		return nil, fmt.Errorf("new port range %d+%d: not within 1-65535", base, size)
	}
	bm, err := NewBitmap(BitmapConfig{Size: size, StaticBand: portStaticBand(size), RandN: randN})
	if err != nil {
		return nil, fmt.Errorf("new port range %d+%d: %w", base, size, err)
	}
	return &PortRange{base: base, bits: bm}, nil
}

// portStaticBand is min(max(16, size/32), 128), and none for ranges of 16
// ports or fewer: upstream's split between dynamic and static node ports.
func portStaticBand(size int) int {
	if size <= 16 {
		return 0
	}
	return min(max(16, size/32), 128)
}

// String returns the range as "30000-32767".
func (p *PortRange) String() string {
	return fmt.Sprintf("%d-%d", p.base, p.base+p.bits.Size()-1)
}

// Base returns the first port.
func (p *PortRange) Base() int { return p.base }

// Size returns the number of ports.
func (p *PortRange) Size() int { return p.bits.Size() }

// Free returns the number of ports not allocated.
func (p *PortRange) Free() int { return p.bits.Free() }

// Used returns the number of allocated ports.
func (p *PortRange) Used() int { return p.bits.Used() }

// Contains tells whether port is in the range.
func (p *PortRange) Contains(port int) bool {
	return port >= p.base && port < p.base+p.bits.Size()
}

// Allocate takes port; ErrNotInRange or ErrAllocated if it cannot.
func (p *PortRange) Allocate(port int) error {
	if !p.Contains(port) {
		return fmt.Errorf("allocate port %d in %s: %w", port, p, ErrNotInRange)
	}
	if err := p.bits.Allocate(port - p.base); err != nil {
		return fmt.Errorf("allocate port %d in %s: %w", port, p, err)
	}
	return nil
}

// AllocateNext takes a free port at random, preferring ports above the
// static band; ErrFull if none.
func (p *PortRange) AllocateNext() (int, error) {
	off, err := p.bits.AllocateNext()
	if err != nil {
		return 0, fmt.Errorf("allocate next port in %s: %w", p, err)
	}
	return p.base + off, nil
}

// Release frees port; a port not allocated or not in range is ignored.
func (p *PortRange) Release(port int) {
	if p.Contains(port) {
		p.bits.Release(port - p.base)
	}
}

// Has tells whether port is allocated.
func (p *PortRange) Has(port int) bool {
	return p.Contains(port) && p.bits.Has(port-p.base)
}

// ForEach calls fn with every allocated port in increasing order.
func (p *PortRange) ForEach(fn func(port int)) {
	p.bits.ForEach(func(off int) { fn(p.base + off) })
}

// Snapshot encodes the range and its allocations as JSON
// {"range": "30000-32767", "data": bitmap}.
func (p *PortRange) Snapshot() []byte {
	return snapshotJSON(p.String(), p.bits)
}

// Restore replaces the allocations with a Snapshot of the same range;
// ErrMismatch if it is of another range.
func (p *PortRange) Restore(data []byte) error {
	return restoreSnapshot(data, p.String(), p.bits)
}
