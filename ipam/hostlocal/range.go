// Package hostlocal is host-local style IPAM: a pure Allocator that hands
// out addresses of a RangeSet round-robin, over a small Store that records
// one reservation per attachment (container ID + interface name). DiskStore
// keeps them in files shared by every plugin process on a node; MemStore is
// the in-memory fake for tests.
package hostlocal

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"net/netip"
	"strings"
)

// Range is one subnet to hand addresses out of, in host-local's shape.
// Zero RangeStart, RangeEnd and Gateway take their defaults: the first and
// last host addresses of Subnet, and its first host address.
type Range struct {
	Subnet     netip.Prefix
	RangeStart netip.Addr
	RangeEnd   netip.Addr
	Gateway    netip.Addr
}

// RangeSet is the ranges one address is taken from, tried in order.
type RangeSet []Range

// Canonical returns r with defaults filled in and the subnet masked, or an
// error saying what is wrong with it.
func (r Range) Canonical() (Range, error) {
	if !r.Subnet.IsValid() {
		return r, fmt.Errorf("range has no subnet")
	}
	r.Subnet = r.Subnet.Masked()
	first, last, ok := hostBounds(r.Subnet)
	if !ok {
		return r, fmt.Errorf("subnet %s is too small: it has no host address", r.Subnet)
	}
	var err error
	if r.RangeStart, err = inSubnet(r.Subnet, r.RangeStart, first, first, last, "rangeStart"); err != nil {
		return r, err
	}
	if r.RangeEnd, err = inSubnet(r.Subnet, r.RangeEnd, last, r.RangeStart, last, "rangeEnd"); err != nil {
		return r, err
	}
	if r.Gateway, err = inSubnet(r.Subnet, r.Gateway, first, first, last, "gateway"); err != nil {
		return r, err
	}
	if r.Size() == 0 {
		return r, fmt.Errorf("range %s holds no address besides its gateway %s", r, r.Gateway)
	}
	return r, nil
}

// inSubnet checks that a (zero: def) lies in [lo, hi] of subnet.
func inSubnet(subnet netip.Prefix, a, def, lo, hi netip.Addr, what string) (netip.Addr, error) {
	if !a.IsValid() {
		a = def
	}
	a = a.Unmap()
	if !subnet.Contains(a) || a.Less(lo) || hi.Less(a) {
		return a, fmt.Errorf("%s %s is not a usable address of %s (%s-%s)", what, a, subnet, lo, hi)
	}
	return a, nil
}

// hostBounds returns the first and last host address of p: the network
// address and, for IPv4, the broadcast address are never hosts.
func hostBounds(p netip.Prefix) (first, last netip.Addr, ok bool) {
	hostBits := p.Addr().BitLen() - p.Bits()
	if hostBits < 1 || (p.Addr().Is4() && hostBits < 2) {
		return first, last, false
	}
	first = p.Addr().Next()
	last = lastAddr(p)
	if p.Addr().Is4() {
		last = last.Prev()
	}
	return first, last, true
}

// lastAddr is the highest address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Addr().AsSlice()
	for i := range b {
		bit := i * 8
		switch {
		case bit >= p.Bits():
			b[i] = 0xff
		case bit+8 > p.Bits():
			b[i] |= 0xff >> (p.Bits() - bit)
		}
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}

// Contains tells whether a is one of the addresses r hands out.
func (r Range) Contains(a netip.Addr) bool {
	a = a.Unmap()
	return r.Subnet.Contains(a) && !a.Less(r.RangeStart) && !r.RangeEnd.Less(a) && a != r.Gateway
}

// Size is the number of addresses r hands out (saturating for huge IPv6
// ranges).
func (r Range) Size() uint64 {
	n := span(r.RangeStart, r.RangeEnd)
	if n == ^uint64(0) {
		return n
	}
	if !r.Gateway.Less(r.RangeStart) && !r.RangeEnd.Less(r.Gateway) {
		n--
	}
	return n
}

// span is hi-lo+1, saturated at the largest uint64.
func span(lo, hi netip.Addr) uint64 {
	lh, ll := u128(lo)
	hh, hl := u128(hi)
	d, borrow := bits.Sub64(hl, ll, 0)
	dh, _ := bits.Sub64(hh, lh, borrow)
	if dh != 0 || d == ^uint64(0) {
		return ^uint64(0)
	}
	return d + 1
}

func u128(a netip.Addr) (hi, lo uint64) {
	b := a.As16()
	return binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
}

// String is the subnet, with the bounds when they are not the defaults.
func (r Range) String() string {
	first, last, _ := hostBounds(r.Subnet)
	if (!r.RangeStart.IsValid() || r.RangeStart == first) && (!r.RangeEnd.IsValid() || r.RangeEnd == last) {
		return r.Subnet.String()
	}
	return fmt.Sprintf("%s [%s-%s]", r.Subnet, r.RangeStart, r.RangeEnd)
}

// Canonical checks every range and that they neither overlap nor mix
// address families.
func (s RangeSet) Canonical() (RangeSet, error) {
	if len(s) == 0 {
		return nil, fmt.Errorf("range set is empty")
	}
	out := make(RangeSet, len(s))
	for i, r := range s {
		c, err := r.Canonical()
		if err != nil {
			return nil, err
		}
		for _, prev := range out[:i] {
			if prev.Subnet.Addr().Is4() != c.Subnet.Addr().Is4() {
				return nil, fmt.Errorf("range set mixes IPv4 and IPv6: %s and %s", prev, c)
			}
			if !c.RangeEnd.Less(prev.RangeStart) && !prev.RangeEnd.Less(c.RangeStart) {
				return nil, fmt.Errorf("ranges %s and %s overlap", prev, c)
			}
		}
		out[i] = c
	}
	return out, nil
}

// Size is the number of addresses the set hands out (saturating).
func (s RangeSet) Size() uint64 {
	var n uint64
	for _, r := range s {
		if n+r.Size() < n {
			return ^uint64(0)
		}
		n += r.Size()
	}
	return n
}

// Find returns the range a belongs to.
func (s RangeSet) Find(a netip.Addr) (Range, bool) {
	for _, r := range s {
		if r.Contains(a) {
			return r, true
		}
	}
	return Range{}, false
}

func (s RangeSet) String() string {
	parts := make([]string, len(s))
	for i, r := range s {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}
