package cniconf

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// The subnet file's keys.
const (
	KeyNetwork = "RUDDER_NETWORK"
	KeySubnet  = "RUDDER_SUBNET"
	KeyMTU     = "RUDDER_MTU"
	KeyIPMasq  = "RUDDER_IPMASQ"
)

// Subnet is the content of the subnet file.
type Subnet struct {
	Network netip.Prefix // cluster CIDR
	PodCIDR netip.Prefix // this node's pod range; the file holds its gateway (.1)
	MTU     int
	IPMasq  bool
}

// Gateway returns the pod range's gateway address with its prefix, e.g. 10.244.1.1/24.
func (s Subnet) Gateway() netip.Prefix {
	return netip.PrefixFrom(s.PodCIDR.Masked().Addr().Next(), s.PodCIDR.Bits())
}

// Marshal renders the KEY=VALUE lines.
func (s Subnet) Marshal() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "%s=%s\n", KeyNetwork, s.Network)
	fmt.Fprintf(&b, "%s=%s\n", KeySubnet, s.Gateway())
	fmt.Fprintf(&b, "%s=%d\n", KeyMTU, s.MTU)
	fmt.Fprintf(&b, "%s=%t\n", KeyIPMasq, s.IPMasq)
	return []byte(b.String())
}

// WriteSubnet writes the subnet file at path atomically; it reports
// whether the content changed.
func WriteSubnet(path string, s Subnet) (bool, error) {
	return writeAtomic(path, s.Marshal())
}

// ParseSubnet reads the KEY=VALUE form back (tests and tools; the plugin
// has its own reader).
func ParseSubnet(data []byte) (Subnet, error) {
	var s Subnet
	for line := range strings.Lines(string(data)) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		var err error
		switch k {
		case KeyNetwork:
			s.Network, err = netip.ParsePrefix(v)
		case KeySubnet:
			s.PodCIDR, err = netip.ParsePrefix(v)
			s.PodCIDR = s.PodCIDR.Masked()
		case KeyMTU:
			s.MTU, err = strconv.Atoi(v)
		case KeyIPMasq:
			s.IPMasq, err = strconv.ParseBool(v)
		}
		if err != nil {
			return Subnet{}, fmt.Errorf("subnet file %s: %w", k, err)
		}
	}
	return s, nil
}
