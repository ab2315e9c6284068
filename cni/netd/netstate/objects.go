package netstate

import (
	"fmt"
	"net/netip"
	"strings"
)

// Link is a VXLAN device. Kind is "vxlan" for devices netd made; a foreign
// device holding the same name shows its own kind and gets replaced.
type Link struct {
	Name     string
	Kind     string
	VNI      int
	Port     int
	Local    netip.Addr // source address of encapsulated packets
	Parent   string     // underlay interface the tunnel is bound to
	Learning bool
	MTU      int
	MAC      MAC
	Up       bool
}

// SameIdentity reports whether l and o agree on everything the kernel can only
// set at creation; if not, the device must be deleted and created again.
func (l Link) SameIdentity(o Link) bool {
	return l.Name == o.Name && l.Kind == o.Kind && l.VNI == o.VNI && l.Port == o.Port &&
		l.Local == o.Local && l.Parent == o.Parent && l.Learning == o.Learning
}

func (l Link) String() string {
	learning := "nolearning"
	if l.Learning {
		learning = "learning"
	}
	state := "down"
	if l.Up {
		state = "up"
	}
	return fmt.Sprintf("link %s %s vni %d port %d local %s dev %s %s mtu %d mac %s %s",
		l.Name, l.Kind, l.VNI, l.Port, l.Local, l.Parent, learning, l.MTU, l.MAC, state)
}

// Addr is an IPv4 address on a netd device. On the VXLAN device it is
// the node's pod network address as a /32, so that traffic the node itself
// sends into the overlay has a source that the peers route back through the
// overlay (strict reverse-path filtering then holds on both ends).
type Addr struct {
	Dev    string
	Prefix netip.Prefix
}

func (a Addr) String() string { return fmt.Sprintf("addr %s dev %s", a.Prefix, a.Dev) }

// Route is an IPv4 route in the main table owned by netd.
type Route struct {
	Dst    netip.Prefix
	Gw     netip.Addr
	Dev    string
	Onlink bool
}

func (r Route) String() string {
	s := fmt.Sprintf("route %s via %s dev %s", r.Dst, r.Gw, r.Dev)
	if r.Onlink {
		s += " onlink"
	}
	return s
}

// Neigh is a permanent IPv4 neighbour (ARP) entry.
type Neigh struct {
	Dev string
	IP  netip.Addr
	MAC MAC
}

func (n Neigh) String() string {
	return fmt.Sprintf("neigh %s lladdr %s dev %s permanent", n.IP, n.MAC, n.Dev)
}

// FDB is a forwarding-database entry of a VXLAN device: frames for MAC go
// to the tunnel endpoint Dst. Several entries may share one MAC (append).
type FDB struct {
	Dev string
	MAC MAC
	Dst netip.Addr
}

func (f FDB) String() string {
	return fmt.Sprintf("fdb %s dst %s dev %s self permanent", f.MAC, f.Dst, f.Dev)
}

// Sysctl is one kernel parameter in dotted form (net.ipv4.ip_forward).
type Sysctl struct {
	Key   string
	Value string
}

func (s Sysctl) String() string { return fmt.Sprintf("sysctl %s = %s", s.Key, s.Value) }

// Path is the sysctl's file below /proc/sys.
func (s Sysctl) Path() string { return SysctlPath(s.Key) }

// SysctlPath maps a dotted key to its file below /proc/sys.
func SysctlPath(key string) string {
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}
