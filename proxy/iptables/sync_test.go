package iptables

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"rudder/proxy/model"
)

func newFakeBackend(t *testing.T) (*Backend, *Fake) {
	t.Helper()
	f := NewFake()
	b, err := New(Config{Mode: ModeLegacy, Executor: f})
	if err != nil {
		t.Fatal(err)
	}
	return b, f
}

func mustSync(t *testing.T, b *Backend, st *model.State, changed []model.ServicePortName, full bool) {
	t.Helper()
	if err := b.Sync(context.Background(), st, changed, full); err != nil {
		t.Fatal(err)
	}
}

// sameAsFresh checks that f holds exactly what one full sync of st into
// an empty fake holds.
func sameAsFresh(t *testing.T, f *Fake, st *model.State) {
	t.Helper()
	got := f.Dump(ModeLegacy)
	checkConsistent(t, got)
	if diff := cmp.Diff(syncFake(t, st).Dump(ModeLegacy).String(), got.String()); diff != "" {
		t.Errorf("rules differ from a fresh full sync (-fresh +got):\n%s", diff)
	}
}

func lastRestore(f *Fake) string {
	r := f.Restores()
	return r[len(r)-1]
}

func TestPartialSyncEndpointChange(t *testing.T) {
	b, f := newFakeBackend(t)
	st := manyServices(3)
	mustSync(t, b, st, nil, false)
	sp := &st.Services[1]
	*sp = clusterPort(sp.Name.Name, sp.ClusterIPs[0].String(), 80, "10.244.7.7:8080")
	sp.NodePort = 30001
	mustSync(t, b, st, []model.ServicePortName{sp.Name}, false)
	in := lastRestore(f)
	if strings.Contains(in, ":"+chainServices) || strings.Contains(in, "*filter") {
		t.Errorf("endpoint change rewrote shared chains:\n%s", in)
	}
	if !strings.Contains(in, ":"+portChain(kindSVC, sp.Name)) {
		t.Errorf("endpoint change did not rewrite the service chain:\n%s", in)
	}
	sameAsFresh(t, f, st)
}

func TestPartialSyncNoChangeWritesNothing(t *testing.T) {
	b, f := newFakeBackend(t)
	st := manyServices(3)
	mustSync(t, b, st, nil, false)
	n := len(f.Restores())
	mustSync(t, b, st, []model.ServicePortName{st.Services[0].Name}, false)
	if len(f.Restores()) != n {
		t.Errorf("a no-op change ran a restore: %s", lastRestore(f))
	}
}

func TestPartialSyncRemoveAndAdd(t *testing.T) {
	b, f := newFakeBackend(t)
	st := manyServices(3)
	mustSync(t, b, st, nil, false)
	gone := st.Services[0].Name
	st.Services = st.Services[1:]
	added := clusterPort("zz-new", "10.96.9.9", 53, "10.244.9.9:53")
	st.Services = append(st.Services, added)
	mustSync(t, b, st, []model.ServicePortName{gone, added.Name}, false)
	if in := lastRestore(f); !strings.Contains(in, "-X "+portChain(kindSVC, gone)) {
		t.Errorf("removed service's chain not deleted:\n%s", in)
	}
	sameAsFresh(t, f, st)
}

func TestFailureForcesFullSync(t *testing.T) {
	b, f := newFakeBackend(t)
	st := manyServices(3)
	mustSync(t, b, st, nil, false)
	st.Services[0].ClusterEndpoints = st.Services[0].ClusterEndpoints[:1]
	f.FailNext = true
	if err := b.Sync(context.Background(), st, []model.ServicePortName{st.Services[0].Name}, false); err == nil {
		t.Fatal("injected failure not returned")
	}
	st.Services[2].ClusterEndpoints = st.Services[2].ClusterEndpoints[:1]
	mustSync(t, b, st, []model.ServicePortName{st.Services[2].Name}, false)
	if in := lastRestore(f); !strings.Contains(in, ":"+chainServices) || !strings.Contains(in, ":"+portChain(kindSVC, st.Services[0].Name)) {
		t.Errorf("sync after a failure was not full:\n%s", in)
	}
	sameAsFresh(t, f, st)
}

func TestNodeChangeForcesFullSync(t *testing.T) {
	b, f := newFakeBackend(t)
	st := manyServices(2)
	mustSync(t, b, st, nil, false)
	st.Node.ClusterCIDRs = append(st.Node.ClusterCIDRs, netip.MustParsePrefix("10.250.0.0/16"))
	mustSync(t, b, st, nil, false)
	if !strings.Contains(lastRestore(f), ":"+chainOffCluster) {
		t.Errorf("node change did not resync fully:\n%s", lastRestore(f))
	}
	sameAsFresh(t, f, st)
}

func TestFullSyncRemovesLeftoversAndKeepsForeignRules(t *testing.T) {
	for _, m := range []Mode{ModeLegacy, ModeNFT} {
		t.Run(string(m), func(t *testing.T) { testLeftovers(t, m) })
	}
}

func testLeftovers(t *testing.T, m Mode) {
	f := NewFake()
	leftover := "*nat\n:RUDDER-SERVICES - [0:0]\n:RUDDER-SVC-OLD - [0:0]\n:KUBE-SERVICES - [0:0]\n" +
		"-A RUDDER-SERVICES -d 10.96.5.5/32 -j RUDDER-SVC-OLD\n-A PREROUTING -j KUBE-SERVICES\n" +
		"-A PREROUTING -m comment --comment \"rudder service portals\" -j RUDDER-SERVICES\nCOMMIT\n"
	if _, err := f.Run(context.Background(), []byte(leftover), restoreCmd(m), "--noflush"); err != nil {
		t.Fatal(err)
	}
	b, _ := New(Config{Mode: m, Executor: f})
	st := manyServices(2)
	for range 2 {
		mustSync(t, b, st, nil, true)
	}
	d := f.Dump(m)
	checkConsistent(t, d)
	nat := d.Tables[tableNAT]
	if _, ok := nat.Chains["RUDDER-SVC-OLD"]; ok {
		t.Error("leftover chain survived a full sync")
	}
	if _, ok := nat.Chains["KUBE-SERVICES"]; !ok {
		t.Error("foreign chain removed")
	}
	if got := len(nat.Chains["PREROUTING"]); got != 2 {
		t.Errorf("PREROUTING has %d rules, want the foreign one and one jump: %v", got, nat.Chains["PREROUTING"])
	}
}

func TestCleanup(t *testing.T) {
	b, f := newFakeBackend(t)
	st := manyServices(4)
	mustSync(t, b, st, nil, false)
	if err := b.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := f.Dump(ModeLegacy)
	for _, table := range tableOrder {
		if c := d.UserChains(table, chainPrefix); len(c) != 0 {
			t.Errorf("%s still has %v", table, c)
		}
		for _, c := range builtinChains[table] {
			if r := d.Tables[table].Chains[c]; len(r) != 0 {
				t.Errorf("%s %s still has %v", table, c, r)
			}
		}
	}
	mustSync(t, b, st, []model.ServicePortName{st.Services[0].Name}, false) // full again
	sameAsFresh(t, f, st)
}

func TestDetectMode(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name        string
		legacyRules int
		missing     []Mode
		want        Mode
	}{
		{"nothing anywhere: nft", 0, nil, ModeNFT},
		{"rules in legacy", 2, nil, ModeLegacy},
		{"no nft tools", 0, []Mode{ModeNFT}, ModeLegacy},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFake()
			f.Missing = tc.missing
			var in strings.Builder
			in.WriteString("*filter\n")
			for i := range tc.legacyRules {
				fmt.Fprintf(&in, "-A INPUT -s 10.0.0.%d/32 -j ACCEPT\n", i)
			}
			in.WriteString("COMMIT\n")
			if _, err := f.Run(ctx, []byte(in.String()), restoreCmd(ModeLegacy)); err != nil {
				t.Fatal(err)
			}
			b, _ := New(Config{Mode: ModeAuto, Executor: f})
			if got, err := b.Mode(ctx); err != nil || got != tc.want {
				t.Errorf("Mode() = %s, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestRandomPartialSyncs applies random changes one at a time with partial
// syncs; after each the rules equal a fresh full sync's.
func TestRandomPartialSyncs(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	b, f := newFakeBackend(t)
	st := manyServices(12)
	mustSync(t, b, st, nil, false)
	for step := range 60 {
		i := rng.IntN(len(st.Services))
		sp := &st.Services[i]
		switch rng.IntN(4) {
		case 0: // endpoints
			sp.ClusterEndpoints = sp.ClusterEndpoints[:rng.IntN(len(sp.ClusterEndpoints)+1)]
			ep := model.Endpoint{Addr: netip.MustParseAddrPort(fmt.Sprintf("10.246.0.%d:80", step+1)), Ready: true, Local: true}
			sp.ClusterEndpoints = append(sp.ClusterEndpoints, ep)
			sp.LocalEndpoints = []model.Endpoint{ep}
		case 1: // external policy
			sp.ExternalPolicyLocal = !sp.ExternalPolicyLocal
		case 2: // node port, external IP
			sp.NodePort = uint16(31000 + step)
			sp.ExternalIPs = []netip.Addr{netip.MustParseAddr(fmt.Sprintf("198.51.100.%d", step+1))}
		case 3: // no endpoints
			sp.ClusterEndpoints, sp.LocalEndpoints = nil, nil
		}
		mustSync(t, b, st, []model.ServicePortName{sp.Name}, false)
		sameAsFresh(t, f, st)
		if t.Failed() {
			t.Fatalf("step %d diverged", step)
		}
	}
}

func TestRuleCounts(t *testing.T) {
	b, _ := newFakeBackend(t)
	if got := b.RuleCounts(); len(got) != 0 {
		t.Errorf("before any sync: %v", got)
	}
	mustSync(t, b, manyServices(2), nil, false)
	// per service: SVC (masq + 2 choices) and 2 SEP chains of 2 rules;
	// shared: 2 cluster IPs + 1 node-port jump, 2×2 node-port rules.
	want := map[string]int{"chains": 2*3 + 4, "nat_rules": 2*(3+4) + 3 + 4, "filter_rules": 0}
	if diff := cmp.Diff(want, b.RuleCounts()); diff != "" {
		t.Errorf("RuleCounts (-want +got):\n%s", diff)
	}
}
