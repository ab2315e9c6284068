package flowtest

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"

	"rudder/proxy/model"
)

// Case is one packet and what the rules must do with it.
type Case struct {
	Name   string
	Packet Packet
	Want   Verdict
}

// Addresses used by the cases' world.
var (
	nodeIP   = netip.MustParseAddr("192.168.0.10") // this node, the only NodePort address
	otherIP  = netip.MustParseAddr("192.168.0.99") // another address of this node, not a NodePort address
	outside  = netip.MustParseAddr("203.0.113.50") // an off-cluster client
	localPod = netip.MustParseAddr("10.244.1.50")  // a pod on this node that is no endpoint
	remote   = netip.MustParseAddr("10.244.2.50")  // a pod on another node
)

// Cases is the shared packet-flow table and the state it is traced
// against, both fresh at each call. See semantics.go for the rules.
//
// This node is "node-a" at 192.168.0.10 (its NodePort address), pods on
// it are in 10.244.1.0/24, pods on node-b in 10.244.2.0/24, and the
// cluster CIDR is 10.244.0.0/16.
func Cases() (*model.State, []Case) {
	node := model.Node{
		Name:              "node-a",
		NodePortAddresses: []netip.Addr{nodeIP},
		ClusterCIDRs:      []netip.Prefix{netip.MustParsePrefix("10.244.0.0/16")},
	}
	svcs, slices := world()
	st := model.Build(svcs, slices, node)
	var cases []Case
	for _, group := range [][]Case{
		clusterIPCases(), nodePortCases(), externalCases(),
		policyCases(), endpointStateCases(), protocolCases(),
	} {
		cases = append(cases, group...)
	}
	return st, cases
}

// world is the services and slices the cases run against.
func world() ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	return []*corev1.Service{
			// web: NodePort, eTP=Cluster, an externalIP, endpoints on both nodes.
			service("web", "10.96.0.11", nodePort(30011), externalIPs("198.51.100.11")),
			// lb: LoadBalancer, eTP=Cluster, remote endpoint only.
			service("lb", "10.96.0.12", loadBalancer(30012, "198.51.100.12")),
			// local: LoadBalancer eTP=Local with a local and a remote endpoint.
			service("local", "10.96.0.13", loadBalancer(30013, "198.51.100.13"), externalLocal),
			// local-none: NodePort eTP=Local, remote endpoint only.
			service("local-none", "10.96.0.14", nodePort(30014), externalLocal),
			// internal: iTP=Local with a local and a remote endpoint.
			service("internal", "10.96.0.15", internalLocal),
			// empty: NodePort without endpoints.
			service("empty", "10.96.0.16", nodePort(30016)),
			// term: one serving-terminating endpoint and no ready one.
			service("term", "10.96.0.17"),
			// mixed: a ready endpoint next to a serving-terminating one.
			service("mixed", "10.96.0.18"),
			// hairpin: the only endpoint is 10.244.1.19 on this node.
			service("hairpin", "10.96.0.19"),
			// multi: dns over UDP and TCP, and an SCTP port, named target ports.
			service("multi", "10.96.0.20", ports(
				port("dns", corev1.ProtocolUDP, 53), port("dns-tcp", corev1.ProtocolTCP, 53),
				port("sctp", corev1.ProtocolSCTP, 9000))),
			// headless: must not be proxied at all.
			service("headless", corev1.ClusterIPNone),
		}, []*discoveryv1.EndpointSlice{
			slice("web", ready("10.244.1.11", "node-a"), ready("10.244.2.11", "node-b")),
			slice("lb", ready("10.244.2.12", "node-b")),
			slice("local", ready("10.244.1.13", "node-a"), ready("10.244.2.13", "node-b")),
			slice("local-none", ready("10.244.2.14", "node-b")),
			slice("internal", ready("10.244.1.15", "node-a"), ready("10.244.2.15", "node-b")),
			slice("empty"),
			slice("term", servingTerminating("10.244.2.17", "node-b")),
			slice("mixed", ready("10.244.2.18", "node-b"), servingTerminating("10.244.2.81", "node-b")),
			slice("hairpin", ready("10.244.1.19", "node-a")),
			withPorts(slice("multi", ready("10.244.2.20", "node-b")),
				slicePort("dns", corev1.ProtocolUDP, 5353), slicePort("dns-tcp", corev1.ProtocolTCP, 5353),
				slicePort("sctp", corev1.ProtocolSCTP, 9009)),
			slice("headless", ready("10.244.2.21", "node-b")),
		}
}
