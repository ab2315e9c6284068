package ipam

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func newBitmap(t *testing.T, cfg BitmapConfig) *Bitmap {
	t.Helper()
	b, err := NewBitmap(cfg)
	if err != nil {
		t.Fatalf("NewBitmap(%+v): %v", cfg, err)
	}
	return b
}

func TestBitmapAllocate(t *testing.T) {
	b := newBitmap(t, BitmapConfig{Size: 10, Reserved: 1})
	for _, tc := range []struct {
		off  int
		want error
	}{
		{off: 0},
		{off: 0, want: ErrAllocated},
		{off: 9},
		{off: 10, want: ErrNotInRange},
		{off: -1, want: ErrNotInRange},
	} {
		if err := b.Allocate(tc.off); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("Allocate(%d) = %v, want %v", tc.off, err, tc.want)
		}
	}
	if got := b.Free(); got != 8 {
		t.Errorf("Free() = %d, want 8", got)
	}
	b.Release(9)
	b.Release(9) // twice is harmless
	b.Release(42)
	if b.Has(9) || !b.Has(0) || b.Free() != 9 {
		t.Errorf("after release: Has(9)=%v Has(0)=%v Free()=%d", b.Has(9), b.Has(0), b.Free())
	}
}

func TestBitmapNextSkipsReservedAndPrefersUpperBand(t *testing.T) {
	const size, reserved, band = 100, 1, 20
	b := newBitmap(t, BitmapConfig{Size: size, Reserved: reserved, StaticBand: band})
	var got []int
	for {
		off, err := b.AllocateNext()
		if errors.Is(err, ErrFull) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, off)
	}
	if len(got) != size-reserved {
		t.Fatalf("allocated %d offsets, want %d", len(got), size-reserved)
	}
	for i, off := range got {
		upper := i < size-band
		if upper != (off >= band) {
			t.Fatalf("allocation %d got offset %d: upper band must be used up first", i, off)
		}
		if off < reserved {
			t.Fatalf("AllocateNext returned reserved offset %d", off)
		}
	}
	if b.Has(0) || b.Free() != 1 {
		t.Fatalf("reserved offset taken or wrong Free(): %d", b.Free())
	}
	if err := b.Allocate(0); err != nil {
		t.Fatalf("explicit Allocate(0): %v", err)
	}
}

func TestBitmapNextWordBoundaries(t *testing.T) {
	// Deterministic random start at every position: the scan must wrap and
	// cross 64-bit words correctly.
	for start := 0; start < 130; start++ {
		b := newBitmap(t, BitmapConfig{Size: 130, RandN: func(int) int { return start }})
		for i := 0; i < 130; i++ {
			if i != 77 {
				if err := b.Allocate(i); err != nil {
					t.Fatal(err)
				}
			}
		}
		off, err := b.AllocateNext()
		if err != nil || off != 77 {
			t.Fatalf("start %d: AllocateNext() = %d, %v; want 77", start, off, err)
		}
	}
}

func TestBitmapSnapshotRoundTrip(t *testing.T) {
	b := newBitmap(t, BitmapConfig{Size: 1000})
	want := []int{0, 1, 63, 64, 65, 500, 999}
	for _, off := range want {
		if err := b.Allocate(off); err != nil {
			t.Fatal(err)
		}
	}
	c := newBitmap(t, BitmapConfig{Size: 1000})
	if err := c.Restore(b.Snapshot()); err != nil {
		t.Fatal(err)
	}
	var got []int
	c.ForEach(func(off int) { got = append(got, off) })
	if !slices.Equal(got, want) || c.Used() != len(want) {
		t.Fatalf("restored %v (used %d), want %v", got, c.Used(), want)
	}
	small := newBitmap(t, BitmapConfig{Size: 999})
	if err := small.Restore(b.Snapshot()); !errors.Is(err, ErrMismatch) {
		t.Fatalf("restore into a smaller bitmap: %v, want ErrMismatch", err)
	}
	for _, bad := range [][]byte{nil, {5}, {1, 0}, append(b.Snapshot(), 1)} {
		if err := c.Restore(bad); !errors.Is(err, ErrMismatch) {
			t.Errorf("Restore(%v) = %v, want ErrMismatch", bad, err)
		}
	}
	if c.Used() != len(want) {
		t.Errorf("failed restore changed the bitmap")
	}
}

// TestBitmapProperty allocates and releases at random against a model set
// and checks that no offset is ever handed out twice.
func TestBitmapProperty(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		size := 1 + rng.IntN(300)
		reserved := rng.IntN(min(size, 3) + 1)
		b := newBitmap(t, BitmapConfig{Size: size, Reserved: reserved, StaticBand: rng.IntN(size + 1), RandN: rng.IntN})
		checkAgainstModel(t, b, rng, reserved)
	}
}

func checkAgainstModel(t *testing.T, b *Bitmap, rng *rand.Rand, reserved int) {
	t.Helper()
	model := map[int]bool{}
	for step := 0; step < 2000; step++ {
		switch rng.IntN(3) {
		case 0, 1:
			off, err := b.AllocateNext()
			dynamicFree := b.Size() - reserved - countAbove(model, reserved)
			if errors.Is(err, ErrFull) != (dynamicFree == 0) {
				t.Fatalf("AllocateNext err=%v with %d dynamic offsets free", err, dynamicFree)
			}
			if err == nil {
				if model[off] || off < reserved {
					t.Fatalf("AllocateNext returned %d: taken or reserved", off)
				}
				model[off] = true
			}
		case 2:
			off := rng.IntN(b.Size())
			b.Release(off)
			delete(model, off)
		}
		if b.Used() != len(model) {
			t.Fatalf("Used() = %d, model has %d", b.Used(), len(model))
		}
	}
}

func countAbove(m map[int]bool, lo int) int {
	n := 0
	for off := range m {
		if off >= lo {
			n++
		}
	}
	return n
}

func FuzzBitmapSnapshot(f *testing.F) {
	f.Add([]byte{2, 1, 5}, uint16(10))
	f.Add([]byte{0}, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, size uint16) {
		b, err := NewBitmap(BitmapConfig{Size: int(size)})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Restore(data); err != nil {
			return
		}
		// Whatever restored must survive a round trip unchanged.
		c, _ := NewBitmap(BitmapConfig{Size: int(size)})
		if err := c.Restore(b.Snapshot()); err != nil {
			t.Fatalf("round trip: %v", err)
		}
		if !slices.Equal(b.Snapshot(), c.Snapshot()) || b.Used() > int(size) {
			t.Fatalf("round trip changed the set")
		}
	})
}
