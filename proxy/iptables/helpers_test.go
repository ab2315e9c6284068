package iptables

import (
	"fmt"
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"rudder/proxy/model"
)

func portName(ns, name, port string, proto model.Protocol) model.ServicePortName {
	return model.ServicePortName{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}, Port: port, Protocol: proto}
}

// clusterPort is a TCP ClusterIP service port with ready endpoints.
func clusterPort(name, ip string, port uint16, eps ...string) model.ServicePort {
	sp := model.ServicePort{
		Name:       portName("default", name, "", model.TCP),
		ClusterIPs: []netip.Addr{netip.MustParseAddr(ip)},
		Port:       port,
	}
	for _, e := range eps {
		ep := model.Endpoint{Addr: netip.MustParseAddrPort(e), Ready: true, Serving: true}
		sp.Endpoints = append(sp.Endpoints, ep)
		sp.ClusterEndpoints = append(sp.ClusterEndpoints, ep)
	}
	return sp
}

func testNode() model.Node {
	return model.Node{
		Name:              "node-a",
		NodePortAddresses: []netip.Addr{netip.MustParseAddr("192.168.0.10")},
		ClusterCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
	}
}

// manyServices is n ClusterIP+NodePort services of two endpoints each.
func manyServices(n int) *model.State {
	st := &model.State{Node: testNode()}
	for i := range n {
		ip := fmt.Sprintf("10.96.%d.%d", i/250, i%250+1)
		sp := clusterPort(fmt.Sprintf("svc-%05d", i), ip, 80,
			fmt.Sprintf("10.244.%d.%d:8080", i/250, i%250+1),
			fmt.Sprintf("10.245.%d.%d:8080", i/250, i%250+1))
		sp.NodePort = uint16(30000 + i%2768)
		st.Services = append(st.Services, sp)
	}
	return st
}

func withAffinity(sp model.ServicePort, d time.Duration) model.ServicePort {
	sp.Affinity = &model.Affinity{Timeout: d}
	return sp
}
