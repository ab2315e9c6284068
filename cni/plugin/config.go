package plugin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"

	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	"github.com/containernetworking/cni/pkg/version"

	"rudder/ipam/hostlocal"
)

// Defaults of the plugin config (see ../contract.md).
const (
	DefaultBridge     = "cni0"
	DefaultSubnetFile = "/run/rudder/subnet.env"
	DefaultMTU        = 1500
)

// rawConf is the plugin config as it comes on stdin.
type rawConf struct {
	types.PluginConf
	Bridge      string          `json:"bridge"`
	MTU         int             `json:"mtu"`
	SubnetFile  string          `json:"subnetFile"`
	Ranges      [][]rawRange    `json:"ranges"`
	ClusterCIDR string          `json:"clusterCIDR"`
	IPMasq      *bool           `json:"ipMasq"`
	HairpinMode *bool           `json:"hairpinMode"`
	Routes      []*types.Route  `json:"routes"`
	DataDir     string          `json:"dataDir"`
	IPAMRaw     json.RawMessage `json:"ipam"`
}

type rawRange struct {
	Subnet     string `json:"subnet"`
	RangeStart string `json:"rangeStart"`
	RangeEnd   string `json:"rangeEnd"`
	Gateway    string `json:"gateway"`
}

// NetConf is a checked plugin config with its defaults filled in.
type NetConf struct {
	CNIVersion string
	Network    string
	Bridge     string
	// MTU is 0 when the subnet file (or DefaultMTU) decides.
	MTU        int
	SubnetFile string
	// Ranges is nil when the pod range comes from the subnet file.
	Ranges hostlocal.RangeSet
	// ClusterCIDR is invalid when the subnet file (or the pod range)
	// decides.
	ClusterCIDR netip.Prefix
	// IPMasq is nil when the subnet file decides (default false).
	IPMasq  *bool
	Hairpin bool
	Routes  []Route
	DNS     types.DNS
	DataDir string
	// PrevResult is the previous result, converted to 1.1.0, or nil.
	PrevResult *types100.Result
	// ValidAttachments is GC's list of attachments to keep.
	ValidAttachments []hostlocal.Attachment
}

// Route is a route in the pod's namespace; an invalid GW means the
// gateway of the pod's range.
type Route struct {
	Dst netip.Prefix
	GW  netip.Addr
}

// ParseConfig decodes and checks a plugin config: code 6 when it is not
// JSON of the right shape, 1 for an unsupported cniVersion, 7 for values
// that are wrong, each saying which field and why.
func ParseConfig(stdin []byte) (*NetConf, *types.Error) {
	var raw rawConf
	dec := json.NewDecoder(bytes.NewReader(stdin))
	if err := dec.Decode(&raw); err != nil {
		return nil, cniError(types.ErrDecodingFailure, "decode network config: %v", err)
	}
	if !slices.Contains(supportedVersions(), raw.CNIVersion) {
		return nil, cniError(types.ErrIncompatibleCNIVersion,
			"cniVersion %q is not supported: use one of %v", raw.CNIVersion, supportedVersions())
	}
	conf, cerr := raw.check()
	if cerr != nil {
		return nil, cerr
	}
	if err := parsePrevResult(&raw.PluginConf, conf); err != nil {
		return nil, err
	}
	return conf, nil
}

// check turns raw into a NetConf, filling defaults.
func (raw *rawConf) check() (*NetConf, *types.Error) {
	conf := &NetConf{
		CNIVersion: raw.CNIVersion, Network: raw.Name, Bridge: raw.Bridge, MTU: raw.MTU,
		SubnetFile: raw.SubnetFile, IPMasq: raw.IPMasq, Hairpin: raw.HairpinMode == nil || *raw.HairpinMode,
		DNS: raw.DNS, DataDir: raw.DataDir,
	}
	for _, c := range []func(*NetConf) *types.Error{raw.checkBasics, raw.checkRanges, raw.checkCIDRAndRoutes} {
		if err := c(conf); err != nil {
			return nil, err
		}
	}
	for _, a := range raw.ValidAttachments {
		conf.ValidAttachments = append(conf.ValidAttachments, hostlocal.Attachment{ContainerID: a.ContainerID, IfName: a.IfName})
	}
	return conf, nil
}

func invalid(format string, args ...any) *types.Error {
	return cniError(types.ErrInvalidNetworkConfig, format, args...)
}

func (raw *rawConf) checkBasics(conf *NetConf) *types.Error {
	if conf.Network == "" {
		return invalid(`"name" is missing: name the network`)
	}
	if !namePattern.MatchString(conf.Network) {
		return invalid(`"name" %q is invalid: use letters, digits, '_', '.' and '-', starting with a letter or digit`, conf.Network)
	}
	if len(raw.IPAMRaw) > 0 && string(raw.IPAMRaw) != "{}" && string(raw.IPAMRaw) != "null" {
		return invalid(`"ipam" is not used by the rudder plugin, which does its own IPAM: remove it and set "subnetFile" or "ranges"`)
	}
	if conf.Bridge == "" {
		conf.Bridge = DefaultBridge
	}
	if msg := badIfName(conf.Bridge); msg != "" {
		return invalid(`"bridge" %q is not a valid interface name: %s`, conf.Bridge, msg)
	}
	if conf.MTU != 0 && (conf.MTU < 68 || conf.MTU > 65535) {
		return invalid(`"mtu" %d is out of range: use 68-65535, or leave it out to take RUDDER_MTU from the subnet file`, conf.MTU)
	}
	if conf.DataDir == "" {
		conf.DataDir = hostlocal.DefaultDataDir
	}
	if !filepath.IsAbs(conf.DataDir) {
		return invalid(`"dataDir" %q must be an absolute path`, conf.DataDir)
	}
	return nil
}

func (raw *rawConf) checkRanges(conf *NetConf) *types.Error {
	if len(raw.Ranges) > 0 && conf.SubnetFile != "" {
		return invalid(`set either "subnetFile" or "ranges", not both`)
	}
	if len(raw.Ranges) == 0 {
		if conf.SubnetFile == "" {
			conf.SubnetFile = DefaultSubnetFile
		}
		if !filepath.IsAbs(conf.SubnetFile) {
			return invalid(`"subnetFile" %q must be an absolute path`, conf.SubnetFile)
		}
		return nil
	}
	if len(raw.Ranges) > 1 {
		return invalid(`"ranges" has %d range sets: the rudder plugin gives a pod one IPv4 address, so use one set`, len(raw.Ranges))
	}
	set, err := parseRangeSet(raw.Ranges[0])
	if err != nil {
		return invalid(`"ranges": %v`, err)
	}
	conf.Ranges = set
	return nil
}

func parseRangeSet(raw []rawRange) (hostlocal.RangeSet, error) {
	var set hostlocal.RangeSet
	for i, r := range raw {
		subnet, err := netip.ParsePrefix(r.Subnet)
		if err != nil {
			return nil, fmt.Errorf("range %d: subnet %q is not a CIDR", i, r.Subnet)
		}
		if !subnet.Addr().Is4() {
			return nil, fmt.Errorf("range %d: subnet %s is not IPv4: IPv6 pod ranges are not supported yet", i, subnet)
		}
		rng := hostlocal.Range{Subnet: subnet}
		for _, f := range []struct {
			name, val string
			dst       *netip.Addr
		}{{"rangeStart", r.RangeStart, &rng.RangeStart}, {"rangeEnd", r.RangeEnd, &rng.RangeEnd}, {"gateway", r.Gateway, &rng.Gateway}} {
			if f.val == "" {
				continue
			}
			if *f.dst, err = netip.ParseAddr(f.val); err != nil {
				return nil, fmt.Errorf("range %d: %s %q is not an IP address", i, f.name, f.val)
			}
		}
		set = append(set, rng)
	}
	return set.Canonical()
}

func (raw *rawConf) checkCIDRAndRoutes(conf *NetConf) *types.Error {
	if raw.ClusterCIDR != "" {
		p, err := netip.ParsePrefix(raw.ClusterCIDR)
		if err != nil || !p.Addr().Is4() {
			return invalid(`"clusterCIDR" %q is not an IPv4 CIDR`, raw.ClusterCIDR)
		}
		conf.ClusterCIDR = p.Masked()
		for _, r := range conf.Ranges {
			if !conf.ClusterCIDR.Contains(r.Subnet.Addr()) || r.Subnet.Bits() < p.Bits() {
				return invalid(`"clusterCIDR" %s does not contain the pod range %s`, p, r.Subnet)
			}
		}
	}
	for i, r := range raw.Routes {
		if r == nil {
			return invalid(`"routes"[%d] is null`, i)
		}
		dst, ok := prefixFromIPNet(r.Dst.IP, r.Dst.Mask)
		if !ok || !dst.Addr().Is4() {
			return invalid(`"routes"[%d] dst %q is not an IPv4 CIDR`, i, r.Dst.String())
		}
		route := Route{Dst: dst}
		if r.GW != nil {
			gw, ok := netip.AddrFromSlice(r.GW)
			if !ok || !gw.Unmap().Is4() {
				return invalid(`"routes"[%d] gw %q is not an IPv4 address`, i, r.GW)
			}
			route.GW = gw.Unmap()
		}
		conf.Routes = append(conf.Routes, route)
	}
	return nil
}

// parsePrevResult converts a prevResult of any supported version to 1.1.0.
func parsePrevResult(pc *types.PluginConf, conf *NetConf) *types.Error {
	if pc.RawPrevResult == nil {
		return nil
	}
	if err := version.ParsePrevResult(pc); err != nil {
		return cniError(types.ErrDecodingFailure, "decode prevResult: %v", err)
	}
	res, err := types100.NewResultFromResult(pc.PrevResult)
	if err != nil {
		return cniError(types.ErrIncompatibleCNIVersion, "convert prevResult to %s: %v", types100.ImplementedSpecVersion, err)
	}
	conf.PrevResult = res
	return nil
}
