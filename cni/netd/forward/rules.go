// Package forward makes a node accept forwarded pod traffic: an iptables
// chain of its own in the filter table, RUDDER-FORWARD, accepting packets
// from and to the cluster CIDR, jumped to first from FORWARD. A FORWARD
// policy of DROP (Docker sets one) then no longer cuts pods off.
package forward

import (
	"net/netip"
	"slices"
	"strings"
)

// DefaultChain is the chain netd owns in the filter table.
const DefaultChain = "RUDDER-FORWARD"

// Config says what to accept.
type Config struct {
	ClusterCIDR netip.Prefix
	Chain       string // DefaultChain when empty
}

func (c Config) chain() string {
	if c.Chain == "" {
		return DefaultChain
	}
	return c.Chain
}

// Rules returns the rules of the chain, in order, as iptables arguments.
func (c Config) Rules() [][]string {
	cidr := c.ClusterCIDR.Masked().String()
	return [][]string{
		{"-s", cidr, "-j", "ACCEPT"},
		{"-d", cidr, "-j", "ACCEPT"},
	}
}

// Jump returns the FORWARD rule that enters the chain.
func (c Config) Jump() []string {
	return []string{"-m", "comment", "--comment", "rudder: accept pod traffic", "-j", c.chain()}
}

// chainInPlace reports whether `iptables -S <chain>` output lists exactly
// the chain's rules.
func (c Config) chainInPlace(listed []string) bool {
	want := []string{"-N " + c.chain()}
	for _, r := range c.Rules() {
		want = append(want, "-A "+c.chain()+" "+strings.Join(r, " "))
	}
	return slices.Equal(listed, want)
}

// jumpInPlace reports whether `iptables -S FORWARD` output holds the jump.
func (c Config) jumpInPlace(listed []string) bool {
	return slices.ContainsFunc(listed, func(rule string) bool {
		return strings.HasPrefix(rule, "-A FORWARD ") && strings.HasSuffix(rule, " -j "+c.chain())
	})
}
