package ipam

import (
	"fmt"
	"math/bits"
	"net"
	"net/netip"
)

const (
	// MaxRangeBits caps an IPv4 range at a /12, as kube-apiserver does for
	// --service-cluster-ip-range, so a bitmap stays at most 128 KiB.
	MaxRangeBits = 20
	// MaxIPv6RangeSize caps an IPv6 range: only its first 65536 addresses
	// are used, as upstream's bitmap allocator does.
	MaxIPv6RangeSize = 1 << 16
)

// Range allocates the addresses of one CIDR. The network address is never
// handed out, nor (IPv4) the broadcast address; the first usable address
// (.1) is taken only by an explicit Allocate, never by AllocateNext. A Range
// is safe for concurrent use.
type Range struct {
	cidr  netip.Prefix
	base  netip.Addr // offset 0: the first usable address
	bits  *Bitmap
	ipnet *net.IPNet
}

// NewRange returns an empty range over cidr.
func NewRange(cidr *net.IPNet) (*Range, error) {
	return NewRangeWithConfig(cidr, nil)
}

// NewRangeWithConfig is NewRange with the random source of AllocateNext
// injected (randN(n) returns a value in [0, n); nil: math/rand/v2).
func NewRangeWithConfig(cidr *net.IPNet, randN func(int) int) (*Range, error) {
	if cidr == nil {
		return nil, fmt.Errorf("new IP range: no CIDR")
	}
	prefix, err := toPrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("new IP range %s: %w", cidr, err)
	}
	size, err := usableSize(prefix)
	if err != nil {
		return nil, fmt.Errorf("new IP range %s: %w", prefix, err)
	}
	bm, err := NewBitmap(BitmapConfig{
		Size:       size,
		Reserved:   1,
		StaticBand: ipStaticBand(prefix),
		RandN:      randN,
	})
	if err != nil {
		return nil, fmt.Errorf("new IP range %s: %w", prefix, err)
	}
	return &Range{cidr: prefix, base: prefix.Addr().Next(), bits: bm, ipnet: prefixToIPNet(prefix)}, nil
}

func toPrefix(cidr *net.IPNet) (netip.Prefix, error) {
	addr, ok := netip.AddrFromSlice(cidr.IP)
	if !ok {
		return netip.Prefix{}, fmt.Errorf("bad address %v", cidr.IP)
	}
	addr = addr.Unmap()
	ones, total := cidr.Mask.Size()
	if total != addr.BitLen() {
		return netip.Prefix{}, fmt.Errorf("mask does not fit the address family")
	}
	return netip.PrefixFrom(addr, ones).Masked(), nil
}

func prefixToIPNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

// usableSize is the number of addresses a bitmap tracks: all but the
// network address, and for IPv4 the broadcast address too.
func usableSize(p netip.Prefix) (int, error) {
	hostBits := p.Addr().BitLen() - p.Bits()
	if p.Addr().Is4() {
		if hostBits > MaxRangeBits {
			return 0, fmt.Errorf("too large: at most %d host bits", MaxRangeBits)
		}
		if hostBits < 2 {
			return 0, fmt.Errorf("too small: no usable address")
		}
		return 1<<hostBits - 2, nil
	}
	if hostBits < 1 {
		return 0, fmt.Errorf("too small: no usable address")
	}
	if hostBits >= 17 {
		return MaxIPv6RangeSize - 1, nil
	}
	return 1<<hostBits - 1, nil
}

// ipStaticBand is min(max(16, cidrSize/16), 256), and none for ranges of 16
// addresses or fewer: upstream's split between dynamic and static service IPs.
func ipStaticBand(p netip.Prefix) int {
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits <= 4 {
		return 0
	}
	if hostBits >= 12 {
		return 256
	}
	return max(16, (1<<hostBits)/16)
}

// String returns the CIDR, e.g. "10.96.0.0/12".
func (r *Range) String() string { return r.cidr.String() }

// CIDR returns the range's network.
func (r *Range) CIDR() *net.IPNet {
	return &net.IPNet{IP: append(net.IP(nil), r.ipnet.IP...), Mask: append(net.IPMask(nil), r.ipnet.Mask...)}
}

// Size returns the number of addresses the range can hand out.
func (r *Range) Size() int { return r.bits.Size() }

// Free returns the number of addresses not allocated (the reserved first
// one included while it is free).
func (r *Range) Free() int { return r.bits.Free() }

// Used returns the number of allocated addresses.
func (r *Range) Used() int { return r.bits.Used() }

// Contains tells whether ip is one of the addresses the range hands out.
func (r *Range) Contains(ip net.IP) bool {
	_, ok := r.offset(ip)
	return ok
}

// Allocate takes ip; ErrNotInRange or ErrAllocated if it cannot.
func (r *Range) Allocate(ip net.IP) error {
	off, ok := r.offset(ip)
	if !ok {
		return fmt.Errorf("allocate %s in %s: %w", ip, r, ErrNotInRange)
	}
	if err := r.bits.Allocate(off); err != nil {
		return fmt.Errorf("allocate %s in %s: %w", ip, r, err)
	}
	return nil
}

// AllocateNext takes a free address other than the first usable one, at
// random, preferring addresses above the static band; ErrFull if none.
func (r *Range) AllocateNext() (net.IP, error) {
	off, err := r.bits.AllocateNext()
	if err != nil {
		return nil, fmt.Errorf("allocate next in %s: %w", r, err)
	}
	return r.addr(off), nil
}

// Release frees ip; an address not allocated or not in range is ignored.
func (r *Range) Release(ip net.IP) {
	if off, ok := r.offset(ip); ok {
		r.bits.Release(off)
	}
}

// Has tells whether ip is allocated.
func (r *Range) Has(ip net.IP) bool {
	off, ok := r.offset(ip)
	return ok && r.bits.Has(off)
}

// ForEach calls fn with every allocated address in increasing order.
func (r *Range) ForEach(fn func(ip net.IP)) {
	r.bits.ForEach(func(off int) { fn(r.addr(off)) })
}

// Snapshot encodes the range and its allocations as JSON
// {"range": CIDR, "data": bitmap}, like upstream's RangeAllocation.
func (r *Range) Snapshot() []byte {
	return snapshotJSON(r.String(), r.bits)
}

// Restore replaces the allocations with a Snapshot of the same CIDR;
// ErrMismatch if it is of another range.
func (r *Range) Restore(data []byte) error {
	return restoreSnapshot(data, r.String(), r.bits)
}

// offset maps ip to its bitmap offset, if the range hands it out.
func (r *Range) offset(ip net.IP) (int, bool) {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return 0, false
	}
	addr = addr.Unmap()
	if addr.BitLen() != r.base.BitLen() || !r.cidr.Contains(addr) || addr.Less(r.base) {
		return 0, false
	}
	d, ok := distance(r.base, addr)
	if !ok || d >= uint64(r.bits.Size()) {
		return 0, false
	}
	return int(d), true
}

func (r *Range) addr(off int) net.IP {
	hi, lo := u128(r.base)
	lo, carry := bits.Add64(lo, uint64(off), 0)
	hi += carry
	var b [16]byte
	putU128(&b, hi, lo)
	a := netip.AddrFrom16(b)
	if r.base.Is4() {
		a = a.Unmap()
	}
	return net.IP(a.AsSlice())
}

// distance returns to-from when it fits in 64 bits.
func distance(from, to netip.Addr) (uint64, bool) {
	fh, fl := u128(from)
	th, tl := u128(to)
	lo, borrow := bits.Sub64(tl, fl, 0)
	hi, _ := bits.Sub64(th, fh, borrow)
	return lo, hi == 0
}

func u128(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(b[i])
		lo = lo<<8 | uint64(b[i+8])
	}
	return hi, lo
}

func putU128(b *[16]byte, hi, lo uint64) {
	for i := 7; i >= 0; i-- {
		b[i], b[i+8] = byte(hi), byte(lo)
		hi >>= 8
		lo >>= 8
	}
}
