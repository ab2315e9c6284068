// Package model is the proxy's pure desired state: what every node must do
// for each service port, computed from Services, EndpointSlices and the
// node's own facts. Backends (iptables, nftables, later IPVS and eBPF)
// only read it. No syscalls here.
package model

import (
	"net/netip"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Protocol is an L4 protocol.
type Protocol string

// Protocols a service port can use.
const (
	TCP  Protocol = "TCP"
	UDP  Protocol = "UDP"
	SCTP Protocol = "SCTP"
)

// ServicePortName identifies one port of one service.
type ServicePortName struct {
	types.NamespacedName
	Port     string // the port's name ("" for a single unnamed port)
	Protocol Protocol
}

// String is "ns/name:port/proto", stable for chain names and logs.
func (n ServicePortName) String() string {
	return n.Namespace + "/" + n.Name + ":" + n.Port + "/" + string(n.Protocol)
}

// Endpoint is one backend of a service port, with the port resolved (named
// targetPorts resolve per endpoint).
type Endpoint struct {
	Addr        netip.AddrPort
	NodeName    string
	Zone        string
	Ready       bool
	Serving     bool
	Terminating bool
	Local       bool // on this node
}

// Affinity is ClientIP session affinity.
type Affinity struct {
	Timeout time.Duration
}

// ServicePort is everything a backend needs for one service port.
type ServicePort struct {
	Name ServicePortName
	// Frontends.
	ClusterIPs      []netip.Addr
	Port            uint16
	NodePort        uint16 // 0: none
	ExternalIPs     []netip.Addr
	LoadBalancerIPs []netip.Addr
	// Policies.
	Affinity            *Affinity // nil: none
	ExternalPolicyLocal bool      // externalTrafficPolicy: Local
	InternalPolicyLocal bool      // internalTrafficPolicy: Local
	HealthCheckNodePort uint16    // for eTP=Local LoadBalancers
	// All endpoints, sorted by address, as categorised from the slices.
	Endpoints []Endpoint
	// ClusterEndpoints serve traffic to cluster IPs (and, with eTP=Cluster,
	// to external frontends): ready endpoints, else serving-terminating
	// ones; only local ones with iTP=Local.
	ClusterEndpoints []Endpoint
	// LocalEndpoints serve external frontends with eTP=Local: local ready
	// endpoints, else local serving-terminating ones.
	LocalEndpoints []Endpoint
}

// HasEndpoints tells whether cluster traffic has anywhere to go; a service
// port without endpoints rejects connections at once.
func (sp *ServicePort) HasEndpoints() bool { return len(sp.ClusterEndpoints) > 0 }

// Node is what the proxy knows about the node it runs on.
type Node struct {
	Name string
	// Addresses NodePorts listen on (after --nodeport-addresses filtering).
	NodePortAddresses []netip.Addr
	// ClusterCIDRs is the pod network: traffic from outside it to a
	// service is masqueraded.
	ClusterCIDRs []netip.Prefix
}

// State is the whole desired state, sorted by service port name.
type State struct {
	Node     Node
	Services []ServicePort
}
