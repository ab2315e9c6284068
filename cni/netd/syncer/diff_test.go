package syncer

import (
	"net/netip"
	"testing"

	"rudder/cni/netd/netstate"
)

func TestDiffSkipsObjectsOnRecreatedDevice(t *testing.T) {
	d := want(t, netstate.VXLAN, node(1), node(2))
	cur := d
	cur.Links = []netstate.Link{d.Links[0]}
	cur.Links[0].Port = 4789
	p := Diff(d, cur)
	if len(p.DelRoutes)+len(p.DelNeighs)+len(p.DelFDB) != 0 {
		t.Errorf("plan deletes objects the device deletion already removes: %+v", p)
	}
	if len(p.SetRoutes) != 1 || len(p.SetNeighs) != 1 || len(p.AddFDB) != 1 {
		t.Errorf("plan does not re-add the objects of the re-created device: %s", p.Summary())
	}
}

func TestDiffReplacesWrongEntries(t *testing.T) {
	d := want(t, netstate.VXLAN, node(1), node(2))
	cur := d
	cur.Routes = []netstate.Route{d.Routes[0]}
	cur.Routes[0].Gw = netip.MustParseAddr("10.244.2.9")
	cur.FDB = append([]netstate.FDB{{Dev: "rudder.1", MAC: node(2).VTEPMAC, Dst: netip.MustParseAddr("198.18.0.99")}}, d.FDB...)
	p := Diff(d, cur)
	if len(p.DelRoutes) != 1 || len(p.SetRoutes) != 1 {
		t.Errorf("wrong route: %s, want one delete and one set", p.Summary())
	}
	if len(p.DelFDB) != 1 || p.DelFDB[0].Dst.String() != "198.18.0.99" || len(p.AddFDB) != 0 {
		t.Errorf("extra FDB entry: %+v", p)
	}
}
