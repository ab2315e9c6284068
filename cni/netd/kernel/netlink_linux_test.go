package kernel

import (
	"net/netip"
	"strings"
	"testing"

	"rudder/cni/netd/netdtest"
	"rudder/cni/netd/netstate"
	"rudder/cni/netd/syncer"
)

// newNodeAdapter gives an adapter on a fresh node namespace of a 1-node topology.
func newNodeAdapter(t *testing.T) (*Netlink, *netdtest.Node) {
	topo := netdtest.NewTopology(t, 1)
	nd := topo.Nodes[0]
	k, err := NewNetlink(nd.NS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(k.Close)
	return k, nd
}

func TestNetlinkUnderlay(t *testing.T) {
	k, nd := newNodeAdapter(t)
	for _, spec := range []string{"eth0", "198.18.0.11"} {
		u, err := k.Underlay(spec)
		if err != nil {
			t.Fatalf("Underlay(%q): %v", spec, err)
		}
		if u.Name != "eth0" || u.Addr != nd.Addr || u.MTU != 1500 {
			t.Errorf("Underlay(%q) = %+v", spec, u)
		}
	}
	for _, spec := range []string{"", "nope0", "192.0.2.1"} {
		if _, err := k.Underlay(spec); err == nil {
			t.Errorf("Underlay(%q) succeeded in a namespace without default route / such device", spec)
		}
	}
}

func vxlanState(u netstate.Underlay) netstate.State {
	mac := netstate.MAC{0x0e, 0x72, 198, 18, 0, 11}
	peer := netstate.MAC{0x0e, 0x72, 198, 18, 0, 12}
	other := netstate.MAC{0x0e, 0x72, 198, 18, 0, 22}
	return netstate.State{
		Links: []netstate.Link{{Name: "rudder.1", Kind: "vxlan", VNI: 1, Port: 8472,
			Local: u.Addr.Addr(), Parent: u.Name, MTU: u.MTU - 50, MAC: mac, Up: true}},
		Addrs:   []netstate.Addr{{Dev: "rudder.1", Prefix: netip.MustParsePrefix("10.244.1.0/32")}},
		Sysctls: []netstate.Sysctl{{Key: "net.ipv4.ip_forward", Value: "1"}},
		Routes: []netstate.Route{
			{Dst: netip.MustParsePrefix("10.244.2.0/24"), Gw: netip.MustParseAddr("10.244.2.0"), Dev: "rudder.1", Onlink: true},
			{Dst: netip.MustParsePrefix("10.244.9.0/24"), Gw: netip.MustParseAddr("198.18.0.19"), Dev: "eth0"},
		},
		Neighs: []netstate.Neigh{{Dev: "rudder.1", IP: netip.MustParseAddr("10.244.2.0"), MAC: peer}},
		FDB: []netstate.FDB{
			{Dev: "rudder.1", MAC: peer, Dst: netip.MustParseAddr("198.18.0.12")},
			{Dev: "rudder.1", MAC: other, Dst: netip.MustParseAddr("198.18.0.22")},
		},
	}.Sorted()
}

func current(t *testing.T, k *Netlink) netstate.State {
	t.Helper()
	s, err := k.Current(netstate.Scope{Devices: []string{"rudder.1"}, Sysctls: []string{"net.ipv4.ip_forward"}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestNetlinkSyncRoundTrip(t *testing.T) {
	k, _ := newNodeAdapter(t)
	u, err := k.Underlay("eth0")
	if err != nil {
		t.Fatal(err)
	}
	if got := current(t, k); len(got.Links)+len(got.Routes) != 0 || got.Sysctls[0].Value != "0" {
		t.Fatalf("fresh namespace: %s", got.Dump())
	}
	s := syncer.New(syncer.Config{Device: "rudder.1"}, k)
	want := vxlanState(u)
	for round := range 2 {
		plan, err := s.Sync(want)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if round == 1 && !plan.Empty() {
			t.Errorf("second sync planned %s, want nothing", plan.Summary())
		}
		if got := current(t, k).Dump(); got != want.Dump() {
			t.Fatalf("round %d kernel:\n%s\nwant:\n%s", round, got, want.Dump())
		}
	}

	// Removed by hand: the next sync puts back exactly that.
	if err := k.Apply(netstate.Plan{DelRoutes: want.Routes[:1], DelFDB: want.FDB[1:]}); err != nil {
		t.Fatal(err)
	}
	plan, err := s.Sync(want)
	if err != nil || len(plan.SetRoutes) != 1 || len(plan.AddFDB) != 1 {
		t.Fatalf("restore: plan %s, err %v", plan.Summary(), err)
	}

	// A peer that moves keeps its MAC: the old endpoint goes, the new one comes.
	moved := want
	moved.FDB = []netstate.FDB{want.FDB[0], {Dev: "rudder.1", MAC: want.FDB[1].MAC, Dst: netip.MustParseAddr("198.18.0.33")}}
	moved = moved.Sorted()
	if _, err := s.Sync(moved); err != nil {
		t.Fatal(err)
	}
	if got := current(t, k).Dump(); got != moved.Dump() {
		t.Fatalf("after a peer moved:\n%s\nwant:\n%s", got, moved.Dump())
	}
	if _, err := s.Sync(want); err != nil {
		t.Fatal(err)
	}

	// A changed VNI re-creates the device and everything on it.
	changed := want
	changed.Links = []netstate.Link{want.Links[0]}
	changed.Links[0].VNI = 7
	if _, err := s.Sync(changed); err != nil {
		t.Fatal(err)
	}
	if got := current(t, k).Dump(); got != changed.Dump() {
		t.Fatalf("after VNI change:\n%s\nwant:\n%s", got, changed.Dump())
	}

	// Nothing desired: device and routes go, sysctls stay.
	if _, err := s.Sync(netstate.State{Sysctls: want.Sysctls}); err != nil {
		t.Fatal(err)
	}
	if got := current(t, k).Dump(); strings.Contains(got, "rudder.1") || strings.Contains(got, "route") {
		t.Fatalf("objects left:\n%s", got)
	}
}

func TestNetlinkReplacesForeignDevice(t *testing.T) {
	k, nd := newNodeAdapter(t)
	if out, err := netdtest.Run(nd.NS, "ip", "link", "add", "rudder.1", "type", "bridge"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	u, _ := k.Underlay("eth0")
	want := vxlanState(u)
	if _, err := syncer.New(syncer.Config{Device: "rudder.1"}, k).Sync(want); err != nil {
		t.Fatal(err)
	}
	if got := current(t, k).Dump(); got != want.Dump() {
		t.Fatalf("kernel:\n%s\nwant:\n%s", got, want.Dump())
	}
}

func TestNetlinkApplyGoesOnAfterFailure(t *testing.T) {
	k, _ := newNodeAdapter(t)
	bad := netstate.Route{Dst: netip.MustParsePrefix("10.244.7.0/24"), Gw: netip.MustParseAddr("192.0.2.1"), Dev: "eth0"}
	good := netstate.Route{Dst: netip.MustParsePrefix("10.244.8.0/24"), Gw: netip.MustParseAddr("198.18.0.18"), Dev: "eth0"}
	err := k.Apply(netstate.Plan{SetRoutes: []netstate.Route{bad, good}})
	if err == nil || !strings.Contains(err.Error(), "10.244.7.0/24") {
		t.Fatalf("Apply error = %v, want one naming the bad route", err)
	}
	if got := current(t, k).Routes; len(got) != 1 || got[0] != good {
		t.Fatalf("routes = %v, want only the good one", got)
	}
}
