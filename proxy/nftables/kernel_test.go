//go:build linux

package nftables

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	labnetns "rudder/lab/netns"
	"rudder/proxy/model"
)

// inFreshNetns runs fn on this goroutine, locked to its thread, inside a
// new network namespace that is removed afterwards; nft commands started
// by fn inherit the namespace. Never touches the root namespace's rules.
func inFreshNetns(tb testing.TB, fn func(ns *labnetns.NS)) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		tb.Skip("needs nft")
	}
	ns, err := labnetns.Create(labnetns.RunPrefix("rdrnft"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			tb.Errorf("delete namespace: %v", err)
		}
	})
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		tb.Fatal(err)
	}
	defer orig.Close()
	target, err := netns.GetFromPath(ns.Path)
	if err != nil {
		runtime.UnlockOSThread()
		tb.Fatal(err)
	}
	defer target.Close()
	if err := netns.Set(target); err != nil {
		runtime.UnlockOSThread()
		tb.Fatal(err)
	}
	defer func() {
		// If the thread cannot go back, leave it locked: Go discards it.
		if err := netns.Set(orig); err == nil {
			runtime.UnlockOSThread()
		}
	}()
	fn(ns)
}

// kernelChains lists the table's chains as the kernel has them.
func kernelChains(t testing.TB, ns *labnetns.NS) []string {
	t.Helper()
	out, err := ns.Run("nft", "list", "chains", "ip")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "chain" {
			names = append(names, f[1])
		}
	}
	slices.Sort(names)
	return names
}

// checkKernelElements compares the element counts of the shared maps and
// sets in the kernel with a full sync of st in the Fake.
func checkKernelElements(t *testing.T, ns *labnetns.NS, st *model.State) {
	t.Helper()
	fake, _ := syncedFake(t, st)
	fake.RLock()
	defer fake.RUnlock()
	want := map[string]int{
		"map " + mapServiceIPs:       len(fake.Table.Maps[mapServiceIPs].Elements),
		"map " + mapServiceNodePorts: len(fake.Table.Maps[mapServiceNodePorts].Elements),
		"set " + setNoEndpoints:      len(fake.Table.Sets[setNoEndpoints].Elements),
		"set " + setNoEndpointPorts:  len(fake.Table.Sets[setNoEndpointPorts].Elements),
		"set " + setHairpin:          len(fake.Table.Sets[setHairpin].Elements),
	}
	for obj, n := range want {
		kind, name, _ := strings.Cut(obj, " ")
		out, err := ns.Run("nft", "-j", "list", kind, "ip", "rudder", name)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Nftables []map[string]struct {
				Elem []json.RawMessage `json:"elem"`
			} `json:"nftables"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("parse nft -j output: %v", err)
		}
		got := 0
		for _, o := range doc.Nftables {
			got += len(o[kind].Elem)
		}
		if got != n {
			t.Errorf("%s: kernel has %d elements, want %d", obj, got, n)
		}
	}
}

// fakeChains lists the chains a full sync of st writes.
func fakeChains(t testing.TB, st *model.State) []string {
	fake, _ := syncedFake(t, st)
	fake.RLock()
	defer fake.RUnlock()
	var names []string
	for n := range fake.Table.Chains {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func TestKernel(t *testing.T) {
	inFreshNetns(t, func(ns *labnetns.NS) {
		ctx := context.Background()
		b, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Sync(ctx, manyServices(10), nil, true); err != nil {
			t.Fatalf("full sync: %v", err)
		}
		out, err := ns.Run("nft", "list", "table", "ip", "rudder")
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(out, " : goto svc-"); n != 10 {
			t.Errorf("service-ips has %d elements, want 10:\n%s", n, out)
		}
		cur := sampleState()
		if err := b.Sync(ctx, cur, nil, true); err != nil {
			t.Fatalf("full sync of the sample: %v", err)
		}
		for _, s := range steps() {
			next := cloneState(cur)
			s.edit(next)
			if err := b.Sync(ctx, next, model.Diff(cur, next), false); err != nil {
				t.Fatalf("%s: partial sync: %v", s.name, err)
			}
			if got, want := kernelChains(t, ns), fakeChains(t, next); !slices.Equal(got, want) {
				t.Errorf("%s: kernel chains\n%v\nwant\n%v", s.name, got, want)
			}
			checkKernelElements(t, ns, next)
			cur = next
		}
		if err := b.Cleanup(ctx); err != nil {
			t.Fatal(err)
		}
		if out, err := ns.Run("nft", "list", "tables"); err != nil || strings.Contains(out, "rudder") {
			t.Errorf("table left after cleanup: %q %v", out, err)
		}
	})
}

// syncTimes loads n services, then changes one, returning both durations.
func syncTimes(tb testing.TB, n int) (full, one time.Duration) {
	ctx := context.Background()
	b, err := New(Config{})
	if err != nil {
		tb.Fatal(err)
	}
	st := manyServices(n)
	start := time.Now()
	if err := b.Sync(ctx, st, nil, true); err != nil {
		tb.Fatalf("full sync: %v", err)
	}
	full = time.Since(start)
	// One change, then back: the median of a few such syncs.
	var ones []time.Duration
	for i := range 5 {
		next := cloneState(st)
		sp := &next.Services[n/2+i]
		sp.ClusterEndpoints = sp.ClusterEndpoints[:1]
		changed := model.Diff(st, next)
		start = time.Now()
		if err := b.Sync(ctx, next, changed, false); err != nil {
			tb.Fatalf("one-change sync: %v", err)
		}
		ones = append(ones, time.Since(start))
		st = next
	}
	slices.Sort(ones)
	one = ones[len(ones)/2]
	if err := b.Cleanup(ctx); err != nil {
		tb.Fatal(err)
	}
	return full, one
}

func TestKernel10k(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	inFreshNetns(t, func(*labnetns.NS) {
		full, one := syncTimes(t, 10000)
		t.Logf("10k services: full sync %v (aim 2.5s), one change %v (aim 100ms)", full, one)
	})
}

func BenchmarkSync10k(b *testing.B) {
	inFreshNetns(b, func(*labnetns.NS) {
		var full, one time.Duration
		for b.Loop() {
			f, o := syncTimes(b, 10000)
			full += f
			one += o
		}
		b.ReportMetric(float64(full.Milliseconds())/float64(b.N), "full-sync-ms")
		b.ReportMetric(float64(one.Microseconds())/1000/float64(b.N), "one-change-ms")
	})
}
