package ipam

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"testing"
)

func mustCIDR(t testing.TB, s string) *net.IPNet {
	t.Helper()
	_, n, err := net.ParseCIDR(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewRangeSizes(t *testing.T) {
	for _, tc := range []struct {
		cidr    string
		size    int
		wantErr bool
	}{
		{cidr: "10.96.0.0/12", size: 1<<20 - 2},
		{cidr: "10.96.0.0/24", size: 254},
		{cidr: "192.168.1.0/30", size: 2},
		{cidr: "192.168.1.0/31", wantErr: true},
		{cidr: "10.0.0.0/8", wantErr: true},
		{cidr: "fd00::/120", size: 255},
		{cidr: "fd00::/64", size: 65535},
		{cidr: "fd00::/128", wantErr: true},
	} {
		r, err := NewRange(mustCIDR(t, tc.cidr))
		if (err != nil) != tc.wantErr {
			t.Errorf("NewRange(%s) err = %v, wantErr %v", tc.cidr, err, tc.wantErr)
			continue
		}
		if err == nil && r.Size() != tc.size {
			t.Errorf("NewRange(%s).Size() = %d, want %d", tc.cidr, r.Size(), tc.size)
		}
	}
}

func TestRangeAllocate(t *testing.T) {
	r, err := NewRange(mustCIDR(t, "10.96.0.0/24"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ip   string
		want error
	}{
		{ip: "10.96.0.1"},
		{ip: "10.96.0.1", want: ErrAllocated},
		{ip: "10.96.0.10"},
		{ip: "10.96.0.254"},
		{ip: "10.96.0.0", want: ErrNotInRange},   // network address
		{ip: "10.96.0.255", want: ErrNotInRange}, // broadcast
		{ip: "10.96.1.1", want: ErrNotInRange},
		{ip: "fd00::1", want: ErrNotInRange},
	} {
		err := r.Allocate(net.ParseIP(tc.ip))
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("Allocate(%s) = %v, want %v", tc.ip, err, tc.want)
		}
	}
	if !r.Has(net.ParseIP("10.96.0.10")) || r.Free() != 251 {
		t.Errorf("Has(.10)=%v Free()=%d", r.Has(net.ParseIP("10.96.0.10")), r.Free())
	}
	r.Release(net.ParseIP("10.96.0.10"))
	if r.Has(net.ParseIP("10.96.0.10")) {
		t.Errorf("released IP still allocated")
	}
}

func TestRangeAllocateAllNeverFirst(t *testing.T) {
	for _, cidr := range []string{"10.0.0.0/27", "192.168.0.0/22", "fd00::/118"} {
		r, err := NewRange(mustCIDR(t, cidr))
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for {
			ip, err := r.AllocateNext()
			if errors.Is(err, ErrFull) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if seen[ip.String()] || !r.Contains(ip) {
				t.Fatalf("%s: %s handed out twice or out of range", cidr, ip)
			}
			seen[ip.String()] = true
		}
		first := r.addr(0)
		if len(seen) != r.Size()-1 || seen[first.String()] {
			t.Fatalf("%s: allocated %d of %d, first %s taken=%v", cidr, len(seen), r.Size(), first, seen[first.String()])
		}
		if err := r.Allocate(first); err != nil {
			t.Fatalf("%s: explicit Allocate(%s): %v", cidr, first, err)
		}
	}
}

func TestRangeSnapshot(t *testing.T) {
	r, _ := NewRange(mustCIDR(t, "10.96.0.0/12"))
	for _, ip := range []string{"10.96.0.1", "10.96.0.10", "10.111.255.254"} {
		if err := r.Allocate(net.ParseIP(ip)); err != nil {
			t.Fatal(err)
		}
	}
	again, _ := NewRange(mustCIDR(t, "10.96.0.0/12"))
	if err := again.Restore(r.Snapshot()); err != nil {
		t.Fatal(err)
	}
	var got []string
	again.ForEach(func(ip net.IP) { got = append(got, ip.String()) })
	if len(got) != 3 || got[0] != "10.96.0.1" || got[2] != "10.111.255.254" {
		t.Fatalf("restored %v", got)
	}
	other, _ := NewRange(mustCIDR(t, "10.97.0.0/16"))
	if err := other.Restore(r.Snapshot()); !errors.Is(err, ErrMismatch) {
		t.Fatalf("restore into another CIDR: %v, want ErrMismatch", err)
	}
	if len(r.Snapshot()) > 100 {
		t.Errorf("sparse snapshot is %d bytes", len(r.Snapshot()))
	}
}

func TestRangeConcurrent(t *testing.T) {
	r, _ := NewRange(mustCIDR(t, "10.0.0.0/22"))
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				ip, err := r.AllocateNext()
				if err != nil {
					return
				}
				mu.Lock()
				if seen[ip.String()] {
					t.Errorf("%s allocated twice", ip)
				}
				seen[ip.String()] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(seen) != r.Size()-1 {
		t.Fatalf("allocated %d, want %d", len(seen), r.Size()-1)
	}
}

func TestPortRange(t *testing.T) {
	p, err := NewPortRange(DefaultNodePortBase, DefaultNodePortSize)
	if err != nil {
		t.Fatal(err)
	}
	if p.String() != "30000-32767" {
		t.Fatalf("String() = %q", p.String())
	}
	for _, tc := range []struct {
		port int
		want error
	}{
		{port: 30000},
		{port: 30000, want: ErrAllocated},
		{port: 32767},
		{port: 32768, want: ErrNotInRange},
		{port: 29999, want: ErrNotInRange},
	} {
		err := p.Allocate(tc.port)
		if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
			t.Errorf("Allocate(%d) = %v, want %v", tc.port, err, tc.want)
		}
	}
	if p.Free() != DefaultNodePortSize-2 {
		t.Errorf("Free() = %d", p.Free())
	}
	q, _ := NewPortRange(DefaultNodePortBase, DefaultNodePortSize)
	if err := q.Restore(p.Snapshot()); err != nil || !q.Has(32767) || q.Used() != 2 {
		t.Fatalf("restore: %v, used %d", err, q.Used())
	}
	other, _ := NewPortRange(31000, 100)
	if err := other.Restore(p.Snapshot()); !errors.Is(err, ErrMismatch) {
		t.Fatalf("restore into other range: %v", err)
	}
	for _, bad := range [][2]int{{0, 10}, {65530, 10}, {30000, 0}} {
		if _, err := NewPortRange(bad[0], bad[1]); err == nil {
			t.Errorf("NewPortRange(%d, %d) accepted", bad[0], bad[1])
		}
	}
}

// TestPortRangeProperty: allocate all, release some, allocate again; no
// port is ever handed out twice and the static band is used last.
func TestPortRangeProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	p, _ := NewPortRangeWithConfig(30000, 500, rng.IntN)
	band := portStaticBand(500)
	held := map[int]bool{}
	for i := 0; ; i++ {
		port, err := p.AllocateNext()
		if errors.Is(err, ErrFull) {
			break
		}
		if held[port] {
			t.Fatalf("port %d twice", port)
		}
		if i < 500-band && port < 30000+band {
			t.Fatalf("allocation %d took static-band port %d early", i, port)
		}
		held[port] = true
	}
	if len(held) != 500 {
		t.Fatalf("allocated %d of 500", len(held))
	}
	for port := range held {
		if rng.IntN(2) == 0 {
			p.Release(port)
			delete(held, port)
		}
	}
	for p.Free() > 0 {
		port, err := p.AllocateNext()
		if err != nil || held[port] {
			t.Fatalf("re-allocate: %d, %v", port, err)
		}
		held[port] = true
	}
}
