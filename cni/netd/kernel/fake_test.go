package kernel

import (
	"net/netip"
	"strings"
	"testing"

	"rudder/cni/netd/netstate"
)

var fakeUnderlay = netstate.Underlay{Name: "eth0", Addr: netip.MustParsePrefix("198.18.0.11/24"), MTU: 1500}

func TestFakeEnforcesKernelRules(t *testing.T) {
	f := NewFake(fakeUnderlay)
	vx := netstate.Link{Name: "rudder.1", Kind: "vxlan", VNI: 1, Port: 8472, Local: fakeUnderlay.Addr.Addr(), Parent: "eth0", MTU: 1450}
	onlink := netstate.Route{Dst: netip.MustParsePrefix("10.244.2.0/24"), Gw: netip.MustParseAddr("10.244.2.0"), Dev: "rudder.1", Onlink: true}
	mac := netstate.MAC{0x0e, 0x72, 198, 18, 0, 12}
	neigh := netstate.Neigh{Dev: "rudder.1", IP: onlink.Gw, MAC: mac}
	if err := f.Apply(netstate.Plan{SetRoutes: []netstate.Route{onlink}, SetNeighs: []netstate.Neigh{neigh}}); err == nil {
		t.Fatal("objects on a missing device accepted")
	}
	if err := f.Apply(netstate.Plan{AddLinks: []netstate.Link{vx}, SetRoutes: []netstate.Route{onlink}}); err == nil ||
		!strings.Contains(err.Error(), "network is down") {
		t.Fatalf("onlink route on a down device: %v", err)
	}
	offnet := netstate.Route{Dst: netip.MustParsePrefix("10.244.3.0/24"), Gw: netip.MustParseAddr("192.0.2.1"), Dev: "eth0"}
	if err := f.Apply(netstate.Plan{SetRoutes: []netstate.Route{offnet}}); err == nil {
		t.Fatal("gateway off the underlay subnet accepted")
	}
	vx.Up = true
	fdb := netstate.FDB{Dev: "rudder.1", MAC: mac, Dst: netip.MustParseAddr("198.18.0.12")}
	err := f.Apply(netstate.Plan{SetLinks: []netstate.Link{vx}, SetRoutes: []netstate.Route{onlink},
		SetNeighs: []netstate.Neigh{neigh}, AddFDB: []netstate.FDB{fdb, {Dev: "rudder.1", MAC: mac, Dst: netip.MustParseAddr("198.18.0.99")}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(f.Dump(), "fdb "); got != 1 {
		t.Errorf("append to a unicast MAC added an endpoint (%d fdb entries), the kernel does not:\n%s", got, f.Dump())
	}
	if err := f.Apply(netstate.Plan{DelLinks: []string{"rudder.1"}}); err != nil {
		t.Fatal(err)
	}
	if d := f.Dump(); strings.Contains(d, "rudder.1") {
		t.Errorf("objects outlive their device:\n%s", d)
	}
}
