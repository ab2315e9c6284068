package iptables

import (
	"context"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"rudder/proxy/flowtest"
	"rudder/proxy/model"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func goldenStates() map[string]*model.State {
	flow, _ := flowtest.Cases()
	affinity := &model.State{Node: testNode(), Services: []model.ServicePort{
		withAffinity(clusterPort("sticky", "10.96.0.30", 80, "10.244.1.30:80", "10.244.2.30:80", "10.244.3.30:80"), 10800*time.Second),
	}}
	multi := &model.State{Node: model.Node{Name: "node-a", ClusterCIDRs: []netip.Prefix{
		netip.MustParsePrefix("10.244.0.0/16"), netip.MustParsePrefix("10.250.0.0/16"), netip.MustParsePrefix("fd00::/48"),
	}}}
	dual := clusterPort("dual", "10.96.0.40", 443, "10.244.1.40:8443", "[fd00::40]:8443")
	dual.ClusterIPs = append(dual.ClusterIPs, netip.MustParseAddr("fd00:96::40"))
	dual.NodePort = 30040
	multi.Services = []model.ServicePort{dual}
	return map[string]*model.State{
		"flow":     flow,
		"affinity": affinity,
		"multi":    multi,
		"empty":    {Node: testNode()},
	}
}

func TestGolden(t *testing.T) {
	for name, st := range goldenStates() {
		t.Run(name, func(t *testing.T) {
			d := syncFake(t, st).Dump(ModeLegacy)
			checkConsistent(t, d)
			compareGolden(t, filepath.Join("testdata", name+".golden"), d.String())
		})
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// TestGoldenPartialRestore pins what a partial sync sends: only the
// changed service's chains, and no shared chain when no frontend moved.
func TestGoldenPartialRestore(t *testing.T) {
	st := &model.State{Node: testNode(), Services: []model.ServicePort{
		clusterPort("a", "10.96.0.1", 80, "10.244.1.1:80"),
		clusterPort("b", "10.96.0.2", 80, "10.244.1.2:80", "10.244.1.3:80"),
	}}
	f := NewFake()
	b, _ := New(Config{Mode: ModeNFT, Executor: f})
	ctx := context.Background()
	if err := b.Sync(ctx, st, nil, false); err != nil {
		t.Fatal(err)
	}
	st.Services[1] = clusterPort("b", "10.96.0.2", 80, "10.244.1.2:80", "10.244.1.4:80")
	if err := b.Sync(ctx, st, []model.ServicePortName{st.Services[1].Name}, false); err != nil {
		t.Fatal(err)
	}
	r := f.Restores()
	compareGolden(t, filepath.Join("testdata", "partial-restore.golden"), r[len(r)-1])
	checkConsistent(t, f.Dump(ModeNFT))
}
