package nftables

import (
	"context"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"sigs.k8s.io/knftables"

	"rudder/proxy/flowtest"
	"rudder/proxy/model"
)

// syncedFake returns a Fake holding st after one full sync.
func syncedFake(t testing.TB, st *model.State) (*knftables.Fake, *Backend) {
	t.Helper()
	fake := knftables.NewFake(knftables.IPv4Family, "rudder")
	b, err := New(Config{Interface: fake})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(context.Background(), st, nil, true); err != nil {
		t.Fatalf("sync: %v", err)
	}
	return fake, b
}

func tcp(src, dst string) flowtest.Packet {
	return flowtest.Packet{Src: netip.MustParseAddr(src), Dst: netip.MustParseAddrPort(dst), Protocol: model.TCP}
}

func withProto(p flowtest.Packet, proto model.Protocol) flowtest.Packet {
	p.Protocol = proto
	return p
}

func fromNode(p flowtest.Packet) flowtest.Packet {
	p.FromNode = true
	return p
}

func eps(addrs ...string) []netip.AddrPort {
	var out []netip.AddrPort
	for _, a := range addrs {
		out = append(out, netip.MustParseAddrPort(a))
	}
	return out
}

type flowCase struct {
	name string
	pkt  flowtest.Packet
	want flowtest.Verdict
}

// ownFlowCases run against sampleState; the shared table is in
// flowtest.Cases.
func ownFlowCases() []flowCase {
	pod, out := "10.244.1.99", "203.0.113.1"
	web := eps("10.244.1.6:8080", "10.244.2.6:8080", "10.244.3.6:8080")
	return []flowCase{
		{"udp cluster ip", withProto(tcp(pod, "10.96.0.10:53"), model.UDP), flowtest.Verdict{Endpoints: eps("10.244.1.5:53", "10.244.2.5:53")}},
		{"wrong protocol", tcp(pod, "10.96.0.10:53"), flowtest.Verdict{}},
		{"cluster ip three", tcp(pod, "10.96.0.20:80"), flowtest.Verdict{Endpoints: web}},
		{"cluster ip off-cluster", tcp(out, "10.96.0.20:80"), flowtest.Verdict{Endpoints: web, Masquerade: true}},
		{"hairpin", tcp("10.244.1.6", "10.96.0.20:80"), flowtest.Verdict{Endpoints: web, Masquerade: true}},
		{"nodeport cluster", tcp(out, "192.168.1.10:30080"), flowtest.Verdict{Endpoints: web, Masquerade: true}},
		{"nodeport wrong address", tcp(out, "192.168.1.11:30080"), flowtest.Verdict{}},
		{"nodeport from node", fromNode(tcp("192.168.1.10", "192.168.1.10:30080")), flowtest.Verdict{Endpoints: web, Masquerade: true}},
		{"no endpoints", tcp(pod, "10.96.0.40:80"), flowtest.Verdict{Reject: true}},
		{"no endpoints nodeport", tcp(out, "192.168.1.10:30040"), flowtest.Verdict{Reject: true}},
		{"no endpoints from node", fromNode(tcp("192.168.1.10", "10.96.0.40:80")), flowtest.Verdict{Reject: true}},
		{"local lb outside", tcp(out, "192.0.2.30:80"), flowtest.Verdict{Endpoints: eps("10.244.1.7:80")}},
		{"local nodeport outside", tcp(out, "192.168.1.10:30030"), flowtest.Verdict{Endpoints: eps("10.244.1.7:80")}},
		{"local lb from pod", tcp(pod, "192.0.2.30:80"), flowtest.Verdict{Endpoints: eps("10.244.1.7:80", "10.244.2.7:80")}},
		{"local lb from node", fromNode(tcp("192.168.1.10", "192.0.2.30:80")), flowtest.Verdict{Endpoints: eps("10.244.1.7:80", "10.244.2.7:80"), Masquerade: true}},
		{"local none outside", tcp(out, "192.168.1.10:30070"), flowtest.Verdict{Drop: true}},
		{"local none from pod", tcp(pod, "192.168.1.10:30070"), flowtest.Verdict{Endpoints: eps("10.244.2.10:80")}},
		{"affinity", tcp(pod, "10.96.0.50:80"), flowtest.Verdict{Endpoints: eps("10.244.1.8:80", "10.244.2.8:80")}},
		{"sctp external ip", withProto(tcp(out, "198.51.100.60:80"), model.SCTP), flowtest.Verdict{Endpoints: eps("10.244.2.9:80"), Masquerade: true}},
		{"not a service", tcp(pod, "10.96.0.99:80"), flowtest.Verdict{}},
	}
}

// TestFlowOwnCases traces this package's cases through the rules and
// through flowtest.Reference, the model's own oracle.
func TestFlowOwnCases(t *testing.T) {
	fake, _ := syncedFake(t, sampleState())
	tracers := map[string]flowtest.Tracer{"nftables": newTracer(fake), "reference": flowtest.Reference(sampleState())}
	for tname, tr := range tracers {
		for _, c := range ownFlowCases() {
			t.Run(tname+"/"+c.name, func(t *testing.T) {
				checkTrace(t, tr, c.pkt, c.want)
			})
		}
	}
}

func checkTrace(t *testing.T, tr flowtest.Tracer, p flowtest.Packet, want flowtest.Verdict) {
	t.Helper()
	got, err := tr.Trace(p)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); diff != "" {
		t.Errorf("verdict (-want +got):\n%s", diff)
	}
}

// TestAffinityPins puts a client into one endpoint's affinity set, as the
// kernel's update statement would, and checks it only reaches that one.
func TestAffinityPins(t *testing.T) {
	st := sampleState()
	fake, _ := syncedFake(t, st)
	var sticky *model.ServicePort
	for i := range st.Services {
		if st.Services[i].Name.Name == "sticky" {
			sticky = &st.Services[i]
		}
	}
	pinned := sticky.ClusterEndpoints[1]
	tx := fake.NewTransaction()
	tx.Add(&knftables.Element{Set: prefixAffinity + endpointHash(sticky.Name, pinned), Key: []string{"10.244.1.99"}})
	if err := fake.Run(context.Background(), tx); err != nil {
		t.Fatal(err)
	}
	tr := newTracer(fake)
	checkTrace(t, tr, tcp("10.244.1.99", "10.96.0.50:80"), flowtest.Verdict{Endpoints: []netip.AddrPort{pinned.Addr}})
	checkTrace(t, tr, tcp("10.244.1.98", "10.96.0.50:80"), flowtest.Verdict{Endpoints: eps("10.244.1.8:80", "10.244.2.8:80")})
}
