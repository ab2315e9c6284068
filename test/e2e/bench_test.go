package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rudder/bench/report"
)

// TestBenchQuick runs `rudder bench --quick` so the harness never rots:
// every path must produce numbers (their size is not judged here), and
// only the paths that cannot exist yet may be skipped.
func TestBenchQuick(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("rudder bench needs root")
	}
	out := t.TempDir()
	cmd := exec.Command(rudderBin(t), "bench", "--quick", "--out", out)
	b, err := cmd.CombinedOutput()
	t.Logf("rudder bench --quick:\n%s", b)
	if err != nil {
		t.Fatalf("rudder bench --quick: %v", err)
	}
	res, err := report.ReadJSON(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"loopback", "raw-veth", "bridge", "pod-same-node", "pod-vxlan", "pod-host-gw",
		"clusterip-nftables", "clusterip-iptables", "nodeport-nftables", "nodeport-iptables"} {
		p := res.Path(id)
		switch {
		case p == nil:
			t.Errorf("path %s missing", id)
		case len(p.Stream) == 0 || p.Stream[0] <= 0 || len(p.CPUPerGB) == 0 || len(p.RR.P50) == 0 || len(p.CRR.P50) == 0 || p.CRR.P50[0] <= 0:
			t.Errorf("path %s has no numbers: %+v", id, p)
		}
	}
	counts := map[string]int{}
	for _, s := range res.Scaling {
		if len(s.SyncSeconds) == 0 || len(s.CRRP50) == 0 {
			t.Errorf("scaling %s at %d services has no numbers", s.Backend, s.Services)
		}
		counts[s.Backend]++
	}
	if counts["nftables"] < 2 || counts["iptables"] < 2 {
		t.Errorf("scaling curve points per backend: %v, want at least 2 each", counts)
	}
	for _, s := range res.Skipped {
		if !strings.Contains(s.Name, "ipvs") && !strings.Contains(s.Name, "ebpf") && !strings.Contains(s.Name, "ingress") {
			t.Errorf("unexpected skip %s: %s", s.Name, s.Reason)
		}
	}
	for _, f := range []string{"REPORT.md", "throughput.svg", "crr-scaling.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s not written: %v", f, err)
		}
	}
}
