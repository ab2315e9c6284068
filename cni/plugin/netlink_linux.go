package plugin

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/containernetworking/plugins/pkg/netlinksafe"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// NetlinkConfig configures the kernel Dataplane.
type NetlinkConfig struct {
	// Iptables is the iptables command for masquerade; "iptables" if empty.
	Iptables string
	// ProcSys is the /proc/sys root; "/proc/sys" if empty.
	ProcSys string
}

// Netlink is the Dataplane of a real node: netlink in the namespace the
// process runs in (the node's) and, through a handle opened in it, in the
// pod's namespace; iptables for masquerade; /proc/sys for sysctls.
type Netlink struct {
	iptables string
	procSys  string
}

// NewNetlink returns the kernel Dataplane.
func NewNetlink(cfg NetlinkConfig) *Netlink {
	n := &Netlink{iptables: cfg.Iptables, procSys: cfg.ProcSys}
	if n.iptables == "" {
		n.iptables = "iptables"
	}
	if n.procSys == "" {
		n.procSys = "/proc/sys"
	}
	return n
}

var _ Dataplane = (*Netlink)(nil)

// EnsureBridge creates the bridge (with a MAC derived from its first
// address, so it does not follow its ports) or fixes MTU, state and
// addresses of the one there.
func (n *Netlink) EnsureBridge(b Bridge) (Iface, error) {
	link, err := n.bridge(b)
	if err != nil {
		return Iface{}, err
	}
	attrs := link.Attrs()
	if attrs.MTU != b.MTU {
		if err := netlink.LinkSetMTU(link, b.MTU); err != nil {
			return Iface{}, fmt.Errorf("set MTU %d on %s: %w", b.MTU, b.Name, err)
		}
	}
	if attrs.Flags&net.FlagUp == 0 {
		if err := netlink.LinkSetUp(link); err != nil {
			return Iface{}, fmt.Errorf("bring %s up: %w", b.Name, err)
		}
	}
	if err := ensureAddrs(link, b.Addrs); err != nil {
		return Iface{}, err
	}
	return Iface{Name: b.Name, MAC: attrs.HardwareAddr.String(), MTU: b.MTU}, nil
}

func (n *Netlink) bridge(b Bridge) (netlink.Link, error) {
	link, err := netlinksafe.LinkByName(b.Name)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		attrs := netlink.NewLinkAttrs()
		attrs.Name, attrs.MTU, attrs.Flags = b.Name, b.MTU, net.FlagUp
		attrs.HardwareAddr = bridgeMAC(b)
		err = netlink.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
		if err != nil && !errors.Is(err, syscall.EEXIST) {
			return nil, fmt.Errorf("create bridge %s: %w", b.Name, err)
		}
		link, err = netlinksafe.LinkByName(b.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("look up bridge %s: %w", b.Name, err)
	}
	if _, ok := link.(*netlink.Bridge); !ok {
		return nil, fmt.Errorf("%s exists but is a %s, not a bridge: delete it or set \"bridge\" to another name", b.Name, link.Type())
	}
	return link, nil
}

// bridgeMAC is a locally administered unicast MAC derived from the
// bridge's name and first address.
func bridgeMAC(b Bridge) net.HardwareAddr {
	seed := b.Name
	if len(b.Addrs) > 0 {
		seed += b.Addrs[0].String()
	}
	sum := sha256.Sum256([]byte(seed))
	mac := net.HardwareAddr(sum[:6])
	mac[0] = mac[0]&0xfe | 0x02
	return mac
}

func ensureAddrs(link netlink.Link, want []netip.Prefix) error {
	have, err := netlinksafe.AddrList(link, netlink.FAMILY_V4)
	if err != nil {
		return fmt.Errorf("list addresses of %s: %w", link.Attrs().Name, err)
	}
	for _, p := range want {
		if hasAddr(have, p) {
			continue
		}
		err := netlink.AddrAdd(link, &netlink.Addr{IPNet: ipNet(p)})
		if err != nil && !errors.Is(err, syscall.EEXIST) {
			return fmt.Errorf("add address %s to %s: %w", p, link.Attrs().Name, err)
		}
	}
	return nil
}

func hasAddr(have []netlink.Addr, p netip.Prefix) bool {
	for _, a := range have {
		if got, ok := prefixFromAddr(a); ok && got == p {
			return true
		}
	}
	return false
}

func prefixFromAddr(a netlink.Addr) (netip.Prefix, bool) {
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := a.Mask.Size()
	return netip.PrefixFrom(ip.Unmap(), ones), true
}

// podHandle opens a netlink handle inside the namespace at path.
func podHandle(path string) (*netlink.Handle, error) {
	ns, err := netns.GetFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %v: %w", path, err, ErrNoNetns)
	}
	defer ns.Close()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("netlink socket in %s: %w", path, err)
	}
	return h, nil
}
