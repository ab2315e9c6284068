package hostlocal

import (
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
)

// stores runs a test against every Store implementation.
var stores = []struct {
	name string
	open func(t *testing.T) Store
}{
	{"mem", func(*testing.T) Store { return NewMemStore() }},
	{"disk", func(t *testing.T) Store {
		s, err := NewDiskStore(DiskStoreConfig{DataDir: t.TempDir(), Network: "testnet"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

func forEachStore(t *testing.T, fn func(t *testing.T, s Store)) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) { fn(t, st.open(t)) })
	}
}

func newAlloc(t *testing.T, s Store, ranges ...Range) *Allocator {
	t.Helper()
	a, err := NewAllocator(Config{Ranges: ranges, Store: s})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func att(i int) Attachment { return Attachment{ContainerID: fmt.Sprintf("c%d", i), IfName: "eth0"} }

// allocate takes the lock around one Allocate, as the plugin does.
func allocate(s Store, a *Allocator, at Attachment) (IPConfig, error) {
	var got IPConfig
	err := WithLock(s, func() (err error) {
		got, err = a.Allocate(at)
		return err
	})
	return got, err
}

func mustAllocate(t *testing.T, s Store, a *Allocator, at Attachment, want string) {
	t.Helper()
	got, err := allocate(s, a, at)
	if err != nil {
		t.Fatalf("allocate for %s: %v", at, err)
	}
	if got.Address.Addr().String() != want {
		t.Fatalf("allocate for %s = %s, want %s", at, got.Address, want)
	}
}

func release(t *testing.T, s Store, a *Allocator, at Attachment) {
	t.Helper()
	if err := WithLock(s, func() error { return a.Release(at) }); err != nil {
		t.Fatal(err)
	}
}

func TestAllocateRoundRobinAndRelease(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		// 10.0.0.0/29: hosts .1-.6, gateway .1, so .2-.6 are handed out.
		a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.0.0.0/29")})
		mustAllocate(t, s, a, att(1), "10.0.0.2")
		mustAllocate(t, s, a, att(2), "10.0.0.3")
		mustAllocate(t, s, a, att(3), "10.0.0.4")
		release(t, s, a, att(2))
		mustAllocate(t, s, a, att(4), "10.0.0.5") // not the freed .3
		mustAllocate(t, s, a, att(5), "10.0.0.6")
		mustAllocate(t, s, a, att(6), "10.0.0.3") // wraps past .2 (taken)
		_, err := allocate(s, a, att(7))
		want := "no IP addresses available in range 10.0.0.0/29 (5 usable addresses, all in use)"
		if !errors.Is(err, ErrExhausted) || err.Error() != want {
			t.Fatalf("allocate in a full range: %v, want %q", err, want)
		}
		release(t, s, a, att(7)) // releasing what is not held is fine
		release(t, s, a, att(1))
		mustAllocate(t, s, a, att(7), "10.0.0.2")
		got, err := a.Get(att(7))
		if err != nil || len(got) != 1 || got[0].Gateway.String() != "10.0.0.1" || got[0].Address.String() != "10.0.0.2/29" {
			t.Fatalf("Get = %v, %v", got, err)
		}
	})
}

func TestAllocateExhaustionSaysRangeAndSize(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.244.1.0/24")})
		seen := map[netip.Addr]bool{}
		for i := 0; i < 253; i++ {
			got, err := allocate(s, a, att(i))
			if err != nil {
				t.Fatalf("allocation %d: %v", i, err)
			}
			ip := got.Address.Addr()
			if seen[ip] || ip.String() == "10.244.1.0" || ip.String() == "10.244.1.1" || ip.String() == "10.244.1.255" {
				t.Fatalf("allocation %d handed out %s (duplicate, network, gateway or broadcast)", i, ip)
			}
			seen[ip] = true
		}
		_, err := allocate(s, a, att(999))
		want := "no IP addresses available in range 10.244.1.0/24 (253 usable addresses, all in use)"
		if err == nil || err.Error() != want {
			t.Fatalf("got %v, want %q", err, want)
		}
	})
}

func TestAllocateRefusesSecondAddOfAnAttachment(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.0.0.0/24")})
		mustAllocate(t, s, a, att(1), "10.0.0.2")
		if _, err := allocate(s, a, att(1)); !errors.Is(err, ErrAttachmentExists) {
			t.Fatalf("second allocate: %v, want ErrAttachmentExists", err)
		}
		// Same container, another interface: a separate attachment.
		mustAllocate(t, s, a, Attachment{ContainerID: "c1", IfName: "net1"}, "10.0.0.3")
	})
}

func TestAllocateAcrossRangesOfASet(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		a := newAlloc(t, s,
			Range{Subnet: netip.MustParsePrefix("10.1.0.0/24"), RangeStart: netip.MustParseAddr("10.1.0.10"),
				RangeEnd: netip.MustParseAddr("10.1.0.11"), Gateway: netip.MustParseAddr("10.1.0.254")},
			Range{Subnet: netip.MustParsePrefix("10.2.0.0/30")}, // .1 gateway, .2 usable
		)
		for i, want := range []string{"10.1.0.10", "10.1.0.11", "10.2.0.2"} {
			mustAllocate(t, s, a, att(i), want)
		}
		if _, err := allocate(s, a, att(9)); err == nil ||
			err.Error() != "no IP addresses available in range 10.1.0.0/24 [10.1.0.10-10.1.0.11], 10.2.0.0/30 (3 usable addresses, all in use)" {
			t.Fatalf("exhausted set: %v", err)
		}
		release(t, s, a, att(0))
		mustAllocate(t, s, a, att(9), "10.1.0.10") // wrapped to the first range
		got, _ := a.Get(att(2))
		if len(got) != 1 || got[0].Address.String() != "10.2.0.2/30" || got[0].Gateway.String() != "10.2.0.1" {
			t.Fatalf("Get(att 2) = %v", got)
		}
	})
}

func TestAllocateStartsOverWhenLastReservedIsForeign(t *testing.T) {
	s := NewMemStore()
	if _, err := s.Reserve(att(0), netip.MustParseAddr("192.168.0.7"), "0"); err != nil {
		t.Fatal(err)
	}
	a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.0.0.0/24")})
	mustAllocate(t, s, a, att(1), "10.0.0.2")
}

func TestAllocateConcurrently(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.0.0.0/24")})
		const n = 64
		got := make([]netip.Addr, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Go(func() {
				var c IPConfig
				c, errs[i] = allocate(s, a, att(i))
				got[i] = c.Address.Addr()
				if i%4 == 0 && errs[i] == nil { // churn: some release again
					errs[i] = WithLock(s, func() error { return a.Release(att(i)) })
				}
			})
		}
		wg.Wait()
		seen := map[netip.Addr]int{}
		for i := 0; i < n; i++ {
			if errs[i] != nil {
				t.Fatalf("goroutine %d: %v", i, errs[i])
			}
			if i%4 != 0 {
				if j, dup := seen[got[i]]; dup {
					t.Fatalf("%s handed to %d and %d", got[i], j, i)
				}
				seen[got[i]] = i
			}
		}
		list, _ := s.List()
		if len(list) != n-n/4 {
			t.Fatalf("%d reservations left, want %d", len(list), n-n/4)
		}
	})
}

func TestGCReleasesWhatIsNotValid(t *testing.T) {
	forEachStore(t, func(t *testing.T, s Store) {
		a := newAlloc(t, s, Range{Subnet: netip.MustParsePrefix("10.0.0.0/24")})
		for i := 0; i < 5; i++ {
			if _, err := allocate(s, a, att(i)); err != nil {
				t.Fatal(err)
			}
		}
		released, err := GC(s, []Attachment{att(1), att(3), att(42)})
		if err != nil {
			t.Fatal(err)
		}
		if len(released) != 3 {
			t.Fatalf("released %v, want those of c0, c2, c4", released)
		}
		list, _ := s.List()
		if len(list) != 2 || list[0].Attachment != att(1) || list[1].Attachment != att(3) {
			t.Fatalf("left %v, want c1 and c3", list)
		}
		if released, err := GC(s, nil); err != nil || len(released) != 2 {
			t.Fatalf("GC with no valid attachment released %v, %v", released, err)
		}
	})
}
