package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"rudder/bench/dnsbench"
	"rudder/bench/ingressbench"
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

// TestDNSBenchQuick runs `rudder bench-dns --quick` against rudder dns
// only (CoreDNS is built only by make bench): the apiserver, the stub
// upstream, dnsperf and the latency run must all produce numbers, and the
// mix must reach both answers and NXDOMAINs.
func TestDNSBenchQuick(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(rudderBin(t), "bench-dns", "--quick", "--servers", "rudder", "--out", out)
	b, err := cmd.CombinedOutput()
	t.Logf("rudder bench-dns --quick:\n%s", b)
	if err != nil {
		t.Fatalf("rudder bench-dns --quick: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "dns.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res dnsbench.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("dns.json: %v", err)
	}
	if len(res.Modes) != 1 || len(res.Modes[0].Servers) != 1 {
		t.Fatalf("want one mode with one server, got %+v", res.Modes)
	}
	s := res.Modes[0].Servers[0]
	if s.QPSMedian <= 0 || s.P99Ms <= 0 || s.RSSLoadedMiB <= 0 {
		t.Errorf("empty measurement: %+v", s)
	}
	if s.Rcodes["NXDOMAIN"] == 0 || s.Rcodes["NOERROR"] == 0 || s.Rcodes["SERVFAIL"] != 0 {
		t.Errorf("rcodes %v: want NOERROR and NXDOMAIN, no SERVFAIL", s.Rcodes)
	}
	if res.StubQueries == 0 {
		t.Errorf("the stub upstream saw no query: forwarding not measured")
	}
}

// TestIngressBenchQuick runs `rudder bench-ingress --quick`: rudder server,
// two netexec backends, rudder ingress and nginx, each path driven by wrk;
// every path must produce numbers without errors.
func TestIngressBenchQuick(t *testing.T) {
	out := t.TempDir()
	cmd := exec.Command(rudderBin(t), "bench-ingress", "--quick", "--out", out)
	b, err := cmd.CombinedOutput()
	t.Logf("rudder bench-ingress --quick:\n%s", b)
	if err != nil {
		t.Fatalf("rudder bench-ingress --quick: %v", err)
	}
	raw, err := os.ReadFile(filepath.Join(out, "ingress.json"))
	if err != nil {
		t.Fatal(err)
	}
	var res ingressbench.Result
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("ingress.json: %v", err)
	}
	if len(res.Modes) != 1 || len(res.Modes[0].Points) != 3 {
		t.Fatalf("want one mode with three paths, got %+v", res.Modes)
	}
	for _, p := range res.Modes[0].Points {
		if len(p.RPS) != 1 || p.RPS[0] <= 0 || p.Errors != 0 {
			t.Errorf("%s: %+v", p.Path, p)
		}
	}
	if len(res.Modes[0].Memory) != 2 {
		t.Errorf("memory %+v", res.Modes[0].Memory)
	}
}
