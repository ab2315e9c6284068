package iptables

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"

	"rudder/lab/netns"
	"rudder/proxy/flowtest"
	"rudder/proxy/model"
)

// kernelNS creates a fresh network namespace for a real-kernel test and
// returns an executor that runs the mode's tools inside it.
func kernelNS(tb testing.TB, m Mode) Exec {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("needs root")
	}
	if _, err := exec.LookPath(restoreCmd(m)); err != nil {
		tb.Skipf("%s not installed", restoreCmd(m))
	}
	ns, err := netns.Create(netns.RunPrefix("rdr-ipt"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			tb.Error(err)
		}
	})
	return Exec{Prefix: []string{"nsenter", "--net=" + ns.Path, "--"}}
}

func kernelDump(t testing.TB, ex Exec, m Mode) *Dump {
	t.Helper()
	out, err := ex.Run(context.Background(), nil, saveCmd(m))
	if err != nil {
		t.Fatal(err)
	}
	d, err := ParseDump(out)
	if err != nil {
		t.Fatalf("parse %s output: %v", saveCmd(m), err)
	}
	return d
}

// chainShape is each RUDDER chain's rule count, to compare a kernel dump
// (normalised by iptables-save) with the fake's.
func chainShape(d *Dump) map[string]int {
	shape := map[string]int{}
	for _, table := range []string{tableNAT, tableFilter} {
		for _, c := range d.UserChains(table, chainPrefix) {
			shape[table+"/"+c] = len(d.Tables[table].Chains[c])
		}
		for _, c := range builtinChains[table] {
			if t := d.Tables[table]; t != nil {
				shape[table+"/"+c] = len(t.Chains[c])
			}
		}
	}
	return shape
}

func TestKernel(t *testing.T) {
	for _, m := range []Mode{ModeLegacy, ModeNFT} {
		t.Run(string(m), func(t *testing.T) { testKernel(t, m) })
	}
}

func testKernel(t *testing.T, m Mode) {
	ex := kernelNS(t, m)
	ctx := context.Background()
	b, err := New(Config{Mode: m, Executor: ex})
	if err != nil {
		t.Fatal(err)
	}
	st := manyServices(10)
	st.Services[2] = withAffinity(st.Services[2], 600e9)
	for range 2 { // the second full sync must not duplicate jumps
		if err := b.Sync(ctx, st, nil, true); err != nil {
			t.Fatal(err)
		}
	}
	compareWithFake(t, kernelDump(t, ex, m), st)
	if m == ModeNFT {
		checkNFTInventory(t, b, ex)
	}
	auto, _ := New(Config{Mode: ModeAuto, Executor: ex})
	if got, err := auto.Mode(ctx); err != nil || got != m {
		t.Errorf("auto mode detected %q, %v; want %s", got, err, m)
	}

	old := st.Services[3].ClusterEndpoints[1].Addr
	st.Services[3] = clusterPort(st.Services[3].Name.Name, "10.96.0.4", 80, "10.244.0.4:8080", "10.244.9.9:8080")
	changed := []model.ServicePortName{st.Services[3].Name}
	if err := b.Sync(ctx, st, changed, false); err != nil {
		t.Fatal(err)
	}
	got := kernelDump(t, ex, m)
	compareWithFake(t, got, st)
	if slices.Contains(got.UserChains(tableNAT, chainPrefix), sepChain(st.Services[3].Name, old)) {
		t.Errorf("stale endpoint chain of %s left behind", old)
	}

	if err := b.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	left := kernelDump(t, ex, m)
	for _, table := range []string{tableNAT, tableFilter} {
		if c := left.UserChains(table, chainPrefix); len(c) > 0 {
			t.Errorf("after Cleanup, %s still has %v", table, c)
		}
	}
	if shape := chainShape(left); shape["nat/PREROUTING"]+shape["filter/FORWARD"] != 0 {
		t.Errorf("after Cleanup, jumps left: %v", shape)
	}
}

// checkNFTInventory compares the cheap nft inventory with a full save.
func checkNFTInventory(t *testing.T, b *Backend, ex Exec) {
	t.Helper()
	inv, err := b.nftInventory(context.Background())
	if err != nil {
		t.Fatalf("nft inventory: %v", err)
	}
	full := kernelDump(t, ex, ModeNFT)
	for _, table := range tableOrder {
		if got, want := inv.UserChains(table, chainPrefix), full.UserChains(table, chainPrefix); !slices.Equal(got, want) {
			t.Errorf("nft inventory of %s: %d chains, save has %d", table, len(got), len(want))
		}
	}
	if got, want := inv.Tables[tableNAT].Chains["PREROUTING"], full.Tables[tableNAT].Chains["PREROUTING"]; !slices.Equal(got, want) {
		t.Errorf("nft inventory PREROUTING = %q, save has %q", got, want)
	}
}

// compareWithFake checks the kernel holds the same chains with the same
// number of rules as the fake after syncing st.
func compareWithFake(t *testing.T, got *Dump, st *model.State) {
	t.Helper()
	want := syncFake(t, st).Dump(ModeLegacy)
	gs, ws := chainShape(got), chainShape(want)
	for k, n := range ws {
		if gs[k] != n {
			t.Errorf("%s: kernel has %d rules, want %d", k, gs[k], n)
		}
	}
	for k := range gs {
		if _, ok := ws[k]; !ok {
			t.Errorf("kernel has unexpected chain %s", k)
		}
	}
}

// TestKernelPacketFlow traces the shared cases through the rules as the
// kernel reports them back (iptables-save normalises them).
func TestKernelPacketFlow(t *testing.T) {
	for _, m := range []Mode{ModeLegacy, ModeNFT} {
		t.Run(string(m), func(t *testing.T) {
			ex := kernelNS(t, m)
			flowtest.Run(t, func(st *model.State) flowtest.Tracer {
				b, _ := New(Config{Mode: m, Executor: ex})
				if err := b.Sync(context.Background(), st, nil, true); err != nil {
					t.Fatal(err)
				}
				tr, err := NewTracer(kernelDump(t, ex, m), st.Node.NodePortAddresses)
				if err != nil {
					t.Fatal(err)
				}
				return tr
			})
		})
	}
}
