package plugin

import (
	"errors"
	"net/netip"
)

// Dataplane is the kernel work of the plugin, in the node's network
// namespace (the one the plugin runs in) and in pods' namespaces (by path).
type Dataplane interface {
	// EnsureBridge creates the bridge if missing and makes sure it is up,
	// has MTU and holds every address of b.
	EnsureBridge(b Bridge) (Iface, error)
	// EnsureSysctls sets /proc/sys values in the node's namespace.
	EnsureSysctls(s []Sysctl) error
	// EnsureMasquerade makes sure traffic from m.Source to anywhere outside
	// m.Exclude is masqueraded.
	EnsureMasquerade(m Masquerade) error
	// CreateVeth creates a veth pair: the host end attached to the bridge
	// (a bridge port with the hairpin setting), the other end in the pod's
	// namespace named v.IfName, both with v.MTU. Errors: ErrNoNetns,
	// ErrHostVethExists, ErrPodIfaceExists (wrapped) when they apply.
	CreateVeth(v Veth) (host, pod Iface, err error)
	// ConfigurePod puts addresses on the pod's interface, brings it up and
	// adds routes.
	ConfigurePod(p PodConfig) error
	// DeleteVeth deletes a host veth (and so its pod end); a missing one is
	// not an error.
	DeleteVeth(hostName string) error
	// ListHostVeths returns the host veths whose name starts with prefix.
	ListHostVeths(prefix string) ([]HostVeth, error)
	// Inspect reads what CHECK compares against prevResult.
	Inspect(q InspectQuery) (State, error)
}

// Errors of CreateVeth and Inspect (wrapped; test with errors.Is).
var (
	ErrNoNetns        = errors.New("no such network namespace")
	ErrHostVethExists = errors.New("host veth exists")
	ErrPodIfaceExists = errors.New("interface exists in the pod's network namespace")
)

// Bridge is the node bridge.
type Bridge struct {
	Name  string
	MTU   int
	Addrs []netip.Prefix // gateway addresses with the pod range's length
}

// Iface is an interface as the result reports it.
type Iface struct {
	Name string
	MAC  string
	MTU  int
}

// Sysctl is one /proc/sys setting, e.g. {"net/ipv4/ip_forward", "1"}.
type Sysctl struct {
	Key, Value string
}

// Masquerade is one source-NAT rule.
type Masquerade struct {
	Source  netip.Prefix
	Exclude netip.Prefix
	Comment string
}

// Veth says how to wire a pod to the bridge.
type Veth struct {
	HostName string
	Alias    string // identifies the attachment for GC
	Bridge   string
	MTU      int
	Hairpin  bool
	Netns    string // path
	IfName   string
}

// PodConfig is the addressing inside the pod.
type PodConfig struct {
	Netns  string
	IfName string
	Addrs  []netip.Prefix
	Routes []Route // GW always set
}

// HostVeth is a host end as ListHostVeths finds it.
type HostVeth struct {
	Name  string
	Alias string
}

// InspectQuery names what to read for CHECK.
type InspectQuery struct {
	Bridge   string
	HostVeth string
	Netns    string
	IfName   string
}

// State is what Inspect found; a missing part has Found false.
type State struct {
	Bridge BridgeState
	Host   HostState
	Pod    PodState
}

// BridgeState is the bridge as found.
type BridgeState struct {
	Found bool
	Up    bool
	MTU   int
	Addrs []netip.Prefix
}

// HostState is the host veth as found.
type HostState struct {
	Found   bool
	Up      bool
	Master  string
	Hairpin bool
	MTU     int
	Alias   string
}

// PodState is the pod's interface as found.
type PodState struct {
	Found  bool
	Up     bool
	MTU    int
	MAC    string
	Addrs  []netip.Prefix
	Routes []Route // routes through this interface in the main table
}
