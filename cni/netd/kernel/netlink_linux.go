package kernel

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/containernetworking/plugins/pkg/ns"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Netlink is the kernel adapter for one network namespace. Netlink requests
// go through a handle whose sockets live in that namespace; sysctls are
// written from a thread that enters it. The caller's namespace is never
// touched. Use it from one goroutine at a time.
type Netlink struct {
	h  *netlink.Handle
	ns ns.NetNS
}

// NewNetlink returns an adapter for netNS, which stays owned by the caller
// and must stay open while the adapter is used.
func NewNetlink(netNS ns.NetNS) (*Netlink, error) {
	h, err := netlink.NewHandleAt(netns.NsHandle(int(netNS.Fd())))
	if err != nil {
		return nil, fmt.Errorf("netlink handle in %s: %w", netNS.Path(), err)
	}
	return &Netlink{h: h, ns: netNS}, nil
}

// Close releases the netlink sockets.
func (k *Netlink) Close() { k.h.Close() }

// dumpRetries bounds the retries of a dump the kernel interrupted because
// the table changed under it.
const dumpRetries = 5

func retryDump[T any](dump func() (T, error)) (T, error) {
	var v T
	var err error
	for range dumpRetries {
		if v, err = dump(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

// linkNames maps interface indexes to names.
func (k *Netlink) linkNames() (map[int]string, error) {
	links, err := retryDump(k.h.LinkList)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	names := make(map[int]string, len(links))
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	return names, nil
}

// linkByName returns the link, or (nil, nil) when there is none.
func (k *Netlink) linkByName(name string) (netlink.Link, error) {
	l, err := k.h.LinkByName(name)
	if _, ok := errors.AsType[netlink.LinkNotFoundError](err); ok {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("link %s: %w", name, err)
	}
	return l, nil
}

func addrOf(ip net.IP) netip.Addr {
	if v4 := ip.To4(); v4 != nil {
		return netip.AddrFrom4([4]byte(v4))
	}
	a, _ := netip.AddrFromSlice(ip)
	return a
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixOf(n *net.IPNet) netip.Prefix {
	if n == nil {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(addrOf(n.IP), ones)
}

// gone reports errors that mean "already deleted".
func gone(err error) bool {
	if _, ok := errors.AsType[netlink.LinkNotFoundError](err); ok {
		return true
	}
	return errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENODEV)
}
