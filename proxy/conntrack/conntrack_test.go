package conntrack

import (
	"net/netip"
	"slices"
	"testing"

	"rudder/proxy/model"
)

func udpPort(name string, hasEP bool, eps ...string) model.ServicePort {
	sp := model.ServicePort{
		Name:       model.ServicePortName{Port: "dns", Protocol: model.UDP},
		ClusterIPs: []netip.Addr{netip.MustParseAddr("10.96.0.10")},
		Port:       53,
	}
	sp.Name.Namespace, sp.Name.Name = "kube-system", name
	for _, e := range eps {
		sp.ClusterEndpoints = append(sp.ClusterEndpoints, model.Endpoint{Addr: netip.MustParseAddrPort(e), Ready: true})
	}
	_ = hasEP
	return sp
}

func TestStale(t *testing.T) {
	a, b, c := "10.244.1.2:53", "10.244.2.3:53", "10.244.2.4:53"
	tcp := udpPort("web", true, a)
	tcp.Name.Protocol = model.TCP
	tcpNoEP := udpPort("web", false)
	tcpNoEP.Name.Protocol = model.TCP
	cases := []struct {
		name              string
		old, cur          []model.ServicePort
		wantEPs, wantSvcs []string
		wantTCP           []string
	}{
		{"no change", []model.ServicePort{udpPort("dns", true, a, b)}, []model.ServicePort{udpPort("dns", true, a, b)}, nil, nil, nil},
		{"endpoint replaced", []model.ServicePort{udpPort("dns", true, a, b)}, []model.ServicePort{udpPort("dns", true, a, c)}, []string{"10.244.2.3"}, nil, nil},
		{"service removed", []model.ServicePort{udpPort("dns", true, a)}, nil, []string{"10.244.1.2"}, nil, nil},
		{"first endpoint", []model.ServicePort{udpPort("dns", false)}, []model.ServicePort{udpPort("dns", true, a)}, nil, []string{"10.96.0.10"}, nil},
		{"new service with endpoints", nil, []model.ServicePort{udpPort("dns", true, a)}, nil, []string{"10.96.0.10"}, nil},
		{"TCP endpoints are never flushed", []model.ServicePort{tcp}, nil, nil, nil, nil},
		{"new TCP service: entries that missed the DNAT", nil, []model.ServicePort{tcp}, nil, nil, []string{"10.96.0.10"}},
		{"TCP service gets its first endpoint", []model.ServicePort{tcpNoEP}, []model.ServicePort{tcp}, nil, nil, []string{"10.96.0.10"}},
		{"TCP service unchanged", []model.ServicePort{tcp}, []model.ServicePort{tcp}, nil, nil, nil},
		{"new TCP service without endpoints", nil, []model.ServicePort{tcpNoEP}, nil, nil, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := Stale(&model.State{Services: tc.old}, &model.State{Services: tc.cur})
			if got := strs(f.Endpoints); !slices.Equal(got, tc.wantEPs) {
				t.Errorf("endpoints %v, want %v", got, tc.wantEPs)
			}
			if got := strs(f.ServiceIPs); !slices.Equal(got, tc.wantSvcs) {
				t.Errorf("service IPs %v, want %v", got, tc.wantSvcs)
			}
			if got := strs(f.TCPServiceIPs); !slices.Equal(got, tc.wantTCP) {
				t.Errorf("TCP service IPs %v, want %v", got, tc.wantTCP)
			}
		})
	}
	if !Stale(nil, &model.State{Services: []model.ServicePort{udpPort("dns", true, a)}}).Empty() {
		t.Error("the first sync must not flush: nothing was applied before")
	}
}

func strs(a []netip.Addr) []string {
	var out []string
	for _, x := range a {
		out = append(out, x.String())
	}
	return out
}
