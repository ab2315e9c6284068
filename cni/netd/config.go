package netd

import (
	"errors"
	"fmt"
	"net/netip"
	"time"

	"rudder/cni/netd/cniconf"
	"rudder/cni/netd/netstate"
)

// Config is what one netd instance manages. Zero fields take the defaults
// of DefaultConfig, except IPMasq, which is used as given.
type Config struct {
	NodeName     string           // this node's Node object
	Backend      netstate.Backend // vxlan or host-gw
	Underlay     string           // interface name or IPv4 address; "" = interface of the default route
	ClusterCIDR  netip.Prefix     // pod network of the whole cluster
	VNI          int
	Port         int    // VXLAN UDP port
	Device       string // VXLAN device name
	SubnetFile   string // written for the CNI plugin
	CNIConfDir   string // where the conflist goes
	ConflistName string
	Bridge       string // bridge name written into the conflist
	IPAMDataDir  string // IPAM store root written into the conflist
	IPMasq       bool   // masquerade pod traffic leaving the cluster CIDR
	NetNS        string // network namespace to act in (path); "" = the caller's
	ResyncPeriod time.Duration
}

// DefaultConfig returns the defaults of DESIGN.md.
func DefaultConfig() Config {
	return Config{
		Backend:      netstate.VXLAN,
		ClusterCIDR:  netip.MustParsePrefix("10.244.0.0/16"),
		VNI:          1,
		Port:         8472,
		Device:       "rudder.1",
		SubnetFile:   "/run/rudder/subnet.env",
		CNIConfDir:   "/etc/cni/net.d",
		ConflistName: cniconf.DefaultConflistName,
		Bridge:       "cni0",
		IPAMDataDir:  "/var/lib/cni/networks",
		IPMasq:       true,
		ResyncPeriod: 4 * time.Second, // a hand-made change is undone within 5 s, sync time included
	}
}

// withDefaults fills zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	fill(&c.Backend, d.Backend)
	fill(&c.ClusterCIDR, d.ClusterCIDR)
	fill(&c.VNI, d.VNI)
	fill(&c.Port, d.Port)
	fill(&c.Device, d.Device)
	fill(&c.SubnetFile, d.SubnetFile)
	fill(&c.CNIConfDir, d.CNIConfDir)
	fill(&c.ConflistName, d.ConflistName)
	fill(&c.Bridge, d.Bridge)
	fill(&c.IPAMDataDir, d.IPAMDataDir)
	fill(&c.ResyncPeriod, d.ResyncPeriod)
	return c
}

func fill[T comparable](v *T, def T) {
	var zero T
	if *v == zero {
		*v = def
	}
}

// validate reports every problem at once.
func (c Config) validate() error {
	var errs []error
	if c.NodeName == "" {
		errs = append(errs, errors.New("node name is empty"))
	}
	if _, err := netstate.ParseBackend(string(c.Backend)); err != nil {
		errs = append(errs, err)
	}
	if !c.ClusterCIDR.Addr().Is4() || c.ClusterCIDR != c.ClusterCIDR.Masked() {
		errs = append(errs, fmt.Errorf("cluster CIDR %s: want an IPv4 network address", c.ClusterCIDR))
	}
	if c.VNI < 1 || c.VNI > 1<<24-1 {
		errs = append(errs, fmt.Errorf("VNI %d: want 1..16777215", c.VNI))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("port %d: want 1..65535", c.Port))
	}
	if len(c.Device) > 15 {
		errs = append(errs, fmt.Errorf("device name %q: longer than 15 characters", c.Device))
	}
	if c.ResyncPeriod < 0 {
		errs = append(errs, fmt.Errorf("resync period %s: negative", c.ResyncPeriod))
	}
	return errors.Join(errs...)
}
