package syncer

import (
	"errors"
	"net/netip"
	"strings"
	"testing"

	"rudder/cni/netd/desired"
	"rudder/cni/netd/kernel"
	"rudder/cni/netd/netstate"
)

var underlay = netstate.Underlay{Name: "eth0", Addr: netip.MustParsePrefix("198.18.0.11/24"), MTU: 1500}

func node(i int) netstate.Node {
	a := netip.AddrFrom4([4]byte{198, 18, 0, byte(10 + i)})
	n := netstate.Node{Name: "n" + string(rune('0'+i)), PublicIP: a, VTEPMAC: desired.VTEPMAC(a)}
	n.PodCIDR = netip.PrefixFrom(netip.AddrFrom4([4]byte{10, 244, byte(i), 0}), 24)
	return n
}

func want(t *testing.T, backend netstate.Backend, nodes ...netstate.Node) netstate.State {
	t.Helper()
	res, err := desired.Compute(desired.Input{
		Self: "n1", Nodes: nodes, Backend: backend, Underlay: underlay,
		ClusterCIDR: netip.MustParsePrefix("10.244.0.0/16"), Device: "rudder.1", VNI: 1, Port: 8472,
	})
	if err != nil {
		t.Fatal(err)
	}
	return res.State
}

// converge syncs and checks that the fake then holds exactly the desired
// state and that a second sync finds nothing to do.
func converge(t *testing.T, s *Syncer, fake *kernel.Fake, d netstate.State) {
	t.Helper()
	if _, err := s.Sync(d); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got, w := fake.Dump(), d.Dump(); got != w {
		t.Fatalf("kernel after sync:\n%s\nwant:\n%s", got, w)
	}
	before := fake.Applies()
	plan, err := s.Sync(d)
	if err != nil || !plan.Empty() || fake.Applies() != before {
		t.Fatalf("second Sync changed something: plan %s, err %v", plan.Summary(), err)
	}
}

func newSyncer() (*Syncer, *kernel.Fake) {
	fake := kernel.NewFake(underlay)
	return New(Config{Device: "rudder.1"}, fake), fake
}

func TestSyncAddChangeRemoveNode(t *testing.T) {
	s, fake := newSyncer()
	converge(t, s, fake, want(t, netstate.VXLAN, node(1)))
	converge(t, s, fake, want(t, netstate.VXLAN, node(1), node(2), node(3)))

	moved := node(3)
	moved.PublicIP = netip.MustParseAddr("198.18.0.33")
	moved.VTEPMAC = desired.VTEPMAC(moved.PublicIP)
	converge(t, s, fake, want(t, netstate.VXLAN, node(1), node(2), moved))
	if d := fake.Dump(); strings.Contains(d, "198.18.0.13") || strings.Contains(d, node(3).VTEPMAC.String()) {
		t.Errorf("old address of n3 still programmed:\n%s", d)
	}

	converge(t, s, fake, want(t, netstate.VXLAN, node(1), node(2)))
	if d := fake.Dump(); strings.Contains(d, "10.244.3.0") {
		t.Errorf("departed n3 still programmed:\n%s", d)
	}
}

func TestSyncRestoresWhatWasDeletedByHand(t *testing.T) {
	s, fake := newSyncer()
	d := want(t, netstate.VXLAN, node(1), node(2), node(3))
	converge(t, s, fake, d)
	byHand := netstate.Plan{DelRoutes: d.Routes[:1], DelNeighs: d.Neighs[1:], DelFDB: d.FDB[:1],
		SetSysctls: []netstate.Sysctl{{Key: desired.ForwardSysctl, Value: "0"}}}
	if err := fake.Apply(byHand); err != nil {
		t.Fatal(err)
	}
	converge(t, s, fake, d)

	if err := fake.Apply(netstate.Plan{DelLinks: []string{"rudder.1"}}); err != nil {
		t.Fatal(err)
	}
	converge(t, s, fake, d)
}

func TestSyncFixesChangedLink(t *testing.T) {
	s, fake := newSyncer()
	d := want(t, netstate.VXLAN, node(1), node(2))
	converge(t, s, fake, d)

	down := d.Links[0]
	down.Up, down.MTU = false, 1400
	if err := fake.Apply(netstate.Plan{SetLinks: []netstate.Link{down}}); err != nil {
		t.Fatal(err)
	}
	plan, err := s.Sync(d)
	if err != nil || len(plan.SetLinks) != 1 || len(plan.AddLinks) != 0 {
		t.Fatalf("MTU/state change: plan %s, err %v; want one link change, no re-creation", plan.Summary(), err)
	}

	other := want(t, netstate.VXLAN, node(1), node(2))
	other.Links[0].VNI = 2
	plan, err = s.Sync(other)
	if err != nil || len(plan.DelLinks) != 1 || len(plan.AddLinks) != 1 || len(plan.SetRoutes) != 1 {
		t.Fatalf("VNI change: plan %s, err %v; want re-creation and every object again", plan.Summary(), err)
	}
	converge(t, s, fake, other)
}

func TestSyncSwitchBackend(t *testing.T) {
	s, fake := newSyncer()
	converge(t, s, fake, want(t, netstate.VXLAN, node(1), node(2), node(3)))
	converge(t, s, fake, want(t, netstate.HostGW, node(1), node(2), node(3)))
	if d := fake.Dump(); strings.Contains(d, "rudder.1") {
		t.Errorf("vxlan objects left after switching to host-gw:\n%s", d)
	}
	converge(t, s, fake, want(t, netstate.VXLAN, node(1), node(2), node(3)))
}

func TestSyncReportsApplyErrors(t *testing.T) {
	s, fake := newSyncer()
	fake.FailNextApply(errors.New("boom"))
	if _, err := s.Sync(want(t, netstate.VXLAN, node(1), node(2))); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Sync error = %v, want the adapter's", err)
	}
	converge(t, s, fake, want(t, netstate.VXLAN, node(1), node(2)))
}
