package iptables

import (
	"net/netip"
	"testing"
	"time"

	"rudder/proxy/flowtest"
	"rudder/proxy/model"
)

func TestTraceAffinityAndInvalid(t *testing.T) {
	st := &model.State{Node: testNode(), Services: []model.ServicePort{
		withAffinity(clusterPort("sticky", "10.96.0.30", 80, "10.244.1.30:80", "10.244.2.30:80"), time.Hour),
	}}
	d := syncFake(t, st).Dump(ModeLegacy)
	tr, err := NewTracer(d, st.Node.NodePortAddresses)
	if err != nil {
		t.Fatal(err)
	}
	v, err := tr.Trace(flowtest.Packet{Src: netip.MustParseAddr("10.244.1.50"), Dst: netip.MustParseAddrPort("10.96.0.30:80"), Protocol: model.TCP, FromLocalPod: true})
	if err != nil || len(v.Endpoints) != 2 || v.Masquerade {
		t.Errorf("first packet with affinity: %v, %v; want both endpoints, no masquerade", v, err)
	}
	fwd := d.Tables[tableFilter].Chains[chainForward]
	if len(fwd) != 1 || fwd[0] != "-m conntrack --ctstate INVALID -j DROP" {
		t.Errorf("RUDDER-FORWARD = %v, want the INVALID drop", fwd)
	}
}

func TestTraceErrors(t *testing.T) {
	d := NewDump()
	if err := d.Restore([]byte("*nat\n:RUDDER-A - [0:0]\n-A PREROUTING -j RUDDER-A\n-A RUDDER-A -m frobnicate --x 1 -j ACCEPT\nCOMMIT\n"), true); err != nil {
		t.Fatal(err)
	}
	if _, err := NewTracer(d, nil); err == nil {
		t.Error("unsupported match accepted")
	}
}

func TestTokenize(t *testing.T) {
	got, err := tokenize(`-m comment --comment "a \"b\" c" -j X`)
	want := []string{"-m", "comment", "--comment", `a "b" c`, "-j", "X"}
	if err != nil || len(got) != len(want) {
		t.Fatalf("tokenize = %q, %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("token %d = %q, want %q", i, got[i], want[i])
		}
	}
}
