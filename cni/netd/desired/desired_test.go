package desired

import (
	"errors"
	"net/netip"
	"slices"
	"testing"

	"rudder/cni/netd/netstate"
)

func TestComputeSelfErrors(t *testing.T) {
	cases := []struct {
		name   string
		nodes  []netstate.Node
		noCIDR bool
	}{
		{"missing", []netstate.Node{n2}, true},
		{"no podCIDR", []netstate.Node{node("n1", "", "198.18.0.11", ""), n2}, true},
		{"outside cluster", []netstate.Node{node("n1", "10.9.1.0/24", "198.18.0.11", ""), n2}, false},
		{"wider than cluster", []netstate.Node{node("n1", "10.0.0.0/8", "198.18.0.11", ""), n2}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compute(input(netstate.VXLAN, tc.nodes...))
			if err == nil {
				t.Fatal("Compute succeeded, want an error")
			}
			if got := errors.Is(err, ErrNoPodCIDR); got != tc.noCIDR {
				t.Errorf("errors.Is(%v, ErrNoPodCIDR) = %v, want %v", err, got, tc.noCIDR)
			}
		})
	}
}

func TestComputeVXLANObjects(t *testing.T) {
	res, err := Compute(input(netstate.VXLAN, n1, n2))
	if err != nil {
		t.Fatal(err)
	}
	if res.MTU != 1450 {
		t.Errorf("MTU = %d, want 1450", res.MTU)
	}
	want := netstate.State{
		Links: []netstate.Link{{Name: "rudder.1", Kind: "vxlan", VNI: 1, Port: 8472,
			Local: netip.MustParseAddr("198.18.0.11"), Parent: "eth0", MTU: 1450,
			MAC: VTEPMAC(netip.MustParseAddr("198.18.0.11")), Up: true}},
		Addrs:   []netstate.Addr{{Dev: "rudder.1", Prefix: netip.MustParsePrefix("10.244.1.0/32")}},
		Sysctls: []netstate.Sysctl{{Key: "net.ipv4.ip_forward", Value: "1"}},
		Routes: []netstate.Route{{Dst: n2.PodCIDR, Gw: netip.MustParseAddr("10.244.2.0"),
			Dev: "rudder.1", Onlink: true}},
		Neighs: []netstate.Neigh{{Dev: "rudder.1", IP: netip.MustParseAddr("10.244.2.0"), MAC: n2.VTEPMAC}},
		FDB:    []netstate.FDB{{Dev: "rudder.1", MAC: n2.VTEPMAC, Dst: n2.PublicIP}},
	}
	if got, w := res.State.Dump(), want.Dump(); got != w {
		t.Errorf("state:\n%s\nwant:\n%s", got, w)
	}
}

func TestComputeHostGWRefusesOtherSegment(t *testing.T) {
	res, err := Compute(input(netstate.HostGW, n1, n2, node("n3", "10.244.3.0/24", "192.0.2.13", "")))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Peers, []string{"n2"}) {
		t.Errorf("peers = %v, want [n2]", res.Peers)
	}
	if len(res.Refused) != 1 || res.Refused[0].Node != "n3" {
		t.Fatalf("refused = %v, want n3", res.Refused)
	}
	if len(res.State.Routes) != 1 || res.State.Routes[0].Gw != n2.PublicIP {
		t.Errorf("routes = %v, want only n2's", res.State.Routes)
	}
}

func TestComputeIsOrderIndependent(t *testing.T) {
	a, _ := Compute(input(netstate.VXLAN, n1, n2, n3, node("n4", "10.244.2.0/24", "198.18.0.14", "0e:72:c6:12:00:0e")))
	b, _ := Compute(input(netstate.VXLAN, node("n4", "10.244.2.0/24", "198.18.0.14", "0e:72:c6:12:00:0e"), n3, n2, n1))
	if a.State.Dump() != b.State.Dump() || len(a.Refused) != 1 || a.Refused[0] != b.Refused[0] {
		t.Errorf("results depend on node order:\n%v %s\n%v %s", a.Refused, a.State.Dump(), b.Refused, b.State.Dump())
	}
}

func TestVTEPMAC(t *testing.T) {
	m := VTEPMAC(netip.MustParseAddr("198.18.0.11"))
	if got := m.String(); got != "0e:72:c6:12:00:0b" {
		t.Errorf("VTEPMAC = %s", got)
	}
	if m[0]&1 != 0 || m[0]&2 == 0 {
		t.Errorf("VTEPMAC %s is not locally administered unicast", m)
	}
}
