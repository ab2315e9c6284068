package plugin

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strconv"
	"strings"

	"github.com/containernetworking/cni/pkg/types"

	"rudder/ipam/hostlocal"
)

// SubnetEnv is what netd writes to the subnet file (../contract.md).
type SubnetEnv struct {
	Network netip.Prefix // RUDDER_NETWORK: the cluster CIDR
	Subnet  netip.Prefix // RUDDER_SUBNET: gateway address / prefix length
	MTU     int          // RUDDER_MTU
	IPMasq  *bool        // RUDDER_IPMASQ
}

// ParseSubnetEnv reads KEY=VALUE lines ('#' starts a comment; unknown keys
// are ignored). A file without RUDDER_SUBNET gives an invalid Subnet.
func ParseSubnetEnv(data []byte) (SubnetEnv, error) {
	var env SubnetEnv
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return env, fmt.Errorf("line %d: want KEY=VALUE, got %q", n, line)
		}
		if err := env.set(strings.TrimSpace(k), strings.Trim(strings.TrimSpace(v), `"`)); err != nil {
			return env, fmt.Errorf("line %d: %w", n, err)
		}
	}
	return env, sc.Err()
}

func (env *SubnetEnv) set(k, v string) error {
	var err error
	switch k {
	case "RUDDER_NETWORK":
		if env.Network, err = netip.ParsePrefix(v); err != nil || !env.Network.Addr().Is4() {
			return fmt.Errorf("RUDDER_NETWORK=%q is not an IPv4 CIDR", v)
		}
		env.Network = env.Network.Masked()
	case "RUDDER_SUBNET":
		if env.Subnet, err = netip.ParsePrefix(v); err != nil || !env.Subnet.Addr().Is4() {
			return fmt.Errorf("RUDDER_SUBNET=%q is not an IPv4 gateway/prefix such as 10.244.1.1/24", v)
		}
	case "RUDDER_MTU":
		if env.MTU, err = strconv.Atoi(v); err != nil || env.MTU < 68 || env.MTU > 65535 {
			return fmt.Errorf("RUDDER_MTU=%q is not an MTU (68-65535)", v)
		}
	case "RUDDER_IPMASQ":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("RUDDER_IPMASQ=%q is not true or false", v)
		}
		env.IPMasq = &b
	}
	return nil
}

// Network is everything ADD, CHECK and STATUS need to know about the pod
// range, from the config and the subnet file together.
type Network struct {
	Ranges      hostlocal.RangeSet // canonical
	ClusterCIDR netip.Prefix       // masquerade exclusion
	MTU         int
	IPMasq      bool
}

// errNoPodRange: the node has no pod range yet (no subnet file, or no
// RUDDER_SUBNET in it).
var errNoPodRange = errors.New("this node has no pod range yet")

// resolveNetwork combines conf with the subnet file when conf has no
// ranges. Errors: errNoPodRange (wrapped), or a malformed file.
func resolveNetwork(conf *NetConf, readFile func(string) ([]byte, error)) (Network, error) {
	var env SubnetEnv
	if conf.Ranges == nil {
		data, err := readFile(conf.SubnetFile)
		if errors.Is(err, fs.ErrNotExist) {
			return Network{}, fmt.Errorf("%w: subnet file %s does not exist (is rudder netd running on this node?)", errNoPodRange, conf.SubnetFile)
		}
		if err != nil {
			return Network{}, fmt.Errorf("read subnet file %s: %w", conf.SubnetFile, err)
		}
		if env, err = ParseSubnetEnv(data); err != nil {
			return Network{}, fmt.Errorf("subnet file %s: %w", conf.SubnetFile, err)
		}
		if !env.Subnet.IsValid() {
			return Network{}, fmt.Errorf("%w: subnet file %s has no RUDDER_SUBNET (netd has not been given this node's podCIDR)", errNoPodRange, conf.SubnetFile)
		}
	}
	return combine(conf, env)
}

func combine(conf *NetConf, env SubnetEnv) (Network, error) {
	nw := Network{Ranges: conf.Ranges, ClusterCIDR: conf.ClusterCIDR, MTU: conf.MTU}
	if nw.Ranges == nil {
		gw := env.Subnet.Addr()
		if gw == env.Subnet.Masked().Addr() {
			gw = netip.Addr{} // a bare network: the gateway is its first host
		}
		set, err := hostlocal.RangeSet{{Subnet: env.Subnet.Masked(), Gateway: gw}}.Canonical()
		if err != nil {
			return Network{}, fmt.Errorf("subnet file %s: RUDDER_SUBNET=%s: %w", conf.SubnetFile, env.Subnet, err)
		}
		nw.Ranges = set
	}
	if !nw.ClusterCIDR.IsValid() {
		nw.ClusterCIDR = env.Network
	}
	if nw.ClusterCIDR.IsValid() {
		for _, r := range nw.Ranges {
			if !nw.ClusterCIDR.Contains(r.Subnet.Addr()) || r.Subnet.Bits() < nw.ClusterCIDR.Bits() {
				return Network{}, fmt.Errorf("cluster CIDR %s does not contain the pod range %s", nw.ClusterCIDR, r.Subnet)
			}
		}
	}
	if nw.MTU == 0 {
		nw.MTU = env.MTU
	}
	if nw.MTU == 0 {
		nw.MTU = DefaultMTU
	}
	switch {
	case conf.IPMasq != nil:
		nw.IPMasq = *conf.IPMasq
	case env.IPMasq != nil:
		nw.IPMasq = *env.IPMasq
	}
	return nw, nil
}

// networkError maps a resolveNetwork error for ADD and CHECK: no pod range
// yet is 11 (try again later), anything else 7.
func networkError(err error) *types.Error {
	if errors.Is(err, errNoPodRange) {
		return cniError(types.ErrTryAgainLater, "%v; retry once netd has written it", err)
	}
	return cniError(types.ErrInvalidNetworkConfig, "%v", err)
}

// masqExclude is what pod traffic is not masqueraded towards: the cluster
// CIDR, or the pod range itself when no cluster CIDR is known.
func (nw Network) masqExclude(r hostlocal.Range) netip.Prefix {
	if nw.ClusterCIDR.IsValid() {
		return nw.ClusterCIDR
	}
	return r.Subnet
}
