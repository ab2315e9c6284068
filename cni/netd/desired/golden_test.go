package desired

import (
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"rudder/cni/netd/netstate"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

func node(name, cidr, ip, mac string) netstate.Node {
	n := netstate.Node{Name: name}
	if cidr != "" {
		n.PodCIDR = netip.MustParsePrefix(cidr)
	}
	if ip != "" {
		n.PublicIP = netip.MustParseAddr(ip)
	}
	if mac != "" {
		m, err := netstate.ParseMAC(mac)
		if err != nil {
			panic(err)
		}
		n.VTEPMAC = m
	}
	return n
}

func input(backend netstate.Backend, nodes ...netstate.Node) Input {
	return Input{
		Self:        "n1",
		Nodes:       nodes,
		Backend:     backend,
		Underlay:    netstate.Underlay{Name: "eth0", Addr: netip.MustParsePrefix("198.18.0.11/24"), MTU: 1500},
		ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"),
		Device:      "rudder.1",
		VNI:         1,
		Port:        8472,
	}
}

var (
	n1 = node("n1", "10.244.1.0/24", "198.18.0.11", "")
	n2 = node("n2", "10.244.2.0/24", "198.18.0.12", "0e:72:c6:12:00:0c")
	n3 = node("n3", "10.244.3.0/24", "198.18.0.13", "0e:72:c6:12:00:0d")
)

var goldenCases = []struct {
	name string
	in   Input
}{
	{"vxlan-three-nodes", input(netstate.VXLAN, n3, n1, n2)},
	{"vxlan-single-node", input(netstate.VXLAN, n1)},
	{"vxlan-pending", input(netstate.VXLAN, n1, n2,
		node("n3", "10.244.3.0/24", "198.18.0.13", ""),
		node("n4", "", "198.18.0.14", "0e:72:c6:12:00:0e"),
		node("n5", "10.244.5.0/24", "", "0e:72:c6:12:00:0f"))},
	{"vxlan-refused", input(netstate.VXLAN, n1, n2,
		node("n3", "10.244.2.0/25", "198.18.0.13", "0e:72:c6:12:00:0d"),
		node("n4", "10.99.4.0/24", "198.18.0.14", "0e:72:c6:12:00:0e"),
		node("n5", "10.244.5.0/24", "198.18.0.11", "0e:72:c6:12:00:0f"),
		node("n6", "10.244.6.0/24", "10.0.9.16", "0e:72:0a:00:09:10"),
		node("n7", "10.244.7.0/24", "198.18.0.17", "0e:72:c6:12:00:0c"),
		node("n8", "10.244.8.0/24", "198.18.0.18", "0e:72:c6:12:00:0b"))},
	{"vxlan-unmasked-podcidr", input(netstate.VXLAN, n1, node("n2", "10.244.2.7/24", "198.18.0.12", "0e:72:c6:12:00:0c"))},
	{"hostgw-three-nodes", input(netstate.HostGW, n1, n2, n3)},
	{"hostgw-off-segment", input(netstate.HostGW, n1, n2,
		node("n3", "10.244.3.0/24", "198.18.1.13", ""),
		node("n4", "10.244.4.0/24", "", ""))},
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Compute(tc.in)
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			got := render(tc.in, res)
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run with -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (run with -update to accept):\n--- got\n%s--- want\n%s", path, got, want)
			}
		})
	}
}

func render(in Input, res Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# backend %s, self %s, underlay %s %s mtu %d\n",
		in.Backend, in.Self, in.Underlay.Name, in.Underlay.Addr, in.Underlay.MTU)
	fmt.Fprintf(&b, "podCIDR %s\nmtu %d\n", res.PodCIDR, res.MTU)
	if !res.VTEPMAC.IsZero() {
		fmt.Fprintf(&b, "vtep-mac %s\n", res.VTEPMAC)
	}
	fmt.Fprintf(&b, "peers [%s]\n", strings.Join(res.Peers, " "))
	for _, p := range res.Pending {
		fmt.Fprintf(&b, "pending %s\n", p)
	}
	for _, p := range res.Refused {
		fmt.Fprintf(&b, "refused %s\n", p)
	}
	b.WriteString(res.State.Dump())
	return b.String()
}
