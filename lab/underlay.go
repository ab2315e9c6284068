package lab

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"rudder/lab/netns"
)

// maxLinkName is the kernel's limit on interface names (IFNAMSIZ-1).
const maxLinkName = 15

// addressPlan is where the server and the nodes sit on the underlay.
type addressPlan struct {
	Prefix  netip.Prefix
	Server  netip.Addr
	NodeIPs []netip.Addr
}

// planAddresses gives the server the last usable address of the underlay
// and node i (1-based) the address 10+i from its start.
func planAddresses(underlay string, nodes int) (addressPlan, error) {
	p, err := netip.ParsePrefix(underlay)
	if err != nil {
		return addressPlan{}, fmt.Errorf("--underlay %q: %w", underlay, err)
	}
	if !p.Addr().Is4() {
		return addressPlan{}, fmt.Errorf("--underlay %q: only IPv4 is supported", underlay)
	}
	if nodes < 1 {
		return addressPlan{}, fmt.Errorf("--nodes %d: need at least one node", nodes)
	}
	p = p.Masked()
	hostBits := 32 - p.Bits()
	if hostBits < 2 || (hostBits < 31 && 1<<hostBits < nodes+12) {
		return addressPlan{}, fmt.Errorf("--underlay %s is too small for %d nodes and the server", p, nodes)
	}
	base := p.Addr().As4()
	n := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	at := func(off uint32) netip.Addr {
		v := n + off
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	plan := addressPlan{Prefix: p, Server: at(uint32(1)<<hostBits - 2)}
	for i := 1; i <= nodes; i++ {
		plan.NodeIPs = append(plan.NodeIPs, at(uint32(10+i)))
	}
	return plan, nil
}

// linkNames returns the bridge's name and node i's root-side veth name,
// checked against the kernel's length limit.
func linkNames(prefix string, nodes int) (bridge string, veths []string, err error) {
	bridge = prefix + "-br"
	for i := 1; i <= nodes; i++ {
		veths = append(veths, fmt.Sprintf("%s-v%d", prefix, i))
	}
	for _, n := range append([]string{bridge}, veths...) {
		if len(n) > maxLinkName {
			return "", nil, fmt.Errorf("link name %q is longer than %d characters: use a shorter prefix or fewer nodes", n, maxLinkName)
		}
	}
	return bridge, veths, nil
}

// createBridge adds the underlay bridge in the root namespace, with addr.
func createBridge(name string, addr netip.Prefix) error {
	br := &netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: name}}
	if err := netlink.LinkAdd(br); err != nil {
		return fmt.Errorf("add bridge %s: %w", name, err)
	}
	a := &netlink.Addr{IPNet: &net.IPNet{IP: addr.Addr().AsSlice(), Mask: net.CIDRMask(addr.Bits(), 32)}}
	if err := netlink.AddrAdd(br, a); err != nil {
		return fmt.Errorf("address bridge %s with %s: %w", name, addr, err)
	}
	if err := netlink.LinkSetUp(br); err != nil {
		return fmt.Errorf("set bridge %s up: %w", name, err)
	}
	return nil
}

// underlayFree refuses an underlay that overlaps an address of the root
// namespace (another lab, or a host network the lab must not shadow).
func underlayFree(p netip.Prefix) error {
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list host addresses: %w", err)
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP.To4())
		if !ok {
			continue
		}
		bits, _ := a.Mask.Size()
		if p.Overlaps(netip.PrefixFrom(ip, bits).Masked()) {
			link := "?"
			if l, err := netlink.LinkByIndex(a.LinkIndex); err == nil {
				link = l.Attrs().Name
			}
			return fmt.Errorf("--underlay %s overlaps %s/%d on %s (another lab? see `rudder lab status`): pick another --underlay", p, ip, bits, link)
		}
	}
	return nil
}

// wireNode joins node namespace ns to the bridge: veth in the root
// namespace enslaved to the bridge, its peer eth0 inside ns with addr and
// a default route via gw, the root namespace's address, as a real node has
// one (connect() to a ClusterIP needs a route before the proxy's DNAT).
// The root namespace does not forward, so nothing leaves the machine.
func wireNode(ns *netns.NS, veth, bridge string, addr netip.Prefix, gw netip.Addr) error {
	nsf, err := os.Open(ns.Path)
	if err != nil {
		return fmt.Errorf("open namespace %s: %w", ns.Path, err)
	}
	defer nsf.Close()
	v := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: veth}, PeerName: "eth0", PeerNamespace: netlink.NsFd(int(nsf.Fd()))}
	if err := netlink.LinkAdd(v); err != nil {
		return fmt.Errorf("add veth %s to %s: %w", veth, ns.Name, err)
	}
	br, err := netlink.LinkByName(bridge)
	if err != nil {
		return fmt.Errorf("find bridge %s: %w", bridge, err)
	}
	if err := netlink.LinkSetMaster(v, br); err != nil {
		return fmt.Errorf("enslave %s to %s: %w", veth, bridge, err)
	}
	if err := netlink.LinkSetUp(v); err != nil {
		return fmt.Errorf("set %s up: %w", veth, err)
	}
	script := fmt.Sprintf("ip addr add %s dev eth0 && ip link set eth0 up && ip link set lo up && "+
		"ip route add default via %s dev eth0 && echo 1 > /proc/sys/net/ipv4/ip_forward", addr, gw)
	if _, err := ns.Run("sh", "-c", script); err != nil {
		return fmt.Errorf("configure node namespace %s: %w", ns.Name, err)
	}
	return nil
}

// deleteLinks removes every root-namespace link whose name starts with
// prefix+"-" and returns their names.
func deleteLinks(prefix string) ([]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	var done []string
	var errs []error
	for _, l := range links {
		name := l.Attrs().Name
		if !strings.HasPrefix(name, prefix+"-") {
			continue
		}
		if err := netlink.LinkDel(l); err != nil {
			// A veth whose peer's namespace is being destroyed may vanish
			// between the listing and the delete.
			var lnf netlink.LinkNotFoundError
			if !errors.As(err, &lnf) && !errors.Is(err, unix.ENODEV) {
				errs = append(errs, fmt.Errorf("delete link %s: %w", name, err))
				continue
			}
		}
		done = append(done, name)
	}
	return done, errors.Join(errs...)
}

// linksWithPrefix lists the root-namespace links named prefix-*.
func linksWithPrefix(prefix string) []string {
	links, err := netlink.LinkList()
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, prefix+"-") {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

// bridgeFirewallWarning explains when the host firewall would drop
// bridged traffic between nodes: br_netfilter sends bridged IPv4 through
// iptables/nft FORWARD, and a DROP policy there drops it. It only reads.
func bridgeFirewallWarning() string {
	b, err := os.ReadFile("/proc/sys/net/bridge/bridge-nf-call-iptables")
	if err != nil {
		return "" // br_netfilter not loaded: bridged frames skip iptables
	}
	// nft shows iptables-nft's chains too. Legacy iptables is asked only
	// when its filter table already exists: listing it would create it.
	cmds := [][]string{{"nft", "list", "chains"}}
	if names, err := os.ReadFile("/proc/net/ip_tables_names"); err == nil && strings.Contains(string(names), "filter") {
		cmds = append(cmds, []string{"iptables-legacy", "-S", "FORWARD"}, []string{"iptables", "-S", "FORWARD"})
	}
	var rules []string
	for _, argv := range cmds {
		if out, err := exec.Command(argv[0], argv[1:]...).Output(); err == nil {
			rules = append(rules, string(out))
		}
	}
	return firewallWarning(strings.TrimSpace(string(b)), rules)
}

// firewallWarning is bridgeFirewallWarning's decision, given the value of
// bridge-nf-call-iptables and the FORWARD rules/chains listings.
func firewallWarning(callIptables string, listings []string) string {
	if callIptables != "1" {
		return ""
	}
	for _, l := range listings {
		for _, line := range strings.Split(l, "\n") {
			line = strings.TrimSpace(line)
			drop := line == "-P FORWARD DROP" ||
				(strings.Contains(line, "hook forward") && strings.Contains(line, "policy drop"))
			if drop {
				return "br_netfilter is loaded with net.bridge.bridge-nf-call-iptables=1 and the host's FORWARD policy drops (" +
					line + "): traffic bridged between lab nodes (VXLAN, host-gw) will be dropped. " +
					"The lab does not change host firewall policy; to allow it, e.g. `sysctl net.bridge.bridge-nf-call-iptables=0` " +
					"or accept traffic on the lab bridge in FORWARD"
			}
		}
	}
	return ""
}
