package hostlocal

import (
	"fmt"
	"net/netip"
)

// Config says what an Allocator hands out and where it records it.
type Config struct {
	// Ranges is the set one address per attachment is taken from.
	Ranges RangeSet
	// RangeID names the set in the store (its last reserved address is
	// kept per ID); "0" when empty.
	RangeID string
	Store   Store
}

// Allocator hands out the addresses of one RangeSet round-robin: the
// search starts after the last address reserved, so a freed address is not
// reused at once. The network, broadcast and gateway addresses are never
// handed out. Callers hold the store's lock around every call.
type Allocator struct {
	ranges  RangeSet
	rangeID string
	store   Store
}

// IPConfig is an address handed out, with its subnet's prefix length, and
// the gateway of its range.
type IPConfig struct {
	Address netip.Prefix
	Gateway netip.Addr
}

// NewAllocator checks cfg and returns an Allocator over it.
func NewAllocator(cfg Config) (*Allocator, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("new allocator: no store")
	}
	ranges, err := cfg.Ranges.Canonical()
	if err != nil {
		return nil, fmt.Errorf("new allocator: %w", err)
	}
	id := cfg.RangeID
	if id == "" {
		id = "0"
	}
	return &Allocator{ranges: ranges, rangeID: id, store: cfg.Store}, nil
}

// Ranges returns the canonical range set.
func (a *Allocator) Ranges() RangeSet { return a.ranges }

// Allocate reserves an address for att. It refuses an attachment that
// already holds one (ErrAttachmentExists) and says which range is full
// when none is left (ErrExhausted).
func (a *Allocator) Allocate(att Attachment) (IPConfig, error) {
	held, err := a.store.GetByID(att)
	if err != nil {
		return IPConfig{}, fmt.Errorf("look up addresses of %s: %w", att, err)
	}
	if len(held) > 0 {
		return IPConfig{}, fmt.Errorf("%s holds %s: %w", att, held[0], ErrAttachmentExists)
	}
	last, err := a.store.LastReservedIP(a.rangeID)
	if err != nil {
		return IPConfig{}, fmt.Errorf("read last reserved address of range %s: %w", a.ranges, err)
	}
	var found IPConfig
	err = a.walk(last, func(r Range, ip netip.Addr) (bool, error) {
		ok, err := a.store.Reserve(att, ip, a.rangeID)
		if err != nil {
			return false, fmt.Errorf("reserve %s for %s: %w", ip, att, err)
		}
		if ok {
			found = IPConfig{Address: netip.PrefixFrom(ip, r.Subnet.Bits()), Gateway: r.Gateway}
		}
		return ok, nil
	})
	if err != nil {
		return IPConfig{}, err
	}
	if !found.Address.IsValid() {
		return IPConfig{}, a.exhausted()
	}
	return found, nil
}

func (a *Allocator) exhausted() error {
	return fmt.Errorf("%w in range %s (%d usable addresses, all in use)", ErrExhausted, a.ranges, a.ranges.Size())
}

// walk calls try with every address of the set once, starting after last
// (or at the start when last is not in the set), until try says stop.
func (a *Allocator) walk(last netip.Addr, try func(Range, netip.Addr) (bool, error)) error {
	ri, ip := 0, netip.Addr{}
	for i, r := range a.ranges {
		if last.IsValid() && r.Subnet.Contains(last) && !last.Less(r.RangeStart) && !r.RangeEnd.Less(last) {
			ri, ip = i, last
		}
	}
	for n := uint64(0); n < a.ranges.Size(); {
		ri, ip = a.next(ri, ip)
		r := a.ranges[ri]
		if ip == r.Gateway {
			continue
		}
		n++
		stop, err := try(r, ip)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// next returns the address after ip in range ri, moving to the start of
// the next range (wrapping) past the end; a zero ip means "before the
// start of range ri".
func (a *Allocator) next(ri int, ip netip.Addr) (int, netip.Addr) {
	r := a.ranges[ri]
	if !ip.IsValid() {
		return ri, r.RangeStart
	}
	if ip.Less(r.RangeEnd) {
		return ri, ip.Next()
	}
	ri = (ri + 1) % len(a.ranges)
	return ri, a.ranges[ri].RangeStart
}

// Release frees whatever att holds.
func (a *Allocator) Release(att Attachment) error {
	if err := a.store.ReleaseByID(att); err != nil {
		return fmt.Errorf("release addresses of %s: %w", att, err)
	}
	return nil
}

// Get returns the addresses att holds in this allocator's ranges.
func (a *Allocator) Get(att Attachment) ([]IPConfig, error) {
	held, err := a.store.GetByID(att)
	if err != nil {
		return nil, fmt.Errorf("look up addresses of %s: %w", att, err)
	}
	var out []IPConfig
	for _, ip := range held {
		if r, ok := a.ranges.Find(ip); ok {
			out = append(out, IPConfig{Address: netip.PrefixFrom(ip, r.Subnet.Bits()), Gateway: r.Gateway})
		}
	}
	return out, nil
}
