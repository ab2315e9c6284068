package nftables

import (
	"fmt"
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"rudder/proxy/model"
)

var (
	nodeIP   = netip.MustParseAddr("192.168.1.10")
	localPod = netip.MustParseAddr("10.244.1.5")
)

func testNode() model.Node {
	return model.Node{
		Name:              "node-1",
		NodePortAddresses: []netip.Addr{nodeIP},
		ClusterCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
	}
}

func ep(addr string, local bool) model.Endpoint {
	return model.Endpoint{Addr: netip.MustParseAddrPort(addr), Ready: true, Serving: true, Local: local}
}

func svc(name string, proto model.Protocol, vip string, port uint16, eps ...model.Endpoint) model.ServicePort {
	sp := model.ServicePort{
		Name:       model.ServicePortName{NamespacedName: types.NamespacedName{Namespace: "default", Name: name}, Protocol: proto},
		ClusterIPs: []netip.Addr{netip.MustParseAddr(vip)},
		Port:       port,
		Endpoints:  eps,
	}
	sp.ClusterEndpoints = eps
	for _, e := range eps {
		if e.Local {
			sp.LocalEndpoints = append(sp.LocalEndpoints, e)
		}
	}
	return sp
}

// sampleState has one service port per behaviour.
func sampleState() *model.State {
	dns := svc("dns", model.UDP, "10.96.0.10", 53, ep("10.244.1.5:53", true), ep("10.244.2.5:53", false))
	web := svc("web", model.TCP, "10.96.0.20", 80, ep("10.244.1.6:8080", true), ep("10.244.2.6:8080", false), ep("10.244.3.6:8080", false))
	web.NodePort = 30080
	lb := svc("lb-local", model.TCP, "10.96.0.30", 80, ep("10.244.1.7:80", true), ep("10.244.2.7:80", false))
	lb.NodePort, lb.ExternalPolicyLocal, lb.HealthCheckNodePort = 30030, true, 32000
	lb.LoadBalancerIPs = []netip.Addr{netip.MustParseAddr("192.0.2.30")}
	empty := svc("empty", model.TCP, "10.96.0.40", 80)
	empty.NodePort = 30040
	sticky := svc("sticky", model.TCP, "10.96.0.50", 80, ep("10.244.1.8:80", true), ep("10.244.2.8:80", false))
	sticky.Affinity = &model.Affinity{Timeout: 3 * time.Hour}
	extip := svc("extip", model.SCTP, "10.96.0.60", 80, ep("10.244.2.9:80", false))
	extip.ExternalIPs = []netip.Addr{netip.MustParseAddr("198.51.100.60")}
	remote := svc("remote-only", model.TCP, "10.96.0.70", 80, ep("10.244.2.10:80", false))
	remote.NodePort, remote.ExternalPolicyLocal = 30070, true
	return &model.State{Node: testNode(), Services: []model.ServicePort{dns, empty, extip, lb, remote, sticky, web}}
}

// manyServices is n TCP services of two endpoints each.
func manyServices(n int) *model.State {
	st := &model.State{Node: testNode()}
	for i := range n {
		vip := fmt.Sprintf("10.%d.%d.%d", 96+i>>16, (i>>8)&255, i&255)
		e1 := fmt.Sprintf("10.244.%d.%d:8080", (i>>8)&255, i&255)
		e2 := fmt.Sprintf("10.245.%d.%d:8080", (i>>8)&255, i&255)
		st.Services = append(st.Services, svc(fmt.Sprintf("s%05d", i), model.TCP, vip, 80, ep(e1, false), ep(e2, false)))
	}
	return st
}
