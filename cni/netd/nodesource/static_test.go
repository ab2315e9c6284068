package nodesource

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"rudder/cni/netd/desired"
	"rudder/cni/netd/netstate"
)

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nodes.json")
	self := netstate.Node{Name: "n1", PodCIDR: netip.MustParsePrefix("10.244.1.0/24")}
	f := NewFile(path, self)
	if _, err := f.Nodes(); err == nil {
		t.Error("missing file: no error")
	}
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`[{"name":"n1","podCIDR":"10.244.7.0/24","publicIP":"198.18.0.11"},
	        {"name":"n2","podCIDR":"10.244.2.0/24","publicIP":"198.18.0.12"},
	        {"name":"n3","podCIDR":"10.244.3.0/24","publicIP":"198.18.0.13","vtepMAC":"02:00:00:00:00:03"}]`)
	nodes, err := f.Nodes()
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) != 3 || nodes[0] != self {
		t.Fatalf("nodes = %+v; want the flag's n1 first, then n2, n3", nodes)
	}
	if nodes[1].VTEPMAC != desired.VTEPMAC(nodes[1].PublicIP) || nodes[2].VTEPMAC.String() != "02:00:00:00:00:03" {
		t.Errorf("VTEP MACs: %v %v", nodes[1].VTEPMAC, nodes[2].VTEPMAC)
	}
	for _, bad := range []string{`{`, `[{"podCIDR":"10.244.2.0/24"}]`, `[{"name":"x","podCIDR":"z","publicIP":"198.18.0.1"}]`,
		`[{"name":"x","podCIDR":"10.244.2.0/24","publicIP":"198.18.0.1","vtepMAC":"q"}]`} {
		write(bad)
		if _, err := f.Nodes(); err == nil {
			t.Errorf("file %s: no error", bad)
		}
	}
}
