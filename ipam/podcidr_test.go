package ipam

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

func newPodCIDR(t *testing.T, cluster string, mask int) *PodCIDRAllocator {
	t.Helper()
	a, err := NewPodCIDRAllocator(PodCIDRConfig{ClusterCIDR: netip.MustParsePrefix(cluster), NodeMaskSize: mask})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestNewPodCIDRAllocatorConfig(t *testing.T) {
	for _, tc := range []struct {
		cluster string
		mask    int
		size    int
		wantErr string
	}{
		{cluster: "10.244.0.0/16", size: 256},
		{cluster: "10.244.7.9/16", mask: 26, size: 1024},
		{cluster: "10.244.0.0/24", mask: 24, size: 1},
		{cluster: "fd00:10:244::/56", size: 256},
		{cluster: "10.244.0.0/16", mask: 15, wantErr: "shorter than the cluster CIDR 10.244.0.0/16"},
		{cluster: "10.244.0.0/16", mask: 33, wantErr: "longer than an address"},
		{cluster: "10.0.0.0/8", mask: 25, wantErr: "2^17 ranges, more than 2^16"},
		{cluster: "", wantErr: "no cluster CIDR"},
	} {
		var cluster netip.Prefix
		if tc.cluster != "" {
			cluster = netip.MustParsePrefix(tc.cluster)
		}
		a, err := NewPodCIDRAllocator(PodCIDRConfig{ClusterCIDR: cluster, NodeMaskSize: tc.mask})
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s /%d: err = %v, want %q", tc.cluster, tc.mask, err, tc.wantErr)
			}
			continue
		}
		if err != nil || a.Size() != tc.size {
			t.Errorf("%s /%d: size %v, %v; want %d", tc.cluster, tc.mask, a, err, tc.size)
		}
	}
}

// TestPodCIDRSteps runs one allocator through a sequence of steps.
func TestPodCIDRSteps(t *testing.T) {
	type step struct {
		op, node, cidr string // op: alloc, occupy, release, releaseCIDR
		want           string // allocated CIDR, or "" for none
		wantErr        error
	}
	for _, tc := range []struct {
		name    string
		cluster string
		mask    int
		steps   []step
	}{
		{name: "idempotent and lowest first", cluster: "10.244.0.0/16", steps: []step{
			{op: "alloc", node: "a", want: "10.244.0.0/24"},
			{op: "alloc", node: "b", want: "10.244.1.0/24"},
			{op: "alloc", node: "a", want: "10.244.0.0/24"},
			{op: "release", node: "a"},
			{op: "release", node: "a"}, // twice is fine
			{op: "alloc", node: "c", want: "10.244.0.0/24"},
			{op: "alloc", node: "a", want: "10.244.2.0/24"},
		}},
		{name: "occupy existing assignments", cluster: "10.244.0.0/16", steps: []step{
			{op: "occupy", node: "a", cidr: "10.244.0.0/24"},
			{op: "occupy", node: "a", cidr: "10.244.0.0/24"}, // same again: fine
			{op: "occupy", node: "b", cidr: "10.244.0.0/24", wantErr: ErrAllocated},
			{op: "occupy", node: "a", cidr: "10.244.5.0/24", wantErr: errAny},
			{op: "occupy", node: "", cidr: "10.244.1.0/24"},
			{op: "occupy", node: "b", cidr: "10.244.1.0/24", wantErr: ErrAllocated},
			{op: "alloc", node: "b", want: "10.244.2.0/24"},
			{op: "alloc", node: "a", want: "10.244.0.0/24"},
			{op: "occupy", node: "x", cidr: "10.245.0.0/24", wantErr: ErrNotInRange},
			{op: "occupy", node: "x", cidr: "10.244.3.0/25", wantErr: ErrNotInRange},
			{op: "occupy", node: "x", cidr: "10.244.3.1/24", wantErr: ErrNotInRange},
			{op: "releaseCIDR", cidr: "10.244.1.0/24"},
			{op: "alloc", node: "x", want: "10.244.1.0/24"},
			{op: "releaseCIDR", cidr: "10.244.0.0/24"},
			{op: "alloc", node: "a", want: "10.244.0.0/24"}, // a lost its range with the CIDR
			{op: "releaseCIDR", cidr: "192.168.0.0/24", wantErr: ErrNotInRange},
		}},
		{name: "full", cluster: "10.0.0.0/23", mask: 24, steps: []step{
			{op: "alloc", node: "a", want: "10.0.0.0/24"},
			{op: "alloc", node: "b", want: "10.0.1.0/24"},
			{op: "alloc", node: "c", wantErr: ErrFull},
			{op: "release", node: "a"},
			{op: "alloc", node: "c", want: "10.0.0.0/24"},
		}},
		{name: "ipv6", cluster: "fd00:10:244::/56", steps: []step{
			{op: "alloc", node: "a", want: "fd00:10:244::/64"},
			{op: "alloc", node: "b", want: "fd00:10:244:1::/64"},
			{op: "occupy", node: "c", cidr: "fd00:10:244:ff::/64"},
			{op: "occupy", node: "d", cidr: "10.0.0.0/64", wantErr: errAny},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newPodCIDR(t, tc.cluster, tc.mask)
			for i, s := range tc.steps {
				got, err := runPodCIDRStep(a, s.op, s.node, s.cidr)
				if !matchErr(err, s.wantErr) || (s.want != "" && got != s.want) {
					t.Fatalf("step %d %+v: got %q, %v", i, s, got, err)
				}
			}
		})
	}
}

var errAny = errors.New("any error")

func matchErr(err, want error) bool {
	switch want {
	case nil:
		return err == nil
	case errAny:
		return err != nil
	}
	return errors.Is(err, want)
}

func runPodCIDRStep(a *PodCIDRAllocator, op, node, cidr string) (string, error) {
	parse := func() netip.Prefix { p, _ := netip.ParsePrefix(cidr); return p }
	switch op {
	case "alloc":
		p, err := a.Allocate(node)
		if err != nil {
			return "", err
		}
		if l, ok := a.Lookup(node); !ok || l != p {
			return "", fmt.Errorf("Lookup(%s) = %v, %v after Allocate gave %v", node, l, ok, p)
		}
		return p.String(), nil
	case "occupy":
		return "", a.Occupy(node, parse())
	case "release":
		a.Release(node)
		return "", nil
	case "releaseCIDR":
		return "", a.ReleaseCIDR(parse())
	}
	return "", fmt.Errorf("unknown op %s", op)
}

func TestPodCIDRFullErrorSaysWhat(t *testing.T) {
	a := newPodCIDR(t, "10.0.0.0/24", 25)
	for _, n := range []string{"a", "b"} {
		if _, err := a.Allocate(n); err != nil {
			t.Fatal(err)
		}
	}
	_, err := a.Allocate("c")
	want := "allocate pod CIDR for node c: no range left in 10.0.0.0/24 (2 ranges of /25, all assigned): range is full"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if _, err := a.Allocate(""); err == nil {
		t.Fatal("empty node name accepted")
	}
}

func TestPodCIDRConcurrentNodesNeverShare(t *testing.T) {
	a := newPodCIDR(t, "10.244.0.0/16", 24)
	const n = 256
	got := make([]netip.Prefix, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Go(func() {
			node := fmt.Sprintf("node-%d", i)
			p, err := a.Allocate(node)
			if err != nil {
				t.Error(err)
			}
			if again, _ := a.Allocate(node); again != p {
				t.Errorf("%s: %v then %v", node, p, again)
			}
			got[i] = p
		})
	}
	wg.Wait()
	seen := map[netip.Prefix]bool{}
	for _, p := range got {
		if seen[p] {
			t.Fatalf("%s given to two nodes", p)
		}
		seen[p] = true
	}
	if _, err := a.Allocate("one-too-many"); !errors.Is(err, ErrFull) {
		t.Fatalf("allocate past the end: %v", err)
	}
}
