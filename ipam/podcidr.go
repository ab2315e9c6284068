package ipam

import (
	"fmt"
	"math/big"
	"net/netip"
	"sync"
)

const (
	// DefaultNodeMaskSize gives every node a /24 of an IPv4 cluster CIDR.
	DefaultNodeMaskSize = 24
	// DefaultNodeMaskSizeIPv6 gives every node a /64 of an IPv6 one.
	DefaultNodeMaskSizeIPv6 = 64
	// MaxPodCIDRBits caps the node mask at 16 bits longer than the cluster
	// CIDR's (65536 node ranges), as kube-controller-manager does.
	MaxPodCIDRBits = 16
)

// PodCIDRConfig says how a cluster CIDR is cut into node ranges.
type PodCIDRConfig struct {
	ClusterCIDR netip.Prefix
	// NodeMaskSize is the prefix length of one node's range; zero takes
	// DefaultNodeMaskSize (DefaultNodeMaskSizeIPv6 for IPv6).
	NodeMaskSize int
}

// PodCIDRAllocator hands every node one range of the cluster CIDR, lowest
// free first. It is pure (callers persist what they assign, in Node
// objects, and Occupy it again on restart) and safe for concurrent use.
type PodCIDRAllocator struct {
	mu      sync.Mutex
	cluster netip.Prefix
	mask    int
	bits    *Bitmap
	byNode  map[string]int
	byIndex map[int]string
}

// NewPodCIDRAllocator checks cfg and returns an allocator with nothing
// assigned.
func NewPodCIDRAllocator(cfg PodCIDRConfig) (*PodCIDRAllocator, error) {
	if !cfg.ClusterCIDR.IsValid() {
		return nil, fmt.Errorf("pod CIDR allocator: no cluster CIDR")
	}
	cluster := cfg.ClusterCIDR.Masked()
	mask := cfg.NodeMaskSize
	if mask == 0 {
		mask = DefaultNodeMaskSize
		if cluster.Addr().Is6() {
			mask = DefaultNodeMaskSizeIPv6
		}
	}
	switch {
	case mask > cluster.Addr().BitLen():
		return nil, fmt.Errorf("pod CIDR allocator: node mask size /%d is longer than an address (%d bits)", mask, cluster.Addr().BitLen())
	case mask < cluster.Bits():
		return nil, fmt.Errorf("pod CIDR allocator: node mask size /%d is shorter than the cluster CIDR %s", mask, cluster)
	case mask-cluster.Bits() > MaxPodCIDRBits:
		return nil, fmt.Errorf("pod CIDR allocator: node mask size /%d cuts %s into 2^%d ranges, more than 2^%d; use a longer cluster prefix or a shorter node mask",
			mask, cluster, mask-cluster.Bits(), MaxPodCIDRBits)
	}
	bm, err := NewBitmap(BitmapConfig{Size: 1 << (mask - cluster.Bits()), RandN: func(int) int { return 0 }})
	if err != nil {
		return nil, fmt.Errorf("pod CIDR allocator: %w", err)
	}
	return &PodCIDRAllocator{cluster: cluster, mask: mask, bits: bm, byNode: map[string]int{}, byIndex: map[int]string{}}, nil
}

// ClusterCIDR returns the cluster CIDR.
func (a *PodCIDRAllocator) ClusterCIDR() netip.Prefix { return a.cluster }

// NodeMaskSize returns the prefix length of a node range.
func (a *PodCIDRAllocator) NodeMaskSize() int { return a.mask }

// Size returns how many node ranges the cluster CIDR holds.
func (a *PodCIDRAllocator) Size() int { return a.bits.Size() }

// Used returns how many are assigned or occupied.
func (a *PodCIDRAllocator) Used() int { return a.bits.Used() }

// Allocate returns node's range, assigning the lowest free one if the node
// has none yet; ErrFull when every range is taken.
func (a *PodCIDRAllocator) Allocate(node string) (netip.Prefix, error) {
	if node == "" {
		return netip.Prefix{}, fmt.Errorf("allocate pod CIDR: empty node name")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if i, ok := a.byNode[node]; ok {
		return a.prefix(i), nil
	}
	i, err := a.bits.AllocateNext()
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("allocate pod CIDR for node %s: no range left in %s (%d ranges of /%d, all assigned): %w",
			node, a.cluster, a.bits.Size(), a.mask, err)
	}
	a.byNode[node], a.byIndex[i] = i, node
	return a.prefix(i), nil
}

// Occupy records cidr as node's range (an assignment made before, read back
// from a Node object). node may be empty to set a range aside for no node.
// It fails if cidr is not one node range of the cluster CIDR, if another
// node holds it, or if node already holds another range.
func (a *PodCIDRAllocator) Occupy(node string, cidr netip.Prefix) error {
	i, err := a.index(cidr)
	if err != nil {
		return fmt.Errorf("occupy %s for node %q: %w", cidr, node, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if owner, taken := a.byIndex[i]; taken || a.bits.Has(i) {
		if owner == node && node != "" {
			return nil
		}
		return fmt.Errorf("occupy %s for node %q: already assigned to node %q: %w", cidr, node, owner, ErrAllocated)
	}
	if j, ok := a.byNode[node]; ok && node != "" {
		return fmt.Errorf("occupy %s for node %s: the node already holds %s", cidr, node, a.prefix(j))
	}
	if err := a.bits.Allocate(i); err != nil {
		return fmt.Errorf("occupy %s: %w", cidr, err)
	}
	a.byIndex[i] = node
	if node != "" {
		a.byNode[node] = i
	}
	return nil
}

// Release frees node's range; a node without one is not an error.
func (a *PodCIDRAllocator) Release(node string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if i, ok := a.byNode[node]; ok {
		a.free(i)
	}
}

// ReleaseCIDR frees cidr whoever holds it; ErrNotInRange if it is not a
// node range of the cluster CIDR.
func (a *PodCIDRAllocator) ReleaseCIDR(cidr netip.Prefix) error {
	i, err := a.index(cidr)
	if err != nil {
		return fmt.Errorf("release %s: %w", cidr, err)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.free(i)
	return nil
}

// Lookup returns node's range, if it has one.
func (a *PodCIDRAllocator) Lookup(node string) (netip.Prefix, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	i, ok := a.byNode[node]
	if !ok {
		return netip.Prefix{}, false
	}
	return a.prefix(i), true
}

func (a *PodCIDRAllocator) free(i int) {
	if node, ok := a.byIndex[i]; ok {
		delete(a.byNode, node)
		delete(a.byIndex, i)
	}
	a.bits.Release(i)
}

// index maps a node range to its bitmap offset.
func (a *PodCIDRAllocator) index(cidr netip.Prefix) (int, error) {
	if !cidr.IsValid() || cidr.Bits() != a.mask || cidr.Addr().Unmap().BitLen() != a.cluster.Addr().BitLen() {
		return 0, fmt.Errorf("not a /%d: %w", a.mask, ErrNotInRange)
	}
	p := netip.PrefixFrom(cidr.Addr().Unmap(), cidr.Bits())
	if p.Masked() != p {
		return 0, fmt.Errorf("host bits set (network is %s): %w", p.Masked(), ErrNotInRange)
	}
	if !a.cluster.Contains(p.Addr()) {
		return 0, fmt.Errorf("outside cluster CIDR %s: %w", a.cluster, ErrNotInRange)
	}
	base := new(big.Int).SetBytes(a.cluster.Addr().AsSlice())
	off := new(big.Int).SetBytes(p.Addr().AsSlice())
	off.Sub(off, base).Rsh(off, uint(p.Addr().BitLen()-a.mask))
	return int(off.Int64()), nil
}

func (a *PodCIDRAllocator) prefix(i int) netip.Prefix {
	off := new(big.Int).Lsh(big.NewInt(int64(i)), uint(a.cluster.Addr().BitLen()-a.mask))
	off.Add(off, new(big.Int).SetBytes(a.cluster.Addr().AsSlice()))
	b := make([]byte, a.cluster.Addr().BitLen()/8)
	off.FillBytes(b)
	addr, _ := netip.AddrFromSlice(b)
	return netip.PrefixFrom(addr, a.mask)
}
