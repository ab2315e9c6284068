// Package ipam holds pure allocators: a generic Bitmap of offsets, and over
// it a Range of IP addresses (service cluster IPs now, per-node pod ranges
// later) and a PortRange (node ports). Nothing here touches the kernel or a
// store; callers persist Snapshot() and feed it back to Restore().
package ipam

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"sync"
)

// Errors of every allocator here (wrapped; test with errors.Is).
var (
	ErrFull       = errors.New("range is full")
	ErrAllocated  = errors.New("provided value is already allocated")
	ErrNotInRange = errors.New("provided value is not in the valid range")
	ErrMismatch   = errors.New("snapshot does not match the range")
)

// BitmapConfig sizes a Bitmap and says how AllocateNext picks offsets.
type BitmapConfig struct {
	// Size is the number of offsets, [0, Size).
	Size int
	// Reserved offsets [0, Reserved) are never returned by AllocateNext;
	// only an explicit Allocate takes them (the kubernetes service's .1,
	// a bridge gateway).
	Reserved int
	// StaticBand offsets [Reserved, StaticBand) are tried by AllocateNext
	// only once every offset above them is taken, so that clients asking
	// for a fixed value (a DNS service IP, a well-known node port) rarely
	// find it used by a dynamic allocation. Zero or below Reserved: none.
	StaticBand int
	// RandN returns a random int in [0, n); nil uses math/rand/v2.
	RandN func(n int) int
}

// Bitmap is a set of allocated offsets in [0, Size). It is safe for
// concurrent use.
type Bitmap struct {
	mu       sync.Mutex
	size     int
	reserved int
	band     int
	randN    func(int) int
	words    []uint64
	used     int
}

// NewBitmap returns an empty bitmap.
func NewBitmap(cfg BitmapConfig) (*Bitmap, error) {
	if cfg.Size < 0 || cfg.Reserved < 0 || cfg.Reserved > cfg.Size || cfg.StaticBand > cfg.Size {
		return nil, fmt.Errorf("invalid bitmap config size=%d reserved=%d band=%d", cfg.Size, cfg.Reserved, cfg.StaticBand)
	}
	band := max(cfg.StaticBand, cfg.Reserved)
	randN := cfg.RandN
	if randN == nil {
		randN = rand.IntN
	}
	return &Bitmap{
		size:     cfg.Size,
		reserved: cfg.Reserved,
		band:     band,
		randN:    randN,
		words:    make([]uint64, (cfg.Size+63)/64),
	}, nil
}

// Size returns the number of offsets.
func (b *Bitmap) Size() int { return b.size }

// Allocate takes off; ErrNotInRange or ErrAllocated if it cannot.
func (b *Bitmap) Allocate(off int) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if off < 0 || off >= b.size {
		return fmt.Errorf("offset %d of %d: %w", off, b.size, ErrNotInRange)
	}
	if b.has(off) {
		return fmt.Errorf("offset %d: %w", off, ErrAllocated)
	}
	b.set(off)
	return nil
}

// AllocateNext takes a free offset outside the reserved ones: a random one
// above the static band if any is free, else a random one inside it.
func (b *Bitmap) AllocateNext() (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, r := range [][2]int{{b.band, b.size}, {b.reserved, b.band}} {
		if off, ok := b.scan(r[0], r[1]); ok {
			b.set(off)
			return off, nil
		}
	}
	return 0, ErrFull
}

// Release frees off; releasing a free or out-of-range offset does nothing.
func (b *Bitmap) Release(off int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if off < 0 || off >= b.size || !b.has(off) {
		return
	}
	b.words[off/64] &^= 1 << (off % 64)
	b.used--
}

// Has tells whether off is allocated.
func (b *Bitmap) Has(off int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return off >= 0 && off < b.size && b.has(off)
}

// Free returns the number of offsets not allocated, reserved ones included.
func (b *Bitmap) Free() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.size - b.used
}

// Used returns the number of allocated offsets.
func (b *Bitmap) Used() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// ForEach calls fn for every allocated offset in increasing order. fn must
// not call back into b.
func (b *Bitmap) ForEach(fn func(off int)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.forEach(fn)
}

// Snapshot encodes the allocated offsets: their count, then each one as the
// uvarint distance from the previous one (so sparse sets stay small).
func (b *Bitmap) Snapshot() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := binary.AppendUvarint(nil, uint64(b.used))
	prev := -1
	b.forEach(func(off int) {
		out = binary.AppendUvarint(out, uint64(off-prev))
		prev = off
	})
	return out
}

// Restore replaces the allocated set with one from Snapshot. On error b is
// left unchanged.
func (b *Bitmap) Restore(data []byte) error {
	words, used, err := decodeOffsets(data, b.size)
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.words, b.used = words, used
	return nil
}

func decodeOffsets(data []byte, size int) ([]uint64, int, error) {
	count, n := binary.Uvarint(data)
	if n <= 0 || count > uint64(size) {
		return nil, 0, fmt.Errorf("decode bitmap: bad count: %w", ErrMismatch)
	}
	data = data[n:]
	words := make([]uint64, (size+63)/64)
	off := -1
	for i := uint64(0); i < count; i++ {
		d, n := binary.Uvarint(data)
		if n <= 0 || d == 0 || d > uint64(size) || off+int(d) >= size {
			return nil, 0, fmt.Errorf("decode bitmap: bad offset %d: %w", i, ErrMismatch)
		}
		data = data[n:]
		off += int(d)
		words[off/64] |= 1 << (off % 64)
	}
	if len(data) != 0 {
		return nil, 0, fmt.Errorf("decode bitmap: %d trailing bytes: %w", len(data), ErrMismatch)
	}
	return words, int(count), nil
}

func (b *Bitmap) has(off int) bool { return b.words[off/64]&(1<<(off%64)) != 0 }

func (b *Bitmap) set(off int) {
	b.words[off/64] |= 1 << (off % 64)
	b.used++
}

func (b *Bitmap) forEach(fn func(off int)) {
	for w, word := range b.words {
		for word != 0 {
			bit := bits.TrailingZeros64(word)
			fn(w*64 + bit)
			word &^= 1 << bit
		}
	}
}

// scan finds a free offset in [lo, hi), looking from a random start and
// wrapping around, as upstream's random-scan strategy does to spread
// allocations.
func (b *Bitmap) scan(lo, hi int) (int, bool) {
	if lo >= hi {
		return 0, false
	}
	start := lo + b.randN(hi-lo)
	if off, ok := b.firstFree(start, hi); ok {
		return off, true
	}
	return b.firstFree(lo, start)
}

// firstFree returns the lowest free offset in [from, to), a word at a time.
func (b *Bitmap) firstFree(from, to int) (int, bool) {
	for i := from; i < to; {
		w, bit := i/64, i%64
		free := ^b.words[w] >> bit
		if free != 0 {
			off := i + bits.TrailingZeros64(free)
			return off, off < to
		}
		i = (w + 1) * 64
	}
	return 0, false
}
